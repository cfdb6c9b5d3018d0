"""Writes of warnings both ways (ADR 0019).

- Warning signs (苗头性信息, school → police): `warning_sign_report`, then the police move
  it reported → assessing → action taken / no action with `warning_sign_transition`, each
  step with a note; the closing note is the feedback the reporting school sees.
- Early warnings (预警, police → schools): `early_warning_issue` to one, several or all
  schools of the issuer's jurisdiction; `early_warning_acknowledge` by a recipient school;
  `early_warnings_chase` (periodic, clock passed in) reminds schools that have not
  acknowledged: 30 minutes after the warning comes into force, then every hour, at most
  three times (then the issuer is told once), never in quiet hours nor after it expires.

Every write is atomic, leaves its audit row and timeline event in the same transaction, and
notifies / pushes only after commit (notify_send and publish_on_commit both wait for it).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_record
from huxiao.core.events import groups_for_school, publish_on_commit
from huxiao.core.names import actor_label
from huxiao.core.permissions import require
from huxiao.core.roles import POLICE_KINDS, SCHOOL_KINDS, Action, role_allows
from huxiao.core.scoping import _schools_of_org, memberships_of, visible_school_ids
from huxiao.intel.models import (
    EarlyWarning,
    EarlyWarningRecipient,
    WarningSign,
    WarningSignAttachment,
    WarningSignEvent,
)
from huxiao.intel.warnings_choices import (
    SIGN_TRANSITIONS,
    SignCategory,
    SignStatus,
    TimeNode,
    WarningLevel,
)
from huxiao.orgs.models import Membership, Organization
from huxiao.people import validation as v

logger = logging.getLogger(__name__)

ATTACHMENT_MAX_BYTES = getattr(settings, "WARNING_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_MAX_COUNT = 5
# Screenshots of online threats, photos, scanned letters, short phone videos.
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"GIF8", "image/gif", ".gif"),
    (b"%PDF-", "application/pdf", ".pdf"),
)
CHASE_FIRST_AFTER = dt.timedelta(minutes=30)
CHASE_EVERY = dt.timedelta(hours=1)
# After this many reminders a school is no longer chased; the issuer is told instead.
CHASE_MAX_REMINDERS = 3
# Local hours (settings.TIME_ZONE) without reminders; settings.EARLY_WARNING_QUIET_HOURS.
CHASE_QUIET_HOURS = (22, 7)

EVENT_SIGN = "intel.warning_sign"
EVENT_EARLY = "intel.early_warning"


# ------------------------------------------------------------------ attachments


def _sniff(head: bytes) -> tuple[str, str] | None:
    for magic, content_type, suffix in _SIGNATURES:
        if head.startswith(magic):
            return content_type, suffix
    if head[4:8] == b"ftyp":
        return "video/mp4", ".mp4"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def clean_attachments(files) -> list[tuple[object, str, str]]:
    """[(file, content_type, suffix)] or a ValidationError on `attachments` saying which
    file is wrong and why."""
    files = [f for f in (files or []) if f]
    errors = []
    if len(files) > ATTACHMENT_MAX_COUNT:
        raise ValidationError(
            {"attachments": [_("At most %(count)s attachments.") % {"count": ATTACHMENT_MAX_COUNT}]}
        )
    cleaned = []
    limit_mb = ATTACHMENT_MAX_BYTES // (1024 * 1024)
    for upload in files:
        name = os.path.basename(str(getattr(upload, "name", "") or "file"))[:200]
        size = getattr(upload, "size", 0) or 0
        if size > ATTACHMENT_MAX_BYTES:
            errors.append(
                _("%(name)s is too large (at most %(mb)s MB).") % {"name": name, "mb": limit_mb}
            )
            continue
        if size == 0:
            errors.append(_("%(name)s is empty.") % {"name": name})
            continue
        head = upload.read(16)
        upload.seek(0)
        kind = _sniff(head)
        if kind is None:
            errors.append(
                _("%(name)s is not an accepted file type (JPEG, PNG, GIF, WebP, PDF or MP4).")
                % {"name": name}
            )
            continue
        cleaned.append((upload, *kind))
    if errors:
        raise ValidationError({"attachments": errors})
    return cleaned


def _store_attachments(sign: WarningSign, cleaned) -> list[WarningSignAttachment]:
    rows = []
    for upload, content_type, suffix in cleaned:
        original = os.path.basename(str(getattr(upload, "name", "") or "file"))[:200]
        row = WarningSignAttachment(
            sign=sign, original_name=original, content_type=content_type, size=upload.size
        )
        # A random name: the original may name a child; it is kept only in the database.
        row.file.save(f"{uuid.uuid4().hex}{suffix}", ContentFile(upload.read()), save=False)
        row.save()
        rows.append(row)
    return rows


def _delete_files_on_rollback(rows) -> None:
    """Files are written before commit; a rolled-back report must not leave them behind."""
    for row in rows:
        try:
            row.file.storage.delete(row.file.name)
        except Exception:  # noqa: BLE001 - best effort cleanup
            logger.exception("could not delete orphan attachment %s", row.file.name)


# ------------------------------------------------------------------ warning signs


def _clean_sign(data: dict, *, now) -> dict:
    errors = v.FieldErrors()
    category = str(data.get("category") or "").strip()
    if category not in SignCategory.values:
        errors.add("category", _("Choose one of the offered categories."))
    time_node = str(data.get("time_node") or "").strip()
    if time_node and time_node not in TimeNode.values:
        errors.add("time_node", _("Choose one of the offered time nodes."))
    observed_at = data.get("observed_at")
    if observed_at is not None:
        if timezone.is_naive(observed_at):
            observed_at = timezone.make_aware(observed_at)
        if observed_at > now + dt.timedelta(minutes=5):
            errors.add("observed_at", _("The time observed cannot be in the future."))
    cleaned = {
        "category": category,
        "time_node": time_node,
        "observed_at": observed_at,
        "description": errors.run(
            "description", v.clean_text, data.get("description"), max_length=4000, required=True
        ),
        "observed_place": errors.run(
            "observed_place", v.clean_text, data.get("observed_place"), max_length=200
        ),
    }
    errors.raise_if_any()
    return cleaned


def _station_handlers(school) -> list:
    """Police of the school's station and post who may assess warning signs."""
    org_ids = [i for i in (school.police_station_id, school.police_post_id) if i]
    if not org_ids:
        return []
    return _handlers_of(org_ids)


