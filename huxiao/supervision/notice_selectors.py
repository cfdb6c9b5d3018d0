"""Reads of notices and accountability records (ADR 0027, "Notices and accountability").

Notices are not owned by one school: a notice is visible to its issuing office (drafts too)
and, once published, to the members of each organization it was published to
(`notice_services.notice_visible_q`). Accountability records are visible to the governance
offices whose scope covers the subject, and read-only to the subject school's principal.
Out of scope answers like "does not exist" (404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils.translation import gettext as _

from huxiao.core.roles import Role
from huxiao.core.scoping import memberships_of, school_filter_for_org
from huxiao.orgs.models import Organization
from huxiao.supervision import notice_services as services
from huxiao.supervision.choices import NoticeKind, NoticeStatus
from huxiao.supervision.models import (
    Accountability,
    AssessmentResult,
    AssessmentRun,
    Notice,
    NoticeReceipt,
)

BOX_RECEIVED = "received"
BOX_ISSUED = "issued"


# ------------------------------------------------------------------ notices


def require_notice_reader(actor) -> None:
    """Anyone who belongs to an organization may have notices; nobody else (403)."""
    if getattr(actor, "is_superuser", False):
        return
    if not memberships_of(actor):
        raise PermissionDenied


def require_issuer(actor) -> list[Organization]:
    offices = services.issuing_offices(actor)
    if not offices:
        raise PermissionDenied
    return offices


@dataclass
class NoticeFilters:
    box: str = ""
    kind: str = ""
    status: str = ""


def notice_list(*, actor, filters: NoticeFilters | None = None):
    """Notices the actor may see, newest first: all of them, or only `received` —
    published to one of their organizations — or `issued` — of their offices, drafts
    included."""
    filters = filters or NoticeFilters()
    qs = Notice.objects.filter(services.notice_visible_q(actor)).select_related("issuer")
    own = {m.organization_id for m in memberships_of(actor)}
    if filters.box == BOX_RECEIVED:
        qs = qs.filter(
            status=NoticeStatus.PUBLISHED,
            pk__in=NoticeReceipt.objects.filter(organization_id__in=own).values("notice_id"),
        )
    elif filters.box == BOX_ISSUED:
        qs = qs.filter(issuer_id__in=[o.pk for o in services.issuing_offices(actor)])
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs.annotate(
        recipient_count=Count("receipts", distinct=True),
        read_count=Count("receipts", filter=Q(receipts__read_at__isnull=False), distinct=True),
        # Receipts of the actor's own organizations not yet read: the "unread" badge.
        unread_here=Count(
            "receipts",
            filter=Q(receipts__organization_id__in=own, receipts__read_at__isnull=True),
            distinct=True,
        ),
    ).order_by("-published_at", "-created_at", "-id")


def notice_get(*, actor, notice_id: int) -> Notice:
    notice = (
        Notice.objects.filter(services.notice_visible_q(actor), pk=notice_id)
        .select_related("issuer", "run__scheme", "created_by", "published_by", "resolved_by")
        .prefetch_related(
            Prefetch("subjects", queryset=Organization.objects.order_by("kind", "name", "pk")),
            Prefetch(
                "receipts",
                queryset=NoticeReceipt.objects.select_related("organization", "read_by").order_by(
                    "organization__kind", "organization__name", "pk"
                ),
            ),
        )
        .first()
    )
    if notice is None:
        raise Http404
    return notice


def published_between(*, issuer_ids, school_ids, since: dt.datetime, until: dt.datetime):
    """Notices published in [since, until) by one of the offices `issuer_ids` or about one
    of the schools `school_ids`, oldest first, with their issuer and subjects (the monthly
    report of a town or the county, ADR 0033: a published notice is a circular, and the
    caller has decided who reads the report)."""
    about = Notice.subjects.through.objects.filter(organization_id__in=list(school_ids)).values(
        "notice_id"
    )
    return (
        Notice.objects.filter(
            status=NoticeStatus.PUBLISHED, published_at__gte=since, published_at__lt=until
        )
        .filter(Q(issuer_id__in=list(issuer_ids)) | Q(pk__in=about))
        .select_related("issuer")
        .prefetch_related(
            Prefetch("subjects", queryset=Organization.objects.order_by("kind", "name", "pk"))
        )
        .order_by("published_at", "id")
    )


def own_receipts(actor, notice: Notice) -> list[NoticeReceipt]:
    """The notice's receipts of the actor's organizations (prefetched)."""
    own = {m.organization_id for m in memberships_of(actor)}
    return [r for r in notice.receipts.all() if r.organization_id in own]


def days_left(notice: Notice, today: dt.date | None = None) -> int | None:
    """Days until a criticism's date to put things right (negative: overdue)."""
    if notice.kind != NoticeKind.CRITICISM or notice.improve_by is None:
        return None
    return (notice.improve_by - (today or services.local_today())).days


