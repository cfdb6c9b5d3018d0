"""Writes of protective equipment (issue 7 item 2; ADR 0028 "Equipment").

A school's stock of each item of its county's list (`stock_set`: quantity, condition, last
check), the items issued to one guard and their return (`equipment_issue`,
`equipment_return`), and the county's list itself (`equipment_type_*`, county-level offices
with MANAGE_SECURITY_RULES only).

Rules (bad input is a ValidationError by field; nothing is written):
- a quantity is a whole number from 0 to 99,999, never below what is out with guards;
- the last check is not in the future;
- only items the county marks "issued to each guard" are issued; to an active member of
  the school's own security staff; never more than the stock not already issued; the
  issue and return dates are not in the future, and a return not before the issue;
- returning an item twice is refused (`EquipmentStateRefused`, 409);
- a county item some school holds is not deleted: it is marked "not required" instead
  (SchoolEquipment protects it); the last item of a county's list is never deleted
  (`EquipmentStateRefused`, 409: an empty list would bring the shipped eight back);
- every date is on or after 1980-01-01 (`dates.EARLIEST_DATE`, a typing mistake otherwise).

Every change is audited. A school's change re-evaluates its compliance after commit; a
change of the county list re-evaluates the whole county after commit.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_delete, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.people import validation as v
from huxiao.security import compliance, dates
from huxiao.security.choices import Condition
from huxiao.security.equipment_selectors import keeper_regions
from huxiao.security.models import EquipmentIssue, EquipmentType, SchoolEquipment
from huxiao.security.personnel_selectors import SECURITY_POSTS, local_today

MAX_QUANTITY = 99_999
MAX_ISSUE = 99
MAX_MIN_QUANTITY = 999
STOCK_FIELDS = ("quantity", "condition", "last_checked_on", "notes")
TYPE_FIELDS = ("name", "min_quantity", "per_guard", "is_required")
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class EquipmentStateRefused(ValidationError):
    """A change the record's state does not allow (returning an item twice); pages and the
    API answer 409 with the message."""

    def __init__(self, message):
        super().__init__(message, code="state")


# ------------------------------------------------------------------ field rules


def _whole_number(value, *, low: int, high: int, message) -> int:
    if value is None or value == "":
        raise ValidationError(_("This field is required."), code="required")
    if isinstance(value, bool):
        raise ValidationError(_("Enter a whole number."), code="invalid")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValidationError(_("Enter a whole number."), code="invalid")
        value = int(value)
    if not isinstance(value, int):
        text = str(value).strip()
        if not re.fullmatch(r"[+-]?\d{1,12}", text):
            raise ValidationError(_("Enter a whole number."), code="invalid")
        value = int(text)
    if value < low or value > high:
        raise ValidationError(message, code="range")
    return value


def clean_quantity(value) -> int:
    return _whole_number(
        value,
        low=0,
        high=MAX_QUANTITY,
        message=_("Enter a quantity from 0 to 99,999 (not negative)."),
    )


def clean_condition(value) -> str:
    text = str(value or "").strip()
    if text in Condition.values:
        return text
    raise ValidationError(_("Choose good, worn or broken."), code="choice")


def _date_not_future(value, today: dt.date, message, *, required=False):
    return dates.clean_past_date(value, today=today, future_message=message, required=required)


def _outstanding(stock: SchoolEquipment | None) -> int:
    if stock is None or stock.pk is None:
        return 0
    return (
        EquipmentIssue.objects.filter(equipment=stock, returned_on__isnull=True).aggregate(
            n=Sum("quantity")
        )["n"]
        or 0
    )


def _lock_stock(school_id: int, type_id: int) -> SchoolEquipment | None:
    return (
        SchoolEquipment.objects.select_for_update()
        .filter(school_id=school_id, equipment_type_id=type_id)
        .first()
    )


def _same_county(errors: v.FieldErrors, school, equipment_type) -> None:
    if equipment_type is None or equipment_type.region_id != school.region_id:
        errors.add("equipment_type_id", _("Choose an item of this county's list."))


# ------------------------------------------------------------------ a school's stock


@transaction.atomic
def stock_set(
    *, actor, school, equipment_type, today: dt.date | None = None, **changes
) -> SchoolEquipment:
    """Record the school's stock of one item (created on the first save). Only the fields
    given change (STOCK_FIELDS)."""
    require(actor, Action.MANAGE_SECURITY, school.pk)
    unknown = set(changes) - set(STOCK_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    today = today or local_today()
    errors = v.FieldErrors()
    _same_county(errors, school, equipment_type)
    errors.raise_if_any()
    stock = _lock_stock(school.pk, equipment_type.pk)
    cleaned = {}
    if "quantity" in changes:
        cleaned["quantity"] = errors.run("quantity", clean_quantity, changes["quantity"])
        out = _outstanding(stock)
        if cleaned["quantity"] is not None and cleaned["quantity"] < out:
            errors.add(
                "quantity",
                _("%(count)s are issued to guards; record their return first.") % {"count": out},
            )
    if "condition" in changes:
        cleaned["condition"] = errors.run("condition", clean_condition, changes["condition"])
    if "last_checked_on" in changes:
        cleaned["last_checked_on"] = errors.run(
            "last_checked_on",
            _date_not_future,
            changes["last_checked_on"],
            today,
            _("The check date is in the future."),
        )
    if "notes" in changes:
        cleaned["notes"] = errors.run("notes", v.clean_text, changes["notes"], max_length=500)
    errors.raise_if_any()
    if stock is None:
        stock = SchoolEquipment(school=school, equipment_type=equipment_type)
        for key, value in cleaned.items():
            setattr(stock, key, value)
        stock.updated_by = acting_user(actor)
        try:
            with transaction.atomic():
                stock.save()
        except IntegrityError:
            # Another request recorded this item first: apply ours on top of it.
            return stock_set(
                actor=actor, school=school, equipment_type=equipment_type, today=today, **changes
            )
        audit_create(actor=actor, obj=stock)
    else:
        before = snapshot(stock)
        for key, value in cleaned.items():
            setattr(stock, key, value)
        if snapshot(stock) != before:
            stock.updated_by = acting_user(actor)
            stock.save()
            audit_update(actor=actor, obj=stock, before=before)
    compliance.reevaluate_on_commit([school.pk])
    return stock


# ------------------------------------------------------------------ per-guard issue


@transaction.atomic
def equipment_issue(
    *,
    actor,
    school,
    equipment_type,
    staff,
    quantity=1,
    issued_on=None,
    today: dt.date | None = None,
) -> EquipmentIssue:
    """Issue items of the school's stock to one member of its security staff."""
    require(actor, Action.MANAGE_SECURITY, school.pk)
    today = today or local_today()
    errors = v.FieldErrors()
    _same_county(errors, school, equipment_type)
    if equipment_type is not None and not equipment_type.per_guard:
        errors.add(
            "equipment_type_id",
            _("This item is kept by the school, not issued to each guard."),
        )
    if (
        staff is None
        or staff.school_id != school.pk
        or not staff.is_active
        or staff.role not in SECURITY_POSTS
    ):
        # The same words whether the person works elsewhere or does not exist.
        errors.add("staff_id", _("Choose a member of this school's security staff."))
    count = errors.run(
        "quantity",
        _whole_number,
        quantity,
        low=1,
        high=MAX_ISSUE,
        message=_("Issue from 1 to 99 at a time."),
    )
    issued = errors.run(
        "issued_on",
        _date_not_future,
        issued_on if issued_on not in (None, "") else today,
        today,
        _("The date the items were issued is in the future."),
    )
    errors.raise_if_any()
    stock = _lock_stock(school.pk, equipment_type.pk)
    available = (stock.quantity if stock else 0) - _outstanding(stock)
    if count > available:
        raise ValidationError(
            {
                "quantity": [
                    _("Only %(count)s in stock and not issued.") % {"count": max(available, 0)}
                ]
            }
        )
    issue = EquipmentIssue.objects.create(
        equipment=stock,
        staff=staff,
        quantity=count,
        issued_on=issued,
        created_by=acting_user(actor),
    )
    audit_create(actor=actor, obj=issue)
    compliance.reevaluate_on_commit([school.pk])
    return issue


