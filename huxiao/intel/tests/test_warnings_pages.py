"""Pages of warnings both ways: role × scope matrix, forms, the gate snippet, navigation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.intel import warnings_services as services
from huxiao.intel.models import EarlyWarning, EarlyWarningRecipient, WarningSign
from huxiao.intel.tests.warnings_fixtures import png

pytestmark = pytest.mark.django_db

SIGN_SEES = ["principal", "guard", "teacher", "duty", "police", "officer", "postofficer"]
NO_WARNINGS = ["edu", "gov", "county", "health", "nobody"]


def _as(client, ww, name):
    client.force_login(ww.users[name])
    return client


def _current_warning(ww, schools):
    return services.early_warning_issue(
        actor=ww.users["police"],
        school_ids=[s.pk for s in schools],
        title="在逃嫌疑人",
        content="男，约40岁，身高175",
        level="red",
        valid_from=timezone.now() - dt.timedelta(hours=1),
        valid_until=timezone.now() + dt.timedelta(days=1),
    )


def test_anonymous_is_sent_to_login(client, ww, sign):
    for url in (reverse("intel:sign_list"), reverse("intel:sign_detail", args=[sign.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("name", SIGN_SEES)
def test_sign_pages_for_own_school_and_police(client, ww, sign, name):
    c = _as(client, ww, name)
    html = c.get(reverse("intel:sign_list")).content.decode()
    assert f'data-testid="sign-{sign.pk}"' in html
    response = c.get(reverse("intel:sign_detail", args=[sign.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "校门口有陌生男子" in html
    assert ('data-testid="sign-transition"' in html) == (
        name in ("police", "officer", "postofficer")
    )
    att = sign.attachments.get()
    assert c.get(reverse("intel:sign_attachment", args=[sign.pk, att.pk])).status_code == 200


@pytest.mark.parametrize("name", ["principal2", "farpolice"])
def test_sign_pages_of_another_school_are_404(client, ww, sign, name):
    c = _as(client, ww, name)
    assert f"sign-{sign.pk}" not in c.get(reverse("intel:sign_list")).content.decode()
    assert c.get(reverse("intel:sign_detail", args=[sign.pk])).status_code == 404
    att = sign.attachments.get()
    assert c.get(reverse("intel:sign_attachment", args=[sign.pk, att.pk])).status_code == 404
    response = c.post(
        reverse("intel:sign_transition", args=[sign.pk]), {"status": "assessing", "note": "x"}
    )
    assert response.status_code == 404
    assert WarningSign.objects.get(pk=sign.pk).status == "reported"


@pytest.mark.parametrize("name", NO_WARNINGS)
def test_pages_for_roles_without_warnings_are_403(client, ww, sign, early, name):
    c = _as(client, ww, name)
    for url in (
        reverse("intel:sign_list"),
        reverse("intel:sign_new"),
        reverse("intel:sign_detail", args=[sign.pk]),
        reverse("intel:early_list"),
        reverse("intel:early_new"),
        reverse("intel:early_detail", args=[early.pk]),
    ):
        assert c.get(url).status_code == 403, url
    assert c.post(reverse("intel:early_acknowledge", args=[early.pk])).status_code == 403


def test_report_page_with_attachment(client, ww, published):
    c = _as(client, ww, "guard")
    assert c.get(reverse("intel:sign_new")).status_code == 200
    response = c.post(
        reverse("intel:sign_new"),
        {
            "school": ww.school.pk,
            "category": "suspicious_vehicle",
            "description": "一辆无牌面包车在放学时段停在校门口",
            "observed_at": "2026-03-02T16:30",
            "observed_place": "南门",
            "time_node": "pickup_time",
            "attachments": [png("car.png")],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    sign = WarningSign.objects.get()
    assert sign.time_node == "pickup_time" and sign.attachments.count() == 1


def test_report_page_bad_input_is_400(client, ww, published):
    c = _as(client, ww, "guard")
    big = png("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (services.ATTACHMENT_MAX_BYTES + 1))
    response = c.post(
        reverse("intel:sign_new"),
        {"school": ww.school.pk, "category": "other", "description": "x", "attachments": [big]},
    )
    assert response.status_code == 400
    assert "big.png" in response.content.decode()
    response = c.post(reverse("intel:sign_new"), {"school": ww.school.pk, "category": "other"})
    assert response.status_code == 400
    assert not WarningSign.objects.exists()


def test_assess_page_flow_and_feedback_to_school(client, ww, sign):
    c = _as(client, ww, "officer")
    url = reverse("intel:sign_transition", args=[sign.pk])
    assert c.post(url, {"status": "action_taken", "note": "x"}).status_code == 400
    assert c.post(url, {"status": "assessing", "note": "研判中"}).status_code == 302
    assert c.post(url, {"status": "action_taken", "note": "已约谈"}).status_code == 302
    c = _as(client, ww, "guard")
    html = c.get(reverse("intel:sign_detail", args=[sign.pk])).content.decode()
    assert "已约谈" in html and "研判中" in html
    assert c.post(url, {"status": "assessing", "note": "x"}).status_code == 403


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_issue_page_and_receipt_status(client, ww, published):
    c = _as(client, ww, "police")
    assert c.get(reverse("intel:early_new")).status_code == 200
    data = {
        "title": "开学高度戒备",
        "content": "开学第一周请加强门卫值守",
        "level": "yellow",
        "valid_from": _local(timezone.now()),
        "valid_until": _local(timezone.now() + dt.timedelta(days=7)),
        "all_schools": "on",
    }
    before_start = _local(timezone.now() - dt.timedelta(days=30))
    response = c.post(reverse("intel:early_new"), {**data, "valid_until": before_start})
    assert response.status_code == 400 and not EarlyWarning.objects.exists()
    # Already expired, though after its start: refused with the reason, in Chinese.
    response = c.post(
        reverse("intel:early_new"),
        {
            **data,
            "valid_from": _local(timezone.now() - dt.timedelta(days=2)),
            "valid_until": _local(timezone.now() - dt.timedelta(days=1)),
        },
    )
    assert response.status_code == 400 and not EarlyWarning.objects.exists()
    assert "有效期结束时间不能早于当前时间。" in response.content.decode()
    response = c.post(
        reverse("intel:early_new"),
        {**data, "all_schools": "", "school_ids": [ww.far_school.pk]},
    )
    assert response.status_code == 400 and not EarlyWarning.objects.exists()
    response = c.post(reverse("intel:early_new"), data)
    assert response.status_code == 302
    warning = EarlyWarning.objects.get()
    assert warning.recipients.count() == 2
    html = c.get(reverse("intel:early_detail", args=[warning.pk])).content.decode()
    assert 'data-testid="early-receipt-count"' in html
    assert f'data-testid="recipient-{ww.other_school.pk}" data-acked="0"' in html


def test_acknowledge_page(client, ww, early):
    c = _as(client, ww, "guard")
    html = c.get(reverse("intel:early_list")).content.decode()
    assert f'data-testid="ack-{early.pk}"' in html
    response = c.post(reverse("intel:early_acknowledge", args=[early.pk]), {"school": ww.school.pk})
    assert response.status_code == 302
    assert early.recipients.get(school=ww.school).acknowledged_by == ww.users["guard"]
    # Another school's receipt row cannot be acknowledged from here.
    response = c.post(
        reverse("intel:early_acknowledge", args=[early.pk]), {"school": ww.other_school.pk}
    )
    assert response.status_code == 404
    assert early.recipients.get(school=ww.other_school).acknowledged_at is None


@pytest.mark.parametrize("name", ["principal2", "farpolice"])
def test_early_pages_not_sent_to_you_are_404(client, ww, name):
    warning = _current_warning(ww, [ww.school])
    c = _as(client, ww, name)
    assert c.get(reverse("intel:early_detail", args=[warning.pk])).status_code == 404
    assert c.post(reverse("intel:early_acknowledge", args=[warning.pk])).status_code == 404
    assert not EarlyWarningRecipient.objects.filter(acknowledged_at__isnull=False).exists()


def test_police_cannot_acknowledge_on_page(client, ww, early):
    c = _as(client, ww, "police")
    assert c.post(reverse("intel:early_acknowledge", args=[early.pk])).status_code == 403


def test_active_warnings_on_school_home_and_gate_page(client, ww, early):
    current = _current_warning(ww, [ww.school])
    for name, visible in (("guard", True), ("principal", True), ("principal2", False)):
        c = _as(client, ww, name)
        html = c.get(reverse("core:home")).content.decode()
        assert (f'data-testid="active-early-{current.pk}"' in html) is visible, name
        assert f'data-testid="active-early-{early.pk}"' not in html  # expired
    c = _as(client, ww, "guard")
    html = c.get(reverse("patrols:today")).content.decode()
    assert f'data-testid="active-early-{current.pk}"' in html


def test_navigation_entry(client, ww):
    for name, present in (("guard", True), ("teacher", True), ("police", True), ("edu", False)):
        c = _as(client, ww, name)
        html = c.get(reverse("core:home")).content.decode()
        assert (reverse("intel:sign_list") in html) is present, name
