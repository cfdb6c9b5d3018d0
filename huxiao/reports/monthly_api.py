"""The monthly report over the API (issue 10 item 4, ADR 0033).

`POST /api/v1/reports/monthly` with `{"town_id": 12, "month": "2026-10"}` (the county when
`town_id` is null) queues the report: 202 with the new job, or 200 with the job already
waiting or running for that area and month (a double submit makes one job). Bad input is a
400 with a field error in the user's language; a town outside the caller's area is a 404
with a message; a caller who may report on nothing gets 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from huxiao.core.api import ErrorOut
from huxiao.reports.areas import COUNTY, TOWN, report_area, report_areas
from huxiao.reports.monthly_builders import monthly_request
from huxiao.reports.monthly_forms import parse_month
from huxiao.reports.report_api import ReportOut, report_out

router = Router(tags=["reports"])


class MonthlyIn(Schema):
    town_id: int | None = None
    month: str


def _error(status: int, field: str, message: str) -> Status:
    return Status(status, {"detail": message, "errors": {field: [message]}})


@router.post(
    "/reports/monthly",
    response={200: ReportOut, 202: ReportOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def request_monthly(request, payload: MonthlyIn):
    """Queue the monthly report of a town (`town_id`) or of the caller's county
    (`town_id` null) for `month` (YYYY-MM; the running month is reported so far)."""
    user = request.auth
    areas = report_areas(user)
    if not areas:
        raise PermissionDenied(_("Your role does not allow this action."))
    try:
        month = parse_month(payload.month)
    except ValidationError as exc:
        return _error(400, "month", " ".join(exc.messages))
    if payload.town_id is None:
        county = next((a for a in areas if a.kind == COUNTY), None)
        if county is None:
            return _error(404, "town_id", _("You may report on your town only: give its town_id."))
        area = county
    else:
        try:
            area = report_area(user, kind=TOWN, pk=payload.town_id)
        except Http404 as exc:
            return _error(404, "town_id", str(exc) or _("There is no such town."))
    report, created = monthly_request(actor=user, area=area, month=month)
    return Status(202 if created else 200, report_out(report))
