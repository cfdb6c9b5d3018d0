"""The monthly report of a town or the county: requesting it, who reads it, building its
PDF and Excel workbook (issue 10 item 4, ADR 0033).

- `monthly_request` queues one job per area and month while one waits or runs (the
  foundation's request key), whoever asks: the report is the area's, not the requester's.
- `monthly_may_view`: everybody who may request a report for the same area (and the
  requester only while they still may).
- `build_monthly` runs in the task queue: it re-checks that the requester may still report
  on the area (a supervisor who moved on gets a failed job with the reason, not a report),
  reads the figures as the area (`monthly_selectors`), then renders the PDF (charts as
  inline SVG) and the workbook (one sheet per section).
"""

from __future__ import annotations

import datetime as dt
import itertools

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.reports import charts, registry, services
from huxiao.reports import monthly_selectors as sel
from huxiao.reports.areas import TOWN, Area, area_of_report, report_area, report_areas
from huxiao.reports.models import ReportKind
from huxiao.reports.pdf import render_pdf
from huxiao.reports.xlsx import Sheet, workbook_bytes

_AREA_KEYS = "_huxiao_monthly_area_keys"
LOST_ROLE = gettext_lazy(
    "The person who asked for this report may no longer report on this area, so it was not "
    "generated. Someone who may (the town's or the county's offices) can ask for it again."
)


# ------------------------------------------------------------------ asking and reading


def monthly_title(area: Area, period: sel.Period) -> str:
    return _("%(area)s monthly report, %(period)s") % {
        "area": area.name,
        "period": sel.period_label(period),
    }


def monthly_request(*, actor, area: Area, month: dt.date, today: dt.date | None = None):
    """Queue the report of `area` for `month` (checked by the caller: `report_area` and
    `monthly_forms.parse_month`); (report, created). The running month is reported up to
    `today`."""
    today = today or timezone.localdate()
    period = sel.Period.of(month, through=today)
    params = {"through": period.last_day.isoformat()} if period.so_far else {}
    return services.report_request(
        actor=actor,
        kind=ReportKind.MONTHLY,
        title=monthly_title(area, period),
        region_id=area.region_id,
        town_id=area.pk if area.kind == TOWN else None,
        month=period.month,
        params=params,
        dedupe_key=f"{area.key}:{period.month:%Y-%m}",
    )


def _area(user, report) -> Area:
    kind, pk = area_of_report(report)
    return report_area(user, kind=kind, pk=pk)


def monthly_may_view(user, report) -> bool:
    """May `user` request a report for the report's area? The user's areas are computed
    once per user object (a request): a list of reports asks for each row."""
    keys = getattr(user, _AREA_KEYS, None)
    if keys is None:
        keys = frozenset(area.key for area in report_areas(user))
        setattr(user, _AREA_KEYS, keys)
    kind, pk = area_of_report(report)
    return f"{kind}:{pk}" in keys


def report_period(report) -> sel.Period:
    through = (report.params or {}).get("through")
    try:
        through = dt.date.fromisoformat(through) if through else None
    except (TypeError, ValueError):
        through = None
    return sel.Period.of(report.month, through=through)


# ------------------------------------------------------------------ building


def build_monthly(report, progress) -> registry.Built:
    if report.requested_by is None or not report.requested_by.is_active:
        raise registry.ReportFailed(LOST_ROLE)
    try:
        area = _area(report.requested_by, report)
    except (Http404, PermissionDenied):
        raise registry.ReportFailed(LOST_ROLE) from None
    if report.month is None:
        raise registry.ReportFailed(services.GENERIC_FAILURE)
    period = report_period(report)
    content = sel.monthly_report(area, period, progress=progress)
    progress(85, _("Writing the PDF"))
    pdf = render_pdf("reports/pdf/monthly.html", pdf_context(report, content))
    progress(95, _("Writing the Excel workbook"))
    xlsx, _rows = workbook_bytes(sheets(report, content))
    stem = _("%(area)s monthly report %(month)s") % {
        "area": area.name,
        "month": f"{period.month:%Y-%m}",
    }
    return registry.Built(filename=stem, pdf=pdf, xlsx=xlsx)


