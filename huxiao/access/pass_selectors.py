"""Reads of gate passes and their scans (issue 5, ADR 0024).

Passes are read by those who issue them (`manage_gate`): the printable page carries a
credential. The scan log is read by the same people and by the gate (`register_visitor`).
Out of scope is "not found"."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.access.choices import PassKind
from huxiao.access.models import GatePass, PassScan
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids

# The list's filters (PassState values).
PASS_STATES = ("valid", "expired", "holder_left", "revoked")


def require_any(actor, action: str) -> frozenset[int]:
    """The schools where `actor` may `action`; 403 when there is none at all, so that a 404
    below only ever means "not in your scope"."""
    ids = visible_school_ids(actor, action)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    return ids


def pass_list(
    *, actor, school_id: int | None = None, kind: str = "", state: str = "", now=None
) -> QuerySet[GatePass]:
    qs = GatePass.objects.visible_to(actor, Action.MANAGE_GATE).select_related("school", "staff")
    if school_id:
        qs = qs.filter(school_id=school_id)
    if kind:
        qs = qs.filter(kind=kind)
    now = now or timezone.now()
    # As GatePass.state_at: a pass stops with its holder's staff record (left or deleted).
    left = Q(staff__isnull=False, staff__is_active=False) | Q(
        kind=PassKind.STAFF, staff__isnull=True
    )
    if state == "valid":
        qs = (
            qs.filter(revoked_at__isnull=True, valid_from__lte=now, valid_until__gte=now)
            .exclude(left)
            .exclude(kind=PassKind.ONE_TIME, used_at__isnull=False)
        )
    elif state == "expired":
        qs = qs.filter(revoked_at__isnull=True, valid_until__lt=now).exclude(left)
    elif state == "holder_left":
        qs = qs.filter(left, revoked_at__isnull=True)
    elif state == "revoked":
        qs = qs.filter(revoked_at__isnull=False)
    return qs


def pass_get(*, actor, pass_id: int) -> GatePass:
    return get_object_or_404(
        GatePass.objects.visible_to(actor, Action.MANAGE_GATE).select_related("school", "staff"),
        pk=pass_id,
    )


def scan_list(*, actor, school_id: int | None = None, pass_id: int | None = None):
    ids = visible_school_ids(actor, Action.REGISTER_VISITOR) | visible_school_ids(
        actor, Action.MANAGE_GATE
    )
    qs = PassScan.objects.filter(school_id__in=ids).select_related("gate_pass")
    if school_id:
        qs = qs.filter(school_id=school_id)
    if pass_id:
        qs = qs.filter(gate_pass_id=pass_id)
    return qs
