"""Reads of warnings both ways, always scoped (ADR 0019).

- A warning sign is visible to the reporting school's staff (REPORT_WARNING) and to the
  police of its jurisdiction (HANDLE_WARNING); nobody else, not even offices.
- An early warning is visible to the police who may act on one of its schools, and to a
  recipient school's receivers (RECEIVE_WARNING); a school sees only its own receipt row.
Anything else answers 404 like a record that does not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.intel.models import (
    EarlyWarning,
    EarlyWarningRecipient,
    WarningSign,
    WarningSignAttachment,
)


def sign_school_ids(actor) -> frozenset[int]:
    return visible_school_ids(actor, Action.REPORT_WARNING) | visible_school_ids(
        actor, Action.HANDLE_WARNING
    )


def require_sign_access(actor) -> frozenset[int]:
    ids = sign_school_ids(actor)
    if not ids:
        raise PermissionDenied
    return ids


def _signs(actor):
    return WarningSign.objects.filter(school_id__in=sign_school_ids(actor))


def warning_sign_list(*, actor, status: str = "", school_id: int | None = None):
    qs = (
        _signs(actor)
        .select_related("school", "reported_by")
        .annotate(attachment_count=Count("attachments"))
    )
    if status:
        qs = qs.filter(status=status)
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    return qs


def warning_sign_get(*, actor, sign_id: int) -> WarningSign:
    return get_object_or_404(
        _signs(actor)
        .select_related("school", "reported_by", "handled_by")
        .prefetch_related("attachments", "events"),
        pk=sign_id,
    )


def attachment_get(*, actor, sign_id: int, attachment_id: int) -> WarningSignAttachment:
    sign = warning_sign_get(actor=actor, sign_id=sign_id)
    return get_object_or_404(WarningSignAttachment, sign=sign, pk=attachment_id)


# ------------------------------------------------------------------ early warnings


def early_school_ids(actor) -> frozenset[int]:
    return visible_school_ids(actor, Action.HANDLE_WARNING) | visible_school_ids(
        actor, Action.RECEIVE_WARNING
    )


def require_early_access(actor) -> frozenset[int]:
    ids = early_school_ids(actor)
    if not ids:
        raise PermissionDenied
    return ids


@dataclass
class EarlyWarningView:
    warning: EarlyWarning
    recipients: list[EarlyWarningRecipient]  # only those the actor may see
    is_issuer_side: bool

    @property
    def acknowledged(self) -> int:
        return sum(1 for r in self.recipients if r.acknowledged_at)

    @property
    def pending(self) -> list[EarlyWarningRecipient]:
        return [r for r in self.recipients if r.acknowledged_at is None]


def _visible_recipients(actor):
    return EarlyWarningRecipient.objects.filter(school_id__in=early_school_ids(actor))


def early_warning_queryset(
    *, actor, active_only: bool = False, now: dt.datetime | None = None
) -> QuerySet[EarlyWarning]:
    """The warnings the actor may see, newest first, each carrying the receipt rows the
    actor may see (police: its schools; a school: its own row) as `visible_recipients`.
    A queryset, so that a page is sliced and counted in the database."""
    ids = early_school_ids(actor)
    qs = (
        EarlyWarning.objects.filter(
            # A subquery rather than a join + DISTINCT: count() and slicing stay simple.
            pk__in=EarlyWarningRecipient.objects.filter(school_id__in=ids).values("warning_id")
        )
        .select_related("issuer", "issued_by")
        .prefetch_related(
            Prefetch(
                "recipients",
                queryset=_visible_recipients(actor).select_related("school", "acknowledged_by"),
                to_attr="visible_recipients",
            )
        )
        .order_by("-issued_at", "-id")
    )
    if active_only:
        now = now or timezone.now()
        qs = qs.filter(valid_from__lte=now, valid_until__gt=now)
    return qs


def early_warning_views(actor, warnings) -> list[EarlyWarningView]:
    """Wrap warnings of `early_warning_queryset` (e.g. one page of it) for display."""
    police_ids = visible_school_ids(actor, Action.HANDLE_WARNING)
    return [
        EarlyWarningView(
            warning=w,
            recipients=w.visible_recipients,
            is_issuer_side=any(r.school_id in police_ids for r in w.visible_recipients),
        )
        for w in warnings
    ]


def early_warning_list(
    *,
    actor,
    active_only: bool = False,
    now: dt.datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[EarlyWarningView]:
    """One page of the warnings the actor may see (sliced in the database)."""
    qs = early_warning_queryset(actor=actor, active_only=active_only, now=now)
    return early_warning_views(actor, qs[offset : offset + limit])


def early_warning_get(*, actor, warning_id: int) -> EarlyWarningView:
    ids = early_school_ids(actor)
    warning = get_object_or_404(
        EarlyWarning.objects.filter(recipients__school_id__in=ids)
        .distinct()
        .select_related("issuer", "issued_by"),
        pk=warning_id,
    )
    recipients = list(
        _visible_recipients(actor)
        .filter(warning=warning)
        .select_related("school", "acknowledged_by")
    )
    police_ids = visible_school_ids(actor, Action.HANDLE_WARNING)
    return EarlyWarningView(
        warning=warning,
        recipients=recipients,
        is_issuer_side=any(r.school_id in police_ids for r in recipients),
    )


def recipient_for_ack(*, actor, warning_id: int, school_id: int | None = None):
    """The receipt row the actor acknowledges: of a school they receive warnings for.
    A warning the actor cannot see is 404; one they see but whose role acknowledges
    nowhere (police) 403; another school's row 404."""
    if not EarlyWarningRecipient.objects.filter(
        warning_id=warning_id, school_id__in=early_school_ids(actor)
    ).exists():
        raise Http404
    ids = visible_school_ids(actor, Action.RECEIVE_WARNING)
    if not ids:
        raise PermissionDenied
    qs = EarlyWarningRecipient.objects.filter(warning_id=warning_id, school_id__in=ids)
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    row = qs.select_related("school", "warning").order_by("acknowledged_at", "pk").first()
    if row is None:
        raise Http404
    return row


