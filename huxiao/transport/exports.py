"""Excel exports of the transport list pages (issue 10 item 5; ADR 0033): the schools'
fleets, one school's buses, drivers and routes, the bus checks and their open findings, a
school's trips of a day and the trip flags. Each parses its filters with the page's own
function and reads through the same scoped selectors and badge rules as the page."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.core.names import person_name
from huxiao.reports.exports import Table, register_export
from huxiao.transport import fleet_selectors, inspection_selectors, route_selectors, trip_selectors
from huxiao.transport.choices import InspectionKind
from huxiao.transport.inspection_views import inspection_filters
from huxiao.transport.trip_views import flag_filters, trips_filters

CHUNK = 500


def _badges(badges) -> str:
    return "; ".join(str(b.label) for b in badges) or _("In order")


def _in_service(obj) -> str:
    return _("Yes") if obj.is_active else _("No")


def fleet_table(actor, query) -> Table:
    """The schools in scope that keep buses, drivers or routes, with their figures."""
    schools = fleet_selectors.schools_in_scope(actor)
    today = fleet_selectors.today_local()

    def rows():
        chunk = []
        for school in schools.iterator(chunk_size=CHUNK):
            chunk.append(school)
            if len(chunk) == CHUNK:
                yield from _fleet_rows(chunk, today)
                chunk = []
        yield from _fleet_rows(chunk, today)

    return Table(
        columns=[
            _("ID"),
            _("School"),
            _("Town"),
            _("Buses in service"),
            _("Approved seats"),
            _("Drivers"),
            _("Routes"),
            _("Riders"),
            _("Document problems"),
            _("Documents expiring soon"),
        ],
        rows=rows(),
    )


def _fleet_rows(schools, today):
    if not schools:
        return
    for row in fleet_selectors.fleet_figures(schools, today):
        if row.has_fleet:
            s = row.school
            yield (
                s.pk,
                s.name,
                s.town.name if s.town else "",
                row.buses,
                row.seats,
                row.drivers,
                row.routes,
                row.riders,
                row.problems,
                row.expiring,
            )


def _school(actor, query):
    """The school of the fleet page (`school`; the page's own school without it)."""
    raw = query.get("school")
    school_id = raw if raw is not None else fleet_selectors.overview_target(actor)
    return fleet_selectors.school_get(actor=actor, school_id=school_id)


def bus_table(actor, query) -> Table:
    school = _school(actor, query)
    today = fleet_selectors.today_local()
    buses = fleet_selectors.bus_list(actor=actor, school_id=school.pk, active=None)
    return Table(
        columns=[
            _("ID"),
            _("Plate"),
            _("Seats"),
            _("Model"),
            _("Operator"),
            _("In service"),
            _("Documents and checks"),
        ],
        rows=(
            (
                b.pk,
                b.plate,
                b.seats,
                b.model_name,
                b.operator,
                _in_service(b),
                _badges(fleet_selectors.bus_badges(b, today)) if b.is_active else "",
            )
            for b in buses.iterator(chunk_size=CHUNK)
        ),
        school=school,
        heading=[school.name],
    )


def driver_table(actor, query) -> Table:
    school = _school(actor, query)
    today = fleet_selectors.today_local()
    drivers = fleet_selectors.driver_list(actor=actor, school_id=school.pk, active=None)
    return Table(
        columns=[
            _("ID"),
            _("Name"),
            _("Licence class"),
            _("Employer"),
            _("Phone"),
            _("In service"),
            _("Documents and checks"),
        ],
        rows=(
            (
                d.pk,
                d.name,
                d.licence_class,
                d.employer,
                d.phone,
                _in_service(d),
                _badges(fleet_selectors.driver_badges(d, today)) if d.is_active else "",
            )
            for d in drivers.iterator(chunk_size=CHUNK)
        ),
        school=school,
        heading=[school.name],
    )


def route_table(actor, query) -> Table:
    school = _school(actor, query)
    today = fleet_selectors.today_local()
    routes = route_selectors.route_list(actor=actor, school_id=school.pk, active=None)

    def rows():
        for r in routes.iterator(chunk_size=CHUNK):
            problems = (
                route_selectors.route_problems(r, r.rider_count, today) if r.is_active else []
            )
            yield (
                r.pk,
                r.name,
                r.bus.plate if r.bus else "",
                r.bus.seats if r.bus else None,
                r.rider_count,
                r.stop_count,
                r.driver.name if r.driver else "",
                r.safety_officer.name if r.safety_officer else "",
                _in_service(r),
                _badges(problems) if r.is_active else "",
            )

    return Table(
        columns=[
            _("ID"),
            _("Route"),
            _("Bus"),
            _("Seats"),
            _("Riders"),
            _("Stops"),
            _("Driver"),
            _("Safety officer"),
            _("In service"),
            _("Problems"),
        ],
        rows=rows(),
        school=school,
        heading=[school.name],
    )


def _check_heading(school, kind) -> list[str]:
    heading = [school.name] if school else []
    if kind:
        heading.append(_("Kind of check: %(kind)s") % {"kind": InspectionKind(kind).label})
    return heading


def inspection_table(actor, query) -> Table:
    _schools, school, kind = inspection_filters(actor, query)
    checks = inspection_selectors.inspection_list(
        actor=actor, school_id=school.pk if school else None, kind=kind
    )
    return Table(
        columns=[
            _("ID"),
            _("Checked at"),
            _("Bus"),
            _("Kind of check"),
            _("School"),
            _("Inspector"),
            _("Findings"),
            _("Still open"),
        ],
        rows=(
            (
                c.pk,
                c.inspected_at,
                c.bus.plate,
                c.get_kind_display(),
                c.school.name,
                person_name(c.inspector) if c.inspector else "",
                c.finding_count,
                c.open_count,
            )
            for c in checks.iterator(chunk_size=CHUNK)
        ),
        school=school,
        heading=_check_heading(school, kind),
    )


def _finding_state(finding, today) -> str:
    state = inspection_selectors.finding_state(finding)
    if state == inspection_selectors.RESOLVED:
        label = _("Resolved (bus finding)")
    elif state == inspection_selectors.AWAITING_REVIEW:
        label = _("Awaiting the police's review")
    elif inspection_selectors.was_sent_back(finding):
        label = _("Sent back to the school")
    else:
        label = _("Awaiting the school's follow-up")
    if inspection_selectors.is_overdue(finding, today):
        label = f"{label} · {_('Overdue')}"
    return label


def finding_table(actor, query) -> Table:
    """The open findings above the checks on the same page (its school filter)."""
    _schools, school, kind = inspection_filters(actor, query)
    today = inspection_selectors.local_today()
    findings = inspection_selectors.finding_list(
        actor=actor, school_id=school.pk if school else None, today=today
    )
    return Table(
        columns=[
            _("ID"),
            _("Finding"),
            _("State"),
            _("Detail"),
            _("Bus"),
            _("School"),
            _("Checked at"),
            _("Correct by"),
        ],
        rows=(
            (
                f.pk,
                f.get_kind_display(),
                _finding_state(f, today),
                f.detail,
                f.inspection.bus.plate,
                f.inspection.school.name,
                f.inspection.inspected_at,
                f.deadline,
            )
            for f in findings
        ),
        school=school,
        heading=[school.name] if school else [],
        count=len(findings),
    )


def trip_table(actor, query) -> Table:
    school, day = trips_filters(actor, query.get("school"), query)
    trips = trip_selectors.trip_list(actor=actor, school_id=school.pk, date=day)
    return Table(
        columns=[
            _("ID"),
            _("Route"),
            _("Direction"),
            _("Status"),
            _("Started at"),
            _("Ended at"),
            _("Bus"),
            _("Driver"),
            _("Children ticked on board"),
            _("Seats"),
            _("Open flags"),
            _("Reason refused"),
        ],
        rows=(
            (
                t.pk,
                t.route.name,
                t.get_direction_display(),
                t.get_status_display(),
                t.started_at,
                t.ended_at,
                t.bus.plate,
                t.driver.name,
                t.boarded,
                t.bus.seats,
                t.open_flags,
                t.refuse_reason,
            )
            for t in trips.iterator(chunk_size=CHUNK)
        ),
        school=school,
        heading=[f"{school.name} · {day.isoformat()}"],
    )


def flag_table(actor, query) -> Table:
    """The open trip flags, then the resolved ones (every page), as the page lists them."""
    _ids, school_id = flag_filters(actor, query)

    def rows():
        for state in ("open", "resolved"):
            flags = trip_selectors.flag_list(actor=actor, school_id=school_id, state=state)
            for f in flags.iterator(chunk_size=CHUNK):
                yield (
                    f.pk,
                    f.at,
                    f.get_kind_display(),
                    f.child.name if f.child else "",
                    f.trip.school.name,
                    f.trip.route.name,
                    f.trip.get_direction_display(),
                    f.trip.date,
                    f.detail,
                    f.resolved_at,
                    person_name(f.resolved_by) if f.resolved_by else "",
                    f.resolution,
                )

    return Table(
        columns=[
            _("ID"),
            _("Flagged at"),
            _("Kind"),
            _("Child"),
            _("School"),
            _("Route"),
            _("Direction"),
            _("Trip date"),
            _("Detail"),
            _("Resolved at"),
            _("Resolved by"),
            _("Resolution"),
        ],
        rows=rows(),
    )


register_export("transport.fleet", title=gettext_lazy("School buses"), table=fleet_table)
register_export("transport.buses", title=gettext_lazy("Buses"), table=bus_table)
register_export("transport.drivers", title=gettext_lazy("Drivers"), table=driver_table)
register_export("transport.routes", title=gettext_lazy("Routes"), table=route_table)
register_export(
    "transport.inspections", title=gettext_lazy("School-bus checks"), table=inspection_table
)
register_export("transport.findings", title=gettext_lazy("Open findings"), table=finding_table)
register_export("transport.trips", title=gettext_lazy("Bus trips"), table=trip_table)
register_export("transport.trip_flags", title=gettext_lazy("Trip flags"), table=flag_table)
