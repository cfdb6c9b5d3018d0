"""Last month's county report of the demo county, ready on `make run` (issue 10 item 4).

`load_demo_monthly()` runs after every other demo loader (it reports on what they loaded).
As the demo `county` user (县综治中心) it requests the county's report for the last full
month and builds it at once, in Chinese, so the county sees a ready PDF and workbook under
/reports/ and /reports/monthly/. Demo mode only.

Idempotent: when a report of that month for the county is already ready, nothing is done;
a job left waiting by an interrupted run is built now. The task queued with the request
finds the job already claimed and does nothing.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from huxiao.demo.township import DemoModeOff
from huxiao.reports import services
from huxiao.reports.areas import COUNTY, report_areas
from huxiao.reports.models import Report, ReportKind, ReportStatus
from huxiao.reports.monthly_builders import monthly_request
from huxiao.reports.monthly_selectors import previous_month

DEMO_USER = "county"


def load_demo_monthly(stdout=None, *, today: dt.date | None = None) -> dict:
    """Build last month's county report if it is not there; return {"built": 0/1,
    "report": id or None, "status": …}."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    done = {"built": 0, "report": None, "status": ""}
    user = get_user_model().objects.filter(username=DEMO_USER, is_active=True).first()
    if user is None:
        return done
    county = next((a for a in report_areas(user) if a.kind == COUNTY), None)
    if county is None:
        return done
    today = today or timezone.localdate()
    month = previous_month(today)
    ready = (
        Report.objects.filter(
            kind=ReportKind.MONTHLY,
            region_id=county.pk,
            town__isnull=True,
            month=month,
            status=ReportStatus.DONE,
        )
        .order_by("-created_at")
        .first()
    )
    if ready is not None:
        done.update(report=ready.pk, status=ready.status)
        return done
    # Management commands run without a language; the demo county works in Chinese.
    with translation.override(settings.LANGUAGE_CODE):
        report, _created = monthly_request(actor=user, area=county, month=month, today=today)
        services.report_build(report.pk)
    report.refresh_from_db()
    done.update(built=int(report.status == ReportStatus.DONE), report=report.pk)
    done["status"] = report.status
    if stdout is not None:
        stdout.write(
            f"  monthly report: {report.title} ({report.status}"
            f"{': ' + report.error if report.error else ''})\n"
        )
    return done