def _school_users(school, action: str) -> list:
    return [
        m.user
        for m in Membership.objects.filter(
            organization=school, is_active=True, user__is_active=True
        ).select_related("user")
        if role_allows(m.role, action)
    ]


def _notify(**kwargs) -> None:
    from django.apps import apps

    if not apps.is_installed("huxiao.notify"):
        return
    from huxiao.notify.services import notify_send

    notify_send(**kwargs)


def _notify_many(messages: list[dict]) -> None:
    from django.apps import apps

    if not apps.is_installed("huxiao.notify"):
        return
    from huxiao.notify.services import notify_send_many

    notify_send_many(messages)


def _handlers_of(org_ids) -> list:
    """Active members of these police organizations who may handle warnings."""
    return [
        m.user
        for m in Membership.objects.filter(
            organization_id__in=[i for i in org_ids if i], is_active=True, user__is_active=True
        ).select_related("user")
        if role_allows(m.role, Action.HANDLE_WARNING)
    ]


def _receivers_by_school(school_ids) -> dict[int, list[int]]:
    """School id → ids of its active staff who receive early warnings, in one query."""
    found: dict[int, list[int]] = {}
    rows = Membership.objects.filter(
        organization_id__in=school_ids, is_active=True, user__is_active=True
    ).values_list("organization_id", "user_id", "role")
    for school_id, user_id, role in rows:
        if role_allows(role, Action.RECEIVE_WARNING):
            found.setdefault(school_id, []).append(user_id)
    return found


def _sign_groups(school) -> list[str]:
    """The school and its police only: offices of the town and county never see signs."""
    return [
        group
        for group in groups_for_school(school)
        if group.startswith(("school.", "station.", "post."))
    ]


