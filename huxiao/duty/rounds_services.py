"""Writes of on-campus patrol rounds (issue 7 item 7; §2 5–6; ADR 0029 "Rounds").

A guard (anyone with `KEEP_DUTY` at the school) walks a round by scanning the QR plates of
the school's checkpoints one after another:

- a scan goes into the guard's open round at the checkpoint's school; the first scan starts
  a round (a night round when the school boards pupils and the scan falls in the duty
  plan's night window, `DutyPlan.night_round_from`–`night_round_until`);
- the same checkpoint twice in a round writes nothing (a gentle message);
- a round ends by the guard's button, by itself when every checkpoint of its kind has been
  scanned (a day round: the checkpoints in use that are not for the night round only; a
  night round: every checkpoint in use, dormitories included), or when it has been idle
  for `IDLE_MINUTES` (`finished_at` = its last scan) — noticed at the guard's next scan
  and by the periodic job;
- a code that is unknown, retired or of a school where the actor does not keep duty is the
  same "unknown checkpoint" (`CheckpointUnknown`, 404): nothing is written.

`rounds_check` is the daily job (tasks.py): it finishes idle rounds (and, before judging
yesterday, the day rounds left open whose last scan was before midnight) and flags, through
`gap_services.gap_flag`, each school whose day had fewer counted rounds than its county's
rule asks (`rounds_missed`) and each boarding school whose night had no night round
(`night_round_missed`). A night belongs to the day it began and is over at noon the next
day (the counting contract of rounds_counts.py), so a night is checked at the first run
after that noon.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_bulk_update, audit_create, audit_update, snapshot
from huxiao.core.roles import SCHOOL_KINDS, Action
from huxiao.core.scoping import can, visible_school_ids
from huxiao.duty.choices import GapKind
from huxiao.duty.models import Checkpoint, CheckpointScan, DutyPlan, PatrolRound
from huxiao.duty.rounds_counts import local_midnight, local_tz, round_counts_with_active
from huxiao.orgs.models import Organization
from huxiao.people import validation as v
from huxiao.security.rules import rule_params

IDLE_MINUTES = 60
# A scan of a checkpoint already scanned in the round the guard finished this recently is
# taken as a reload of the page (a phone browser reopening its tabs), not a new round.
REPEAT_MINUTES = 10
CODE_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,32}")
RULE_KEY = "patrol_rounds"


class RoundRefused(ValidationError):
    """A step the round's state does not allow (409 with the sentence)."""

    def __init__(self, message):
        super().__init__(message, code="transition")


class CheckpointUnknown(Http404):
    """No checkpoint in use with this code where the actor keeps duty (404)."""

    def __init__(self, message=None):
        self.message = message or _(
            "This QR code is not a checkpoint of your school, or it is no longer in use. "
            "Nothing was recorded."
        )
        super().__init__(str(self.message))


# ------------------------------------------------------------------ helpers