@transaction.atomic
def equipment_return(
    *, actor, issue: EquipmentIssue, returned_on=None, today: dt.date | None = None
) -> EquipmentIssue:
    """Record that issued items came back to the school's stock."""
    school_id = issue.equipment.school_id
    require(actor, Action.MANAGE_SECURITY, school_id)
    today = today or local_today()
    locked = EquipmentIssue.objects.select_for_update().get(pk=issue.pk)
    if locked.returned_on is not None:
        raise EquipmentStateRefused(_("These items have already been returned."))
    errors = v.FieldErrors()
    returned = errors.run(
        "returned_on",
        _date_not_future,
        returned_on if returned_on not in (None, "") else today,
        today,
        _("The return date is in the future."),
    )
    if returned is not None and returned < locked.issued_on:
        errors.add("returned_on", _("The return date is before the issue date."))
    errors.raise_if_any()
    before = snapshot(locked)
    locked.returned_on = returned
    locked.save(update_fields=["returned_on"])
    audit_update(actor=actor, obj=locked, before=before, school=school_id)
    compliance.reevaluate_on_commit([school_id])
    return locked


# ------------------------------------------------------------------ the county list


def _require_keeper_of(actor, region_id: int) -> None:
    if not any(r.pk == region_id for r in keeper_regions(actor)):
        raise PermissionDenied(
            _("Only the county's education or governance office keeps the equipment list.")
        )


