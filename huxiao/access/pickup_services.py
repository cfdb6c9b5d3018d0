"""Writes of child pick-up (issue 5, ADR 0025): codes, adults' photos, one-day delegates,
the release at the gate with its refusals, and the not-collected sweep.

Rules kept here and nowhere else:
- a code belongs to one adult (a roster guardian with `can_pick_up`, or a delegate of one
  day) of one child; re-issuing revokes the adult's live code;
- the PIN is stored only as a keyed hash bound to the school and unique among its live
  codes; it is shown once, at issue;
- a release needs a live code of an authorised adult of an active child of the gate's
  school, and happens once a day (`release_once_a_day` is the backstop for two guards);
- every refused attempt (except input that is not a code at all) is logged as a
  `PickupRefusal` and alerts the class teacher and the duty leader(s);
- a delegate holds only the right of the guardian who named them: when that guardian loses
  it (or leaves the child), the delegate's code is refused at the gate from then on;
- wrong PINs are counted (atomically, in the cache) per user/device at a school and per
  school; too many lock PIN entry there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.access import codes, gate_sql, photos
from huxiao.access.choices import RefusalReason, ReleaseMethod
from huxiao.access.models import (
    GateSettings,
    GuardianPhoto,
    NotCollected,
    PickupCode,
    PickupDelegate,
    PickupRefusal,
    Release,
)
from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core import crypto
from huxiao.core.names import acting_user, actor_label
from huxiao.core.permissions import require
from huxiao.core.roles import SCHOOL_KINDS, Action, Role
from huxiao.people.validation import FieldErrors, clean_id_number, clean_phone, clean_text

logger = logging.getLogger(__name__)

ROTATING_STEP_SECONDS = 60
ROTATING_TOLERANCE_STEPS = 1
CARD_VALID_DAYS = 3 * 365
CONFIRM_MAX_AGE_SECONDS = 180
# The adult's page link travels by SMS and stays in the notification log: one school
# term (about 20 weeks) and a margin, then staff re-issue. A delegate's link dies with
# their day (code_from_link).
GUARDIAN_LINK_MAX_AGE_SECONDS = 200 * 24 * 3600
PIN_MAX_FAILURES = 5
PIN_FAILURE_WINDOW = dt.timedelta(minutes=10)
PIN_LOCK = dt.timedelta(minutes=10)
# Guesses spread over several devices defeat the per-device limit: the school's gate as a
# whole locks PIN entry after this many wrong PINs in a window (QR codes still work).
SCHOOL_PIN_MAX_FAILURES = 30
# Delegates: live ones per child and day, and names a guardian's page may add per day
# (each one sends an SMS to a number of the guardian's choosing).
DELEGATES_PER_CHILD_PER_DAY = 2
DELEGATE_ADDS_PER_GUARDIAN_PER_DAY = 5
_CONFIRM_SALT = "huxiao.access.pickup.confirm"
_LINK_SALT = "huxiao.access.pickup.guardian-link"
_PIN_RE = re.compile(r"[0-9]{6}")


class PickupRefused(Exception):
    """A refused pick-up: `reason` (RefusalReason) and the message for the guard."""

    def __init__(self, reason: str, message=None):
        super().__init__(reason)
        self.reason = reason
        self.message = message or RefusalReason(reason).label


class PinLocked(Exception):
    """PIN entry is locked for this user/device at this school until `until`."""

    code = "pin_locked"
    status = 429

    def __init__(self, until: dt.datetime):
        super().__init__("locked")
        self.until = until

    @property
    def message(self):
        return _(
            "Too many wrong PINs. PIN entry is locked until %(time)s; scan the QR code "
            "or call the class teacher."
        ) % {"time": timezone.localtime(self.until).strftime("%H:%M")}


class PinUnavailable(PinLocked):
    """The PIN lockout cannot be read or counted (scale mode's Redis is away): PIN entry is
    refused as if locked until it can be — without the lockout six digits could be guessed
    freely. QR codes do not depend on the cache."""

    code = "pin_unavailable"
    status = 503

    def __init__(self):
        Exception.__init__(self, "unavailable")
        self.until = None

    @property
    def message(self):
        return _(
            "PIN entry is unavailable for the moment; scan the QR code or call the class teacher."
        )


@dataclasses.dataclass
class IssuedCode:
    """What staff see once, right after issuing: the PIN is never shown again."""

    code: PickupCode
    pin: str
    card_text: str
    link_path: str
    sms_queued: bool


@dataclasses.dataclass
class PickupMatch:
    """A looked-up code that may be released: shown on the confirm page."""

    code: PickupCode
    child: object
    adult_name: str
    relationship: str
    is_delegate: bool
    method: str
    token: str
    has_photo: bool = False


def local_now(now: dt.datetime | None = None) -> dt.datetime:
    return timezone.localtime(now or timezone.now())


def gate_settings(school) -> GateSettings:
    return GateSettings.for_school(school)


# ---------------------------------------------------------------- codes


def pin_hash(school_id: int, pin: str) -> str:
    return crypto.lookup_hash(f"pickup-pin:{school_id}:{pin}")


def _new_pin(school) -> tuple[str, str]:
    for _attempt in range(50):
        pin = f"{secrets.randbelow(10**6):06d}"
        hashed = pin_hash(school.pk, pin)
        if not PickupCode.objects.filter(
            school=school, pin_hash=hashed, revoked_at__isnull=True
        ).exists():
            return pin, hashed
    raise ValidationError(_("Could not find a free PIN; try again."))


def _secret_key(code: PickupCode) -> bytes:
    return bytes.fromhex(crypto.decrypt(code.secret_encrypted))


def card_expiry(code: PickupCode) -> dt.datetime:
    if code.delegate_id:
        day_end = dt.datetime.combine(code.delegate.on_date, dt.time(23, 59, 59))
        return timezone.make_aware(day_end)
    return code.issued_at + dt.timedelta(days=CARD_VALID_DAYS)


def card_text(code: PickupCode) -> str:
    """The printed card's static QR (valid until the card's expiry, revocable)."""
    return codes.make(
        codes.PICKUP_CARD,
        code.school_id,
        code.card_serial,
        codes.expiry_stamp(card_expiry(code)),
    )


def rotating_step(moment: dt.datetime) -> int:
    return int(moment.timestamp()) // ROTATING_STEP_SECONDS


def rotating_text(code: PickupCode, *, now: dt.datetime | None = None) -> str:
    """The rotating QR of this minute, signed with the code's own secret."""
    return codes.make(
        codes.PICKUP_ROTATING,
        code.school_id,
        code.card_serial,
        rotating_step(now or timezone.now()),
        key=_secret_key(code),
    )