def _generated_note(report, content) -> str:
    return _("Generated %(when)s by %(who)s") % {
        "when": timezone.localtime(content.generated_at).strftime("%Y-%m-%d %H:%M"),
        "who": report.requested_by_name or "—",
    }


def pdf_context(report, content: sel.MonthlyReport) -> dict:
    percent = "%"
    if content.is_county:
        compliance_chart = charts.hbar_chart(
            content.charts["compliance"],
            title=_("Compliance rate by town"),
            unit=percent,
            max_value=100,
        )
    else:
        compliance_chart = charts.hbar_chart(
            content.charts["compliance"],
            title=_("Rules met by the schools"),
            unit=percent,
            max_value=100,
            label_chars=16,
        )
    return {
        "title": report.title,
        "report": report,
        "r": content,
        # Two figures a row: the summary fits on the first pages.
        "summary": [
            (section, list(itertools.zip_longest(section.figures[::2], section.figures[1::2])))
            for section in content.sections
        ],
        "period_label": sel.period_label(content.period),
        "footer_note": _generated_note(report, content),
        "pdf_rows": sel.PDF_ROWS,
        "compliance_chart": compliance_chart,
        "hazard_chart": charts.hbar_chart(
            content.charts["hazards"], title=_("Hazards found, by status now"), label_chars=10
        ),
        "alarm_chart": charts.column_chart(content.charts["alarms"], title=_("Alarms per week")),
    }


def _yes_no(value) -> str:
    if value is None:
        return _("no data")
    return _("yes") if value else _("no")


def _when(value) -> dt.datetime | None:
    return timezone.localtime(value) if value is not None else None