def _reevaluate_county(region_id: int) -> None:
    transaction.on_commit(lambda: compliance.evaluate_region(region_id))


def _clean_type(errors: v.FieldErrors, given: dict, *, region_id: int, exclude_pk=None) -> dict:
    cleaned = {}
    if "name" in given:
        name = errors.run("name", v.clean_text, given["name"], max_length=50, required=True)
        cleaned["name"] = name
        if name:
            taken = (
                EquipmentType.objects.filter(region_id=region_id)
                .exclude(pk=exclude_pk)
                .values_list("name", flat=True)
            )
            if name.casefold() in {n.casefold() for n in taken}:
                errors.add("name", _("The list already has an item with this name."))
    if "min_quantity" in given:
        cleaned["min_quantity"] = errors.run(
            "min_quantity",
            _whole_number,
            given["min_quantity"],
            low=0,
            high=MAX_MIN_QUANTITY,
            message=_("Enter a minimum from 0 to 999."),
        )
    for flag in ("per_guard", "is_required"):
        if flag in given:
            cleaned[flag] = errors.run(flag, v.clean_required_bool, given[flag])
    return cleaned


def _new_key(region_id: int, key) -> str:
    taken = set(EquipmentType.objects.filter(region_id=region_id).values_list("key", flat=True))
    text = str(key or "").strip()
    if text:
        if not _KEY.match(text):
            raise ValidationError(
                {"key": [_("Use lower-case letters, digits, - and _ (at most 40).")]}
            )
        if text in taken:
            raise ValidationError({"key": [_("The list already has an item with this key.")]})
        return text
    n = len(taken) + 1
    while f"item-{n}" in taken:
        n += 1
    return f"item-{n}"