def guardian_link_token(code: PickupCode) -> str:
    return signing.dumps({"c": code.pk}, salt=_LINK_SALT, compress=True)


def code_from_link(token: str) -> PickupCode | None:
    """The live code behind a guardian's SMS link, or None (bad, expired or revoked)."""
    try:
        data = signing.loads(
            str(token)[:200], salt=_LINK_SALT, max_age=GUARDIAN_LINK_MAX_AGE_SECONDS
        )
        code_id = int(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    code = (
        PickupCode.objects.select_related(
            "school", "guardian", "guardian__child", "delegate", "delegate__child"
        )
        .filter(pk=code_id, revoked_at__isnull=True)
        .first()
    )
    if code is not None and code.delegate_id and code.delegate.on_date < local_now().date():
        return None  # a delegate's page is for their day only
    return code


def _adult_child(code: PickupCode):
    return code.guardian.child if code.guardian_id else code.delegate.child


def _adult_phone(code: PickupCode) -> str:
    return code.guardian.phone if code.guardian_id else code.delegate.phone


def _sms_adult(*, school, phone: str, text: str, code_id: int) -> bool:
    """Text the adult through the school's SMS channel only (never its robots or webhooks:
    the link is the adult's key). False when the school has no active SMS channel."""
    from huxiao.notify.choices import ChannelKind, DeliveryStatus
    from huxiao.notify.models import ChannelConfig, Delivery, Notification
    from huxiao.notify.validation import normalize_phone

    target = normalize_phone(phone)
    config = (
        ChannelConfig.objects.filter(organization=school, kind=ChannelKind.SMS, is_active=True)
        .order_by("pk")
        .first()
    )
    if config is None or target is None:
        return False
    now = timezone.now()
    notification = Notification.objects.create(
        event_type="pickup.code_issued",
        title=str(_("HuXiao pick-up code")),
        body=text,
        payload={"pickup_code_id": code_id},
        organization=school,
        created_at=now,
    )
    token = secrets.token_hex(16)
    delivery = Delivery.objects.create(
        notification=notification,
        channel=ChannelKind.SMS,
        channel_config=config,
        phones=[target],
        status=DeliveryStatus.PENDING,
        next_attempt_at=now + dt.timedelta(minutes=5),
        dispatch_token=token,
        created_at=now,
    )

    def enqueue():
        from huxiao.notify.tasks import deliver_enqueue

        try:
            deliver_enqueue(delivery.pk, token)
        except Exception:  # noqa: BLE001 - the notify retry job sends it later
            logger.exception("pick-up SMS %s not queued", delivery.pk)

    transaction.on_commit(enqueue, robust=True)
    return True


def _issue(*, actor, school, guardian=None, delegate=None, now=None) -> IssuedCode:
    now = now or timezone.now()
    for live in PickupCode.objects.select_for_update().filter(
        school=school,
        guardian=guardian,
        delegate=delegate,
        revoked_at__isnull=True,
    ):
        before = snapshot(live)
        live.revoked_at = now
        live.save(update_fields=["revoked_at"])
        audit_update(actor=actor, obj=live, before=before)
    pin, hashed = _new_pin(school)
    code = PickupCode.objects.create(
        school=school,
        guardian=guardian,
        delegate=delegate,
        pin_hash=hashed,
        card_serial=codes.new_serial(),
        secret_encrypted=crypto.encrypt(secrets.token_bytes(32).hex()),
        issued_by=acting_user(actor),
        issued_at=now,
    )
    audit_create(actor=actor, obj=code)
    link_path = reverse("access:pickup_guardian", args=[guardian_link_token(code)])
    child = guardian.child if guardian else delegate.child
    # Never the PIN: the text stays in the notification log. The PIN is shown once to
    # staff, who print it on the card; the link opens the adult's rotating QR code.
    text = _(
        "%(school)s: your pick-up code page for %(child)s. Show its QR code at the gate: %(link)s"
    ) % {
        "school": school.name,
        "child": child.name,
        "link": _absolute(link_path),
    }
    sms_queued = _sms_adult(
        school=school,
        phone=guardian.phone if guardian else delegate.phone,
        text=str(text),
        code_id=code.pk,
    )
    return IssuedCode(
        code=code, pin=pin, card_text=card_text(code), link_path=link_path, sms_queued=sms_queued
    )


def _absolute(path: str) -> str:
    base = getattr(settings, "HUXIAO_BASE_URL", "") or ""
    return base.rstrip("/") + path


def pickup_code_issue(*, actor, guardian, now=None) -> IssuedCode:
    """Issue (or re-issue, revoking the old one) the code of a roster adult."""
    child = guardian.child
    require(actor, Action.MANAGE_PICKUP, child.school_id)
    if not guardian.can_pick_up:
        raise ValidationError(_("This adult is not authorised to pick up the child."))
    if not child.is_active:
        raise ValidationError(_("The child is no longer enrolled."))
    with transaction.atomic():
        return _issue(actor=actor, school=child.school, guardian=guardian, now=now)


def pickup_code_revoke(*, actor, code: PickupCode, now=None) -> PickupCode:
    require(actor, Action.MANAGE_PICKUP, code.school_id)
    if code.revoked_at is not None:
        return code
    with transaction.atomic():
        before = snapshot(code)
        code.revoked_at = now or timezone.now()
        code.save(update_fields=["revoked_at"])
        audit_update(actor=actor, obj=code, before=before)
    return code


def guardian_photo_set(*, actor, guardian, data: bytes | None) -> GuardianPhoto:
    """Upload (or, with no data, remove) the photo of a roster adult."""
    require(actor, Action.MANAGE_PICKUP, guardian.child.school_id)
    record = GuardianPhoto.objects.filter(guardian=guardian).first() or GuardianPhoto(
        guardian=guardian
    )
    try:
        photos.set_photo(record, data)
    except ValidationError as exc:
        raise ValidationError({"photo": exc.messages}) from None
    with transaction.atomic():
        if record.pk is None:
            record.save()
            audit_create(actor=actor, obj=record)
        else:
            before = snapshot(GuardianPhoto.objects.get(pk=record.pk))
            record.save()
            audit_update(actor=actor, obj=record, before=before)
    return record


# ---------------------------------------------------------------- delegates


def delegate_add(
    *,
    actor,
    child,
    name,
    phone,
    relationship,
    id_number="",
    photo: bytes | None = None,
    named_by=None,
    now=None,
) -> tuple[PickupDelegate, IssuedCode]:
    """A one-day delegate for today, before the school's cut-off; a code valid today only.

    `named_by`: the guardian (through their signed page, `actor` None); staff pass
    themselves as `actor`. The cut-off binds both (ADR 0025): after it the attempt is logged
    as a `delegate_late` refusal and refused with a message."""
    if named_by is None:
        require(actor, Action.MANAGE_PICKUP, child.school_id)
    elif not named_by.can_pick_up or named_by.child_id != child.pk:
        # A guardian whose own right was withdrawn cannot hand it on.
        raise PermissionDenied(_("You are no longer authorised to pick up this child."))
    errors = FieldErrors()
    name = errors.run("name", clean_text, name, max_length=50, required=True)
    phone = errors.run("phone", clean_phone, phone, required=True)
    relationship = errors.run(
        "relationship", clean_text, relationship, max_length=30, required=True
    )
    id_number = errors.run("id_number", clean_id_number, id_number, required=False)
    sealed = None
    if photo:
        sealed = errors.run("photo", photos.seal, photo)
    errors.raise_if_any()
    moment = local_now(now)
    school = child.school
    cutoff = gate_settings(school).delegate_cutoff
    if not child.is_active:
        raise ValidationError(_("The child is no longer enrolled."))
    if moment.time() >= cutoff:
        PickupRefusal.objects.create(
            school=school,
            at=moment,
            reason=RefusalReason.DELEGATE_LATE,
            child=child,
            by=acting_user(actor),
            by_label=actor_label(actor) if actor is not None else (named_by.name[:150]),
        )
        raise PickupRefused(
            RefusalReason.DELEGATE_LATE,
            _(
                "Too late: a delegate for today must be named before %(time)s. Please "
                "call the class teacher."
            )
            % {"time": cutoff.strftime("%H:%M")},
        )
    if named_by is not None:
        # Each name sends an SMS to a number the guardian chooses: a page that leaks (or a
        # guardian who loops) must not become an SMS cannon.
        key = f"pickup:delegate-adds:{named_by.pk}:{moment.date().isoformat()}"
        if _count(key, timeout=24 * 3600) > DELEGATE_ADDS_PER_GUARDIAN_PER_DAY:
            raise ValidationError(
                _(
                    "Too many delegates were named from this page today. Please call the "
                    "class teacher."
                )
            )
    with transaction.atomic():
        # The child's row serialises two namings at once, so the cap below holds.
        list(type(child).objects.select_for_update().filter(pk=child.pk).values_list("pk"))
        live = PickupDelegate.objects.filter(
            child=child, on_date=moment.date(), cancelled_at__isnull=True
        ).count()
        if live >= DELEGATES_PER_CHILD_PER_DAY:
            raise ValidationError(
                _(
                    "%(child)s already has %(count)s delegates for today. Cancel one before "
                    "naming another."
                )
                % {"child": child.name, "count": live}
            )
        delegate = PickupDelegate(
            school=school,
            child=child,
            name=name,
            phone=phone,
            relationship=relationship,
            on_date=moment.date(),
            named_by=named_by,
            added_by=acting_user(actor),
            added_at=moment,
        )
        delegate.set_id_number(id_number or "")
        if sealed:
            delegate.photo_encrypted, delegate.photo_content_type = sealed
        delegate.save()
        audit_create(actor=actor, obj=delegate)
        issued = _issue(actor=actor, school=school, delegate=delegate, now=moment)
    return delegate, issued


def delegate_cancel(*, actor, delegate: PickupDelegate, cancelled_by=None, now=None):
    """Cancel a one-day delegate: their code (card, PIN, rotating QR and link) is revoked
    at once, and the gate refuses it as `not_authorised`.

    `cancelled_by`: the guardian through their signed page (`actor` None), who may cancel
    only the delegates they named themselves; staff with MANAGE_PICKUP cancel any. Unlike
    naming one, cancelling is allowed after the cut-off: it only takes a right away."""
    if cancelled_by is None:
        require(actor, Action.MANAGE_PICKUP, delegate.school_id)
    elif delegate.named_by_id != cancelled_by.pk or not cancelled_by.can_pick_up:
        raise PermissionDenied(_("You can only cancel the delegates you named."))
    moment = local_now(now)
    with transaction.atomic():
        locked = PickupDelegate.objects.select_for_update().get(pk=delegate.pk)
        if locked.cancelled_at is not None:
            raise ValidationError(_("This delegate was already cancelled."))
        if locked.on_date < moment.date():
            raise ValidationError(_("This delegate's day is over: nothing to cancel."))
        before = snapshot(locked)
        locked.cancelled_at = moment
        locked.save(update_fields=["cancelled_at"])
        audit_update(actor=actor, obj=locked, before=before)
        for code in PickupCode.objects.select_for_update().filter(
            delegate=locked, revoked_at__isnull=True
        ):
            code_before = snapshot(code)
            code.revoked_at = moment
            code.save(update_fields=["revoked_at"])
            audit_update(actor=actor, obj=code, before=code_before)
    return locked


# ---------------------------------------------------------------- at the gate


def _count(key: str, *, timeout: int) -> int:
    """Add one to a cache counter and return the new value, atomically (LocMem and Redis
    both increment under their own lock): concurrent requests cannot lose a count."""
    for _attempt in range(3):
        cache.add(key, 0, timeout)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr: start again
            continue
    return 1


def _who(actor) -> str:
    return f"d{actor.device_id}" if getattr(actor, "is_device", False) else f"u{actor.pk}"


def _fail_key(school_id, actor) -> str:
    return f"pickup:pin-fail:{school_id}:{_who(actor)}"


def _school_fail_key(school_id) -> str:
    return f"pickup:pin-fail:{school_id}:school"


def pin_lock_until(*, actor, school, now=None) -> dt.datetime | None:
    """When PIN entry is locked for this user/device at the school, or for the whole
    school's gate, the end of the lock."""
    now = now or timezone.now()
    own, whole = _fail_key(school.pk, actor) + ":lock", _school_fail_key(school.pk) + ":lock"
    locks = cache.get_many([own, whole])
    ends = [until for until in locks.values() if until is not None and until > now]
    return max(ends) if ends else None


def _window_count(key: str, now: dt.datetime) -> float:
    """Count one failure in `key` over a sliding window of PIN_FAILURE_WINDOW: the current
    fixed window's count (atomic) plus the previous window's, weighted by how much of it
    still lies within the last PIN_FAILURE_WINDOW. The windows follow `now`, so tests run
    on a controllable clock."""
    width = int(PIN_FAILURE_WINDOW.total_seconds())
    moment = now.timestamp()
    bucket = int(moment) // width
    current = _count(f"{key}:{bucket}", timeout=2 * width + 60)
    previous = cache.get(f"{key}:{bucket - 1}") or 0
    elapsed = (moment - bucket * width) / width
    return current + previous * (1 - elapsed)


@dataclasses.dataclass
class PinFailure:
    """A counted wrong PIN: the lock's end if this one locked PIN entry (`until`), and
    whether this call is the one that set the lock (only it alerts)."""

    until: dt.datetime | None = None
    newly_locked: bool = False
    school_wide: bool = False


def _lock(key: str, now: dt.datetime) -> tuple[dt.datetime, bool]:
    until = now + PIN_LOCK
    lock_key, timeout = key + ":lock", int(PIN_LOCK.total_seconds()) + 60
    # add: of concurrent requests reaching the limit, one sets the lock (and alerts).
    if not cache.add(lock_key, until, timeout):
        current = cache.get(lock_key)
        if current is not None and current > now:
            return current, False
        # A lock that has just run out (its key outlives it by a minute): lock again.
        cache.set(lock_key, until, timeout)
    # The lock starts a fresh count: failures before it do not count after it.
    bucket = int(now.timestamp()) // int(PIN_FAILURE_WINDOW.total_seconds())
    cache.delete_many([f"{key}:{bucket}", f"{key}:{bucket - 1}"])
    return until, True


def _pin_failed(*, actor, school, now) -> PinFailure:
    """Count a wrong PIN for the user/device at the school and for the school; lock PIN
    entry when a limit is reached."""
    own = _fail_key(school.pk, actor)
    whole = _school_fail_key(school.pk)
    own_count = _window_count(own, now)
    school_count = _window_count(whole, now)
    if school_count >= SCHOOL_PIN_MAX_FAILURES:
        until, newly = _lock(whole, now)
        return PinFailure(until=until, newly_locked=newly, school_wide=True)
    if own_count >= PIN_MAX_FAILURES:
        until, newly = _lock(own, now)
        return PinFailure(until=until, newly_locked=newly)
    return PinFailure()


def _alert_targets(school, child=None) -> list:
    """The class teacher's login (if any) and the duty leaders of the school."""
    from huxiao.orgs.models import Membership

    users = []
    if child is not None:
        teacher = child.school_class.head_teacher
        if teacher is not None and teacher.user_id and teacher.is_active:
            users.append(teacher.user_id)
    users += list(
        Membership.objects.filter(
            organization=school, role=Role.DUTY_LEADER, is_active=True
        ).values_list("user_id", flat=True)
    )
    return users


def _refuse(
    *, actor, school, reason, child=None, code=None, now, message=None, alert=True, alert_body=None
):
    """Log the refusal and alert the class teacher and duty leader; returns the exception
    for the caller to raise (the log must survive the refusal: no surrounding atomic)."""
    from huxiao.notify.services import notify_send

    refusal = PickupRefusal.objects.create(
        school=school,
        at=now,
        reason=reason,
        child=child,
        code=code,
        by=acting_user(actor),
        by_label=actor_label(actor),
    )
    if alert:
        label = RefusalReason(reason).label
        title = _("Pick-up refused: %(reason)s") % {"reason": label}
        body = alert_body or _("%(school)s gate, %(time)s: %(reason)s (%(child)s).") % {
            "school": school.name,
            "time": local_now(now).strftime("%H:%M"),
            "reason": label,
            "child": child.name if child is not None else "—",
        }
        notify_send(
            organizations=[],
            event_type="pickup.refused",
            title=title,
            body=body,
            payload={"school_id": school.pk, "refusal_id": refusal.pk, "reason": reason},
            recipients=_alert_targets(school, child),
            dedupe_key=f"pickup:refusal:{refusal.pk}",
        )
    return PickupRefused(reason, message)


@dataclasses.dataclass(frozen=True)
class Confirmation:
    """What a confirmation token carries besides the code: who took it, how, and when."""

    who: str
    method: str
    issued_at: float


def _namer_still_entitled(code: PickupCode, child) -> bool:
    """A delegate holds the right of the guardian who named them, checked now (whatever
    changed the guardian since: the roster page, an import, the admin). A delegate named by
    staff has no namer; one whose namer's row is gone (named_by nulled, no staff recorded)
    has lost the right it came from."""
    delegate = code.delegate
    if delegate.named_by_id is None:
        return delegate.added_by_id is not None
    from huxiao.people.models import Guardian

    namer = (
        Guardian.objects.filter(pk=delegate.named_by_id)
        .order_by()
        .values_list("can_pick_up", "child_id")
        .first()
    )
    return namer is not None and namer[0] and namer[1] == child.pk


def _replayed_confirmation(*, actor, code, child, today, confirmation) -> bool:
    """True when today's release of the child is the one this same confirmation made (a
    double tap on "release"): refused, but not a security event."""
    if confirmation is None:
        return False
    release = (
        Release.objects.filter(child=child, on_date=today)
        .order_by()
        .only(
            "released_at",
            "released_by_id",
            "released_by_label",
            "guardian_id",
            "delegate_id",
            "method",
        )
        .first()
    )
    if release is None:
        return False
    if getattr(actor, "is_device", False):
        same_actor = release.released_by_id is None and release.released_by_label == actor_label(
            actor
        )
    else:
        same_actor = release.released_by_id == actor.pk
    return (
        same_actor
        and release.method == confirmation.method
        and release.guardian_id == code.guardian_id
        and release.delegate_id == code.delegate_id
        and release.released_at.timestamp() >= confirmation.issued_at
    )


def _authorise(*, actor, school, code: PickupCode, now, confirmation=None) -> None:
    """Raise a logged refusal unless `code` lets its adult take its child today.

    `code` comes from `_code()`, which annotates whether the child left today."""
    child = _adult_child(code)
    today = local_now(now).date()
    reason = None
    alert = True
    message = None
    if code.delegate_id and code.delegate.cancelled_at is not None:
        # Cancelling revokes the code too; the guard is told what matters: not authorised.
        reason = RefusalReason.NOT_AUTHORISED
    elif code.revoked_at is not None:
        reason = RefusalReason.REVOKED
    elif (
        code.guardian_id
        and not code.guardian.can_pick_up
        or code.delegate_id
        and (code.delegate.on_date != today or not _namer_still_entitled(code, child))
        or not child.is_active
        or child.school_id != school.pk
    ):
        reason = RefusalReason.NOT_AUTHORISED
    elif _released_today(code, today):
        reason = RefusalReason.ALREADY_RELEASED
        if _replayed_confirmation(
            actor=actor, code=code, child=child, today=today, confirmation=confirmation
        ):
            # A second tap on the same confirmation: still refused, nobody paged.
            alert = False
            message = _("This child has just been released with this confirmation.")
    if reason is not None:
        raise _refuse(
            actor=actor,
            school=school,
            reason=reason,
            child=child,
            code=code,
            now=now,
            alert=alert,
            message=message,
        )


def _released_today(code: PickupCode, today: dt.date) -> bool:
    flag = getattr(code, "released_on_day", None)
    if flag is not None and getattr(code, "released_checked_for", None) == today:
        return bool(flag)
    return Release.objects.filter(child=_adult_child(code), on_date=today).exists()


# What the gate reads of a code, its adult, the child and the class: the head teacher is
# fetched on a refusal only; photos and ID numbers are never loaded here.
_GATE_FIELDS = (
    "id",
    "school_id",
    "guardian_id",
    "delegate_id",
    "card_serial",
    "secret_encrypted",
    "issued_at",
    "revoked_at",
    "guardian__id",
    "guardian__child_id",
    "guardian__name",
    "guardian__relationship",
    "guardian__can_pick_up",
    "delegate__id",
    "delegate__school_id",
    "delegate__child_id",
    "delegate__name",
    "delegate__relationship",
    "delegate__on_date",
    "delegate__named_by_id",
    "delegate__added_by_id",
    "delegate__cancelled_at",
    "delegate__photo_content_type",
)
_CHILD_FIELDS = ("id", "name", "school_id", "school_class_id", "is_active")
_CLASS_FIELDS = ("id", "name", "school_id", "head_teacher_id")


_CODE_FIELDS = (_GATE_FIELDS, _CHILD_FIELDS, _CLASS_FIELDS)


def _code(shape: str, params: list, today: dt.date) -> PickupCode | None:
    """A code as the gate reads it, in one statement (`gate_sql.pickup_code`; shapes:
    "pin", "cancelled_pin", "card", "serial", "id"): with its adult, the adult's child and
    class, whether the child already left `today` and whether the adult has a photo."""
    return gate_sql.pickup_code(shape, params, today=today, fields=_CODE_FIELDS)


def adult_has_photo(code: PickupCode) -> bool:
    if code.delegate_id:
        return bool(code.delegate.photo_content_type)
    flag = getattr(code, "guardian_has_photo", None)
    if flag is not None:
        return bool(flag)
    return (
        GuardianPhoto.objects.filter(guardian_id=code.guardian_id)
        .exclude(photo_encrypted="")
        .exists()
    )


def _find_by_pin(*, actor, school, pin: str, now) -> PickupCode:
    try:
        until = pin_lock_until(actor=actor, school=school, now=now)
    except Exception as exc:  # noqa: BLE001 - any cache failure: refuse, never a 500
        logger.warning("PIN lockout unreadable, PIN entry refused: %r", exc)
        raise PinUnavailable() from None
    if until is not None:
        raise PinLocked(until)
    hashed = pin_hash(school.pk, pin)
    today = local_now(now).date()
    code = _code("pin", [school.pk, hashed], today)
    if code is None:
        # A delegate cancelled today keeps being recognised by their PIN, so the gate says
        # "not authorised" (and alerts) rather than "wrong PIN" (a revoked PIN is freed
        # for reuse: a live code with the same PIN wins, above).
        code = _code("cancelled_pin", [school.pk, hashed, today], today)
    if code is None:
        try:
            failure = _pin_failed(actor=actor, school=school, now=now)
        except Exception as exc:  # noqa: BLE001 - a wrong PIN that cannot be counted
            logger.warning("wrong PIN not counted, PIN entry refused: %r", exc)
            raise PinUnavailable() from None
        if failure.until is not None:
            # Only the lock alerts, once: single typos must not page the duty leader.
            _refuse(
                actor=actor,
                school=school,
                reason=RefusalReason.UNKNOWN,
                now=now,
                alert=failure.newly_locked,
                alert_body=_(
                    "%(school)s gate, %(time)s: too many wrong PINs at the school; PIN entry "
                    "is locked there until %(until)s (QR codes still work)."
                )
                % {
                    "school": school.name,
                    "time": local_now(now).strftime("%H:%M"),
                    "until": local_now(failure.until).strftime("%H:%M"),
                }
                if failure.school_wide
                else None,
            )
            raise PinLocked(failure.until)
        raise PickupRefused(
            RefusalReason.UNKNOWN, _("Wrong PIN. Check the six digits and try again.")
        )
    return code


def _find_by_qr(*, actor, school, text: str, now) -> PickupCode:
    try:
        parsed, _body, _sig = codes.parse(text)
    except codes.CodeRefused:
        raise ValidationError({"code": [_("Not a pick-up code. Scan again.")]}) from None
    if parsed.kind not in (codes.PICKUP_CARD, codes.PICKUP_ROTATING):
        raise ValidationError({"code": [_("This is not a pick-up code.")]})
    code = None
    today = local_now(now).date()
    try:
        if parsed.kind == codes.PICKUP_CARD:
            # The expiry is checked once the code is known, so the alert can name the child.
            codes.verify(
                text, kinds={codes.PICKUP_CARD}, school_id=school.pk, now=now, expires=False
            )
            code = _code("card", [parsed.ident, school.pk], today)
            if code is None:
                raise codes.CodeRefused(RefusalReason.UNKNOWN)
            # A delegate's card of another day is "not authorised" (see _authorise).
            if code.guardian_id and parsed.stamp < int(now.timestamp()):
                raise codes.CodeRefused(RefusalReason.EXPIRED)
            return code
        # Rotating: the key is the code's own secret, so find the code first (any school:
        # a genuine code of another school must say so, a forged one must not).
        candidate = _code("serial", [parsed.ident], today)
        if candidate is None:
            raise codes.CodeRefused(RefusalReason.FORGED)
        codes.verify(
            text,
            kinds={codes.PICKUP_ROTATING},
            school_id=school.pk,
            key=_secret_key(candidate),
            expires=False,
        )
        code = candidate
        if abs(parsed.stamp - rotating_step(now)) > ROTATING_TOLERANCE_STEPS:
            raise codes.CodeRefused(RefusalReason.EXPIRED)
        return code
    except codes.CodeRefused as exc:
        raise _refuse(
            actor=actor,
            school=school,
            reason=exc.reason,
            child=_adult_child(code) if code is not None else None,
            code=code,
            now=now,
        ) from None


def _classify(text) -> tuple[str, str]:
    """("pin", digits) or ("qr", text); a clear refusal for anything else."""
    raw = str(text or "")[: codes.MAX_INPUT]
    compact = re.sub(r"\s+", "", raw)
    if not compact:
        raise ValidationError({"code": [_("Scan the QR code or type the 6-digit PIN.")]})
    if compact.isdigit() or (compact.isascii() and compact.isdecimal()):
        if not _PIN_RE.fullmatch(compact):
            raise ValidationError({"code": [_("A PIN has exactly 6 digits.")]})
        return "pin", compact
    if "HX1" not in compact.upper():
        raise ValidationError(
            {"code": [_("Not a pick-up code: scan the QR code or type the 6-digit PIN.")]}
        )
    return "qr", raw


def _confirm_token(*, actor, school, code, method, now) -> str:
    return signing.dumps(
        {"c": code.pk, "s": school.pk, "m": method, "w": _who(actor), "t": int(now.timestamp())},
        salt=_CONFIRM_SALT,
    )


def pickup_lookup(*, actor, school, text, now=None) -> PickupMatch:
    """A scanned card QR, rotating QR or typed PIN → the child and adult to confirm.

    Raises PermissionDenied (no RELEASE_CHILD at the school), ValidationError (not a code
    at all: nothing written), PinLocked, or PickupRefused (logged; alerts sent)."""
    require(actor, Action.RELEASE_CHILD, school.pk)
    now = now or timezone.now()
    kind, value = _classify(text)
    if kind == "pin":
        code = _find_by_pin(actor=actor, school=school, pin=value, now=now)
        method = ReleaseMethod.PIN
    else:
        code = _find_by_qr(actor=actor, school=school, text=value, now=now)
        method = ReleaseMethod.QR
    _authorise(actor=actor, school=school, code=code, now=now)
    adult = code.guardian or code.delegate
    return PickupMatch(
        code=code,
        child=_adult_child(code),
        adult_name=adult.name,
        relationship=(
            code.guardian.get_relationship_display() if code.guardian_id else adult.relationship
        ),
        is_delegate=bool(code.delegate_id),
        method=method,
        token=_confirm_token(actor=actor, school=school, code=code, method=method, now=now),
        has_photo=adult_has_photo(code),
    )


def confirm_code(*, actor, school, token, now=None) -> tuple[PickupCode, Confirmation]:
    """The code behind a confirmation token issued to this actor at this school, and what
    the token says (who, how, when)."""
    who = _who(actor)
    try:
        data = signing.loads(
            str(token or "")[:500], salt=_CONFIRM_SALT, max_age=CONFIRM_MAX_AGE_SECONDS
        )
        valid = data["s"] == school.pk and data["w"] == who
        code_id, method = int(data["c"]), data["m"]
        issued_at = float(data.get("t", 0))
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
        valid = False
    if not valid or method not in ReleaseMethod.values:
        raise ValidationError({"token": [_("This confirmation has expired. Scan the code again.")]})
    today = local_now(now).date()
    code = _code("id", [code_id, school.pk], today)
    if code is None:
        raise ValidationError({"token": [_("This confirmation has expired. Scan the code again.")]})
    return code, Confirmation(who=who, method=method, issued_at=issued_at)


def pickup_release(*, actor, school, token, now=None) -> Release:
    """Confirm the hand-over looked up by `pickup_lookup`: one Release per child and day."""
    require(actor, Action.RELEASE_CHILD, school.pk)
    now = now or timezone.now()
    code, confirmation = confirm_code(actor=actor, school=school, token=token, now=now)
    method = confirmation.method
    _authorise(actor=actor, school=school, code=code, now=now, confirmation=confirmation)
    child = _adult_child(code)
    adult = code.guardian or code.delegate
    release = Release(
        school=school,
        child=child,
        school_class=child.school_class,
        on_date=local_now(now).date(),
        released_at=now,
        released_by=acting_user(actor),
        released_by_label=actor_label(actor),
        guardian=code.guardian,
        delegate=code.delegate,
        adult_name=adult.name,
        method=method,
    )
    # The row and its audit row made ready first: the transaction holds two statements
    # (gate_sql; ADR 0022).
    new = gate_sql.prepare_created(actor=actor, obj=release)
    try:
        with transaction.atomic():
            gate_sql.insert_created(new)
    except IntegrityError:
        # Another guard released the child a moment ago: not a security event, no alert.
        raise _refuse(
            actor=actor,
            school=school,
            reason=RefusalReason.ALREADY_RELEASED,
            child=child,
            code=code,
            now=now,
            alert=False,
            message=_("Another member of staff has just released this child."),
        ) from None
    return release


# ---------------------------------------------------------------- not collected


def _school_due(school, moment: dt.datetime) -> bool:
    if moment.weekday() >= 5:
        return False
    rules = gate_settings(school)
    due = dt.datetime.combine(moment.date(), rules.dismissal_time) + dt.timedelta(
        minutes=rules.pickup_grace_minutes
    )
    return moment.replace(tzinfo=None) >= due


def not_collected_sweep(*, now=None) -> int:
    """Flag, once a day, the active children without a release N minutes after dismissal
    on a weekday; alert their class teacher and the duty leaders. Idempotent."""
    from huxiao.notify.services import notify_send
    from huxiao.orgs.models import Organization
    from huxiao.people.models import Child

    moment = local_now(now)
    today = moment.date()
    flagged = 0
    for school in Organization.objects.filter(kind__in=SCHOOL_KINDS):
        if not _school_due(school, moment):
            continue
        children = (
            Child.objects.filter(school=school, is_active=True)
            .exclude(releases__on_date=today)
            .exclude(
                pk__in=NotCollected.objects.filter(school=school, on_date=today).values("child_id")
            )
            .select_related("school_class", "school_class__head_teacher")
        )
        by_class: dict = {}
        for child in children:
            try:
                with transaction.atomic():
                    NotCollected.objects.create(
                        school=school, child=child, on_date=today, flagged_at=moment
                    )
            except IntegrityError:
                continue  # another worker flagged it first
            flagged += 1
            by_class.setdefault(child.school_class, []).append(child)
        for school_class, kids in by_class.items():
            names = "、".join(k.name for k in kids)
            notify_send(
                organizations=[],
                event_type="pickup.not_collected",
                title=_("Children not collected: %(class)s") % {"class": school_class.name},
                body=_("%(school)s, %(date)s: not collected after dismissal: %(names)s.")
                % {"school": school.name, "date": today.isoformat(), "names": names},
                payload={"school_id": school.pk, "class_id": school_class.pk},
                recipients=_alert_targets(school, kids[0]),
                dedupe_key=f"pickup:not-collected:{school_class.pk}:{today.isoformat()}:"
                + ",".join(str(k.pk) for k in kids),
            )
    return flagged


def require_release_or_manage(actor, school_id) -> None:
    """The class views are for the gate (RELEASE_CHILD) and the class's keepers."""
    from huxiao.core.scoping import can

    if not (
        can(actor, Action.RELEASE_CHILD, school_id) or can(actor, Action.MANAGE_PICKUP, school_id)
    ):
        raise PermissionDenied(_("Your role does not allow this action."))
