"""REST handler of the gate reports (issue 5, item 8; ADR 0022 "Reports"): the counts of
one school over a range of days. The rows themselves are on the page and in the export.

`manage_gate` only: 403 for a role without it anywhere, 404 for a school out of reach; a
bad range is a 400 with the message under `start`, `end` or `__all__`."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from ninja import Router, Schema

from huxiao.access import report_selectors
from huxiao.access.choices import VisitPurpose
from huxiao.access.report_forms import ReportRangeForm
from huxiao.core.api import DbId, ErrorOut

router = Router(tags=["gate: reports"])


class PurposeCount(Schema):
    purpose: str
    label: str
    visits: int
    held: int


class HostCount(Schema):
    host_id: int | None
    host: str | None
    visits: int


class ReportOut(Schema):
    school_id: int
    start: str
    end: str
    totals: dict[str, int]
    by_purpose: list[PurposeCount]
    by_host: list[HostCount]


@router.get(
    "/gate-reports",
    response={200: ReportOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def gate_report_summary(request, school_id: DbId | None = None, start: str = "", end: str = ""):
    ids = report_selectors.report_school_ids(request.auth)
    if school_id is None and len(ids) == 1:
        school_id = next(iter(ids))
    if school_id is None:
        raise ValidationError({"school_id": [ReportRangeForm.choose_school_message()]})
    school = report_selectors.report_school(actor=request.auth, school_id=school_id)
    form = ReportRangeForm({"start": start, "end": end})
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    first, last = form.range()
    report = report_selectors.gate_report(actor=request.auth, school=school, start=first, end=last)
    labels = dict(VisitPurpose.choices)
    return {
        "school_id": school.pk,
        "start": first.isoformat(),
        "end": last.isoformat(),
        "totals": report.totals,
        "by_purpose": [
            {**row, "label": str(labels.get(row["purpose"], row["purpose"]))}
            for row in report.by_purpose
        ],
        "by_host": [
            {"host_id": row["host_id"], "host": row["host__name"], "visits": row["visits"]}
            for row in report.by_host
        ],
    }