@transaction.atomic
def equipment_type_create(
    *, actor, region, name, min_quantity=1, per_guard=False, is_required=True, key=""
) -> EquipmentType:
    """Add an item at the end of the county's list."""
    _require_keeper_of(actor, region.pk)
    from huxiao.security.defaults import ensure_equipment_types

    items = ensure_equipment_types(region)
    errors = v.FieldErrors()
    cleaned = _clean_type(
        errors,
        {
            "name": name,
            "min_quantity": min_quantity,
            "per_guard": per_guard,
            "is_required": is_required,
        },
        region_id=region.pk,
    )
    try:
        new_key = _new_key(region.pk, key)
    except ValidationError as exc:
        for message in exc.message_dict["key"]:
            errors.add("key", message)
    errors.raise_if_any()
    item = EquipmentType.objects.create(
        region=region,
        key=new_key,
        order=max((i.order for i in items), default=-1) + 1,
        **cleaned,
    )
    audit_create(actor=actor, obj=item)
    _reevaluate_county(region.pk)
    return item


@transaction.atomic
def equipment_type_update(*, actor, equipment_type: EquipmentType, **changes) -> EquipmentType:
    """Rename an item, change its minimum, whether it is issued to each guard or required."""
    _require_keeper_of(actor, equipment_type.region_id)
    unknown = set(changes) - set(TYPE_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    locked = EquipmentType.objects.select_for_update().get(pk=equipment_type.pk)
    errors = v.FieldErrors()
    cleaned = _clean_type(errors, changes, region_id=locked.region_id, exclude_pk=locked.pk)
    errors.raise_if_any()
    before = snapshot(locked)
    for key, value in cleaned.items():
        setattr(locked, key, value)
    if snapshot(locked) != before:
        locked.save()
        audit_update(actor=actor, obj=locked, before=before)
        _reevaluate_county(locked.region_id)
    return locked


@transaction.atomic
def equipment_type_move(*, actor, equipment_type: EquipmentType, direction: str) -> None:
    """Move an item one place "up" or "down" the county's list (positions renumbered)."""
    _require_keeper_of(actor, equipment_type.region_id)
    if direction not in ("up", "down"):
        raise ValidationError({"direction": [_("Choose up or down.")]})
    items = list(
        EquipmentType.objects.select_for_update()
        .filter(region_id=equipment_type.region_id)
        .order_by("order", "id")
    )
    index = next((i for i, item in enumerate(items) if item.pk == equipment_type.pk), None)
    if index is None:
        return
    other = index - 1 if direction == "up" else index + 1
    if other < 0 or other >= len(items):
        return
    items[index], items[other] = items[other], items[index]
    for position, item in enumerate(items):
        if item.order != position:
            before = snapshot(item)
            item.order = position
            item.save(update_fields=["order"])
            audit_update(actor=actor, obj=item, before=before)
    _reevaluate_county(equipment_type.region_id)


@transaction.atomic
def equipment_type_remove(*, actor, equipment_type: EquipmentType) -> bool:
    """Delete an item no school holds (True); an item in use is kept and marked not
    required instead (False), so stock records stay. The last item of the list is refused
    (EquipmentStateRefused): a county with no item gets the shipped list again."""
    _require_keeper_of(actor, equipment_type.region_id)
    # The whole list is locked: two removals at once must not both see another item left.
    listed = list(
        EquipmentType.objects.select_for_update()
        .filter(region_id=equipment_type.region_id)
        .order_by("pk")
    )
    locked = next((item for item in listed if item.pk == equipment_type.pk), None)
    if locked is None:
        raise EquipmentType.DoesNotExist
    region_id = locked.region_id
    if SchoolEquipment.objects.filter(equipment_type=locked).exists():
        if locked.is_required:
            before = snapshot(locked)
            locked.is_required = False
            locked.save(update_fields=["is_required"])
            audit_update(actor=actor, obj=locked, before=before)
            _reevaluate_county(region_id)
        return False
    if len(listed) == 1:
        # An empty list would read as "never set up" and bring the shipped eight back.
        raise EquipmentStateRefused(
            _(
                "This is the last item of the county's list and cannot be deleted; "
                "mark it not required instead."
            )
        )
    audit_delete(actor=actor, obj=locked)
    locked.delete()
    _reevaluate_county(region_id)
    return True
