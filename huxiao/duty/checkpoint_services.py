"""Writes of patrol checkpoints (issue 7 item 7; ADR 0029 "Rounds").

A checkpoint is a QR plate at a key area of a school. Those who plan duty at the school
(`PLAN_DUTY`: principal, security officer, duty leader) add, edit, retire and re-issue them.
The plate's QR carries the absolute URL of `duty:scan` with the checkpoint's `code`: a
random, unguessable code (`new_code`), never written into the audit trail
(`Checkpoint.audit_exclude`). Re-issuing a code makes the old plate stop working at once.

Order of checks: the record through the actor's scope (404, by the caller), then the right
(403), then the input (ValidationError by field, 400). Every write is audited.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_create, audit_record, audit_update, snapshot
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.duty.models import Checkpoint
from huxiao.orgs.models import Organization
from huxiao.people import validation as v

# Codes are typed by hand when a QR will not scan: 20 characters of an alphabet without
# look-alikes (digits and A–Z without 0/O and 1/I: 32 symbols, 5 bits each, 100 random
# bits), upper case, printed in groups of four. Codes issued before (24-character
# token_urlsafe) keep working exactly as stored. The column holds 32.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 20
CODE_MAX = 32
# More plates than any campus needs; a typing or script mistake beyond that.
MAX_ACTIVE = 100
MAX_ORDER = 32767
EDITABLE = ("name", "location", "is_key_area", "for_night", "order", "is_active")


def new_code() -> str:
    code = "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))
    if len(code) > CODE_MAX:  # CODE_LENGTH and CODE_MAX disagree: a programming error
        raise RuntimeError("checkpoint code longer than CODE_MAX")
    return code


def code_groups(code: str) -> str:
    """The code as printed on the plate: groups of four separated by spaces."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def _clean_bool(errors: v.FieldErrors, field: str, value) -> bool | None:
    if isinstance(value, bool):
        return value
    errors.add(field, _("Enter yes or no."))
    return None


def _clean_order(errors: v.FieldErrors, value) -> int | None:
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not 0 <= number <= MAX_ORDER:
        errors.add("order", _("Enter a whole number from 0 to %(max)s.") % {"max": MAX_ORDER})
        return None
    return number


def _clean(errors: v.FieldErrors, data: dict) -> dict:
    cleaned = {}
    if "name" in data:
        cleaned["name"] = errors.run(
            "name", v.clean_text, data["name"], max_length=100, required=True
        )
        if cleaned["name"] and "\n" in cleaned["name"]:
            errors.add("name", _("Write the name on one line."))
    if "location" in data:
        cleaned["location"] = errors.run("location", v.clean_text, data["location"], max_length=200)
    for field in ("is_key_area", "for_night", "is_active"):
        if field in data:
            cleaned[field] = _clean_bool(errors, field, data[field])
    if "order" in data and data["order"] is not None:
        cleaned["order"] = _clean_order(errors, data["order"])
    return cleaned


def _name_taken(school_id: int, name: str, exclude_pk: int | None = None) -> bool:
    qs = Checkpoint.objects.filter(school_id=school_id, name=name, is_active=True)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _lock_school(school_id: int) -> None:
    """Serialise checkpoint changes of one school (name and count checks)."""
    list(Organization.objects.select_for_update().filter(pk=school_id).values_list("pk"))


def _save_new(checkpoint: Checkpoint) -> None:
    """Insert with a fresh code; a clash of 100-bit codes is next to impossible, but a
    retry costs nothing."""
    for _attempt in range(3):
        checkpoint.code = new_code()
        try:
            with transaction.atomic():
                checkpoint.save()
            return
        except IntegrityError:
            continue
    raise IntegrityError("could not draw a unique checkpoint code")


@transaction.atomic
def checkpoint_create(
    *,
    actor,
    school: Organization,
    name: str,
    location: str = "",
    is_key_area: bool = True,
    for_night: bool = False,
    order: int | None = None,
) -> Checkpoint:
    """Add a checkpoint (in use) with a new random code."""
    require(actor, Action.PLAN_DUTY, school.pk)
    errors = v.FieldErrors()
    cleaned = _clean(
        errors,
        {
            "name": name,
            "location": location,
            "is_key_area": is_key_area,
            "for_night": for_night,
            "order": order,
        },
    )
    errors.raise_if_any()
    _lock_school(school.pk)
    if _name_taken(school.pk, cleaned["name"]):
        errors.add("name", _("The school already has a checkpoint with this name."))
    active = Checkpoint.objects.filter(school_id=school.pk, is_active=True).count()
    if active >= MAX_ACTIVE:
        errors.add(
            "__all__", _("A school can have at most %(n)s checkpoints in use.") % {"n": MAX_ACTIVE}
        )
    errors.raise_if_any()
    if cleaned.get("order") is None:
        top = Checkpoint.objects.filter(school_id=school.pk).aggregate(top=Max("order"))["top"]
        cleaned["order"] = min((top or 0) + 1, MAX_ORDER)
    checkpoint = Checkpoint(school=school, **cleaned)
    _save_new(checkpoint)
    audit_create(actor=actor, obj=checkpoint, school=school.pk)
    return checkpoint


@transaction.atomic
def checkpoint_update(*, actor, checkpoint: Checkpoint, **changes) -> Checkpoint:
    """Edit a checkpoint; `is_active=False` retires it (its plate stops working; its past
    scans stay), `is_active=True` puts it back. Unknown fields are refused."""
    require(actor, Action.PLAN_DUTY, checkpoint.school_id)
    errors = v.FieldErrors()
    for field in sorted(set(changes) - set(EDITABLE)):
        errors.add(field, _("This field cannot be changed here."))
    cleaned = _clean(errors, changes)
    errors.raise_if_any()
    _lock_school(checkpoint.school_id)
    checkpoint = Checkpoint.objects.select_for_update().get(pk=checkpoint.pk)
    name = cleaned.get("name", checkpoint.name)
    active = cleaned.get("is_active", checkpoint.is_active)
    if active and _name_taken(checkpoint.school_id, name, exclude_pk=checkpoint.pk):
        errors.add("name", _("The school already has a checkpoint with this name."))
    if active and not checkpoint.is_active:
        in_use = Checkpoint.objects.filter(school_id=checkpoint.school_id, is_active=True).count()
        if in_use >= MAX_ACTIVE:
            errors.add(
                "is_active",
                _("A school can have at most %(n)s checkpoints in use.") % {"n": MAX_ACTIVE},
            )
    errors.raise_if_any()
    before = snapshot(checkpoint)
    for key, value in cleaned.items():
        setattr(checkpoint, key, value)
    checkpoint.save()
    audit_update(actor=actor, obj=checkpoint, before=before, school=checkpoint.school_id)
    return checkpoint


@transaction.atomic
def checkpoint_reissue_code(*, actor, checkpoint: Checkpoint) -> Checkpoint:
    """Give the checkpoint a new code: the old plate stops working; print the new one.
    The trail records that the code changed, never the code."""
    require(actor, Action.PLAN_DUTY, checkpoint.school_id)
    checkpoint = Checkpoint.objects.select_for_update().get(pk=checkpoint.pk)
    for _attempt in range(3):
        checkpoint.code = new_code()
        try:
            with transaction.atomic():
                checkpoint.save(update_fields=["code"])
            break
        except IntegrityError:
            continue
    else:
        raise IntegrityError("could not draw a unique checkpoint code")
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=checkpoint,
        school=checkpoint.school_id,
        changes={"fields": {"code": ["…", "reissued"]}},
    )
    return checkpoint
