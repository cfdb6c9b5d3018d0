"""Fixtures of the document tests (test_documents_*): one record of each kind at the
kindergarten `rworld.school`, and helpers to request, build and read a document's PDF."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.core.roles import Role
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.reports.models import Report

NOW = timezone.make_aware(dt.datetime(2025, 3, 3, 9, 0))


@pytest.fixture
def dworld(rworld, settings, tmp_path):
    """`rworld`, stored files under a temporary MEDIA_ROOT, and `security` (the
    kindergarten's security officer, who owns hazards)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    rworld.users["security"] = UserFactory(username="security", last_name="孙", first_name="安全")
    MembershipFactory(
        user=rworld.users["security"], organization=rworld.school, role=Role.SECURITY_OFFICER
    )
    return rworld


def open_incident(w):
    """The guard's alarm at the east gate, the incident the police commander opened from it,
    one member and one task."""
    from huxiao.alarms import services as alarm_services
    from huxiao.incidents import services
    from huxiao.incidents.choices import GroupKind

    alarm, _created = alarm_services.alarm_raise(
        actor=w.users["guard"], school=w.school, kind="intrusion", location="东门"
    )
    incident, _created = services.incident_open_from_alarm(actor=w.users["police"], alarm=alarm)
    services.incident_member_add(
        actor=w.users["police"],
        incident=incident,
        group_kind=GroupKind.HANDLING,
        user=w.users["officer"],
        role="现场处置",
        leader=True,
    )
    services.task_add(
        actor=w.users["police"],
        incident=incident,
        title="封锁东门",
        owner=w.users["officer"],
        due_at=timezone.now() + dt.timedelta(hours=1),
        group_kind=GroupKind.HANDLING,
    )
    incident.refresh_from_db()
    return incident


def closed_incident(w):
    from huxiao.incidents import selectors, services

    incident = open_incident(w)
    for task in selectors.incident_tasks(incident=incident):
        services.task_complete(actor=w.users["officer"], task=task, note="已封锁")
    return services.incident_close(
        actor=w.users["police"],
        incident=incident,
        summary="可疑人员翻越东门围墙，已被民警带离",
        casualties="无人员伤亡",
        actions_taken="关闭东门，疏散幼儿",
        lessons="加固东侧围墙",
    )


def signed_inspection(w, *, sign=True):
    """The town's education office inspected the kindergarten (the checklist of the hazards
    tests: the fire item failed with the note 堆放杂物)."""
    from huxiao.hazards import inspection_services
    from huxiao.hazards.tests.inspection_fixtures import fill, make_template, plan

    w.template = make_template()
    inspection = plan(w)
    fill(w, inspection)
    if sign:
        inspection = inspection_services.inspection_sign_off(
            actor=w.users["edu"], inspection=inspection, summary="门卫值守到位", now=NOW
        )
    return inspection


def assigned_hazard(w):
    """Reported by the police commander, assigned to `security` with a deadline of 3-08."""
    from huxiao.hazards.tests.hazard_fixtures import advance, report

    return advance(w, report(w), "assigned")


def request_url(slug: str, subject_id) -> str:
    return reverse("reports:document_request", args=[slug, subject_id])


def request_document(client, user, slug, subject_id, capture, **extra):
    """POST the "Generate PDF" button as `user`; the job runs on commit. Returns the response."""
    client.force_login(user)
    with capture(execute=True):
        return client.post(request_url(slug, subject_id), **extra)


def only_report(kind) -> Report:
    reports = list(Report.objects.filter(kind=kind))
    assert len(reports) == 1, reports
    return reports[0]


def pdf_of(client, report) -> bytes:
    response = client.get(reverse("reports:download", args=[report.pk, "pdf"]))
    assert response.status_code == 200, response.status_code
    data = b"".join(response.streaming_content)
    assert data.startswith(b"%PDF")
    return data


def pdf_text_and_fonts(data: bytes, tmp_path) -> tuple[str, str]:
    assert shutil.which("pdftotext") and shutil.which("pdffonts"), (
        "poppler-utils missing: run scripts/install-report-tools.sh"
    )
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    fonts = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return text, fonts


def assert_cjk_embedded(fonts: str) -> None:
    rows = [line.split() for line in fonts.splitlines() if "CJK" in line]
    assert rows, fonts
    # pdffonts columns: name, type, encoding, emb, sub, uni, object, ID
    assert all(row[-5] == "yes" for row in rows), fonts


def squeeze(text: str) -> str:
    """The text without any white space: a table cell may wrap anywhere."""
    return "".join(text.split())
