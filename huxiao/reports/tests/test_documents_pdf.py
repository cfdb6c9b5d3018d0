"""The PDF documents of one record (issue 10 item 4): the incident closing report, the
inspection report and the hazard notice carry their printable page's content, with the
Chinese headings as text and an embedded CJK font; an open incident's report is a draft;
the build reads the record again as the requester."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.orgs.models import Membership
from huxiao.reports import document_builders, services
from huxiao.reports.models import Report, ReportKind, ReportStatus
from huxiao.reports.tests import documents_fixtures
from huxiao.reports.tests.documents_fixtures import (
    assert_cjk_embedded,
    assigned_hazard,
    closed_incident,
    only_report,
    open_incident,
    pdf_of,
    pdf_text_and_fonts,
    request_document,
    signed_inspection,
    squeeze,
)

dworld = documents_fixtures.dworld  # the fixture, for the tests below


def _document(client, django_capture_on_commit_callbacks, tmp_path, user, slug, subject, kind):
    response = request_document(client, user, slug, subject.pk, django_capture_on_commit_callbacks)
    report = only_report(kind)
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:detail", args=[report.pk])
    assert report.status == ReportStatus.DONE, report.error
    text, fonts = pdf_text_and_fonts(pdf_of(client, report), tmp_path)
    assert_cjk_embedded(fonts)
    return report, squeeze(text)


def test_incident_closing_report(dworld, client, django_capture_on_commit_callbacks, tmp_path):
    w = dworld
    incident = closed_incident(w)
    report, text = _document(
        client,
        django_capture_on_commit_callbacks,
        tmp_path,
        w.users["principal"],
        "incident",
        incident,
        ReportKind.INCIDENT,
    )
    for heading in ("突发事件处置报告", "基本情况", "处置工作组", "时间线", "签字"):
        assert heading in text, heading
    for fact in (
        "本园",
        incident.title,
        "东门",
        "现场处置",  # a member's role in the handling group
        "封锁东门",  # the task
        "可疑人员翻越东门围墙，已被民警带离",
        "无人员伤亡",
        "加固东侧围墙",
    ):
        assert fact in text, fact
    assert "草稿" not in text
    assert report.params == {"draft": False}
    assert report.school_id == w.school.pk and report.subject_id == incident.pk
    assert report.requested_by == w.users["principal"]
    assert report.filename.startswith("突发事件处置报告-本园-")


def test_incident_report_has_the_pages_timeline(
    dworld, client, django_capture_on_commit_callbacks, tmp_path
):
    """Same content as the printable page: every timeline entry and task of its context."""
    from huxiao.incidents.views import incident_report_context

    w = dworld
    incident = closed_incident(w)
    _report, text = _document(
        client,
        django_capture_on_commit_callbacks,
        tmp_path,
        w.users["police"],
        "incident",
        incident,
        ReportKind.INCIDENT,
    )
    context = incident_report_context(incident)
    assert len(context["timeline"]) >= 6
    for entry in context["timeline"]:
        assert squeeze(str(entry.label)) in text, entry.label
        if entry.text:
            assert squeeze(str(entry.text)) in text, entry.text


def test_open_incident_gives_a_marked_draft(
    dworld, client, django_capture_on_commit_callbacks, tmp_path
):
    w = dworld
    incident = open_incident(w)
    report, text = _document(
        client,
        django_capture_on_commit_callbacks,
        tmp_path,
        w.users["police"],
        "incident",
        incident,
        ReportKind.INCIDENT,
    )
    assert "草稿：该事件仍在处置中。" in text
    assert report.params == {"draft": True}
    assert "草稿" in report.title or "draft" in report.title


def test_inspection_report(dworld, client, django_capture_on_commit_callbacks, tmp_path):
    w = dworld
    inspection = signed_inspection(w)
    report, text = _document(
        client,
        django_capture_on_commit_callbacks,
        tmp_path,
        w.users["principal"],
        "inspection",
        inspection,
        ReportKind.INSPECTION,
    )
    for heading in ("检查报告", "基本情况", "分项检查结果", "发现的问题", "检查小结"):
        assert heading in text, heading
    for fact in (
        "本园",
        "中心学校",  # the inspecting organization
        "一、门卫",
        "门卫室24小时有人值守",
        "消防通道畅通",
        "堆放杂物",  # the failed item's note
        "13.5/17.5",  # the signed-off score
        "门卫值守到位",
    ):
        assert fact in text, fact
    assert "草稿" not in text and report.params == {"draft": False}


def test_inspection_not_signed_off_is_a_draft(
    dworld, client, django_capture_on_commit_callbacks, tmp_path
):
    w = dworld
    inspection = signed_inspection(w, sign=False)
    report, text = _document(
        client,
        django_capture_on_commit_callbacks,
        tmp_path,
        w.users["edu"],
        "inspection",
        inspection,
        ReportKind.INSPECTION,
    )
    assert "草稿：本次检查尚未签发。" in text and report.params == {"draft": True}


def test_hazard_notice(dworld, client, django_capture_on_commit_callbacks, tmp_path):
    w = dworld
    hazard = assigned_hazard(w)
    report, text = _document(
        client,
        django_capture_on_commit_callbacks,
        tmp_path,
        w.users["principal"],
        "hazard_notice",
        hazard,
        ReportKind.HAZARD_NOTICE,
    )
    for heading in ("安全隐患整改通知书", "整改期限", "发文单位（盖章）"):
        assert heading in text, heading
    for fact in (
        "本园：",
        "消防通道堵塞",
        "一楼东侧通道堆放杂物",
        "清理杂物",  # the rectification plan
        "孙安全",  # the owner
        "2025-03-08",  # the deadline
        "派出所",  # the issuer: the reporting police commander's station
    ):
        assert fact in text, fact


def test_document_in_english(dworld, client, django_capture_on_commit_callbacks, tmp_path):
    w = dworld
    hazard = assigned_hazard(w)
    client.cookies["django_language"] = "en"
    _report, text = _document(
        client,
        django_capture_on_commit_callbacks,
        tmp_path,
        w.users["police"],
        "hazard_notice",
        hazard,
        ReportKind.HAZARD_NOTICE,
    )
    assert "Hazardrectificationnotice" in text and "Rectificationdeadline" in text
    assert "本园" in text  # the data stays as entered


def test_build_rereads_the_record_as_the_requester(dworld):
    """A requester who lost access between the request and the build gets a failure with a
    message, not a PDF; the job also stops being theirs to see."""
    from django.contrib.auth import get_user_model

    from huxiao.reports.selectors import report_visible

    w = dworld
    hazard = assigned_hazard(w)
    report, created = document_builders.document_request(
        actor=w.users["principal"], slug="hazard_notice", subject_id=hazard.pk
    )
    assert created and report.status == ReportStatus.QUEUED  # on_commit not run here
    Membership.objects.filter(user=w.users["principal"]).update(is_active=False)
    requester = get_user_model().objects.get(pk=w.users["principal"].pk)  # no cached scope
    assert not report_visible(requester, report)
    services.report_build(report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and not report.pdf
    assert str(document_builders.LOST_ACCESS) == report.error


def test_build_refuses_a_removed_record(dworld):
    w = dworld
    incident = open_incident(w)
    report, _created = document_builders.document_request(
        actor=w.users["police"], slug="incident", subject_id=incident.pk
    )
    Report.objects.filter(pk=report.pk).update(subject_id=incident.pk + 1000)
    services.report_build(report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.error


@pytest.mark.parametrize("slug", ["incident", "inspection", "hazard_notice"])
def test_every_document_kind_is_registered(slug):
    from huxiao.reports import registry

    doc = document_builders.DOCUMENTS[slug]
    spec = registry.get(doc.kind)
    assert spec is not None and spec.may_view is document_builders.document_may_view
