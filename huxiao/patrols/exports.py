"""Excel exports of the patrols list pages (issue 10 item 5; ADR 0033): gate posts, patrol
logs, police-post visits (the week against the rule, and the week's visits), cameras,
video patrols and legal vice-principals. Each parses its filters with the page's own
function (`*_filters` in the views) and reads through the same scoped selector; the rows
are the page's rows without the page's display cap (100 or 500 rows)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.core.names import person_name
from huxiao.orgs.models import Organization
from huxiao.patrols import lvp_selectors, selectors, video_selectors
from huxiao.patrols.lvp_views import lvp_filters
from huxiao.patrols.video_views import camera_filters, video_patrol_filters
from huxiao.patrols.views import log_filters, post_filters, visit_filters, visit_week_rows
from huxiao.reports.exports import Table, register_export

CHUNK = 500


def _school_heading(school_id: int | None) -> list[str]:
    if not school_id:
        return []
    name = Organization.objects.filter(pk=school_id).values_list("name", flat=True).first()
    return [_("School: %(name)s") % {"name": name}]


def _names(items) -> str:
    return "、".join(s.name for s in items)


def post_table(actor, query) -> Table:
    filters = post_filters(actor, query)
    posts = selectors.post_list(actor=actor, **filters)
    return Table(
        columns=[
            _("ID"),
            _("School"),
            _("Peak period"),
            _("Location"),
            _("Days and times"),
            _("Staffed by"),
            _("Status"),
        ],
        rows=(
            (
                p.pk,
                p.school.name,
                p.get_period_display(),
                p.location,
                "\n".join(str(w) for w in p.windows.all()),
                "\n".join(f"{s.display_name} ({s.get_kind_display()})" for s in p.active_staff),
                _("In use") if p.is_active else _("Not in use"),
            )
            for p in posts.iterator(chunk_size=CHUNK)
        ),
        heading=_school_heading(filters["school_id"]),
    )


def log_table(actor, query) -> Table:
    filters = log_filters(actor, query)
    logs = selectors.patrol_log_list(actor=actor, **filters)
    return Table(
        columns=[
            _("ID"),
            _("Started at"),
            _("Officer"),
            _("Mode"),
            _("Dress"),
            _("Schools passed"),
            _("Suspicious persons checked"),
        ],
        rows=(
            (
                log.pk,
                log.started_at,
                person_name(log.officer),
                log.get_mode_display(),
                log.get_dress_display(),
                _names(log.schools.all()),
                log.suspicious_checked,
            )
            for log in logs.iterator(chunk_size=CHUNK)
        ),
        heading=_school_heading(filters["school_id"]),
    )


def _week(actor, query):
    school_id, form = visit_filters(actor, query)
    if not form.is_valid():
        raise ValidationError([e for errors in form.errors.values() for e in errors])
    week_start = form.cleaned_data["week"]
    heading = [
        _("Week of %(start)s") % {"start": week_start.isoformat()},
        *_school_heading(school_id),
    ]
    return school_id, week_start, heading


def visit_week_table(actor, query) -> Table:
    school_id, week_start, heading = _week(actor, query)
    rows = visit_week_rows(actor, week_start=week_start, school_id=school_id)
    return Table(
        columns=[
            _("ID"),
            _("School"),
            _("Police station"),
            _("Visits"),
            _("Required"),
            _("Rule"),
            _("Station told"),
        ],
        rows=(
            (
                r.school_id,
                r.name,
                r.station_name,
                r.visits,
                r.required,
                _("Met") if r.met else _("Short"),
                r.flagged_at,
            )
            for r in rows
        ),
        heading=heading,
        count=len(rows),
    )


def visit_table(actor, query) -> Table:
    school_id, week_start, heading = _week(actor, query)
    visits = selectors.visit_list(actor=actor, school_id=school_id, week_start=week_start)
    return Table(
        columns=[
            _("ID"),
            _("Arrived at"),
            _("Left at"),
            _("School"),
            _("Officer"),
            _("Problems found"),
        ],
        rows=(
            (
                v.pk,
                v.arrived_at,
                v.left_at,
                v.school.name,
                person_name(v.officer),
                v.problems_found,
            )
            for v in visits.iterator(chunk_size=CHUNK)
        ),
        heading=heading,
    )


def camera_table(actor, query) -> Table:
    filters = camera_filters(actor, query)
    cameras = video_selectors.camera_list(actor=actor, **filters)
    yes, no = _("Yes"), _("No")
    return Table(
        columns=[
            _("ID"),
            _("School"),
            _("Name"),
            _("Device ID"),
            _("Kind"),
            _("Location"),
            _("Status"),
            _("Last seen"),
            _("Networked to the police"),
        ],
        rows=(
            (
                c.pk,
                c.school.name,
                c.name,
                c.device_id,
                c.get_kind_display(),
                c.location,
                _("Online") if c.is_online else _("Offline"),
                c.last_seen_at,
                yes if c.is_networked else no,
            )
            for c in cameras.iterator(chunk_size=CHUNK)
        ),
        heading=_school_heading(filters["school_id"]),
    )


def video_patrol_table(actor, query) -> Table:
    filters = video_patrol_filters(actor, query)
    patrols = video_selectors.video_patrol_list(actor=actor, **filters)
    heading = _school_heading(filters["school_id"])
    if filters["follow_up"]:
        heading.append(_("Only with findings to follow up"))
    return Table(
        columns=[
            _("ID"),
            _("Started at"),
            _("Officer"),
            _("Schools looked at"),
            _("Cameras"),
            _("Follow-up"),
        ],
        rows=(
            (
                p.pk,
                p.started_at,
                person_name(p.officer),
                _names(p.schools.all()),
                len(p.observations.all()),
                "、".join(o.camera.name for o in p.observations.all() if o.needs_follow_up),
            )
            for p in patrols.iterator(chunk_size=CHUNK)
        ),
        heading=heading,
    )


def _lvp_status(a) -> str:
    if a.is_current:
        return _("Active")
    if a.ended_at:
        ended = f"{_('Ended')} {timezone.localtime(a.ended_at):%Y-%m-%d}"
        return f"{ended} · {a.end_reason}" if a.end_reason else ended
    return f"{_('Term ended')} {a.term_end:%Y-%m-%d}" if a.term_end else _("Term ended")


def lvp_table(actor, query) -> Table:
    filters = lvp_filters(actor, query)
    assignments = lvp_selectors.lvp_list(actor=actor, **filters)
    heading = _school_heading(filters["school_id"])
    if filters["active"] is None:
        heading.append(_("Include ended assignments"))
    return Table(
        columns=[
            _("ID"),
            _("Police station"),
            _("School"),
            _("Officer"),
            _("Term start"),
            _("Term end"),
            _("Appointment document number"),
            _("Status"),
        ],
        rows=(
            (
                a.pk,
                a.station.name,
                a.school.name,
                person_name(a.officer),
                a.term_start,
                a.term_end,
                a.appointment_no,
                _lvp_status(a),
            )
            for a in assignments.iterator(chunk_size=CHUNK)
        ),
        heading=heading,
    )


register_export("patrols.posts", title=gettext_lazy("Gate post plans"), table=post_table)
register_export("patrols.logs", title=gettext_lazy("Patrol logs"), table=log_table)
register_export(
    "patrols.visit_week", title=gettext_lazy("Police-post visits by school"), table=visit_week_table
)
register_export("patrols.visits", title=gettext_lazy("Police-post visits"), table=visit_table)
register_export("patrols.cameras", title=gettext_lazy("Cameras"), table=camera_table)
register_export(
    "patrols.video_patrols", title=gettext_lazy("Video patrols"), table=video_patrol_table
)
register_export("patrols.lvp", title=gettext_lazy("Legal vice-principals"), table=lvp_table)
