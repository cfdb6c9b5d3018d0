"""Writes of duty gaps (issue 7 items 5–7; ADR 0029 "Gaps").

A gap is something the periodic checks found missing: a shift nobody checked in for
(`shift_uncovered`, duty_services.duty_gaps_scan), a stretch of the monitoring-room log
without an entry (`monitoring`, monitoring_services.monitoring_gaps_scan), too few patrol
rounds on a day or no night round (`rounds_missed`, `night_round_missed`, the rounds area).

`gap_flag` is the one way to record a gap. The checks run again and again; the unique
constraint (school, kind, starts_at) makes flagging idempotent: a second call for the same
gap writes nothing and returns None. A missed day or night (`rounds_missed`,
`night_round_missed`) is also the same gap when its (school, kind, day) was flagged before,
whatever window it was judged by (the plan's night-round window may change between runs). A new gap is audited (actor: the platform) and flagged
in real time to the shift's leader on duty, the school's duty leaders and its principals:
their inbox gets it, pushed to their browser over the WebSocket once the transaction
commits (notify_send), and the school's own notification channels receive it too.

A gap stays on record even when the shift is covered later; it is closed by `gap_resolve`
with a note (PLAN_DUTY on the school: the principal, the security officer, duty leaders).

Order of checks: the row through the actor's scope (404), the right (403), the state
(`DutyRefused`, 409 with a sentence), the input (ValidationError by field, 400).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.roles import Action, Role
from huxiao.core.scoping import can
from huxiao.duty.choices import DutyRole, GapKind
from huxiao.duty.models import DutyAssignment, DutyGap, DutyShift
from huxiao.notify.services import notify_send
from huxiao.orgs.models import Membership, Organization
from huxiao.people import validation as v

logger = logging.getLogger(__name__)

GAP_EVENT = "duty.gap"
NOTE_MAX = 500
# Gaps of a whole day or night: one per (school, kind, day), even when its window moved.
DAY_KINDS = frozenset({GapKind.ROUNDS_MISSED.value, GapKind.NIGHT_ROUND_MISSED.value})
# Who is flagged besides the shift's leader on duty.
GAP_ROLES = (Role.DUTY_LEADER, Role.PRINCIPAL)


class DutyRefused(ValidationError):
    """A step the state of a shift, handover, open item or gap does not allow. `code` is
    "transition"; pages and the API answer 409 with the message."""

    def __init__(self, message):
        super().__init__(message, code="transition")


def _pk(value) -> int | None:
    if value is None:
        return None
    return int(getattr(value, "pk", value))


def gap_recipients(*, school_id: int, shift_id: int | None = None) -> list[int]:
    """User ids flagged about a gap of the school: the shift's leader(s) on duty, the
    school's duty leaders and principals (active memberships), in a stable order."""
    ids: list[int] = []
    if shift_id is not None:
        ids += list(
            DutyAssignment.objects.filter(shift_id=shift_id, role=DutyRole.LEADER)
            .order_by("id")
            .values_list("user_id", flat=True)
        )
    ids += list(
        Membership.objects.filter(organization_id=school_id, role__in=GAP_ROLES, is_active=True)
        .order_by("role", "user_id")
        .values_list("user_id", flat=True)
    )
    return list(dict.fromkeys(ids))


def _local(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _gap_message(gap: DutyGap, school_name: str, shift: DutyShift | None) -> tuple[str, str]:
    """Title and body in the platform's language, whoever triggered it."""
    with translation.override(settings.LANGUAGE_CODE):
        kind = str(GapKind(gap.kind).label)
        title = str(_("Duty gap at %(school)s: %(kind)s")) % {"school": school_name, "kind": kind}
        if shift is not None and gap.kind == GapKind.SHIFT_UNCOVERED:
            body = str(_("%(shift)s, from %(start)s: nobody has checked in.")) % {
                "shift": str(shift),
                "start": _local(shift.starts_at),
            }
        elif gap.ends_at is not None:
            body = str(_("From %(start)s until %(end)s.")) % {
                "start": _local(gap.starts_at),
                "end": _local(gap.ends_at),
            }
        elif gap.day is not None:
            body = str(_("On %(day)s.")) % {"day": gap.day.isoformat()}
        else:
            body = str(_("From %(start)s.")) % {"start": _local(gap.starts_at)}
    return title, body


def gap_flag(
    *,
    school,
    kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None = None,
    shift=None,
    day: dt.date | None = None,
    detail: dict | None = None,
    now: dt.datetime | None = None,
) -> DutyGap | None:
    """Record a gap once and flag it. Returns the new gap, or None when the same gap (school,
    kind, starts_at) was flagged before. `school` and `shift` are objects or ids. Runs in
    the caller's transaction when there is one (the notification is sent after commit)."""
    now = now or timezone.now()
    kind = GapKind(kind).value
    school_id = _pk(school)
    shift_id = _pk(shift)
    with transaction.atomic():
        if DutyGap.objects.filter(school_id=school_id, kind=kind, starts_at=starts_at).exists():
            return None
        if (
            kind in DAY_KINDS
            and day is not None
            and DutyGap.objects.filter(school_id=school_id, kind=kind, day=day).exists()
        ):
            # A day (or night) is missed once, whatever window it was judged by: the plan's
            # night-round window may have changed between two runs of the check.
            return None
        try:
            with transaction.atomic():  # a savepoint: a concurrent flag loses quietly
                gap = DutyGap.objects.create(
                    school_id=school_id,
                    kind=kind,
                    shift_id=shift_id,
                    day=day,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    detail=detail or {},
                    flagged_at=now,
                )
        except IntegrityError:
            return None
        audit_create(actor=None, obj=gap)
        school_obj = school if isinstance(school, Organization) else None
        if school_obj is None:
            school_obj = Organization.objects.only("id", "name").get(pk=school_id)
        shift_obj = shift if isinstance(shift, DutyShift) else None
        if shift_obj is None and shift_id is not None:
            shift_obj = DutyShift.objects.filter(pk=shift_id).first()
        title, body = _gap_message(gap, school_obj.name, shift_obj)
        notify_send(
            organizations=[school_id],
            event_type=GAP_EVENT,
            title=title,
            body=body,
            payload={
                "gap_id": gap.pk,
                "school_id": school_id,
                "kind": kind,
                "shift_id": shift_id,
                "starts_at": starts_at.isoformat(),
            },
            recipients=gap_recipients(school_id=school_id, shift_id=shift_id),
            dedupe_key=f"{GAP_EVENT}.{gap.pk}",
        )
    return gap


def gap_resolve(*, actor, gap_id: int, note, now: dt.datetime | None = None) -> DutyGap:
    """Close a gap with a note (what was done about it). PLAN_DUTY on the school."""
    now = now or timezone.now()
    with transaction.atomic():
        gap = (
            DutyGap.objects.visible_to(actor, Action.VIEW)
            .select_for_update()
            .filter(pk=gap_id)
            .first()
        )
        if gap is None:
            raise Http404
        if not can(actor, Action.PLAN_DUTY, gap.school_id):
            raise PermissionDenied(_("Only the school's duty planners may resolve a gap."))
        if gap.resolved_at is not None:
            raise DutyRefused(_("This gap has already been resolved."))
        errors = v.FieldErrors()
        text = errors.run("note", v.clean_text, note, max_length=NOTE_MAX, required=True)
        errors.raise_if_any()
        before = snapshot(gap)
        gap.resolved_at = now
        gap.resolved_by = acting_user(actor)
        gap.note = text
        gap.save(update_fields=["resolved_at", "resolved_by", "note"])
        audit_update(actor=actor, obj=gap, before=before)
    return gap