def code_candidates(value) -> list[str]:
    """The codes a typed or scanned value may stand for: as entered without white space
    (codes issued before, mixed case with - and _, match only exactly as stored), and
    normalised (white space and dashes dropped, full-width folded, upper case: the codes
    printed in groups of four). Raises CheckpointUnknown when none can be a code."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if "/" in text:
        path = urlsplit(text).path if "://" in text else text.split("?", 1)[0]
        parts = [p for p in path.split("/") if p]
        text = parts[-1] if parts else ""
    exact = "".join(text.split())
    normal = exact.replace("-", "").upper()
    found = [c for c in dict.fromkeys((exact, normal)) if CODE_SHAPE.fullmatch(c)]
    if not found:
        raise CheckpointUnknown
    return found


def _typed_unknown(value) -> CheckpointUnknown:
    """The refusal of a code typed on the manual entry: it names the code, not a QR (a
    scanner that types the plate's whole URL still gets the QR sentence)."""
    if "/" in str(value or ""):
        return CheckpointUnknown()
    return CheckpointUnknown(
        _(
            "No checkpoint of your school in use has this code. Check the code printed "
            "under the QR and type it again. Nothing was recorded."
        )
    )


def plan_of(school_id: int) -> DutyPlan:
    """The school's duty plan, or the defaults (unsaved) when it has none."""
    return DutyPlan.objects.filter(school_id=school_id).first() or DutyPlan(school_id=school_id)


def _as_time(value) -> dt.time:
    if isinstance(value, str):
        return dt.time.fromisoformat(value)
    return value


def in_night_window(moment: dt.datetime, plan: DutyPlan) -> bool:
    """Does the local time of `moment` fall in the plan's night-round window (which may
    span midnight, 21:00–05:00 by default)?"""
    start, until = _as_time(plan.night_round_from), _as_time(plan.night_round_until)
    at = timezone.localtime(moment, local_tz()).time()
    if start == until:
        return False
    if start < until:
        return start <= at < until
    return at >= start or at < until


def night_window(day: dt.date, plan: DutyPlan) -> tuple[dt.datetime, dt.datetime]:
    """The night-round window of the night that begins on `day` (local)."""
    start, until = _as_time(plan.night_round_from), _as_time(plan.night_round_until)
    tz = local_tz()
    begins = timezone.make_aware(dt.datetime.combine(day, start), tz)
    end_day = day + dt.timedelta(days=1) if until <= start else day
    return begins, timezone.make_aware(dt.datetime.combine(end_day, until), tz)


def expected_checkpoints(school_id: int, is_night: bool) -> list[Checkpoint]:
    """The checkpoints a round of this kind walks: every checkpoint in use at night; by day
    those not marked for the night round only (the dormitories)."""
    qs = Checkpoint.objects.filter(school_id=school_id, is_active=True)
    if not is_night:
        qs = qs.filter(for_night=False)
    return list(qs.order_by("order", "id"))


def _last_scan_at():
    return Subquery(
        CheckpointScan.objects.filter(round=OuterRef("pk"))
        .order_by("-scanned_at")
        .values("scanned_at")[:1]
    )


def _idle_cutoff(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(minutes=IDLE_MINUTES)


# ------------------------------------------------------------------ the outcome of a scan


@dataclass
class ScanOutcome:
    """What the guard's phone shows after a scan."""

    round: PatrolRound
    checkpoint: Checkpoint
    scan: CheckpointScan | None
    duplicate: bool = False
    finished: bool = False
    scanned: list[CheckpointScan] = field(default_factory=list)
    left: list[Checkpoint] = field(default_factory=list)

    @property
    def position(self) -> int:
        """N of "第 N 个点位": how many checkpoints this round has scanned."""
        return len(self.scanned)

    @property
    def total(self) -> int:
        """M of "共 M 个": the round's checkpoints (and any other it scanned)."""
        return len(self.scanned) + len(self.left)


def round_progress(rnd: PatrolRound) -> tuple[list[CheckpointScan], list[Checkpoint]]:
    """The round's scans in order and the checkpoints of its kind still to scan (none once
    it is finished)."""
    scans = list(
        CheckpointScan.objects.filter(round=rnd)
        .select_related("checkpoint")
        .order_by("scanned_at", "id")
    )
    if rnd.finished_at is not None:
        left = []
    else:
        done = {s.checkpoint_id for s in scans}
        left = [c for c in expected_checkpoints(rnd.school_id, rnd.is_night) if c.pk not in done]
    return scans, left


def _outcome(rnd, checkpoint, scan, *, duplicate=False, finished=False) -> ScanOutcome:
    scanned, left = round_progress(rnd)
    return ScanOutcome(
        round=rnd,
        checkpoint=checkpoint,
        scan=scan,
        duplicate=duplicate,
        finished=finished,
        scanned=scanned,
        left=left,
    )


# ------------------------------------------------------------------ scanning


def _finish_stale(*, school_id: int, guard_id: int, now: dt.datetime) -> None:
    """The guard's open round at the school idle for IDLE_MINUTES ends at its last scan
    (the job does the same for everyone; here it is done before the next scan)."""
    stale = list(
        PatrolRound.objects.select_for_update()
        .filter(school_id=school_id, guard_id=guard_id, finished_at__isnull=True)
        .annotate(last_at=Coalesce(_last_scan_at(), F("started_at")))
        .filter(last_at__lt=_idle_cutoff(now))
    )
    for rnd in stale:
        before = snapshot(rnd)
        rnd.finished_at = rnd.last_at
        rnd.save(update_fields=["finished_at"])
        audit_update(actor=None, obj=rnd, before=before, school=school_id)


def checkpoint_scan(
    *,
    actor,
    code,
    school_id: int | None = None,
    note: str = "",
    now: dt.datetime | None = None,
    typed: bool = False,
) -> ScanOutcome:
    """Record the scan of the checkpoint with `code` in the actor's open round at its school
    (starting one). See the module's docstring for the rules.

    403 when the actor keeps duty nowhere; CheckpointUnknown (404) for a code that is no
    checkpoint in use of a school where the actor keeps duty (of `school_id` when given:
    the manual entry of one school's page); ValidationError for a note too long. A repeat
    returns the round with `duplicate=True` and writes nothing."""
    now = now or timezone.now()
    if not visible_school_ids(actor, Action.KEEP_DUTY):
        raise PermissionDenied(_("Your role does not allow this action."))
    try:
        codes = code_candidates(code)
    except CheckpointUnknown:
        raise (_typed_unknown(code) if typed else CheckpointUnknown()) from None
    candidates = Checkpoint.objects.visible_to(actor, Action.KEEP_DUTY).filter(
        code__in=codes, is_active=True
    )
    if school_id is not None:
        candidates = candidates.filter(school_id=school_id)
    # An exact match first (a code issued before that only differs in case).
    found = {c.code: c for c in candidates.select_related("school")[:2]}
    checkpoint = next((found[c] for c in codes if c in found), None)
    if checkpoint is None:
        raise _typed_unknown(code) if typed else CheckpointUnknown()
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=500)
    errors.raise_if_any()
    with transaction.atomic():
        return _scan_locked(actor=actor, checkpoint=checkpoint, note=note, now=now)


def _scan_locked(*, actor, checkpoint: Checkpoint, note: str, now: dt.datetime) -> ScanOutcome:
    school = checkpoint.school
    # One scan at a time per school: two quick taps never open two rounds.
    list(Organization.objects.select_for_update().filter(pk=school.pk).values_list("pk"))
    _finish_stale(school_id=school.pk, guard_id=actor.pk, now=now)
    rnd = (
        PatrolRound.objects.select_for_update()
        .filter(school_id=school.pk, guard_id=actor.pk, finished_at__isnull=True)
        .order_by("-started_at", "-id")
        .first()
    )
    if rnd is None:
        recent = (
            CheckpointScan.objects.filter(
                round__school_id=school.pk,
                round__guard_id=actor.pk,
                round__finished_at__gte=now - dt.timedelta(minutes=REPEAT_MINUTES),
                checkpoint=checkpoint,
                scanned_at__gte=now - dt.timedelta(minutes=REPEAT_MINUTES),
            )
            .select_related("round")
            .order_by("-scanned_at")
            .first()
        )
        if recent is not None:
            return _outcome(recent.round, checkpoint, None, duplicate=True)
        rnd = PatrolRound.objects.create(
            school=school,
            guard=actor,
            started_at=now,
            is_night=school.is_boarding and in_night_window(now, plan_of(school.pk)),
        )
        audit_create(actor=actor, obj=rnd, school=school.pk)
    elif CheckpointScan.objects.filter(round=rnd, checkpoint=checkpoint).exists():
        return _outcome(rnd, checkpoint, None, duplicate=True)
    try:
        with transaction.atomic():
            scan = CheckpointScan.objects.create(
                round=rnd, checkpoint=checkpoint, scanned_at=now, note=note
            )
    except IntegrityError:  # the same scan arriving twice at once
        return _outcome(rnd, checkpoint, None, duplicate=True)
    audit_create(actor=actor, obj=scan, school=school.pk)
    expected = {c.pk for c in expected_checkpoints(school.pk, rnd.is_night)}
    done = set(CheckpointScan.objects.filter(round=rnd).values_list("checkpoint_id", flat=True))
    finished = bool(expected) and expected <= done
    if finished:
        before = snapshot(rnd)
        rnd.finished_at = now
        rnd.save(update_fields=["finished_at"])
        audit_update(actor=actor, obj=rnd, before=before, school=school.pk)
    return _outcome(rnd, checkpoint, scan, finished=finished)


def may_finish(actor, rnd: PatrolRound) -> bool:
    """The round's own guard, or whoever plans duty at the school."""
    if can(actor, Action.PLAN_DUTY, rnd.school_id):
        return True
    return rnd.guard_id == getattr(actor, "pk", None) and can(
        actor, Action.KEEP_DUTY, rnd.school_id
    )


@transaction.atomic
def round_finish(*, actor, round: PatrolRound, now: dt.datetime | None = None) -> PatrolRound:  # noqa: A002
    """End the round now ("结束本轮"); a round idle for IDLE_MINUTES ends at its last scan.
    403 for someone else's round (unless they plan duty), 409 when already finished."""
    now = now or timezone.now()
    if not may_finish(actor, round):
        raise PermissionDenied(_("Only the guard on the round can end it."))
    rnd = (
        PatrolRound.objects.select_for_update()
        .annotate(last_at=Coalesce(_last_scan_at(), F("started_at")))
        .get(pk=round.pk)
    )
    if rnd.finished_at is not None:
        raise RoundRefused(_("This round has already ended."))
    before = snapshot(rnd)
    rnd.finished_at = rnd.last_at if rnd.last_at < _idle_cutoff(now) else max(now, rnd.last_at)
    rnd.save(update_fields=["finished_at"])
    audit_update(actor=actor, obj=rnd, before=before, school=rnd.school_id)
    return rnd


# ------------------------------------------------------------------ jobs


def _open_rounds():
    return PatrolRound.objects.filter(finished_at__isnull=True).annotate(
        last_at=Coalesce(_last_scan_at(), F("started_at"))
    )


def rounds_finish_idle(*, now: dt.datetime | None = None) -> int:
    """End every open round idle for IDLE_MINUTES at its last scan; returns how many. Safe
    to run at any time and twice at once (only still-open rows are touched)."""
    now = now or timezone.now()
    return _finish_at_last_scan(_open_rounds().filter(last_at__lt=_idle_cutoff(now)), now)


def rounds_finish_before(*, cutoff: dt.datetime, now: dt.datetime | None = None) -> int:
    """End every open day round whose last scan was before `cutoff` at that last scan;
    returns how many. The daily check calls it with local midnight before judging
    yesterday: a round of 23:45 left open (the guard forgot the button) is not idle yet at
    00:20, yet it belongs to yesterday and must count there."""
    now = now or timezone.now()
    return _finish_at_last_scan(_open_rounds().filter(is_night=False, last_at__lt=cutoff), now)


def _finish_at_last_scan(stale_qs, now: dt.datetime) -> int:
    stale = list(stale_qs.values_list("pk", "last_at", "school_id", "started_at"))
    done = 0
    for pk, last_at, school_id, started_at in stale:
        with transaction.atomic():
            changed = PatrolRound.objects.filter(pk=pk, finished_at__isnull=True).update(
                finished_at=last_at
            )
            if changed:
                audit_bulk_update(
                    actor=None,
                    model=PatrolRound,
                    objects=[(pk, f"{timezone.localtime(started_at):%Y-%m-%d %H:%M}", school_id)],
                    fields={"finished_at": [None, last_at.isoformat()]},
                    at=now,
                )
                done += changed
    return done


@dataclass
class CheckResult:
    day: dt.date | None = None
    night: dt.date | None = None
    finished: int = 0
    rounds_missed: list = field(default_factory=list)  # school ids flagged by this run
    night_missed: list = field(default_factory=list)  # school ids flagged by this run


def checked_days(now: dt.datetime) -> tuple[dt.date, dt.date]:
    """(the day whose rounds are checked, the night that is checked) at `now`: yesterday,
    and the latest night that is over (it ends at noon of the next day)."""
    local = timezone.localtime(now, local_tz())
    yesterday = local.date() - dt.timedelta(days=1)
    night = yesterday if local.time() >= dt.time(12) else yesterday - dt.timedelta(days=1)
    return yesterday, night


def rounds_check(*, now: dt.datetime | None = None) -> CheckResult:
    """The daily job: finish idle rounds (and yesterday's day rounds left open before
    midnight), then flag yesterday's missed rounds and the last night's missed night round,
    for every active school (a school without checkpoints has no counted round: it is
    flagged too). A school with a day round of yesterday still being walked after midnight
    is judged at the noon run. Idempotent (gap_flag is); the result lists only the gaps
    this run created. Grouped queries."""
    from huxiao.duty.gap_services import gap_flag

    now = now or timezone.now()
    result = CheckResult()
    result.finished = rounds_finish_idle(now=now)
    day, night = checked_days(now)
    result.day, result.night = day, night
    today_starts = local_midnight(day + dt.timedelta(days=1))
    # Yesterday's day rounds still open with their last scan before midnight end there now
    # (not idle for IDLE_MINUTES yet at 00:20), so they count for their day.
    result.finished += rounds_finish_before(cutoff=today_starts, now=now)
    # A day round of yesterday still being walked after midnight: its school's day is judged
    # at the next run (12:20, still "yesterday"), once the round has ended.
    walking = set()
    if timezone.localtime(now, local_tz()).time() < dt.time(12):
        walking = set(
            PatrolRound.objects.filter(
                finished_at__isnull=True,
                is_night=False,
                started_at__gte=local_midnight(day),
                started_at__lt=today_starts,
            ).values_list("school_id", flat=True)
        )
    schools = list(
        Organization.objects.filter(kind__in=SCHOOL_KINDS, is_active=True).order_by("pk")
    )
    if not schools:
        return result
    counts, active = round_counts_with_active(
        [s.pk for s in schools], min(day, night), max(day, night)
    )
    params = {}
    for region_id in {s.region_id for s in schools}:
        params[region_id] = rule_params(region_id, RULE_KEY) or {}
    plans = {p.school_id: p for p in DutyPlan.objects.filter(school__in=schools)}
    for school in schools:
        rule = params[school.region_id]
        if not rule:
            continue
        per_school = counts.get(school.pk, {})
        required = int(rule.get("rounds_per_day") or 0)
        done = per_school.get(day, (0, 0))[0]
        if required and done < required and school.pk not in walking:
            gap = gap_flag(
                school=school,
                kind=GapKind.ROUNDS_MISSED,
                starts_at=local_midnight(day),
                ends_at=local_midnight(day + dt.timedelta(days=1)),
                day=day,
                detail={
                    "required": required,
                    "done": done,
                    "checkpoints": active.get(school.pk, 0),
                },
                now=now,
            )
            if gap is not None:  # only gaps this run created (a rerun flags nothing)
                result.rounds_missed.append(school.pk)
        night_required = int(rule.get("night_rounds") or 0)
        if school.is_boarding and night_required:
            night_done = per_school.get(night, (0, 0))[1]
            if night_done < night_required:
                plan = plans.get(school.pk) or DutyPlan(school_id=school.pk)
                begins, ends = night_window(night, plan)
                gap = gap_flag(
                    school=school,
                    kind=GapKind.NIGHT_ROUND_MISSED,
                    starts_at=begins,
                    ends_at=ends,
                    day=night,
                    detail={"required": night_required, "done": night_done},
                    now=now,
                )
                if gap is not None:
                    result.night_missed.append(school.pk)
    return result