def _sign_payload(sign: WarningSign) -> dict:
    return {"id": sign.pk, "school_id": sign.school_id, "status": sign.status}


def warning_sign_report(
    *, actor, school: Organization, files=(), now: dt.datetime | None = None, **data
) -> WarningSign:
    """A school reports a warning sign; the station's police are notified after commit."""
    require(actor, Action.REPORT_WARNING, school.pk)
    if school.kind not in SCHOOL_KINDS:
        raise ValidationError({"school_id": [_("This organization is not a school.")]})
    now = now or timezone.now()
    cleaned = _clean_sign(data, now=now)
    uploads = clean_attachments(files)
    stored: list = []
    try:
        with transaction.atomic():
            sign = WarningSign.objects.create(
                school=school, reported_at=now, reported_by=actor, **cleaned
            )
            stored = _store_attachments(sign, uploads)
            WarningSignEvent.objects.create(
                sign=sign,
                status=SignStatus.REPORTED,
                at=now,
                actor=actor,
                actor_label=actor_label(actor),
            )
            audit_create(actor=actor, obj=sign)
            names = {"school": school.name, "category": SignCategory(sign.category).label}
            _notify(
                organizations=[i for i in (school.police_station_id,) if i],
                event_type=f"{EVENT_SIGN}.reported",
                title=_("Warning sign from %(school)s: %(category)s") % names,
                body=cleaned["description"][:500],
                payload=_sign_payload(sign),
                recipients=_station_handlers(school),
                dedupe_key=f"warning_sign:{sign.pk}:reported",
            )
            publish_on_commit(_sign_groups(school), f"{EVENT_SIGN}.reported", _sign_payload(sign))
    except Exception:
        _delete_files_on_rollback(stored)
        raise
    return sign


def warning_sign_attach(*, actor, sign: WarningSign, files) -> list[WarningSignAttachment]:
    """More files for a sign the police have not yet started on (the reporter's school)."""
    require(actor, Action.REPORT_WARNING, sign.school_id)
    uploads = clean_attachments(files)
    if not uploads:
        raise ValidationError({"attachments": [_("Choose at least one file.")]})
    stored: list = []
    try:
        with transaction.atomic():
            sign = WarningSign.objects.select_for_update().get(pk=sign.pk)
            if sign.status != SignStatus.REPORTED:
                raise ValidationError(
                    {"attachments": [_("Files can be added only before the police assess it.")]}
                )
            if sign.attachments.count() + len(uploads) > ATTACHMENT_MAX_COUNT:
                raise ValidationError(
                    {
                        "attachments": [
                            _("At most %(count)s attachments.") % {"count": ATTACHMENT_MAX_COUNT}
                        ]
                    }
                )
            stored = _store_attachments(sign, uploads)
            audit_record(
                actor=actor,
                action="update",
                obj=sign,
                changes={"attachments": [a.original_name for a in stored]},
            )
    except Exception:
        _delete_files_on_rollback(stored)
        raise
    return stored


