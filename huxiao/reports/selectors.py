"""Reading reports, always scoped (ADR 0033).

A report is visible to its requester while they may still see what it covers, and to the
others its kind allows (`registry.KindSpec.may_view`): a monthly report to everybody who may
request a report for the same area, a document to everybody who may see its subject. An
Excel export is its requester's alone. Anything else answers 404.
"""

from __future__ import annotations

from django.http import Http404

from huxiao.reports import registry
from huxiao.reports.models import Report, ReportKind

MAX_ID = 2**63 - 1
LIST_LIMIT = 200


def report_visible(user, report: Report) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    spec = registry.get(report.kind)
    if spec is None:
        return False
    if report.requested_by_id == user.pk:
        check = spec.requester_may_view
        return True if check is None else bool(check(user, report))
    return bool(spec.may_view(user, report))


def report_get(*, actor, report_id) -> Report:
    try:
        report_id = int(report_id)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < report_id <= MAX_ID:
        raise Http404
    report = (
        Report.objects.select_related("region", "town", "school", "requested_by")
        .filter(pk=report_id)
        .first()
    )
    if report is None or not report_visible(actor, report):
        raise Http404
    return report


def report_list(*, actor, kind: str | None = None, subject_id: int | None = None) -> list[Report]:
    """The reports the user may see, newest first: their own and the monthly reports of the
    areas they may report on (at most LIST_LIMIT)."""
    from huxiao.reports.areas import COUNTY, TOWN, report_areas

    qs = Report.objects.select_related("region", "town", "school", "requested_by")
    if kind:
        qs = qs.filter(kind=kind)
    if subject_id is not None:
        # The documents of one subject (an incident's closing reports…): all of them that
        # the user may see, whoever generated them.
        subject = qs.filter(subject_id=subject_id)[:LIST_LIMIT]
        return [r for r in subject if report_visible(actor, r)]
    mine = list(qs.filter(requested_by_id=actor.pk)[:LIST_LIMIT])
    areas = report_areas(actor)
    shared: list[Report] = []
    if areas and kind in (None, ReportKind.MONTHLY):
        from django.db.models import Q

        q = Q()
        for area in areas:
            if area.kind == COUNTY:
                q |= Q(region_id=area.pk, town__isnull=True)
            elif area.kind == TOWN:
                q |= Q(town_id=area.pk)
        shared = list(
            qs.filter(q, kind=ReportKind.MONTHLY).exclude(requested_by_id=actor.pk)[:LIST_LIMIT]
        )
    rows = [r for r in mine if report_visible(actor, r)] + shared
    rows.sort(key=lambda r: (r.created_at, r.pk), reverse=True)
    return rows[:LIST_LIMIT]
