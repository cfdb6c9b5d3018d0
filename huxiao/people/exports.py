"""Excel exports of the people list pages (issue 10 item 5; ADR 0033): the classes and the
staff of a school, the children of a class. Each uses the page's own filter parsing
(`views.school_choice`, `views.role_filter`, `views.child_search`) and scoped selectors;
resident ID numbers appear masked, as on the pages (never decrypted here)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.core.scoping import memberships_of
from huxiao.people import selectors
from huxiao.people.choices import StaffRole
from huxiao.people.views import _int, child_search, role_filter, school_choice
from huxiao.reports.exports import Table, register_export

CHUNK = 500


def _school(actor, query):
    """The school of a per-school page. The page's button always sends `school`; without
    it the first membership's school stands in for the switcher's choice."""
    memberships = memberships_of(actor)
    preferred = memberships[0].organization_id if memberships else None
    _schools, school = school_choice(actor, query, preferred_org_id=preferred)
    if school is None:
        raise Http404
    return school


def class_table(actor, query) -> Table:
    school = _school(actor, query)
    classes = selectors.class_list(actor=actor, school_id=school.pk)
    return Table(
        columns=[_("ID"), _("Class"), _("Grade"), _("Head teacher"), _("Children")],
        rows=(
            (c.pk, c.name, c.grade, c.head_teacher.name if c.head_teacher else "", c.children_count)
            for c in classes.iterator(chunk_size=CHUNK)
        ),
        school=school,
        heading=[school.name],
    )


def staff_table(actor, query) -> Table:
    school = _school(actor, query)
    role = role_filter(query)
    staff = selectors.staff_list(actor=actor, school_id=school.pk, role=role)
    heading = [school.name]
    if role:
        heading.append(_("Post: %(post)s") % {"post": StaffRole(role).label})
    yes, no = _("Yes"), _("No")
    return Table(
        columns=[
            _("ID"),
            _("Name"),
            _("Post"),
            _("Phone"),
            _("Background check"),
            _("Background check date"),
            _("Resident ID number"),
            _("Active"),
        ],
        rows=(
            (
                m.pk,
                m.name,
                m.get_role_display(),
                m.phone,
                m.get_background_check_display(),
                m.background_checked_on,
                m.id_number_masked,
                yes if m.is_active else no,
            )
            for m in staff.iterator(chunk_size=CHUNK)
        ),
        school=school,
        heading=heading,
    )


def child_table(actor, query) -> Table:
    """The children of a class (`class`), with the page's name search (`q`)."""
    class_id = _int(query.get("class"))
    if class_id is None:
        raise Http404
    school_class = selectors.class_get(actor=actor, class_id=class_id)
    search = child_search(query)
    children = selectors.child_list(actor=actor, class_id=school_class.pk, search=search)
    heading = [f"{school_class.school.name} · {school_class.name}"]
    if search:
        heading.append(_("Name contains: %(text)s") % {"text": search})
    yes, no = _("Yes"), _("No")
    return Table(
        columns=[
            _("ID"),
            _("Name"),
            _("Gender"),
            _("Birth date"),
            _("Resident ID number"),
            _("Enrolled"),
        ],
        rows=(
            (
                c.pk,
                c.name,
                c.get_gender_display(),
                c.birth_date,
                c.id_number_masked,
                yes if c.is_active else no,
            )
            for c in children.iterator(chunk_size=CHUNK)
        ),
        school=school_class.school,
        heading=heading,
    )


register_export("people.classes", title=gettext_lazy("Classes"), table=class_table)
register_export("people.staff", title=gettext_lazy("Staff"), table=staff_table)
register_export("people.children", title=gettext_lazy("Children of a class"), table=child_table)