@transaction.atomic
def warning_sign_transition(
    *, actor, sign: WarningSign, status: str, note: str, now: dt.datetime | None = None
) -> WarningSign:
    """Police move a sign one step on; the note is required and, on closing, becomes the
    feedback the reporting school reads."""
    require(actor, Action.HANDLE_WARNING, sign.school_id)
    sign = WarningSign.objects.select_for_update().select_related("school").get(pk=sign.pk)
    errors = v.FieldErrors()
    text = errors.run("note", v.clean_text, note, max_length=4000, required=True)
    if status not in SignStatus.values:
        errors.add("status", _("Choose one of the offered states."))
    elif status not in SIGN_TRANSITIONS.get(sign.status, frozenset()):
        errors.add(
            "status",
            _("A warning sign that is “%(current)s” cannot become “%(target)s”.")
            % {
                "current": SignStatus(sign.status).label,
                "target": SignStatus(status).label,
            },
        )
    errors.raise_if_any()
    now = now or timezone.now()
    before = sign.status
    sign.status = status
    sign.handled_by = actor
    sign.feedback = text
    fields = ["status", "handled_by", "feedback"]
    if status in (SignStatus.ACTION_TAKEN, SignStatus.NO_ACTION):
        sign.closed_at = now
        fields.append("closed_at")
    sign.save(update_fields=fields)
    WarningSignEvent.objects.create(
        sign=sign, status=status, at=now, actor=actor, actor_label=actor_label(actor), note=text
    )
    audit_record(
        actor=actor,
        action="update",
        obj=sign,
        changes={"status": [before, status], "note": text},
    )
    names = {"school": sign.school.name, "status": SignStatus(status).label}
    _notify(
        organizations=[sign.school_id],
        event_type=f"{EVENT_SIGN}.feedback",
        title=_("Police feedback on your warning sign: %(status)s") % names,
        body=text[:500],
        payload=_sign_payload(sign),
        recipients=[sign.reported_by] if sign.reported_by_id else [],
        dedupe_key=f"warning_sign:{sign.pk}:{status}",
    )
    publish_on_commit(_sign_groups(sign.school), f"{EVENT_SIGN}.{status}", _sign_payload(sign))
    return sign


# ------------------------------------------------------------------ early warnings


def issuer_orgs(actor) -> list[Organization]:
    """The police organizations in whose name `actor` may issue early warnings."""
    return [
        m.organization
        for m in memberships_of(actor)
        if m.organization.kind in POLICE_KINDS and role_allows(m.role, Action.HANDLE_WARNING)
    ]


def _clean_early(data: dict, *, now: dt.datetime) -> dict:
    errors = v.FieldErrors()
    level = str(data.get("level") or "").strip()
    if level not in WarningLevel.values:
        errors.add("level", _("Choose one of the offered levels."))
    valid_from, valid_until = data.get("valid_from"), data.get("valid_until")
    if valid_from is None:
        errors.add("valid_from", _("This field is required."))
    if valid_until is None:
        errors.add("valid_until", _("This field is required."))
    if valid_from is not None and timezone.is_naive(valid_from):
        valid_from = timezone.make_aware(valid_from)
    if valid_until is not None and timezone.is_naive(valid_until):
        valid_until = timezone.make_aware(valid_until)
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        errors.add("valid_until", _("The end of validity must be after its start."))
    elif valid_until is not None and valid_until <= now:
        # A warning that has already expired would be shown to nobody and chased never.
        errors.add("valid_until", _("The end of validity cannot be in the past."))
    cleaned = {
        "level": level,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "title": errors.run(
            "title", v.clean_text, data.get("title"), max_length=200, required=True
        ),
        "content": errors.run(
            "content", v.clean_text, data.get("content"), max_length=8000, required=True
        ),
    }
    errors.raise_if_any()
    return cleaned


def _pick_issuer(actor, school_ids: set[int], issuer_id: int | None):
    """The issuer organization and its jurisdiction; refuses schools outside it."""
    orgs = issuer_orgs(actor)
    if not orgs:
        raise PermissionDenied(_("Your role does not allow this action."))
    if issuer_id is not None:
        orgs = [o for o in orgs if o.pk == issuer_id]
        if not orgs:
            raise ValidationError({"issuer_id": [_("You cannot issue warnings for this unit.")]})
    best = None
    for org in orgs:
        jurisdiction = _schools_of_org(actor, org)
        if school_ids <= jurisdiction:
            return org, jurisdiction
        best = best or (org, jurisdiction)
    org, jurisdiction = best
    outside = sorted(school_ids - jurisdiction)
    # Ids only: never reveal the name of a school outside the jurisdiction.
    raise ValidationError(
        {
            "school_ids": [
                _("Not schools of your jurisdiction: %(ids)s.")
                % {"ids": ", ".join(str(i) for i in outside)}
            ]
        }
    )