def active_warnings_for_school_user(actor, *, now: dt.datetime | None = None):
    """Early warnings in force for the schools where the actor receives them (gate page)."""
    ids = visible_school_ids(actor, Action.RECEIVE_WARNING)
    if not ids:
        return []
    now = now or timezone.now()
    return list(
        EarlyWarningRecipient.objects.filter(
            Q(school_id__in=ids),
            warning__valid_from__lte=now,
            warning__valid_until__gt=now,
        )
        .select_related("warning", "warning__issuer", "school")
        .order_by("-warning__issued_at")[:20]
    )


# ------------------------------------------------------------------ counts (dashboards)


@dataclass(frozen=True)
class WarningCounts:
    """Warnings both ways at a set of schools, counts only (the command dashboard)."""

    early_issued: int  # early warnings issued in the period to at least one of the schools
    early_active: int  # early warnings in force now at at least one of the schools
    receipts: int  # receipt rows of the period's warnings at the schools
    acknowledged: int  # of those, acknowledged
    signs_reported: int  # warning signs the schools reported in the period
    signs_open: int  # warning signs not closed yet (any period)


def warning_counts(
    *, school_ids, since: dt.datetime, until: dt.datetime, now: dt.datetime | None = None
) -> WarningCounts:
    """Counts of early warnings and warning signs at `school_ids`, whose scope the caller
    has checked (the dashboard: counts only, never a warning's text, a sign's content or a
    person). Two aggregate queries whatever the number of schools."""
    from huxiao.intel.warnings_choices import CLOSED_SIGN_STATUSES

    now = now or timezone.now()
    ids = list(school_ids)
    if not ids:
        return WarningCounts(0, 0, 0, 0, 0, 0)
    issued = Q(warning__issued_at__gte=since, warning__issued_at__lt=until)
    active = Q(warning__valid_from__lte=now, warning__valid_until__gt=now)
    receipts = EarlyWarningRecipient.objects.filter(school_id__in=ids).aggregate(
        early_issued=Count("warning_id", filter=issued, distinct=True),
        early_active=Count("warning_id", filter=active, distinct=True),
        receipts=Count("pk", filter=issued),
        acknowledged=Count("pk", filter=issued & Q(acknowledged_at__isnull=False)),
    )
    signs = WarningSign.objects.filter(school_id__in=ids).aggregate(
        signs_reported=Count("pk", filter=Q(reported_at__gte=since, reported_at__lt=until)),
        signs_open=Count("pk", filter=~Q(status__in=CLOSED_SIGN_STATUSES)),
    )
    return WarningCounts(**receipts, **signs)
