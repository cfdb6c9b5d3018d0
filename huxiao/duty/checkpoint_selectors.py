"""Reads of patrol checkpoints, always scoped (issue 7 item 7; ADR 0029 "Rounds").

The checkpoint pages and their plates are for those who plan duty (`PLAN_DUTY`): the codes
they show are the secret a plate carries. The names of a school's checkpoints are also read
by anyone who sees the school (`VIEW`, through the API and the rounds page), never with
their codes. A role that plans duty nowhere gets 403 on the pages; a school or checkpoint
out of scope is 404, like one that does not exist.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import Action
from huxiao.core.scoping import can, visible_school_ids
from huxiao.duty.models import Checkpoint
from huxiao.orgs.models import Organization

MAX_ID = 2**63 - 1


def check_id(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < number <= MAX_ID:
        raise Http404
    return number


def require_any(actor, action: str) -> frozenset[int]:
    """403 when the role allows `action` at no school (so a 404 below means "not yours")."""
    ids = visible_school_ids(actor, action)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    return ids


def school_get(*, actor, school_id, action: str = Action.VIEW) -> Organization:
    """A school on which the actor may perform `action`; 404 otherwise."""
    school_id = check_id(school_id)
    school = (
        Organization.objects.schools()
        .filter(pk=school_id, pk__in=visible_school_ids(actor, action))
        .select_related("town")
        .first()
    )
    if school is None:
        raise Http404
    return school


def may_plan(actor, school_id: int) -> bool:
    return can(actor, Action.PLAN_DUTY, school_id)


def checkpoint_list(
    *, actor, school_id: int | None = None, include_retired: bool = False, action=Action.VIEW
) -> QuerySet[Checkpoint]:
    """The checkpoints of the schools the actor may `action` on, in walking order."""
    qs = Checkpoint.objects.visible_to(actor, action).select_related("school")
    if not include_retired:
        qs = qs.filter(is_active=True)
    if school_id:
        qs = qs.filter(school_id=school_id)
    return qs.order_by("school__name", "school_id", "-is_active", "order", "id")


def checkpoint_get(*, actor, checkpoint_id, action=Action.PLAN_DUTY) -> Checkpoint:
    checkpoint = (
        checkpoint_list(actor=actor, include_retired=True, action=action)
        .filter(pk=check_id(checkpoint_id))
        .first()
    )
    if checkpoint is None:
        raise Http404
    return checkpoint
