"""Writes of people records: `<entity>_<verb>(*, actor, ...)`, atomic and audited."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import (
    audit_create,
    audit_delete,
    audit_sensitive_read,
    audit_update,
    snapshot,
)
from huxiao.core.crypto import lookup_hash
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.people import validation as v
from huxiao.people.models import Certificate, Child, Guardian, SchoolClass, Staff

_UNSET = object()


def _school_must_be_school(school) -> None:
    if not school.is_school:
        raise ValidationError({"school_id": [_("This organization is not a school.")]})


# ---------------------------------------------------------------- classes


def _clean_class(errors: v.FieldErrors, *, school, name, grade, head_teacher, exclude_pk=None):
    cleaned = {}
    if name is not _UNSET:
        cleaned["name"] = errors.run("name", v.clean_name, name)
        if (
            cleaned["name"]
            and SchoolClass.objects.filter(school=school, name=cleaned["name"])
            .exclude(pk=exclude_pk)
            .exists()
        ):
            errors.add("name", _("A class with this name already exists at this school."))
    if grade is not _UNSET:
        cleaned["grade"] = v.clean_grade(grade)
    if head_teacher is not _UNSET:
        if head_teacher is not None and head_teacher.school_id != school.pk:
            errors.add("head_teacher_id", _("The head teacher must work at this school."))
        cleaned["head_teacher"] = head_teacher
    return cleaned


@transaction.atomic
def class_create(*, actor, school, name, grade="", head_teacher=None) -> SchoolClass:
    require(actor, Action.EDIT_ROSTER, school.pk)
    _school_must_be_school(school)
    errors = v.FieldErrors()
    cleaned = _clean_class(errors, school=school, name=name, grade=grade, head_teacher=head_teacher)
    errors.raise_if_any()
    school_class = SchoolClass.objects.create(school=school, **cleaned)
    audit_create(actor=actor, obj=school_class)
    return school_class


@transaction.atomic
def class_update(
    *, actor, school_class: SchoolClass, name=_UNSET, grade=_UNSET, head_teacher=_UNSET
) -> SchoolClass:
    require(actor, Action.EDIT_ROSTER, school_class.school_id)
    errors = v.FieldErrors()
    cleaned = _clean_class(
        errors,
        school=school_class.school,
        name=name,
        grade=grade,
        head_teacher=head_teacher,
        exclude_pk=school_class.pk,
    )
    errors.raise_if_any()
    before = snapshot(school_class)
    for key, value in cleaned.items():
        setattr(school_class, key, value)
    school_class.save()
    audit_update(actor=actor, obj=school_class, before=before)
    return school_class


@transaction.atomic
def class_delete(*, actor, school_class: SchoolClass) -> None:
    require(actor, Action.EDIT_ROSTER, school_class.school_id)
    if school_class.children.exists():
        raise ValidationError(
            {"class": [_("The class still has children; move or remove them first.")]}
        )
    audit_delete(actor=actor, obj=school_class)
    school_class.delete()


# ---------------------------------------------------------------- children


def _clean_child(errors, *, school, name, gender, birth_date, id_number, exclude_pk=None):
    cleaned = {}
    if name is not _UNSET:
        cleaned["name"] = errors.run("name", v.clean_name, name)
    if gender is not _UNSET:
        cleaned["gender"] = errors.run("gender", v.clean_gender, gender)
    number = None
    if id_number is not _UNSET:
        number = errors.run("id_number", v.clean_id_number, id_number, required=True)
        if number:
            duplicate = Child.objects.filter(school=school, id_number_hash=lookup_hash(number))
            if duplicate.exclude(pk=exclude_pk).exists():
                errors.add(
                    "id_number", _("A child with this resident ID number is already enrolled.")
                )
            cleaned["id_number"] = number
    if birth_date is not _UNSET or number:
        typed = None
        if birth_date is not _UNSET:
            typed = errors.run("birth_date", v.clean_date, birth_date)
        if number or typed:
            cleaned["birth_date"] = errors.run(
                "birth_date", v.clean_child_birth_date, typed, number or ""
            )
    return cleaned


def _apply(obj, cleaned: dict) -> None:
    for key, value in cleaned.items():
        if key == "id_number":
            obj.set_id_number(value)
        else:
            setattr(obj, key, value)


@transaction.atomic
def child_create(
    *, actor, school_class: SchoolClass, name, gender, id_number, birth_date=None
) -> Child:
    require(actor, Action.EDIT_ROSTER, school_class.school_id)
    errors = v.FieldErrors()
    cleaned = _clean_child(
        errors,
        school=school_class.school,
        name=name,
        gender=gender,
        birth_date=birth_date,
        id_number=id_number,
    )
    errors.raise_if_any()
    child = Child(school_id=school_class.school_id, school_class=school_class)
    _apply(child, cleaned)
    child.save()
    audit_create(actor=actor, obj=child)
    return child


@transaction.atomic
def child_update(
    *,
    actor,
    child: Child,
    school_class: SchoolClass | None = None,
    name=_UNSET,
    gender=_UNSET,
    birth_date=_UNSET,
    id_number=_UNSET,
    is_active=_UNSET,
) -> Child:
    require(actor, Action.EDIT_ROSTER, child.school_id)
    errors = v.FieldErrors()
    if id_number is not _UNSET and birth_date is _UNSET:
        birth_date = None
    cleaned = _clean_child(
        errors,
        school=child.school,
        name=name,
        gender=gender,
        birth_date=birth_date,
        id_number=id_number,
        exclude_pk=child.pk,
    )
    if (
        "birth_date" in cleaned
        and "id_number" not in cleaned
        and child.id_number_hash
        and cleaned["birth_date"] != child.birth_date
    ):
        # The stored ID number fixed the birth date; change the number to change the date.
        errors.add("birth_date", _("The birth date does not match the resident ID number."))
    if school_class is not None:
        if school_class.school_id != child.school_id:
            errors.add("class_id", _("The class must belong to the child's school."))
        cleaned["school_class"] = school_class
    if is_active is not _UNSET:
        cleaned["is_active"] = errors.run("is_active", v.clean_required_bool, is_active)
    errors.raise_if_any()
    before = snapshot(child)
    _apply(child, cleaned)
    child.save()
    audit_update(actor=actor, obj=child, before=before)
    return child


@transaction.atomic
def child_delete(*, actor, child: Child) -> None:
    require(actor, Action.EDIT_ROSTER, child.school_id)
    audit_delete(actor=actor, obj=child)
    for guardian in child.guardians.all():
        audit_delete(actor=actor, obj=guardian, school=child.school_id)
    try:
        with transaction.atomic():
            child.delete()
    except ProtectedError as exc:
        # Pick-up releases and bus boardings are the record of who had the child when:
        # they outlive the roster entry, so the child is marked as no longer enrolled.
        raise ValidationError(
            {
                "child": [
                    _(
                        "This child has pick-up or school-bus records and cannot be removed; "
                        "mark the child as no longer enrolled instead."
                    )
                ]
            }
        ) from exc


def _reveal(actor, obj, school_id: int, purpose: str) -> str:
    require(actor, Action.VIEW_ID_NUMBER, school_id)
    with transaction.atomic():
        # The read is logged before the number leaves the service.
        audit_sensitive_read(actor=actor, obj=obj, field="id_number", purpose=purpose)
        return obj.decrypt_id_number()


def child_reveal_id_number(*, actor, child: Child, purpose: str = "") -> str:
    return _reveal(actor, child, child.school_id, purpose)


def guardian_reveal_id_number(*, actor, guardian: Guardian, purpose: str = "") -> str:
    return _reveal(actor, guardian, guardian.child.school_id, purpose)


def staff_reveal_id_number(*, actor, staff: Staff, purpose: str = "") -> str:
    return _reveal(actor, staff, staff.school_id, purpose)


# ---------------------------------------------------------------- guardians


def _clean_guardian(errors, *, name, relationship, phone, can_pick_up, is_primary, id_number):
    cleaned = {}
    if name is not _UNSET:
        cleaned["name"] = errors.run("name", v.clean_name, name)
    if relationship is not _UNSET:
        cleaned["relationship"] = errors.run("relationship", v.clean_relationship, relationship)
    if phone is not _UNSET:
        cleaned["phone"] = errors.run("phone", v.clean_phone, phone)
    if can_pick_up is not _UNSET:
        cleaned["can_pick_up"] = errors.run("can_pick_up", v.clean_required_bool, can_pick_up)
    if is_primary is not _UNSET:
        cleaned["is_primary"] = errors.run("is_primary", v.clean_required_bool, is_primary)
    if id_number is not _UNSET:
        cleaned["id_number"] = errors.run("id_number", v.clean_id_number, id_number, required=False)
    return cleaned


@transaction.atomic
def guardian_create(
    *,
    actor,
    child: Child,
    name,
    relationship,
    phone,
    can_pick_up=True,
    is_primary=False,
    id_number="",
) -> Guardian:
    require(actor, Action.EDIT_ROSTER, child.school_id)
    errors = v.FieldErrors()
    cleaned = _clean_guardian(
        errors,
        name=name,
        relationship=relationship,
        phone=phone,
        can_pick_up=can_pick_up,
        is_primary=is_primary,
        id_number=id_number,
    )
    errors.raise_if_any()
    guardian = Guardian(child=child)
    _apply(guardian, cleaned)
    guardian.save()
    audit_create(actor=actor, obj=guardian, school=child.school_id)
    return guardian


@transaction.atomic
def guardian_update(
    *,
    actor,
    guardian: Guardian,
    name=_UNSET,
    relationship=_UNSET,
    phone=_UNSET,
    can_pick_up=_UNSET,
    is_primary=_UNSET,
    id_number=_UNSET,
) -> Guardian:
    school_id = guardian.child.school_id
    require(actor, Action.EDIT_ROSTER, school_id)
    errors = v.FieldErrors()
    cleaned = _clean_guardian(
        errors,
        name=name,
        relationship=relationship,
        phone=phone,
        can_pick_up=can_pick_up,
        is_primary=is_primary,
        id_number=id_number,
    )
    errors.raise_if_any()
    before = snapshot(guardian)
    _apply(guardian, cleaned)
    guardian.save()
    audit_update(actor=actor, obj=guardian, before=before, school=school_id)
    return guardian


@transaction.atomic
def guardian_delete(*, actor, guardian: Guardian) -> None:
    school_id = guardian.child.school_id
    require(actor, Action.EDIT_ROSTER, school_id)
    audit_delete(actor=actor, obj=guardian, school=school_id)
    guardian.delete()


# ---------------------------------------------------------------- staff


def _clean_staff(errors, *, name, role, phone, background_check, background_checked_on, id_number):
    cleaned = {}
    if name is not _UNSET:
        cleaned["name"] = errors.run("name", v.clean_name, name)
    if role is not _UNSET:
        cleaned["role"] = errors.run("role", v.clean_staff_role, role)
    if phone is not _UNSET:
        cleaned["phone"] = errors.run("phone", v.clean_phone, phone, required=False)
    if background_check is not _UNSET:
        cleaned["background_check"] = errors.run(
            "background_check", v.clean_background_check, background_check
        )
    if background_checked_on is not _UNSET:
        cleaned["background_checked_on"] = errors.run(
            "background_checked_on", v.clean_date, background_checked_on
        )
    if id_number is not _UNSET:
        cleaned["id_number"] = errors.run("id_number", v.clean_id_number, id_number, required=False)
    return cleaned


def _reevaluate_security(school_ids) -> None:
    """The schools' security compliance counts their guards: evaluate it again after commit
    (imported here: the security app imports this module)."""
    from huxiao.security.compliance import reevaluate_on_commit

    reevaluate_on_commit(school_ids)


@transaction.atomic
def staff_create(
    *,
    actor,
    school,
    name,
    role,
    phone="",
    background_check="",
    background_checked_on=None,
    id_number="",
    user=None,
) -> Staff:
    require(actor, Action.EDIT_STAFF, school.pk)
    _school_must_be_school(school)
    errors = v.FieldErrors()
    cleaned = _clean_staff(
        errors,
        name=name,
        role=role,
        phone=phone,
        background_check=background_check,
        background_checked_on=background_checked_on,
        id_number=id_number,
    )
    errors.raise_if_any()
    staff = Staff(school=school, user=user)
    _apply(staff, cleaned)
    staff.save()
    audit_create(actor=actor, obj=staff)
    _reevaluate_security([school.pk])
    return staff


@transaction.atomic
def staff_update(
    *,
    actor,
    staff: Staff,
    name=_UNSET,
    role=_UNSET,
    phone=_UNSET,
    background_check=_UNSET,
    background_checked_on=_UNSET,
    id_number=_UNSET,
    is_active=_UNSET,
) -> Staff:
    require(actor, Action.EDIT_STAFF, staff.school_id)
    errors = v.FieldErrors()
    cleaned = _clean_staff(
        errors,
        name=name,
        role=role,
        phone=phone,
        background_check=background_check,
        background_checked_on=background_checked_on,
        id_number=id_number,
    )
    if is_active is not _UNSET:
        cleaned["is_active"] = errors.run("is_active", v.clean_required_bool, is_active)
    errors.raise_if_any()
    before = snapshot(staff)
    _apply(staff, cleaned)
    staff.save()
    audit_update(actor=actor, obj=staff, before=before)
    _reevaluate_security([staff.school_id])
    return staff


@transaction.atomic
def staff_delete(*, actor, staff: Staff) -> None:
    require(actor, Action.EDIT_STAFF, staff.school_id)
    audit_delete(actor=actor, obj=staff)
    for certificate in staff.certificates.all():
        audit_delete(actor=actor, obj=certificate, school=staff.school_id)
    try:
        with transaction.atomic():
            staff.delete()
    except ProtectedError as exc:
        raise ValidationError({"staff": [_("This staff member is still referenced.")]}) from exc
    _reevaluate_security([staff.school_id])


@transaction.atomic
def certificate_add(
    *, actor, staff: Staff, kind, number="", issued_on=None, expires_on=None
) -> Certificate:
    require(actor, Action.EDIT_STAFF, staff.school_id)
    errors = v.FieldErrors()
    kind_clean = errors.run("kind", v.clean_text, kind, max_length=100, required=True)
    number_clean = errors.run("number", v.clean_text, number, max_length=64)
    issued = errors.run("issued_on", v.clean_date, issued_on)
    expires = errors.run("expires_on", v.clean_date, expires_on)
    if issued and expires and expires < issued:
        errors.add("expires_on", _("The expiry date is before the issue date."))
    errors.raise_if_any()
    certificate = Certificate.objects.create(
        staff=staff,
        kind=kind_clean,
        number=number_clean,
        issued_on=issued,
        expires_on=expires,
    )
    audit_create(actor=actor, obj=certificate, school=staff.school_id)
    return certificate


@transaction.atomic
def certificate_remove(*, actor, certificate: Certificate) -> None:
    require(actor, Action.EDIT_STAFF, certificate.staff.school_id)
    audit_delete(actor=actor, obj=certificate, school=certificate.staff.school_id)
    certificate.delete()
