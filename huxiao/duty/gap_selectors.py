"""Reads of duty gaps (ADR 0029 "Gaps"): the school's people, its police station, the
town's offices and the county read them (VIEW); out of scope is 404."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import Http404

from huxiao.core.roles import Action
from huxiao.duty.duty_selectors import _id
from huxiao.duty.models import DutyGap


def gap_list(*, actor, school_id=None, state: str = ""):
    """Gaps in scope, newest first; `state` "open" or "resolved" narrows them."""
    qs = DutyGap.objects.visible_to(actor, Action.VIEW).select_related(
        "school", "shift", "resolved_by"
    )
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    if state == "open":
        qs = qs.filter(resolved_at__isnull=True)
    elif state == "resolved":
        qs = qs.filter(resolved_at__isnull=False)
    return qs.order_by("-starts_at", "-id")


def gap_get(*, actor, gap_id) -> DutyGap:
    gap = (
        DutyGap.objects.visible_to(actor, Action.VIEW)
        .filter(pk=_id(gap_id))
        .select_related("school", "shift", "resolved_by")
        .first()
    )
    if gap is None:
        raise Http404
    return gap


def open_gap_counts(school_ids) -> dict[int, int]:
    """Open gaps per school, one grouped query."""
    return dict(
        DutyGap.objects.filter(school_id__in=list(school_ids))
        .values("school_id")
        .annotate(n=Count("pk", filter=Q(resolved_at__isnull=True)))
        .values_list("school_id", "n")
        .order_by()
    )