def sheets(report, content: sel.MonthlyReport) -> list[Sheet]:
    """One sheet per section of the PDF, with every row (the PDF shortens long lists)."""
    heading = [report.title, _generated_note(report, content)]
    summary_rows = [
        (section.title, f.label, f.value if f.value is not None else _("no data"), f.unit.strip())
        for section in content.sections
        for f in section.figures
    ]
    out = [
        Sheet(
            _("Summary of the month"),
            [_("Section"), _("Figure"), _("Value"), _("Unit")],
            summary_rows,
            heading,
        )
    ]
    if content.is_county:
        out.append(
            Sheet(
                _("Towns"),
                [
                    _("Town"),
                    _("Schools"),
                    _("Compliance rate (%)"),
                    _("Networking rate (%)"),
                    _("Activity compliance rate (%)"),
                    _("Alarms"),
                    _("Hazards found"),
                    _("Hazards closed"),
                    _("Overdue at the end"),
                    _("Gate posts staffed (%)"),
                    _("三见 rate (%)"),
                    _("Visit rule met (%)"),
                    _("Cluster alerts"),
                    _("Suspected cases"),
                    _("Rank"),
                ],
                [
                    (
                        t.name,
                        t.schools,
                        t.compliance_rate,
                        t.network_rate,
                        t.drills_rate,
                        t.alarms,
                        t.hazards_found,
                        t.hazards_closed,
                        t.hazards_overdue,
                        t.post_staffed_rate,
                        t.post_three_rate,
                        t.visit_rate,
                        t.alerts,
                        t.cases,
                        t.rank,
                    )
                    for t in content.towns_by_compliance
                ],
                heading,
            )
        )
    out.append(
        Sheet(
            _("Schools"),
            [
                _("School"),
                _("Town"),
                _("Alarms"),
                _("Hazards found"),
                _("Hazards closed"),
                _("Overdue at the end"),
                _("Fully compliant"),
                _("Networked to the police"),
                _("Gate-post shifts"),
                _("Gate posts staffed (%)"),
                _("三见 rate (%)"),
                _("Police visits"),
                _("Visit rule met (%)"),
                _("Weekly drills held (%)"),
                _("Meets the activity rules"),
                _("Visitors"),
                _("Vehicle entries"),
                _("Contraband interceptions"),
                _("Cluster alerts"),
                _("Suspected cases"),
                _("Class suspensions"),
                _("Rank"),
                _("Score"),
            ],
            [
                (
                    s.name,
                    s.town_name,
                    s.alarms,
                    s.hazards_found,
                    s.hazards_closed,
                    s.hazards_overdue,
                    _yes_no(s.compliant),
                    _yes_no(s.networked),
                    s.post_shifts,
                    s.post_staffed_rate,
                    s.post_three_rate,
                    s.visits,
                    s.visit_rate,
                    s.drills_held,
                    _yes_no(s.drills_compliant),
                    s.visitors,
                    s.vehicles,
                    s.interceptions,
                    s.alerts,
                    s.cases,
                    s.suspensions,
                    s.rank,
                    s.score,
                )
                for s in content.schools
            ],
            heading,
        )
    )
    ranking_rows = []
    for ranking in content.rankings:
        for row in ranking.rows:
            ranking_rows.append(
                (
                    ranking.scheme,
                    ranking.office,
                    row.rank,
                    row.school,
                    row.town,
                    row.score,
                    row.rating,
                    _("yes") if row.vetoed else "",
                )
            )
    out.append(
        Sheet(
            _("Ranking"),
            [
                _("Scheme"),
                _("Office"),
                _("Rank"),
                _("School"),
                _("Town"),
                _("Score"),
                _("Rating"),
                _("One-vote veto"),
            ],
            ranking_rows,
            heading + ([] if content.rankings else [_("No published ranking for this month.")]),
        )
    )
    out.append(
        Sheet(
            _("Notices"),
            [
                _("Published"),
                _("Kind"),
                _("Reference number"),
                _("Title"),
                _("Issued by"),
                _("About"),
                _("To be turned round by"),
                _("Turned round"),
            ],
            [
                (
                    _when(n.published_at),
                    n.kind,
                    n.reference,
                    n.title,
                    n.issuer,
                    n.subjects,
                    n.improve_by,
                    _yes_no(n.resolved) if n.improve_by else "",
                )
                for n in content.notices
            ],
            heading,
        )
    )
    out.append(
        Sheet(
            _("Listed supervision"),
            [
                _("Reference number"),
                _("Title"),
                _("School"),
                _("Town"),
                _("Supervised by"),
                _("Listed"),
                _("Deadline"),
                _("Status at the end"),
                _("Lifted"),
                _("Overdue"),
            ],
            [
                (
                    row.reference,
                    row.title,
                    row.school,
                    row.town,
                    row.supervising,
                    _when(row.listed_at),
                    row.deadline,
                    row.status,
                    _when(row.lifted_at),
                    _("yes") if row.overdue else "",
                )
                for row in content.listings
            ],
            heading,
        )
    )
    out.append(
        Sheet(
            _("Incidents"),
            [_("Opened"), _("Incident"), _("School"), _("Status"), _("Closed")],
            [
                (_when(i.opened_at), i.title, i.school, i.status, _when(i.closed_at))
                for i in content.incidents
            ],
            heading,
        )
    )
    out.append(
        Sheet(
            _("Alarms"),
            [
                _("Raised"),
                _("School"),
                _("Kind"),
                _("Status"),
                _("False alarm"),
                _("To acknowledgement (s)"),
                _("To police on scene (s)"),
            ],
            [
                (
                    _when(a.raised_at),
                    a.school,
                    a.kind,
                    a.status,
                    _("yes") if a.false_alarm else "",
                    a.ack_seconds,
                    a.arrival_seconds,
                )
                for a in content.alarms
            ],
            heading,
        )
    )
    return out


registry.register(
    ReportKind.MONTHLY,
    build=build_monthly,
    may_view=monthly_may_view,
    requester_may_view=monthly_may_view,
)
