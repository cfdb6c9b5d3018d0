"""Writes of hazards (隐患) and their rectification (整改), issue 6 item 3, ADR 0026.

The state machine lives in one table, `MOVES`: each move names the states it starts from,
the state it leads to, the action it needs (core/roles.py) and whether the hazard's owner
may make it. Every move locks the hazard's row, is refused with a clear message when the
table does not allow it, and leaves a `HazardEvent`, an audit row and (after commit)
notifications. A hazard outside the actor's scope is "not found" (Http404), never revealed.

`hazards_escalate` is the daily overdue job: one query finds the open hazards past their
deadline that are due a step today, bulk writes move them one level (1 → the school's
principals, 2 → the supervising education office), and one notification goes to each
school (level 1) and each office (level 2). A second run on the same day does nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import (
    audit_bulk_update,
    audit_create,
    audit_update,
    insert_rows,
    snapshot,
)
from huxiao.core.names import actor_label
from huxiao.core.permissions import require
from huxiao.core.roles import SCHOOL_KINDS, Action, OrgKind, Role
from huxiao.core.scoping import can, memberships_of
from huxiao.hazards.choices import (
    OPEN_HAZARD_STATUSES,
    AnswerResult,
    HazardCategory,
    HazardLevel,
    HazardStatus,
    InspectionStatus,
    PhotoKind,
)
from huxiao.hazards.models import Hazard, HazardEvent, HazardPhoto
from huxiao.orgs.models import Membership, Organization
from huxiao.people import validation as v

logger = logging.getLogger(__name__)

S = HazardStatus
PHOTO_TYPES = {
    b"\xff\xd8\xff": ".jpg",
    b"\x89PNG\r\n\x1a\n": ".png",
}
MAX_PHOTOS = 9
# Escalation levels (Hazard.escalation_level): 0 owner, 1 principal, 2 supervising office.
LEVEL_PRINCIPAL = 1
LEVEL_OFFICE = 2
MAX_LEVEL = LEVEL_OFFICE
# Rectification deadlines are set at most a year ahead; later dates are typing mistakes
# (or a way to keep a hazard off the overdue ladder for ever).
MAX_DEADLINE_DAYS = 365
# The states the overdue ladder climbs in: the school's own work. A submitted hazard waits
# on the verifier, not on the school (ADR 0026, "Review fixes").
ESCALATING_STATUSES = (S.REPORTED, S.ASSIGNED, S.RECTIFYING)


class HazardTransitionRefused(ValidationError):
    """A move the state machine does not allow from the hazard's current state. `code` is
    "transition"; views answer 409 with the message."""

    def __init__(self, message):
        super().__init__(message, code="transition")


@dataclass(frozen=True)
class Move:
    name: str
    sources: frozenset
    target: str
    action: str
    refusal: object
    owner_may: bool = False


# The whole state machine (ADR 0026): reported → assigned → rectifying → submitted →
# closed; submitted → rectifying when sent back; closed → rectifying when reopened. An
# assigned hazard may be assigned again (another owner, a new deadline).
MOVES: dict[str, Move] = {
    m.name: m
    for m in (
        Move(
            "assign",
            frozenset({S.REPORTED, S.ASSIGNED}),
            S.ASSIGNED,
            Action.RECTIFY_HAZARD,
            _("Only a reported or assigned hazard can be assigned."),
        ),
        Move(
            "start",
            frozenset({S.ASSIGNED}),
            S.RECTIFYING,
            Action.RECTIFY_HAZARD,
            _("Only an assigned hazard can be started."),
            owner_may=True,
        ),
        Move(
            "submit",
            frozenset({S.RECTIFYING}),
            S.SUBMITTED,
            Action.RECTIFY_HAZARD,
            _("Only a hazard under rectification can be submitted for verification."),
            owner_may=True,
        ),
        Move(
            "verify",
            frozenset({S.SUBMITTED}),
            S.CLOSED,
            Action.VERIFY_HAZARD,
            _("Only a submitted hazard can be verified."),
        ),
        Move(
            "reject",
            frozenset({S.SUBMITTED}),
            S.RECTIFYING,
            Action.VERIFY_HAZARD,
            _("Only a submitted hazard can be sent back."),
        ),
        Move(
            "reopen",
            frozenset({S.CLOSED}),
            S.RECTIFYING,
            Action.VERIFY_HAZARD,
            _("Only a closed hazard can be reopened."),
        ),
    )
}


# ------------------------------------------------------------------ helpers


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now()).date()


def _message(template, params: dict) -> str:
    """A notification text in the platform's language, whoever triggered it."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % params


