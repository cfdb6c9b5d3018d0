"""The command dashboard over the API (issue 10, ADR 0033): `GET /api/v1/reports/dashboard`
gives the same figures as the page (`dashboard_selectors.dashboard_figures`), scoped the
same way. A panel the caller may not see is absent from `panels` (its fields never appear:
the register's counts only for the police of the jurisdiction, health never for the
police). No VIEW_DASHBOARD anywhere: 403; a town or station out of reach: 404 saying so."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.errors import HttpError

from huxiao.reports.areas import dashboard_area
from huxiao.reports.dashboard_selectors import dashboard_figures, dashboard_json

router = Router(tags=["reports"])


class DashboardAreaOut(Schema):
    kind: str
    id: int
    name: str
    town_id: int | None
    schools: int


class DashboardOut(Schema):
    area: DashboardAreaOut
    today: str
    generated_at: str
    panels: dict[str, dict]
    breakdown: dict | None = None
    towns: list[dict] = []


@router.get("/reports/dashboard", response=DashboardOut)
def get_dashboard(request, town: str | None = None, station: str | None = None):
    """The dashboard of the caller's widest area, or of `town` (a town of their county, or
    their own) or `station` (one of their police jurisdictions)."""
    try:
        area = dashboard_area(request.auth, town_id=town, station_id=station)
    except Http404 as exc:
        raise HttpError(404, str(exc) or _("There is no such area.")) from None
    return dashboard_json(dashboard_figures(request.auth, area, timezone.localdate()))
