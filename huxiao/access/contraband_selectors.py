"""Reads of contraband interceptions (issue 5, ADR 0024).

Readers: the gate and its managers of the school (`register_visitor`, `manage_gate`) and
the police of the school's station or post (they are notified of each interception and
follow it up). Education and governance offices are not readers: an interception names a
person. Out of scope is "not found"."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from huxiao.access.models import Interception
from huxiao.core.roles import Action
from huxiao.core.scoping import is_police, visible_school_ids


def reader_school_ids(actor) -> frozenset[int]:
    ids = visible_school_ids(actor, Action.REGISTER_VISITOR) | visible_school_ids(
        actor, Action.MANAGE_GATE
    )
    if is_police(actor):
        ids |= visible_school_ids(actor, Action.HANDLE_WARNING)
    return ids


def interception_list(
    *, actor, school_id: int | None = None, category: str = ""
) -> QuerySet[Interception]:
    qs = Interception.objects.filter(school_id__in=reader_school_ids(actor)).select_related(
        "school", "visit"
    )
    if school_id:
        qs = qs.filter(school_id=school_id)
    if category:
        qs = qs.filter(category=category)
    return qs.defer("photo_encrypted")


def interception_get(*, actor, interception_id: int) -> Interception:
    return get_object_or_404(
        Interception.objects.filter(school_id__in=reader_school_ids(actor)).select_related(
            "school", "visit"
        ),
        pk=interception_id,
    )