def early_warning_issue(
    *,
    actor,
    school_ids=None,
    all_schools: bool = False,
    issuer_id: int | None = None,
    now: dt.datetime | None = None,
    **data,
) -> EarlyWarning:
    """Issue to the listed schools, or to every school of the issuer's jurisdiction."""
    if not visible_school_ids(actor, Action.HANDLE_WARNING):
        raise PermissionDenied(_("Your role does not allow this action."))
    now = now or timezone.now()
    cleaned = _clean_early(data, now=now)
    wanted = {int(i) for i in (school_ids or [])}
    if not all_schools and not wanted:
        raise ValidationError({"school_ids": [_("Choose at least one school, or all schools.")]})
    issuer, jurisdiction = _pick_issuer(actor, wanted, issuer_id)
    targets = sorted(jurisdiction) if all_schools else sorted(wanted)
    if not targets:
        raise ValidationError({"school_ids": [_("Your jurisdiction has no schools.")]})
    # A fixed number of queries however many schools: a station-wide warning to dozens of
    # schools must not hold the transaction open for a few queries per school.
    with transaction.atomic():
        warning = EarlyWarning.objects.create(
            issuer=issuer, issued_at=now, issued_by=actor, **cleaned
        )
        EarlyWarningRecipient.objects.bulk_create(
            [EarlyWarningRecipient(warning=warning, school_id=i) for i in targets]
        )
        audit_create(actor=actor, obj=warning)
        receivers = _receivers_by_school(targets)
        # One notification per school (not one shared): a school must not learn, even from
        # a gateway's payload, which other schools got the warning.
        _notify_many(
            [
                _recipient_message(warning, school_id, receivers.get(school_id, []), step=0)
                for school_id in targets
            ]
        )
        for school_id in targets:
            publish_on_commit(
                [f"school.{school_id}"],
                f"{EVENT_EARLY}.issued",
                {"id": warning.pk, "school_id": school_id, "level": warning.level},
            )
    return warning


def _recipient_message(warning: EarlyWarning, school_id: int, receivers, *, step: int) -> dict:
    """notify_send's arguments for telling one school of a warning (step 0) or reminding it
    (step n)."""
    names = {"level": WarningLevel(warning.level).label, "title": warning.title}
    if step == 0:
        title = _("Early warning (%(level)s): %(title)s") % names
    else:
        title = _("Reminder: please acknowledge the early warning “%(title)s”") % names
    return {
        "organizations": [school_id],
        "event_type": f"{EVENT_EARLY}.{'issued' if step == 0 else 'reminder'}",
        "title": title,
        "body": warning.content[:500],
        "payload": {"id": warning.pk, "school_id": school_id, "step": step},
        "recipients": receivers,
        "dedupe_key": f"early_warning:{warning.pk}:{school_id}:{step}",
    }


def _notify_recipient(warning: EarlyWarning, school, *, step: int) -> None:
    receivers = _school_users(school, Action.RECEIVE_WARNING)
    _notify(**_recipient_message(warning, school.pk, receivers, step=step))


@transaction.atomic
def early_warning_acknowledge(
    *, actor, recipient: EarlyWarningRecipient, now: dt.datetime | None = None
) -> EarlyWarningRecipient:
    """The school confirms receipt; the first acknowledgement counts, a repeat is a no-op."""
    require(actor, Action.RECEIVE_WARNING, recipient.school_id)
    recipient = (
        EarlyWarningRecipient.objects.select_for_update()
        .select_related("school", "warning")
        .get(pk=recipient.pk)
    )
    if recipient.acknowledged_at is not None:
        return recipient
    now = now or timezone.now()
    recipient.acknowledged_at = now
    recipient.acknowledged_by = actor
    recipient.acknowledged_by_label = actor_label(actor)
    recipient.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledged_by_label"])
    audit_record(
        actor=actor,
        action="update",
        obj=recipient,
        changes={"acknowledged_at": [None, now.isoformat()]},
    )
    publish_on_commit(
        [f"station.{recipient.warning.issuer_id}", f"school.{recipient.school_id}"],
        f"{EVENT_EARLY}.acknowledged",
        {"id": recipient.warning_id, "school_id": recipient.school_id},
    )
    return recipient


