"""The demo's monthly report (reports.monthly_demo): last month's county report, built at
once as the demo `county` user, in Chinese, idempotent; demo mode only. Loading the
township takes a while, so the loaded demo is checked in one test."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from django.utils import timezone

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.reports.models import Report, ReportKind, ReportStatus
from huxiao.reports.monthly_demo import load_demo_monthly
from huxiao.reports.monthly_selectors import previous_month


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.mark.django_db
def test_refuses_outside_demo_mode_and_needs_the_township(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_monthly()
    settings.DEMO_MODE = True
    assert load_demo_monthly()["built"] == 0
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_demo_monthly_report(settings, media, tmp_path):
    from huxiao.hazards.demo import load_demo_hazards
    from huxiao.supervision.assessment_demo import load_demo_assessment

    settings.DEMO_MODE = True
    load_demo_township()
    load_demo_hazards()
    load_demo_assessment()  # last month's published ranking of 大杨树镇
    today = timezone.localdate()
    done = load_demo_monthly(today=today)
    report = Report.objects.get(kind=ReportKind.MONTHLY)
    assert done == {"built": 1, "report": report.pk, "status": ReportStatus.DONE}, report.error
    assert report.requested_by.username == "county"
    assert report.town_id is None and report.month == previous_month(today)
    assert report.language == "zh-hans" and report.pdf and report.xlsx
    assert shutil.which("pdftotext")
    path = tmp_path / "demo.pdf"
    path.write_bytes(report.pdf.read())
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "月度报告" in text and "示范县" in text
    assert "校园安全工作月度考核" in text  # the town's published ranking of that month
    # Idempotent: nothing new on a second run.
    assert load_demo_monthly(today=today) == {
        "built": 0,
        "report": report.pk,
        "status": ReportStatus.DONE,
    }
    assert Report.objects.count() == 1