def _photo_max_bytes() -> int:
    return int(getattr(settings, "HAZARD_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


def clean_photo(photo):
    """A JPEG or PNG from the phone's camera, at most HAZARD_PHOTO_MAX_BYTES."""
    if not photo:
        return None
    size = getattr(photo, "size", 0) or 0
    if size > _photo_max_bytes():
        raise ValidationError(
            _("The photo is too large (at most %(mb)s MB).")
            % {"mb": _photo_max_bytes() // (1024 * 1024)},
            code="photo_size",
        )
    head = photo.read(16)
    photo.seek(0)
    if any(head.startswith(magic) for magic in PHOTO_TYPES):
        return photo
    raise ValidationError(_("The photo must be a JPEG or PNG image."), code="photo_type")


def _clean_photos(errors: v.FieldErrors, photos) -> list:
    photos = [p for p in (photos or ()) if p]
    if len(photos) > MAX_PHOTOS:
        errors.add("photos", _("At most %(n)s photos.") % {"n": MAX_PHOTOS})
        return []
    cleaned = []
    for photo in photos:
        ok = errors.run("photos", clean_photo, photo)
        if ok is not None:
            cleaned.append(ok)
    return cleaned


def _save_photos(*, actor, hazard: Hazard, photos, kind: str) -> list[HazardPhoto]:
    rows = []
    for photo in photos:
        head = photo.read(16)
        photo.seek(0)
        suffix = next((s for m, s in PHOTO_TYPES.items() if head.startswith(m)), ".jpg")
        row = HazardPhoto(
            school_id=hazard.school_id,
            hazard=hazard,
            kind=kind,
            uploaded_by=actor if _is_user(actor) else None,
        )
        row.file.save(f"{kind}{suffix}", photo, save=False)
        row.save()
        audit_create(actor=actor, obj=row)
        rows.append(row)
    return rows


def _is_user(actor) -> bool:
    return getattr(actor, "is_authenticated", False) and not getattr(actor, "is_device", False)


def clean_deadline(value, *, now=None, required: bool = False) -> dt.date | None:
    """A date (or YYYY-MM-DD) from today to MAX_DEADLINE_DAYS ahead."""
    if value in (None, ""):
        if required:
            raise ValidationError(_("Set a deadline for the rectification."), code="required")
        return None
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid_date") from None
    today = local_today(now)
    if value < today:
        raise ValidationError(_("The deadline cannot be in the past."), code="past_deadline")
    latest = today + dt.timedelta(days=MAX_DEADLINE_DAYS)
    if value > latest:
        raise ValidationError(
            _("Set the deadline at most a year ahead (until %(latest)s).")
            % {"latest": latest.isoformat()},
            code="far_deadline",
        )
    return value


def _event(hazard: Hazard, *, actor, at, from_status: str, to_status: str, note="") -> HazardEvent:
    return HazardEvent.objects.create(
        hazard=hazard,
        at=at,
        actor=actor if _is_user(actor) else None,
        actor_label=actor_label(actor),
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


def _lock(actor, hazard: Hazard) -> Hazard:
    """The hazard's row, locked, if the actor may see it; otherwise "not found"."""
    locked = (
        Hazard.objects.select_for_update(of=("self",))
        .visible_to(actor, Action.VIEW)
        .select_related("school", "owner", "reported_by")
        .filter(pk=hazard.pk)
        .first()
    )
    if locked is None:
        raise Http404
    return locked


def _school_members(school_id: int, roles) -> list:
    return [
        m.user
        for m in Membership.objects.filter(
            organization_id=school_id, role__in=list(roles), is_active=True, user__is_active=True
        ).select_related("user")
    ]


def is_member_of(actor, school_id: int) -> bool:
    return any(m.organization_id == school_id for m in memberships_of(actor))


def last_submitter_id(hazard: Hazard) -> int | None:
    event = hazard.events.filter(to_status=S.SUBMITTED).order_by("-at", "-id").only("actor").first()
    return event.actor_id if event else None


def _may(actor, move: Move, hazard: Hazard) -> bool:
    if move.owner_may and hazard.owner_id is not None and hazard.owner_id == actor.pk:
        return True
    return can(actor, move.action, hazard.school_id)


def _independence_refusal(actor, hazard: Hazard):
    """Why the actor may not judge this rectification, or None (§2 13: verified by someone
    outside the school, never by the person who did the work)."""
    if is_member_of(actor, hazard.school_id):
        return _("Someone from outside the school must verify its rectification.")
    if actor.pk is not None and actor.pk in (hazard.owner_id, last_submitter_id(hazard)):
        return _("You cannot verify a rectification you carried out or submitted yourself.")
    return None


def allowed_moves(actor, hazard: Hazard) -> list[str]:
    """The moves the actor may make now (for the page's action forms and the API)."""
    names = []
    for move in MOVES.values():
        if hazard.status not in move.sources or not _may(actor, move, hazard):
            continue
        if move.name in ("verify", "reject") and _independence_refusal(actor, hazard):
            continue
        names.append(move.name)
    return names


def _begin(actor, hazard: Hazard, name: str) -> tuple[Hazard, Move]:
    """Lock, check scope (404), right (403) and state (refused) for one move."""
    move = MOVES[name]
    hazard = _lock(actor, hazard)
    if not _may(actor, move, hazard):
        raise PermissionDenied(_("Your role does not allow this action."))
    if hazard.status not in move.sources:
        raise HazardTransitionRefused(move.refusal)
    return hazard, move


def _notify(hazard: Hazard, *, event_type: str, title, body, recipients, actor=None) -> None:
    """Inbox notifications of one move; never the person who made it."""
    users = {u.pk: u for u in recipients if u is not None}
    if actor is not None and getattr(actor, "pk", None) in users:
        users.pop(actor.pk)
    if not users:
        return
    from huxiao.notify.services import notify_send

    params = {"title": hazard.title, "school": hazard.school.name}
    notify_send(
        organizations=[],
        event_type=event_type,
        title=_message(title, params),
        body=_message(body, params) if body else "",
        payload={"hazard_id": hazard.pk, "school_id": hazard.school_id},
        recipients=list(users.values()),
    )


# ------------------------------------------------------------------ report


@transaction.atomic
def hazard_report(
    *,
    actor,
    school,
    category,
    level,
    title,
    description,
    deadline=None,
    inspection=None,
    answer=None,
    photos=(),
    now=None,
):
    """Register a hazard of a school (REPORT_HAZARD there), optionally from a failed answer
    of an inspection of that school (one hazard per answer); the answer's finding photos
    become the hazard's."""
    now = now or timezone.now()
    if school is None or not can(actor, Action.VIEW, school.pk):
        raise Http404
    require(actor, Action.REPORT_HAZARD, school.pk)
    if school.kind not in SCHOOL_KINDS:
        raise ValidationError({"school_id": [_("This organization is not a school.")]})
    errors = v.FieldErrors()
    if category not in HazardCategory.values:
        errors.add("category", _("Choose a category."))
    if level not in HazardLevel.values:
        errors.add("level", _("Choose a level."))
    title = errors.run("title", v.clean_text, title, max_length=200, required=True)
    description = errors.run(
        "description", v.clean_text, description, max_length=4000, required=True
    )
    deadline = errors.run("deadline", clean_deadline, deadline, now=now)
    cleaned_photos = _clean_photos(errors, photos)
    if answer is not None:
        from huxiao.hazards.inspection_services import require_may_raise_findings
        from huxiao.hazards.models import InspectionAnswer

        # Locked so that two reports of the same finding at once give the message below
        # (the second waits and then sees the first's hazard), not an IntegrityError.
        answer = (
            InspectionAnswer.objects.select_for_update()
            .select_related("inspection__school")
            .get(pk=answer.pk)
        )
        require_may_raise_findings(actor, answer.inspection)
        if inspection is not None and answer.inspection_id != inspection.pk:
            errors.add("answer", _("This answer is not part of the inspection."))
        inspection = answer.inspection
        if answer.result != AnswerResult.FAIL:
            errors.add("answer", _("Only a failed item can become a hazard."))
        if inspection.status not in (InspectionStatus.IN_PROGRESS, InspectionStatus.SIGNED_OFF):
            errors.add("answer", _("The inspection has not started."))
        if Hazard.objects.filter(answer=answer).exists():
            errors.add("answer", _("A hazard has already been raised from this item."))
    if inspection is not None and inspection.school_id != school.pk:
        errors.add("inspection", _("The inspection is of another school."))
    errors.raise_if_any()

    hazard = Hazard.objects.create(
        school=school,
        category=category,
        level=level,
        title=title,
        description=description,
        deadline=deadline,
        inspection=inspection,
        answer=answer,
        status=S.REPORTED,
        reported_by=actor if _is_user(actor) else None,
        reported_at=now,
    )
    audit_create(actor=actor, obj=hazard)
    _event(hazard, actor=actor, at=now, from_status="", to_status=S.REPORTED)
    if answer is not None:
        HazardPhoto.objects.filter(answer=answer, hazard__isnull=True).update(hazard=hazard)
    _save_photos(actor=actor, hazard=hazard, photos=cleaned_photos, kind=PhotoKind.FINDING)
    hazard.school = school
    principals = _school_members(school.pk, (Role.PRINCIPAL, Role.SECURITY_OFFICER))
    _notify(
        hazard,
        event_type="hazards.reported",
        title=_("Hazard reported at %(school)s: %(title)s"),
        body=_("Assign an owner, a plan and a deadline for its rectification."),
        recipients=principals,
        actor=actor,
    )
    if hazard.level == HazardLevel.MAJOR:
        # A major hazard goes under listed supervision by rule (listing_services).
        from huxiao.hazards.listing_services import listing_auto_for_major

        listing_auto_for_major(hazard=hazard, now=now)
    return hazard


# ------------------------------------------------------------------ moves


def _clean_assign_deadline(value, *, hazard: Hazard, now) -> dt.date:
    """The deadline of an assignment: the current one is kept (even when past), a new one
    may only bring it forward; a later date is the supervising side's `hazard_extend`."""
    current = hazard.deadline
    if value in (None, "") and current is not None:
        return current
    if current is not None:
        parsed = value
        if isinstance(parsed, str):
            try:
                parsed = dt.date.fromisoformat(parsed.strip()[:10])
            except ValueError:
                parsed = None
        if parsed == current:
            return current
    value = clean_deadline(value, now=now, required=True)
    if current is not None and value > current:
        raise ValidationError(
            _(
                "The deadline %(current)s can only be extended by the supervising side "
                "(an inspector who may verify it), with a reason."
            )
            % {"current": current.isoformat()},
            code="extend",
        )
    return value


@transaction.atomic
def hazard_assign(
    *, actor, hazard: Hazard, owner, deadline=None, plan: str = "", now=None
) -> Hazard:
    """The principal or security officer names the owner (an active member of the school),
    the plan and the deadline. The school sets a deadline only where there is none, or brings
    it forward; it never moves it later, and assigning again never resets the overdue ladder
    (ADR 0026, "Review fixes")."""
    now = now or timezone.now()
    hazard, move = _begin(actor, hazard, "assign")
    errors = v.FieldErrors()
    if owner is None:
        errors.add("owner", _("Choose who answers for the rectification."))
    elif not Membership.objects.filter(
        user=owner, organization_id=hazard.school_id, is_active=True, user__is_active=True
    ).exists():
        errors.add("owner", _("The owner must be an active member of the school."))
    deadline = errors.run("deadline", _clean_assign_deadline, deadline, hazard=hazard, now=now)
    plan = errors.run("plan", v.clean_text, plan, max_length=4000)
    errors.raise_if_any()
    before = snapshot(hazard)
    from_status = hazard.status
    previous_owner_id = hazard.owner_id
    hazard.owner = owner
    hazard.deadline = deadline
    hazard.rectification_plan = plan
    hazard.status = move.target
    hazard.save()
    audit_update(actor=actor, obj=hazard, before=before)
    _event(
        hazard,
        actor=actor,
        at=now,
        from_status=from_status,
        to_status=move.target,
        note=_message(
            _("Owner: %(owner)s; deadline %(deadline)s."),
            {"owner": actor_label(owner), "deadline": deadline.isoformat()},
        ),
    )
    if previous_owner_id != owner.pk or from_status == S.REPORTED:
        _notify(
            hazard,
            event_type="hazards.assigned",
            title=_("You answer for the rectification of a hazard: %(title)s"),
            body=_("%(school)s. Open the hazard for its plan and deadline."),
            recipients=[owner],
            actor=actor,
        )
    return hazard


@transaction.atomic
def hazard_start(*, actor, hazard: Hazard, note: str = "", now=None) -> Hazard:
    """The owner (or the school's leaders) starts the rectification."""
    now = now or timezone.now()
    hazard, move = _begin(actor, hazard, "start")
    note = v.FieldErrors().run("note", v.clean_text, note, max_length=2000) or ""
    return _move(actor, hazard, move, now=now, note=note)


def _move(actor, hazard: Hazard, move: Move, *, now, note: str = "", **fields) -> Hazard:
    before = snapshot(hazard)
    from_status = hazard.status
    hazard.status = move.target
    for name, value in fields.items():
        setattr(hazard, name, value)
    hazard.save()
    audit_update(actor=actor, obj=hazard, before=before)
    _event(hazard, actor=actor, at=now, from_status=from_status, to_status=move.target, note=note)
    return hazard


@transaction.atomic
def hazard_submit(*, actor, hazard: Hazard, note: str, photos=(), now=None) -> Hazard:
    """The rectification is done: a note and at least one photo as evidence."""
    now = now or timezone.now()
    hazard, move = _begin(actor, hazard, "submit")
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=2000, required=True)
    cleaned = _clean_photos(errors, photos)
    if not cleaned and "photos" not in errors.errors:
        errors.add("photos", _("Attach at least one photo of the rectification."))
    errors.raise_if_any()
    _save_photos(actor=actor, hazard=hazard, photos=cleaned, kind=PhotoKind.EVIDENCE)
    hazard = _move(actor, hazard, move, now=now, note=note, submitted_at=now)
    _notify(
        hazard,
        event_type="hazards.submitted",
        title=_("Rectification submitted for verification: %(title)s"),
        body=_("%(school)s has submitted the rectification with evidence."),
        recipients=[hazard.reported_by],
        actor=actor,
    )
    return hazard


def _judge(actor, hazard: Hazard, name: str) -> tuple[Hazard, Move]:
    hazard, move = _begin(actor, hazard, name)
    refusal = _independence_refusal(actor, hazard)
    if refusal is not None:
        raise PermissionDenied(refusal)
    return hazard, move


def _rectifiers(hazard: Hazard) -> list:
    return [hazard.owner, *_school_members(hazard.school_id, (Role.PRINCIPAL,))]


@transaction.atomic
def hazard_verify(*, actor, hazard: Hazard, note: str = "", now=None) -> Hazard:
    """An inspector from outside the school checks the evidence and closes the hazard."""
    now = now or timezone.now()
    hazard, move = _judge(actor, hazard, "verify")
    note = v.FieldErrors().run("note", v.clean_text, note, max_length=2000) or ""
    hazard = _move(actor, hazard, move, now=now, note=note, closed_at=now, verified_by=actor)
    _notify(
        hazard,
        event_type="hazards.closed",
        title=_("Hazard verified and closed: %(title)s"),
        body=_("The rectification at %(school)s has been verified."),
        recipients=_rectifiers(hazard) + [hazard.reported_by],
        actor=actor,
    )
    # An active listing of the hazard now awaits lifting: its office is told (once).
    from huxiao.hazards.listing_services import listing_hazard_closed

    listing_hazard_closed(hazard=hazard)
    return hazard


@transaction.atomic
def hazard_reject(*, actor, hazard: Hazard, reason: str, now=None) -> Hazard:
    """Send the rectification back with a reason; it is rectified again."""
    now = now or timezone.now()
    hazard, move = _judge(actor, hazard, "reject")
    errors = v.FieldErrors()
    reason = errors.run("reason", v.clean_text, reason, max_length=2000, required=True)
    errors.raise_if_any()
    hazard = _move(actor, hazard, move, now=now, note=reason)
    _notify(
        hazard,
        event_type="hazards.rejected",
        title=_("Rectification sent back: %(title)s"),
        body=_("%(school)s: the rectification was not accepted; see the reason on the hazard."),
        recipients=_rectifiers(hazard),
        actor=actor,
    )
    return hazard


@transaction.atomic
def hazard_reopen(*, actor, hazard: Hazard, reason: str, deadline=None, now=None) -> Hazard:
    """A closed hazard came back: it is rectified again, under the same owner, by a new
    deadline (the old one has passed; the next morning's job would escalate it at once)."""
    now = now or timezone.now()
    hazard, move = _begin(actor, hazard, "reopen")
    errors = v.FieldErrors()
    reason = errors.run("reason", v.clean_text, reason, max_length=2000, required=True)
    deadline = errors.run("deadline", clean_deadline, deadline, now=now, required=True)
    errors.raise_if_any()
    hazard = _move(
        actor,
        hazard,
        move,
        now=now,
        note=_message(
            _("%(reason)s (new deadline %(deadline)s)"),
            {"reason": reason, "deadline": deadline.isoformat()},
        ),
        deadline=deadline,
        closed_at=None,
        verified_by=None,
        escalation_level=0,
        escalated_at=None,
    )
    _notify(
        hazard,
        event_type="hazards.reopened",
        title=_("Hazard reopened: %(title)s"),
        body=_("%(school)s: a closed hazard has been reopened; see the reason on the hazard."),
        recipients=_rectifiers(hazard),
        actor=actor,
    )
    return hazard


@transaction.atomic
def hazard_extend(*, actor, hazard: Hazard, deadline, reason: str, now=None) -> Hazard:
    """The supervising side (VERIFY_HAZARD, from outside the school) grants a later deadline
    with a reason. The overdue ladder starts again from the owner: that is the point of an
    extension, and the event and audit row say who granted it and why."""
    now = now or timezone.now()
    hazard = _lock(actor, hazard)
    if not may_extend(actor, hazard):
        raise PermissionDenied(
            _("Only the supervising side, from outside the school, may extend the deadline.")
        )
    if hazard.status not in OPEN_HAZARD_STATUSES:
        raise HazardTransitionRefused(_("Only an open hazard's deadline can be extended."))
    errors = v.FieldErrors()
    reason = errors.run("reason", v.clean_text, reason, max_length=2000, required=True)
    deadline = errors.run("deadline", clean_deadline, deadline, now=now, required=True)
    if deadline is not None and hazard.deadline is not None and deadline <= hazard.deadline:
        errors.add("deadline", _("An extension must be later than the current deadline."))
    errors.raise_if_any()
    before = snapshot(hazard)
    previous = hazard.deadline
    hazard.deadline = deadline
    hazard.escalation_level = 0
    hazard.escalated_at = None
    hazard.save()
    audit_update(actor=actor, obj=hazard, before=before)
    _event(
        hazard,
        actor=actor,
        at=now,
        from_status=hazard.status,
        to_status=hazard.status,
        note=_message(
            _("Deadline extended from %(old)s to %(new)s: %(reason)s"),
            {
                "old": previous.isoformat() if previous else "—",
                "new": deadline.isoformat(),
                "reason": reason,
            },
        ),
    )
    _notify(
        hazard,
        event_type="hazards.extended",
        title=_("Rectification deadline extended: %(title)s"),
        body=_("%(school)s: see the new deadline and the reason on the hazard."),
        recipients=_rectifiers(hazard),
        actor=actor,
    )
    return hazard


def may_extend(actor, hazard: Hazard) -> bool:
    return (
        hazard.status in OPEN_HAZARD_STATUSES
        and can(actor, Action.VERIFY_HAZARD, hazard.school_id)
        and not is_member_of(actor, hazard.school_id)
    )


# ------------------------------------------------------------------ the daily escalation


def supervising_offices(schools) -> dict[int, list[int]]:
    """school id → the education offices that supervise it: its own `education_office`
    link, else the education offices of its town (the central school)."""
    result: dict[int, list[int]] = {}
    towns_needed = set()
    for school in schools:
        if school.education_office_id:
            result[school.pk] = [school.education_office_id]
        elif school.town_id:
            towns_needed.add(school.town_id)
    if towns_needed:
        by_town: dict[int, list[int]] = defaultdict(list)
        for pk, town_id in Organization.objects.filter(
            kind=OrgKind.EDUCATION_OFFICE, town_id__in=towns_needed, is_active=True
        ).values_list("pk", "town_id"):
            by_town[town_id].append(pk)
        for school in schools:
            if school.pk not in result:
                result[school.pk] = by_town.get(school.town_id, [])
    return result


def escalation_candidates(today: dt.date, start_of_day: dt.datetime):
    """Hazards in the school's hands past their deadline that may take a step today (one
    query). Submitted ones wait on the verifier and are left alone."""
    return (
        Hazard.objects.filter(
            status__in=ESCALATING_STATUSES,
            deadline__lt=today,
            escalation_level__lt=MAX_LEVEL,
        )
        .filter(Q(escalated_at__isnull=True) | Q(escalated_at__lt=start_of_day))
        .order_by("pk")
    )


class _Due(NamedTuple):
    """An overdue hazard that takes a step today: only what the writes and the messages
    need (thousands on a heavy day; no model instance per hazard)."""

    pk: int
    title: str
    status: str
    owner_id: int | None
    school_id: int


class _School(NamedTuple):
    """The fields of a school `supervising_offices` and the messages read."""

    pk: int
    name: str
    town_id: int | None
    education_office_id: int | None


@transaction.atomic
def hazards_escalate(*, now: dt.datetime | None = None) -> dict:
    """Move every overdue open hazard one escalation level (at most one a day), tell the
    school's principals (level 1, with the owners) or the supervising office (level 2).

    A heavy morning moves thousands of hazards, so the writes are a fixed handful of
    statements built from plain tuples: one UPDATE per level, and the timeline events and
    the audit rows (one per hazard, as a single move would leave) in multi-row INSERTs
    (`audit.services.insert_rows`) rather than `bulk_create`, whose per-field, per-object
    preparation took most of the job's second (ADR 0026, "Performance")."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    today = local.date()
    start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        escalation_candidates(today, start_of_day)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list(
            "pk",
            "title",
            "deadline",
            "escalation_level",
            "status",
            "owner_id",
            "school_id",
            "school__name",
            "school__town_id",
            "school__education_office_id",
        )
    )
    by_level: dict[int, list[_Due]] = defaultdict(list)
    schools: dict[int, _School] = {}
    for pk, title, deadline, current, status, owner_id, school_id, *school in rows:
        level = current + 1
        if (today - deadline).days >= level:
            by_level[level].append(_Due(pk, title, status, owner_id, school_id))
            if school_id not in schools:
                schools[school_id] = _School(school_id, *school)
    result = {"level_1": [h.pk for h in by_level[1]], "level_2": [h.pk for h in by_level[2]]}
    if not by_level[1] and not by_level[2]:
        return result

    for level, hazards in by_level.items():
        Hazard.objects.filter(pk__in=[h.pk for h in hazards]).update(
            escalation_level=level, escalated_at=now
        )
        note = _message(
            _("Overdue: escalated to the principal.")
            if level == LEVEL_PRINCIPAL
            else _("Overdue: escalated to the supervising office."),
            {},
        )
        # Escalation keeps the status: an event from and to the same one, by the system.
        insert_rows(
            HazardEvent,
            ["hazard", "from_status", "to_status"],
            [(h.pk, h.status, h.status) for h in hazards],
            fixed={"at": now, "actor": None, "actor_label": "system", "note": note},
        )
        audit_bulk_update(
            actor=None,
            model=Hazard,
            objects=[(h.pk, h.title, h.school_id) for h in hazards],
            fields={"escalation_level": [level - 1, level]},
            at=now,
        )
    _escalation_notify(by_level, schools, today=today)
    return result


def _escalation_notify(
    by_level: dict[int, list[_Due]], schools: dict[int, _School], *, today: dt.date
) -> None:
    from huxiao.notify.services import notify_send_many

    # The texts in the platform's language, translated once for the whole run.
    with translation.override(settings.LANGUAGE_CODE):
        school_title = str(_("%(school)s: %(n)s hazard(s) past the rectification deadline"))
        school_body = str(_("Overdue: %(titles)s"))
        office_title = str(_("%(n)s overdue hazard(s) escalated to the supervising office"))
        office_body = str(_("Schools: %(schools)s. Overdue: %(titles)s"))
    # One batch for all schools and offices: the job's queries do not grow with them.
    messages: list[dict] = []

    # Level 1: one notification per school, to its principals and the hazards' owners.
    per_school: dict[int, list[_Due]] = defaultdict(list)
    for hazard in by_level[LEVEL_PRINCIPAL]:
        per_school[hazard.school_id].append(hazard)
    if per_school:
        principals: dict[int, set[int]] = defaultdict(set)
        for org_id, user_id in Membership.objects.filter(
            organization_id__in=list(per_school),
            role=Role.PRINCIPAL,
            is_active=True,
            user__is_active=True,
        ).values_list("organization_id", "user_id"):
            principals[org_id].add(user_id)
        for school_id, hazards in per_school.items():
            owners = {h.owner_id for h in hazards if h.owner_id}
            messages.append(
                dict(
                    organizations=[school_id],
                    event_type="hazards.overdue",
                    title=school_title % {"school": schools[school_id].name, "n": len(hazards)},
                    body=school_body % {"titles": _titles(hazards)},
                    payload={"school_id": school_id, "hazard_ids": [h.pk for h in hazards]},
                    recipients=sorted(principals[school_id] | owners),
                    dedupe_key=f"hazards.overdue:{school_id}:1:{today.isoformat()}",
                )
            )
    # Level 2: one notification per supervising office, listing its schools' hazards.
    hazards_2 = by_level[LEVEL_OFFICE]
    if not hazards_2:
        notify_send_many(messages)
        return
    offices = supervising_offices([schools[pk] for pk in {h.school_id for h in hazards_2}])
    per_office: dict[int, list[_Due]] = defaultdict(list)
    for hazard in hazards_2:
        for office_id in offices.get(hazard.school_id, []):
            per_office[office_id].append(hazard)
    supervisors: dict[int, set[int]] = defaultdict(set)
    for org_id, user_id in Membership.objects.filter(
        organization_id__in=list(per_office),
        role=Role.EDUCATION_SUPERVISOR,
        is_active=True,
        user__is_active=True,
    ).values_list("organization_id", "user_id"):
        supervisors[org_id].add(user_id)
    for office_id, hazards in per_office.items():
        names = sorted({schools[h.school_id].name for h in hazards})
        messages.append(
            dict(
                organizations=[office_id],
                event_type="hazards.overdue_escalated",
                title=office_title % {"n": len(hazards)},
                body=office_body % {"schools": "、".join(names), "titles": _titles(hazards)},
                payload={"hazard_ids": [h.pk for h in hazards]},
                recipients=sorted(supervisors[office_id]),
                dedupe_key=f"hazards.overdue:office:{office_id}:{today.isoformat()}",
            )
        )
    notify_send_many(messages)


def _titles(hazards: list[_Due], limit: int = 10) -> str:
    titles = "；".join(h.title for h in hazards[:limit])
    if len(hazards) > limit:
        titles += " …"
    return titles
