"""Reads of vehicle movements (issue 5, ADR 0024): the gate (`register_visitor`) and the
gate's managers (`manage_gate`) of the school. Out of scope is "not found"."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from huxiao.access.models import VehicleMovement
from huxiao.access.plates import normalise_plate
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids


def reader_school_ids(actor) -> frozenset[int]:
    return visible_school_ids(actor, Action.REGISTER_VISITOR) | visible_school_ids(
        actor, Action.MANAGE_GATE
    )


def movement_list(
    *, actor, school_id: int | None = None, inside: bool | None = None, plate: str = ""
) -> QuerySet[VehicleMovement]:
    qs = VehicleMovement.objects.filter(school_id__in=reader_school_ids(actor)).select_related(
        "school"
    )
    if school_id:
        qs = qs.filter(school_id=school_id)
    if inside is True:
        qs = qs.filter(exited_at__isnull=True)
    elif inside is False:
        qs = qs.filter(exited_at__isnull=False)
    if plate:
        qs = qs.filter(plate__contains=normalise_plate(plate))
    return qs


def movement_get(*, actor, movement_id: int) -> VehicleMovement:
    return get_object_or_404(
        VehicleMovement.objects.filter(school_id__in=reader_school_ids(actor)).select_related(
            "school"
        ),
        pk=movement_id,
    )
