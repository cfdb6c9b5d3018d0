"""Writes of the monitoring-room log and its gap check (issue 7 item 6, §2 6; ADR 0029
"Monitoring room").

An entry is one stretch of watching: who watched (a member of the school, or a name for
someone without a login), from/until (until ≥ from, not in the future, at most 24 hours,
from at most MAX_DAYS_BACK days ago), what was seen, what was done, and whether anything
was abnormal. Written by KEEP_DUTY people of the school. Entries are a written record: they
are not edited or deleted (a correction is a new entry). An abnormal entry is flagged at
once to the leader on duty, the duty leaders and the principals.

`monitoring_gaps_scan` (hourly) looks, for the schools whose defence profile says they have
a monitoring room, at the last 24 hours: every stretch not covered by any entry and longer
than the plan's `monitoring_max_gap_minutes` is flagged once (gap_flag, kind monitoring,
starts_at = the start of the stretch). A stretch still running (nobody has logged since)
is flagged with no end and is not flagged again while it goes on; when an entry later
closes it, the gap gets its end.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core.names import acting_user, person_name
from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.duty import duty_selectors as sel
from huxiao.duty.choices import GapKind
from huxiao.duty.gap_services import gap_flag, gap_recipients
from huxiao.duty.models import DutyGap, DutyShift, MonitoringLogEntry
from huxiao.notify.services import notify_send
from huxiao.people import validation as v

TEXT_MAX = 2000
NAME_MAX = 50
MAX_PERIOD = dt.timedelta(hours=24)
MAX_DAYS_BACK = 31
WINDOW = dt.timedelta(hours=24)
ANOMALY_EVENT = "duty.monitoring_anomaly"


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _moment(errors, name, value):
    if isinstance(value, str) and value.strip():
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            errors.add(name, _("Enter a date and time."))
            return None
    if not isinstance(value, dt.datetime):
        errors.add(name, _("Enter a date and time."))
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.replace(microsecond=0)


def monitoring_add(
    *,
    actor,
    school_id,
    period_start,
    period_end,
    observations,
    actions="",
    anomaly=False,
    watcher=None,
    watcher_name="",
    now=None,
) -> MonitoringLogEntry:
    """Write one entry of the school's monitoring-room log (KEEP_DUTY)."""
    now = now or timezone.now()
    with transaction.atomic():
        school = sel.school_get(actor=actor, school_id=school_id)
        if not can(actor, Action.KEEP_DUTY, school.pk):
            raise PermissionDenied(_("Your role does not keep the monitoring-room log here."))
        errors = v.FieldErrors()
        start = _moment(errors, "period_start", period_start)
        end = _moment(errors, "period_end", period_end)
        if start and end:
            if end < start:
                errors.add("period_end", _("“Until” cannot be before “from”."))
            elif end - start > MAX_PERIOD:
                errors.add("period_end", _("One entry covers at most 24 hours."))
        if end and end > now:
            errors.add("period_end", _("“Until” cannot be in the future."))
        if start and start < now - dt.timedelta(days=MAX_DAYS_BACK):
            errors.add(
                "period_start",
                _("At most %(n)s days back.") % {"n": MAX_DAYS_BACK},
            )
        seen = errors.run(
            "observations", v.clean_text, observations, max_length=TEXT_MAX, required=True
        )
        done = errors.run("actions", v.clean_text, actions, max_length=TEXT_MAX)
        name = errors.run("watcher_name", v.clean_text, watcher_name, max_length=NAME_MAX)
        name = " ".join((name or "").split())
        watcher_id = None
        if watcher not in (None, ""):
            # Any number a form carries: beyond a 64-bit key it is "not a member".
            watcher_id = sel.user_id_of(watcher)
            if watcher_id is None or not sel.is_member(watcher_id, school.pk):
                errors.add("watcher", _("Choose a member of this school."))
        elif not name:
            errors.add("watcher", _("Say who watched: a member of the school or a name."))
        errors.raise_if_any()
        entry = MonitoringLogEntry.objects.create(
            school=school,
            watcher_id=watcher_id,
            watcher_name=name,
            period_start=start,
            period_end=end,
            observations=seen,
            actions=done,
            anomaly=bool(anomaly),
            created_by=acting_user(actor),
        )
        audit_create(actor=actor, obj=entry)
        if entry.anomaly:
            _anomaly_notify(entry, school, now)
    return entry