def chase_start(warning: EarlyWarning) -> dt.datetime:
    """Chasing counts from when the warning comes into force, not from when it was typed in:
    a warning issued tonight for next week is not chased tonight."""
    return max(warning.issued_at, warning.valid_from)


def chase_step_due(start: dt.datetime, now: dt.datetime) -> int:
    """0 before the first reminder; 1 at +30 min; 2 at +1 h 30; then one more each hour."""
    elapsed = now - start
    if elapsed < CHASE_FIRST_AFTER:
        return 0
    return 1 + int((elapsed - CHASE_FIRST_AFTER) / CHASE_EVERY)


def chase_quiet_hours() -> tuple[int, int]:
    """(from, until) local hours in which nobody is chased; equal hours mean never quiet."""
    start, end = getattr(settings, "EARLY_WARNING_QUIET_HOURS", CHASE_QUIET_HOURS)
    return int(start), int(end)


def is_quiet_time(now: dt.datetime) -> bool:
    start, end = chase_quiet_hours()
    hour = timezone.localtime(now).hour
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end  # e.g. 22:00–07:00 spans midnight


def _chase_due(recipient: EarlyWarningRecipient, now: dt.datetime) -> bool:
    """Reminder n (n = chase_count + 1) is due at start + 30 min + (n − 1) h, and at least
    an hour after the previous one: a job that was down for hours, or quiet hours, give one
    reminder on waking, not one per missed step."""
    if recipient.chase_count >= CHASE_MAX_REMINDERS:
        return False
    if chase_step_due(chase_start(recipient.warning), now) <= recipient.chase_count:
        return False
    last = recipient.last_chased_at
    return last is None or now - last >= CHASE_EVERY


def _escalate_to_issuer(warning: EarlyWarning, school, *, reminders: int) -> None:
    """Tell the issuing station (or post) once that a school still has not acknowledged."""
    names = {"school": school.name, "title": warning.title, "count": reminders}
    org_ids = [warning.issuer_id]
    _notify(
        organizations=org_ids,
        event_type=f"{EVENT_EARLY}.unacknowledged",
        title=_("%(school)s has not acknowledged the early warning “%(title)s”") % names,
        body=_("%(count)s reminders have been sent to %(school)s without an acknowledgement.")
        % names,
        payload={"id": warning.pk, "school_id": school.pk},
        recipients=_handlers_of(org_ids),
        dedupe_key=f"early_warning:{warning.pk}:{school.pk}:unacknowledged",
    )


def early_warnings_chase(*, now: dt.datetime | None = None) -> int:
    """Remind schools that have not acknowledged a warning in force: from 30 minutes after
    it came into force, then hourly, at most CHASE_MAX_REMINDERS times; with the last
    reminder the issuer is told once. Nothing is sent in quiet hours (local time) nor after
    the warning expires. Idempotent per step: a second run in the same step, or two workers
    at once, send nothing more (the row is locked and the notification has a dedupe key per
    step). Returns reminders sent."""
    now = now or timezone.now()
    if is_quiet_time(now):
        return 0
    due = EarlyWarningRecipient.objects.filter(
        acknowledged_at__isnull=True,
        chase_count__lt=CHASE_MAX_REMINDERS,
        warning__valid_until__gt=now,
        warning__valid_from__lte=now - CHASE_FIRST_AFTER,
        warning__issued_at__lte=now - CHASE_FIRST_AFTER,
    ).values_list("pk", flat=True)
    sent = 0
    for pk in list(due):
        with transaction.atomic():
            recipient = (
                EarlyWarningRecipient.objects.select_for_update(of=("self",))
                .select_related("warning", "school")
                .get(pk=pk)
            )
            if recipient.acknowledged_at is not None or not _chase_due(recipient, now):
                continue
            step = recipient.chase_count + 1
            recipient.chase_count = step
            recipient.last_chased_at = now
            recipient.save(update_fields=["chase_count", "last_chased_at"])
            _notify_recipient(recipient.warning, recipient.school, step=step)
            if step == CHASE_MAX_REMINDERS:
                _escalate_to_issuer(recipient.warning, recipient.school, reminders=step)
            sent += 1
    return sent
