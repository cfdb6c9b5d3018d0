"""Excel exports of the gate's list pages (issue 10 item 5, ADR 0033): prohibited items,
passes, vehicles and the blocklist, each from the page's scoped selector with its filters.

A list is one school's, as on the page: with several schools and none chosen the page asks
which, and so does the export. ID numbers only masked, as on the page. The gate report has
its own workbook (`access:report_export`)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.access import (
    contraband_selectors,
    contraband_views,
    pass_selectors,
    pass_views,
    vehicle_views,
    visitor_selectors,
)
from huxiao.access.choices import ContrabandCategory, PassKind, PassState
from huxiao.core.roles import Action
from huxiao.reports.export_filters import school_line
from huxiao.reports.exports import Table, register_export

CHUNK = 1000


def _chosen(school):
    if school is None:
        raise ValidationError(_("Choose a school first: the list is of one school."))
    return school


def contraband_table(actor, query) -> Table:
    _ids, school, category = contraband_views.list_filters(actor, query)
    school = _chosen(school)
    rows = (
        (
            r.pk,
            r.at,
            r.item,
            r.get_category_display(),
            r.get_carrier_kind_display(),
            r.carrier_name,
            r.get_handling_display(),
            r.police_notified_at,
        )
        for r in contraband_selectors.interception_list(
            actor=actor, school_id=school.pk, category=category
        ).iterator(chunk_size=CHUNK)
    )
    heading = [school_line(school)]
    if category:
        heading.append(f"{_('Category')}: {ContrabandCategory(category).label}")
    return Table(
        columns=[
            _("Number"),
            _("At"),
            _("Item"),
            _("Category"),
            _("Carried by"),
            _("Name of the person"),
            _("Handling"),
            _("Police notified at"),
        ],
        rows=rows,
        school=school,
        heading=heading,
    )


def passes_table(actor, query) -> Table:
    _ids, school, kind, state = pass_views.list_filters(actor, query)
    school = _chosen(school)
    passes = pass_selectors.pass_list(actor=actor, school_id=school.pk, kind=kind, state=state)
    now = timezone.now()
    rows = (
        (
            p.pk,
            p.holder_name,
            p.get_kind_display(),
            p.plate,
            p.valid_from,
            p.valid_until,
            PassState(p.state_at(now)).label,
        )
        for p in passes.iterator(chunk_size=CHUNK)
    )
    heading = [school_line(school)]
    if kind:
        heading.append(f"{_('Kind')}: {PassKind(kind).label}")
    if state:
        heading.append(f"{_('State')}: {dict(_pass_states())[state]}")
    return Table(
        columns=[
            _("Number"),
            _("Holder"),
            _("Kind"),
            _("Plate"),
            _("Valid from"),
            _("Valid until"),
            _("State"),
        ],
        rows=rows,
        school=school,
        heading=heading,
    )


def _pass_states():
    return [(state, PassState(state).label) for state in pass_selectors.PASS_STATES]


def vehicles_table(actor, query) -> Table:
    _ids, school = vehicle_views.list_school(actor, query)
    school = _chosen(school)
    inside, left = vehicle_views.movements(actor, school)
    rows = (
        (m.pk, m.plate, m.get_purpose_display(), m.driver_name, m.entered_at, m.exited_at)
        for qs in (inside, left)
        for m in qs.iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[_("Number"), _("Plate"), _("Purpose"), _("Driver"), _("Entered"), _("Left")],
        rows=rows,
        school=school,
        heading=[school_line(school)],
    )


def blocklist_table(actor, query) -> Table:
    raw = query.get("school") or ""
    if not (raw.isascii() and raw.isdigit()):
        raise Http404
    school = visitor_selectors.gate_school(
        actor=actor, school_id=int(raw), action=Action.MANAGE_GATE
    )
    rows = (
        (e.pk, e.name, e.id_number_masked, e.reason, e.created_at)
        for e in visitor_selectors.blocklist(school=school).iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[_("Number"), _("Name"), _("Resident ID number"), _("Reason"), _("Added")],
        rows=rows,
        school=school,
        heading=[school_line(school)],
    )


register_export("access.contraband", title=gettext_lazy("Prohibited items"), table=contraband_table)
register_export("access.passes", title=gettext_lazy("Passes"), table=passes_table)
register_export("access.vehicles", title=gettext_lazy("Vehicles"), table=vehicles_table)
register_export("access.blocklist", title=gettext_lazy("Blocklist"), table=blocklist_table)
