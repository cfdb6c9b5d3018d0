"""Excel exports of the duty list pages (issue 10 item 5, ADR 0033): the schools overview,
a school's roster week, monitoring-room log day, duty gaps, patrol rounds and checkpoints,
each from the page's scoped selector with the page's parameters.

The pages of one school carry it in their path; their export button posts it as
`school=` (with the page's week or day), and the export finds the school exactly as the
page does (404 out of scope, 403 for a role the page refuses). Checkpoint plates' codes are
secrets and are not exported."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.duty import (
    checkpoint_selectors,
    duty_views,
    gap_selectors,
    monitoring_views,
    rounds_selectors,
)
from huxiao.duty import duty_selectors as sel
from huxiao.duty import monitoring_selectors as msel
from huxiao.reports.export_filters import school_line, yes
from huxiao.reports.exports import Table, register_export

CHUNK = 1000


def _school(actor, query, action=Action.VIEW):
    return sel.school_get(actor=actor, school_id=query.get("school"), action=action)


def overview_table(actor, query) -> Table:
    now = timezone.now()
    rows = duty_views.overview_rows(actor, now)
    return Table(
        columns=[
            _("Number"),
            _("School"),
            _("Town"),
            _("Shift now"),
            _("Someone checked in"),
            _("Open duty gaps"),
        ],
        rows=(
            (
                r["school"].pk,
                r["school"].name,
                r["school"].town.name if r["school"].town_id else "",
                r["current"].get_kind_display() if r["current"] else _("no shift planned"),
                yes(r["covered"]),
                r["open_gaps"],
            )
            for r in rows
        ),
        heading=[now],
        count=len(rows),
    )


def _people(shift) -> str:
    return "; ".join(
        f"{a.get_role_display()}: {person_name(a.user)}"
        + (f" ({timezone.localtime(a.checked_in_at):%H:%M})" if a.checked_in_at else "")
        for a in shift.assignments.all()
    )


def roster_table(actor, query) -> Table:
    school = _school(actor, query)
    monday = duty_views.roster_monday(query)
    days = sel.roster_week(school=school, monday=monday)

    def rows():
        for day in days:
            for shift in (day.day, day.night):
                if shift is None:
                    continue
                covered = any(a.checked_in_at for a in shift.assignments.all())
                yield (
                    shift.pk,
                    day.date,
                    shift.get_kind_display(),
                    shift.starts_at,
                    shift.ends_at,
                    _("covered") if covered else (_("uncovered") if shift.gap_flagged_at else ""),
                    _people(shift),
                )

    return Table(
        columns=[
            _("Number"),
            _("Day"),
            _("Shift"),
            _("From"),
            _("Until"),
            _("Covered"),
            _("People on duty"),
        ],
        rows=rows(),
        school=school,
        heading=[school_line(school), _("Week of %(start)s") % {"start": monday.isoformat()}],
    )


def monitoring_table(actor, query) -> Table:
    school = _school(actor, query)
    day = monitoring_views.log_day(query, timezone.localdate())
    since, until = msel.day_bounds(day)
    entries = msel.entry_list(actor=actor, school_id=school.pk, since=since, until=until)
    rows = (
        (
            e.pk,
            e.period_start,
            e.period_end,
            person_name(e.watcher) if e.watcher_id else e.watcher_name,
            yes(e.anomaly),
            e.observations,
            e.actions,
        )
        for e in entries.iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[
            _("Number"),
            _("From"),
            _("Until"),
            _("Watcher"),
            _("Abnormal"),
            _("Observations"),
            _("Actions taken"),
        ],
        rows=rows,
        school=school,
        heading=[school_line(school), day],
    )


def gaps_table(actor, query) -> Table:
    school = _school(actor, query)

    def rows():
        for state in ("open", "resolved"):
            gaps = gap_selectors.gap_list(actor=actor, school_id=school.pk, state=state)
            for g in gaps.iterator(chunk_size=CHUNK):
                yield (
                    g.pk,
                    g.get_kind_display(),
                    g.starts_at,
                    g.ends_at,
                    g.flagged_at,
                    str(g.shift) if g.shift_id else "",
                    g.resolved_at,
                    person_name(g.resolved_by),
                    g.note,
                )

    return Table(
        columns=[
            _("Number"),
            _("Kind"),
            _("From"),
            _("Until"),
            _("Flagged at"),
            _("Shift"),
            _("Resolved at"),
            _("Resolved by"),
            _("Note"),
        ],
        rows=rows(),
        school=school,
        heading=[school_line(school), _("Open gaps first, then the resolved ones")],
    )


def rounds_table(actor, query) -> Table:
    checkpoint_selectors.require_any(actor, Action.VIEW)
    school = checkpoint_selectors.school_get(actor=actor, school_id=query.get("school"))
    days = rounds_selectors.school_days(actor=actor, school=school)

    def day_cells(d) -> tuple:
        counted = f"{d.day_rounds} / {d.required}" if d.required else str(d.day_rounds)
        night = f"{d.night_rounds} / {d.night_required}" if d.night_required else ""
        return (d.day, counted, night, yes(d.missed))

    def rows():
        for d in days:
            if not d.rounds:
                yield (*day_cells(d), None, None, None, "", "", "", "")
            for r in d.rounds:
                yield (
                    *day_cells(d),
                    r.pk,
                    r.started_at,
                    r.finished_at,
                    person_name(r.guard),
                    yes(r.is_night),
                    yes(r.counted),
                    "、".join(s.checkpoint.name for s in r.scans.all()),
                )

    return Table(
        columns=[
            _("Day"),
            _("Counted rounds"),
            _("Night rounds"),
            _("Rounds missed"),
            _("Round"),
            _("Started"),
            _("Ended"),
            _("Guard"),
            _("Night round"),
            _("Counted"),
            _("Checkpoints scanned"),
        ],
        rows=rows(),
        school=school,
        heading=[school_line(school), _("Today and the last 7 days")],
    )


def checkpoints_table(actor, query) -> Table:
    checkpoint_selectors.require_any(actor, Action.PLAN_DUTY)
    school = checkpoint_selectors.school_get(
        actor=actor, school_id=query.get("school"), action=Action.PLAN_DUTY
    )
    checkpoints = checkpoint_selectors.checkpoint_list(
        actor=actor, school_id=school.pk, include_retired=True, action=Action.PLAN_DUTY
    )
    rows = (
        (
            c.pk,
            c.order,
            c.name,
            c.location,
            yes(c.is_key_area),
            yes(c.for_night),
            yes(c.is_active) or _("no longer in use"),
        )
        for c in checkpoints
    )
    return Table(
        columns=[
            _("Number"),
            _("Order"),
            _("Checkpoint name"),
            _("Location"),
            _("Key area"),
            _("Night round only"),
            _("In use"),
        ],
        rows=rows,
        school=school,
        heading=[school_line(school)],
    )


register_export("duty.overview", title=gettext_lazy("Duty at the schools"), table=overview_table)
register_export("duty.roster", title=gettext_lazy("Duty roster"), table=roster_table)
register_export(
    "duty.monitoring", title=gettext_lazy("Monitoring-room log"), table=monitoring_table
)
register_export("duty.gaps", title=gettext_lazy("Duty gaps"), table=gaps_table)
register_export("duty.rounds", title=gettext_lazy("Patrol rounds"), table=rounds_table)
register_export("duty.checkpoints", title=gettext_lazy("Checkpoints"), table=checkpoints_table)
