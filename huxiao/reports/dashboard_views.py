"""The command dashboard pages (issue 10 items 1–2, ADR 0033 "Dashboard").

- `reports:dashboard` `/reports/dashboard/`: the viewer's widest area (county, town, police
  jurisdiction); `?town=<id>` a town of the county (or the viewer's own), `?station=<id>`
  one of the viewer's jurisdictions, `?screen=1` the big screen.
- `reports:dashboard_screen` `/reports/dashboard/screen/`: the big screen of a command
  centre (dark, large type, no navigation; figures refreshed every minute, alarms and
  health alerts live).
- `reports:dashboard_panels` `/reports/dashboard/panels/?panel=alarms&…`: the panels asked
  for, as HTML fragments the page swaps in (live refresh, the big screen's minute).

No VIEW_DASHBOARD anywhere (a school's people, the police's legal vice-principal): 403.
An area out of reach or that does not exist: 404 with a message saying which.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from huxiao.core.context_processors import websocket_url
from huxiao.reports import dashboard_selectors as sel
from huxiao.reports.areas import COUNTY, STATION, TOWN, dashboard_area, dashboard_areas

NAV = "dashboard"
SCREEN_REFRESH_SECONDS = 60
PAGE_REFRESH_SECONDS = 300
# The area's schools travel to the script (to flash only this area's alarms) up to this
# many; past it the script flashes every alarm the socket brings (the viewer's scope).
SCRIPT_SCHOOLS_MAX = 2000


class AreaNotFound(Exception):
    pass


def _area(request):
    try:
        return dashboard_area(
            request.user,
            town_id=request.GET.get("town"),
            station_id=request.GET.get("station"),
        )
    except Http404 as exc:
        raise AreaNotFound(str(exc) or _("There is no such area.")) from None


def _not_found(request, message: str):
    return render(
        request,
        "reports/dashboard_error.html",
        {"message": message, "nav_active": NAV},
        status=404,
    )


def _area_query(area) -> dict:
    if area.kind == TOWN:
        return {"town": area.pk}
    if area.kind == STATION:
        return {"station": area.pk}
    return {}


def _script_config(request, area, dash, *, screen: bool) -> dict:
    from huxiao.alarms import ui as alarm_ui

    alarms_live = dash.alarms is not None
    health_live = dash.health is not None and dash.health.open_alerts is not None
    return {
        "ws_url": websocket_url(request),
        "fragment_url": _url("reports:dashboard_panels", area),
        "events_url": reverse("api:alarm_events") if alarms_live else "",
        "alarms_live": alarms_live,
        "health_live": health_live,
        # The socket's catch-up covers the viewer's whole scope: start from its last event.
        "last_event_id": alarm_ui.latest_event_id(request.user) if alarms_live else 0,
        "school_ids": sorted(area.school_ids) if len(area.school_ids) <= SCRIPT_SCHOOLS_MAX else [],
        "refresh_seconds": SCREEN_REFRESH_SECONDS if screen else PAGE_REFRESH_SECONDS,
        "screen": screen,
        "strings": {
            "live": _("Live"),
            "connecting": _("Connecting…"),
            "reconnecting": _("Connection lost: reconnecting…"),
            "offline": _("Not live: the figures refresh every few minutes."),
            "new_alarm": _("New alarm: %(school)s · %(kind)s · %(time)s"),
            "new_drill": _("Drill alarm: %(school)s · %(kind)s · %(time)s"),
            "new_alert": _("New health alert: %(kind)s · %(count)s children"),
            "updated": _("Updated %(time)s"),
        },
    }


def charts(dash) -> dict:
    """The charts' data (written with json_script, drawn by dashboard.js with ECharts):
    categories `x`, one or more `series`; `percent` scales the axis to 0–100."""
    data: dict = {}
    if dash.alarms is not None:
        hours = dash.alarms.by_hour
        data["alarms_hours"] = {
            "x": [f"{h}:00" for h in range(24)],
            "series": [
                {"name": _("Alarms"), "data": hours["alarms"]},
                {"name": _("Drills"), "data": hours["drills"]},
            ],
            "stack": True,
        }
    if dash.hazards is not None:
        rows = dash.hazards.status_rows
        data["hazards_status"] = {
            "x": [label for _k, label, _n, _u in rows],
            "series": [{"name": _("Open hazards"), "data": [n for _k, _l, n, _u in rows]}],
        }
    if dash.compliance is not None:
        if area_is_county(dash):
            towns = dash.compliance.towns
            data["compliance"] = {
                "x": [t.name for t in towns],
                "series": [
                    {"name": _("Compliance rate"), "data": [t.compliance_rate for t in towns]},
                    {"name": _("Networking rate"), "data": [t.network_rate for t in towns]},
                ],
                "percent": True,
            }
        else:
            rules = dash.compliance.rules
            data["compliance"] = {
                "x": [r.label for r in rules],
                "series": [
                    {"name": _("Schools meeting the rule"), "data": [r.rate for r in rules]}
                ],
                "percent": True,
                "horizontal": True,
            }
    return data


def area_is_county(dash) -> bool:
    return dash.area.kind == COUNTY


def _context(request, area, dash, *, screen: bool) -> dict:
    homes = dashboard_areas(request.user)
    county_home = next((a for a in homes if a.kind == COUNTY), None)
    up = None
    if area.kind == TOWN and county_home is not None and county_home.pk == area.region_id:
        up = reverse("reports:dashboard")
    return {
        "dash": dash,
        "area": area,
        "screen": screen,
        "charts": charts(dash),
        # The viewer's other dashboards (a member of a town office and a police station).
        "homes": [(a, _url("reports:dashboard", a)) for a in homes] if len(homes) > 1 else [],
        "up_url": up,
        "screen_url": _url("reports:dashboard_screen", area),
        "page_url": _url("reports:dashboard", area),
        "config": _script_config(request, area, dash, screen=screen),
        "nav_active": NAV,
    }


def _url(name: str, area) -> str:
    """The URL of a dashboard page for the same area."""
    query = urlencode(_area_query(area))
    return reverse(name) + (f"?{query}" if query else "")


@login_required
@require_safe
@never_cache
def dashboard(request):
    return _render(request, screen=request.GET.get("screen") == "1")


@login_required
@require_safe
@never_cache
def dashboard_screen(request):
    return _render(request, screen=True)


def _render(request, *, screen: bool):
    try:
        area = _area(request)
    except AreaNotFound as exc:
        return _not_found(request, str(exc))
    dash = sel.dashboard_figures(request.user, area, timezone.localdate(), cached=True)
    template = "reports/dashboard_screen.html" if screen else "reports/dashboard.html"
    return render(request, template, _context(request, area, dash, screen=screen))


@login_required
@require_safe
@never_cache
def dashboard_panels(request):
    """The panels named by `panel` (repeated; unknown names are ignored, none at all means
    every panel) for the same area as the page: the live refresh swaps them in."""
    try:
        area = _area(request)
    except AreaNotFound as exc:
        return _not_found(request, str(exc))
    wanted = [p for p in request.GET.getlist("panel")[: len(sel.PANELS)] if p in sel.PANELS]
    dash = sel.dashboard_figures(
        request.user, area, timezone.localdate(), panels=wanted or None, cached=True
    )
    return render(
        request,
        "reports/_dash_panels.html",
        {
            "dash": dash,
            "area": area,
            "charts": charts(dash),
            "screen": request.GET.get("screen") == "1",
            "fragment": True,
            "wanted": wanted or list(sel.PANELS),
        },
    )


urlpatterns = [
    path("dashboard/", dashboard, name="dashboard"),
    path("dashboard/screen/", dashboard_screen, name="dashboard_screen"),
    path("dashboard/panels/", dashboard_panels, name="dashboard_panels"),
]
