"""Excel exports of the security list pages (issue 10 item 5; ADR 0033): the schools'
defences, a school's security staff and protective equipment, and the compliance table of
schools (a police station's or a town's, with the page's rule/verdict drill-down). Each
reads through the page's scoped selectors; the figures are the pages' figures (the same
`defence_facts`, `person_status`, `stock_rows` and overviews)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.reports.export_filters import id_param
from huxiao.reports.exports import Table, register_export
from huxiao.security import (
    compliance_selectors,
    defence_selectors,
    equipment_selectors,
    personnel_selectors,
)
from huxiao.security.compliance_views import overview_filters

CHUNK = 500


def _yes_no(value) -> str:
    return _("Yes") if value else _("No")


def _school(actor, query):
    """The school of a per-school page (its path), sent as `school`; 404 like the page."""
    school_id = id_param(query.get("school"))
    if school_id is None:
        raise Http404
    return personnel_selectors.school_get(actor=actor, school_id=school_id)


def defence_table(actor, query) -> Table:
    schools = defence_selectors.defence_schools(actor=actor)

    def rows():
        chunk = []
        for school in schools.iterator(chunk_size=CHUNK):
            chunk.append(school)
            if len(chunk) == CHUNK:
                yield from _defence_rows(chunk)
                chunk = []
        yield from _defence_rows(chunk)

    return Table(
        columns=[
            _("ID"),
            _("School"),
            _("Town"),
            _("Recorded"),
            _("Cameras in service"),
            _("Cameras networked"),
            _("One-click alarms"),
            _("One-click alarms networked"),
            _("Video retention"),
            _("Monitoring room 24 h"),
            _("Closed management"),
            _("Vehicle barrier"),
        ],
        rows=rows(),
        count=schools.count(),
    )


def _defence_rows(schools):
    if not schools:
        return
    facts = defence_selectors.defence_facts([s.pk for s in schools])
    for s in schools:
        f = facts[s.pk]
        yield (
            s.pk,
            s.name,
            s.town.name if s.town else "",
            _yes_no(f["has_profile"]),
            f["cameras_active"],
            f["cameras_networked"],
            f["one_click_alarms"],
            f["one_click_alarms_networked"],
            f["video_retention_days"],
            _yes_no(f["monitoring_room_24h"]),
            _yes_no(f["closed_management"]),
            _yes_no(f["vehicle_barrier"]),
        )


def _employer(status) -> str:
    profile = status.profile
    if profile is None:
        return _("No security record yet")
    if profile.employer == "security_company":
        return profile.security_company
    return _("Employed by the school")


def personnel_table(actor, query) -> Table:
    school = _school(actor, query)
    today = personnel_selectors.local_today()
    current = personnel_selectors.personnel_statuses(actor=actor, school_id=school.pk, today=today)
    former = personnel_selectors.personnel_list(actor=actor, school_id=school.pk, active=False)

    def rows():
        for status in current:
            staff, profile = status.staff, status.profile
            yield (
                staff.pk,
                staff.name,
                staff.get_role_display(),
                profile.get_employment_display() if profile else "",
                _employer(status),
                profile.certificate_number if profile else "",
                profile.certificate_expires_on if profile else None,
                status.last_training_on,
                "; ".join(b.label for b in status.badges) or _("In order"),
                _("Yes"),
            )
        for staff in former.iterator(chunk_size=CHUNK):
            yield (staff.pk, staff.name, staff.get_role_display(), *[""] * 6, _("No"))

    return Table(
        columns=[
            _("ID"),
            _("Name"),
            _("Post"),
            _("Employment"),
            _("Employer"),
            _("Certificate"),
            _("Valid until"),
            _("Last training"),
            _("Needs attention"),
            _("Current"),
        ],
        rows=rows(),
        school=school,
        heading=[school.name],
    )


def equipment_table(actor, query) -> Table:
    school = _school(actor, query)
    stock = equipment_selectors.stock_rows(actor=actor, school=school)

    def missing(row) -> str:
        if not row.missing:
            return ""
        if row.broken:
            return _("broken")
        return _("%(short)s missing") % {"short": row.short}

    return Table(
        columns=[
            _("ID"),
            _("Item"),
            _("Per guard"),
            _("Required"),
            _("Needed"),
            _("In stock"),
            _("With guards"),
            _("Condition"),
            _("Last checked"),
            _("Missing or broken"),
        ],
        rows=(
            (
                row.item.pk,
                row.item.name,
                _yes_no(row.item.per_guard),
                _yes_no(row.item.is_required),
                row.required,
                row.quantity,
                row.issued if row.item.per_guard else None,
                row.stock.get_condition_display() if row.stock else "",
                row.stock.last_checked_on if row.stock else None,
                missing(row),
            )
            for row in stock
        ),
        school=school,
        heading=[school.name],
        count=len(stock),
    )


def compliance_table(actor, query) -> Table:
    """The schools table of the compliance overview: a town's (`town`, the page's path)
    or all the reader's schools, drilled down by `rule` and `verdict` as on the page."""
    form, rule, verdict = overview_filters(query)
    if form.is_bound and form.errors:
        raise ValidationError([e for errors in form.errors.values() for e in errors])
    raw_town = query.get("town")
    if raw_town:
        town_id = id_param(raw_town)
        if town_id is None:
            raise Http404
        overview = compliance_selectors.town_overview(
            actor=actor, town_id=town_id, rule=rule, verdict=verdict
        )
        heading = [overview.town.name]
    else:
        overview = compliance_selectors.schools_overview(actor=actor, rule=rule, verdict=verdict)
        heading = []
    if rule or verdict:
        labels = dict(form.fields["rule"].choices)
        verdicts = dict(form.fields["verdict"].choices)
        heading.append(
            _("Rule: %(rule)s · Verdict: %(verdict)s")
            % {"rule": labels.get(rule, _("Any rule")), "verdict": verdicts.get(verdict, "")}
        )

    def rows():
        for row in overview.rows:
            r = row.record
            if r is None:
                yield (
                    row.school.pk,
                    row.school.name,
                    row.school.town_name,
                    _("Not evaluated yet."),
                )
                continue
            lacks = [f"{label}: {missing}" if missing else label for label, missing in row.lacking]
            if row.no_data:
                lacks.append(f"{_('No data')}: {row.no_data}")
            yield (
                row.school.pk,
                row.school.name,
                row.school.town_name,
                _yes_no(r.is_compliant),
                _yes_no(r.is_networked),
                f"{r.passed}/{r.judged}",
                "\n".join(lacks),
                r.evaluated_at,
            )

    return Table(
        columns=[
            _("ID"),
            _("School"),
            _("Town"),
            _("Compliant"),
            _("Networked"),
            _("Rules met"),
            _("What it lacks"),
            _("Evaluated"),
        ],
        rows=rows(),
        heading=heading,
        count=len(overview.rows),
    )


register_export(
    "security.defence", title=gettext_lazy("Defences of the schools"), table=defence_table
)
register_export("security.personnel", title=gettext_lazy("Security staff"), table=personnel_table)
register_export(
    "security.equipment", title=gettext_lazy("Protective equipment"), table=equipment_table
)
register_export(
    "security.compliance", title=gettext_lazy("Security compliance"), table=compliance_table
)