def _anomaly_notify(entry, school, now) -> None:
    shift = (
        DutyShift.objects.filter(
            school=school, starts_at__lte=entry.period_end, ends_at__gt=entry.period_end
        )
        .order_by("-starts_at")
        .first()
    )
    watcher = person_name(entry.watcher) if entry.watcher_id else entry.watcher_name
    with translation.override(settings.LANGUAGE_CODE):
        title = str(_("Monitoring room at %(school)s: something abnormal")) % {
            "school": school.name
        }
        body = str(_("%(start)s–%(end)s, %(watcher)s: %(seen)s")) % {
            "start": _local(entry.period_start),
            "end": _local(entry.period_end),
            "watcher": watcher,
            "seen": entry.observations[:300],
        }
    notify_send(
        organizations=[school.pk],
        event_type=ANOMALY_EVENT,
        title=title,
        body=body,
        payload={"entry_id": entry.pk, "school_id": school.pk},
        recipients=gap_recipients(school_id=school.pk, shift_id=shift.pk if shift else None),
        dedupe_key=f"{ANOMALY_EVENT}.{entry.pk}",
    )


# ------------------------------------------------------------------ coverage


def uncovered(
    intervals: list[tuple[dt.datetime, dt.datetime]], since: dt.datetime, until: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The stretches of [since, until] covered by none of `intervals` (touching entries
    leave no gap)."""
    stretches = []
    cursor = since
    for start, end in sorted(intervals):
        if end <= cursor:
            continue
        if start > cursor:
            stretches.append((cursor, min(start, until)))
        cursor = max(cursor, end)
        if cursor >= until:
            break
    if cursor < until:
        stretches.append((cursor, until))
    return [(a, b) for a, b in stretches if b > a]


def monitored_school_ids() -> list[int]:
    from huxiao.security.models import DefenceProfile

    return list(
        DefenceProfile.objects.filter(monitoring_room=True, school__is_active=True).values_list(
            "school_id", flat=True
        )
    )


def monitoring_gaps_scan(now=None) -> list[int]:
    """Flag the uncovered stretches of the last 24 hours, for every school with a
    monitoring room (job, hourly). Returns the ids of the gaps flagged by this run."""
    now = (now or timezone.now()).replace(microsecond=0)
    since = now - WINDOW
    school_ids = monitored_school_ids()
    if not school_ids:
        return []
    plans = sel.plans_for(school_ids)
    intervals: dict[int, list] = defaultdict(list)
    for school_id, start, end in MonitoringLogEntry.objects.filter(
        school_id__in=school_ids, period_start__lt=now, period_end__gt=since
    ).values_list("school_id", "period_start", "period_end"):
        intervals[school_id].append((start, end))
    # Where the stretch at the window's start began: the end of the last entry before it.
    last_before = dict(
        MonitoringLogEntry.objects.filter(school_id__in=school_ids, period_end__lte=since)
        .values("school_id")
        .annotate(last=Max("period_end"))
        .values_list("school_id", "last")
        .order_by()
    )
    known: dict[int, list] = defaultdict(list)
    for gap in DutyGap.objects.filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=since - WINDOW),
        school_id__in=school_ids,
        kind=GapKind.MONITORING,
    ):
        known[gap.school_id].append(gap)
    flagged = []
    for school_id in school_ids:
        limit = dt.timedelta(minutes=plans[school_id].monitoring_max_gap_minutes)
        for start, end in uncovered(intervals[school_id], since, now):
            if start == since and school_id in last_before:
                start = last_before[school_id]
            if end - start <= limit:
                continue
            running = end >= now
            overlapping = [
                g
                for g in known[school_id]
                if g.starts_at < end and (g.ends_at is None or g.ends_at > start)
            ]
            if overlapping:
                if not running:
                    _close_running(overlapping, end)
                continue
            with transaction.atomic():
                gap = gap_flag(
                    school=school_id,
                    kind=GapKind.MONITORING,
                    starts_at=start,
                    ends_at=None if running else end,
                    day=timezone.localtime(start).date(),
                    detail={"max_gap_minutes": int(limit.total_seconds() // 60)},
                    now=now,
                )
            if gap is not None:
                known[school_id].append(gap)
                flagged.append(gap.pk)
    return flagged


def _close_running(gaps, end) -> None:
    """A stretch flagged while it ran has been closed by a later entry: record its end."""
    for gap in gaps:
        if gap.ends_at is not None or end <= gap.starts_at:
            continue
        with transaction.atomic():
            locked = DutyGap.objects.select_for_update().filter(pk=gap.pk).first()
            if locked is None or locked.ends_at is not None:
                continue
            before = snapshot(locked)
            locked.ends_at = end
            locked.save(update_fields=["ends_at"])
            audit_update(actor=None, obj=locked, before=before)
            gap.ends_at = end
