"""Reads of people records, always scoped."""

from __future__ import annotations

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from huxiao.core.roles import Action
from huxiao.people.models import Certificate, Child, Guardian, SchoolClass, Staff


def class_list(*, actor, school_id: int | None = None) -> QuerySet[SchoolClass]:
    qs = SchoolClass.objects.visible_to(actor, Action.VIEW).select_related("head_teacher")
    if school_id:
        qs = qs.filter(school_id=school_id)
    return qs.annotate(children_count=Count("children"))


def class_get(*, actor, class_id: int) -> SchoolClass:
    return get_object_or_404(
        SchoolClass.objects.visible_to(actor, Action.VIEW).select_related("school"), pk=class_id
    )


def child_list(
    *, actor, school_id: int | None = None, class_id: int | None = None, search: str = ""
) -> QuerySet[Child]:
    qs = Child.objects.visible_to(actor, Action.VIEW).select_related("school_class")
    if school_id:
        qs = qs.filter(school_id=school_id)
    if class_id:
        qs = qs.filter(school_class_id=class_id)
    if search:
        qs = qs.filter(name__contains=search.strip())
    return qs.defer("id_number_encrypted", "id_number_hash")


def child_get(*, actor, child_id: int) -> Child:
    return get_object_or_404(
        Child.objects.visible_to(actor, Action.VIEW).select_related("school", "school_class"),
        pk=child_id,
    )


def guardian_list(*, actor, child_id: int | None = None) -> QuerySet[Guardian]:
    qs = Guardian.objects.visible_to(actor, Action.VIEW).select_related("child")
    if child_id:
        qs = qs.filter(child_id=child_id)
    return qs.defer("id_number_encrypted", "id_number_hash")


def guardian_get(*, actor, guardian_id: int) -> Guardian:
    return get_object_or_404(
        Guardian.objects.visible_to(actor, Action.VIEW).select_related("child"), pk=guardian_id
    )


def staff_list(*, actor, school_id: int | None = None, role: str = "") -> QuerySet[Staff]:
    qs = Staff.objects.visible_to(actor, Action.VIEW)
    if school_id:
        qs = qs.filter(school_id=school_id)
    if role:
        qs = qs.filter(role=role)
    return qs.defer("id_number_encrypted", "id_number_hash")


def staff_get(*, actor, staff_id: int) -> Staff:
    return get_object_or_404(
        Staff.objects.visible_to(actor, Action.VIEW).select_related("school"), pk=staff_id
    )


def certificate_list(*, actor, staff_id: int) -> QuerySet[Certificate]:
    return Certificate.objects.visible_to(actor, Action.VIEW).filter(staff_id=staff_id)