def is_overdue(notice: Notice, today: dt.date | None = None) -> bool:
    left = days_left(notice, today)
    return (
        left is not None
        and left < 0
        and notice.status == NoticeStatus.PUBLISHED
        and notice.resolved_at is None
    )


# ------------------------------------------------------------------ prefill from a ranking


def run_prefill(*, office: Organization, run_id: int, kind: str, n: int) -> dict:
    """A draft commending the top `n` (vetoed schools left out) or criticising the bottom
    `n` of a published assessment, among the schools the office supervises; 404 when the
    run is not one of the office's."""
    run = services.runs_for(office).filter(pk=run_id).first()
    if run is None:
        raise Http404
    n = max(1, min(int(n), 50))
    schools = Organization.objects.schools().filter(school_filter_for_org(office))
    results = AssessmentResult.objects.filter(
        run=run, school_id__in=schools.values("pk"), rank__isnull=False
    ).select_related("school")
    if kind == NoticeKind.COMMENDATION:
        chosen = list(results.filter(vetoed=False).order_by("rank", "school__name")[:n])
    else:
        chosen = list(results.order_by("-rank", "school__name")[:n])
        chosen.sort(key=lambda r: (r.rank, r.school.name))
    period = _period(run)
    if kind == NoticeKind.COMMENDATION:
        title = _("Commendation of the best schools in the %(scheme)s assessment, %(period)s")
        opening = _(
            "In the %(scheme)s assessment for %(period)s the following schools did best. "
            "They are hereby commended:"
        )
    else:
        title = _(
            "Public criticism of the weakest schools in the %(scheme)s assessment, %(period)s"
        )
        opening = _(
            "In the %(scheme)s assessment for %(period)s the following schools came last. "
            "They are publicly criticised and must put things right by the date below:"
        )
    params = {"scheme": run.scheme.name, "period": period}
    lines = [str(opening) % params]
    for result in chosen:
        lines.append(
            _("No. %(rank)s %(school)s, %(score)s points")
            % {
                "rank": result.rank,
                "school": result.school.name,
                "score": result.score if result.score is not None else "—",
            }
        )
    return {
        "kind": kind,
        "run": run.pk,
        "subjects": [r.school_id for r in chosen],
        "title": (str(title) % params)[:200],
        "body": "\n".join(lines),
    }


def _period(run: AssessmentRun) -> str:
    return f"{run.period_start.isoformat()} – {run.period_end.isoformat()}"


# ------------------------------------------------------------------ accountability


def require_accountability_reader(actor) -> None:
    """Governance offices (HOLD_ACCOUNTABLE) and school principals; others 403."""
    if getattr(actor, "is_superuser", False) or services.deciding_offices(actor):
        return
    if any(m.role == Role.PRINCIPAL for m in memberships_of(actor)):
        return
    raise PermissionDenied


@dataclass
class AccountabilityFilters:
    subject_id: int | None = None
    town_id: int | None = None
    kind: str = ""


def accountability_list(*, actor, filters: AccountabilityFilters | None = None):
    filters = filters or AccountabilityFilters()
    qs = Accountability.objects.filter(services.accountability_visible_q(actor)).select_related(
        "subject", "subject__town", "decided_by_org"
    )
    if filters.subject_id is not None:
        qs = qs.filter(subject_id=filters.subject_id)
    if filters.town_id is not None:
        qs = qs.filter(subject__town_id=filters.town_id)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return qs.order_by("-decided_on", "-id")


def accountability_get(*, actor, record_id: int) -> Accountability:
    record = (
        Accountability.objects.filter(services.accountability_visible_q(actor), pk=record_id)
        .select_related(
            "subject",
            "subject__town",
            "decided_by_org",
            "hazard",
            "notice",
            "created_by",
            "follow_up_by",
        )
        .first()
    )
    if record is None:
        raise Http404
    return record


def accountability_subjects(actor) -> list[Organization]:
    """The subjects the actor may filter by: every organization of their records' scope."""
    ids = (
        Accountability.objects.filter(services.accountability_visible_q(actor))
        .values_list("subject_id", flat=True)
        .distinct()
    )
    scope: set[int] = set(ids)
    for office in services.deciding_offices(actor):
        scope.update(services.scope_organizations(office).values_list("pk", flat=True))
    return list(
        Organization.objects.filter(pk__in=scope)
        .only("pk", "name", "kind", "town_id")
        .order_by("name", "pk")
    )


def accountability_towns(subjects) -> list:
    from huxiao.orgs.models import Town

    town_ids = {s.town_id for s in subjects if getattr(s, "town_id", None)}
    return list(Town.objects.filter(pk__in=town_ids).order_by("name", "pk"))
