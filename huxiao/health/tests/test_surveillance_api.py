"""`/api/v1/health/alerts`: the list and one alert (scope, the read logged), closing
(MANAGE_HEALTH, 409 when closed, field errors) and linking a case."""

from __future__ import annotations

import pytest
from django.utils import timezone

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.health import surveillance_services as services
from huxiao.health.choices import AlertStatus
from huxiao.health.tests.surveillance_fixtures import kids, make_case, sick

pytestmark = pytest.mark.django_db
URL = "/api/v1/health/alerts"


@pytest.fixture
def alert(hworld):
    for child in kids(hworld.school_class, 3):
        sick(child, timezone.localdate())
    return services.clusters_evaluate()[0]


@pytest.mark.parametrize(
    ("name", "status", "count"),
    [
        (None, 401, None),
        ("police", 403, None),
        ("officer", 403, None),
        ("postofficer", 403, None),
        ("teacher", 403, None),
        ("guard", 403, None),
        ("edu", 403, None),
        ("principal2", 200, 0),
        ("principal", 200, 1),
        ("nurse", 200, 1),
        ("dutylead", 200, 1),
        ("health", 200, 1),
        ("countyhealth", 200, 1),
    ],
)
def test_alert_list_scope(api, hworld, alert, name, status, count):
    user = hworld.users[name] if name else None
    response = api("GET", URL, user)
    assert response.status_code == status
    if count is not None:
        assert response.json()["count"] == count


def test_alert_list_shape_and_filters(api, hworld, alert):
    user = hworld.users["health"]
    item = api("GET", URL, user).json()["items"][0]
    assert item["id"] == alert.pk and item["kind"] == "class_cluster"
    assert item["class_name"] == "小一班" and item["child_count"] == 3
    assert len(item["children"]) == 3 and item["status"] == "open"
    assert item["url"] == f"/health/alerts/{alert.pk}/"
    assert api("GET", f"{URL}?status=closed", user).json()["count"] == 0
    assert api("GET", f"{URL}?status=open", user).json()["count"] == 1
    assert api("GET", f"{URL}?status=bogus", user).status_code == 400
    assert api("GET", f"{URL}?school_id={hworld.far_school.pk}", user).status_code == 404
    assert api("GET", f"{URL}?school_id=0", user).status_code == 400
    assert api("GET", f"{URL}?school_id={hworld.school.pk}", user).json()["count"] == 1


@pytest.mark.parametrize(
    ("name", "status"),
    [(None, 401), ("police", 403), ("teacher", 403), ("principal2", 404), ("principal", 200)],
)
def test_alert_detail_scope(api, hworld, alert, name, status):
    user = hworld.users[name] if name else None
    assert api("GET", f"{URL}/{alert.pk}", user).status_code == status


def test_alert_detail_logs_the_read(api, hworld, alert):
    user = hworld.users["countyhealth"]
    body = api("GET", f"{URL}/{alert.pk}", user).json()
    assert body["id"] == alert.pk and body["school_id"] == hworld.school.pk
    read = AuditEvent.objects.get(action=AuditAction.READ_SENSITIVE, actor=user)
    assert read.object_id == str(alert.pk) and read.changes["purpose"] == "cluster alert"
    assert api("GET", f"{URL}/99999999", user).status_code == 404
    assert api("GET", f"{URL}/{2**63}", user).status_code == 400


@pytest.mark.parametrize(
    ("name", "status"),
    [
        (None, 401),
        ("police", 403),
        ("teacher", 403),
        ("dutylead", 403),
        ("principal2", 404),
    ],
)
def test_alert_close_is_refused_and_nothing_changes(api, hworld, alert, name, status):
    user = hworld.users[name] if name else None
    assert api("POST", f"{URL}/{alert.pk}/close", user, json={"note": "x"}).status_code == status
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and alert.note == ""


def test_alert_close_and_a_second_close(api, hworld, alert):
    user = hworld.users["health"]
    bad = api("POST", f"{URL}/{alert.pk}/close", user, json={"note": " "})
    assert bad.status_code == 400 and "note" in bad.json()["errors"]
    assert api("POST", f"{URL}/{alert.pk}/close", user, json={}).status_code == 400
    response = api("POST", f"{URL}/{alert.pk}/close", user, json={"note": "已核实，均为普通感冒"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "closed" and body["note"] == "已核实，均为普通感冒"
    assert body["closed_by"] and body["closed_at"]
    again = api("POST", f"{URL}/{alert.pk}/close", user, json={"note": "再次"})
    assert again.status_code == 409
    alert.refresh_from_db()
    assert alert.note == "已核实，均为普通感冒"


def test_alert_link_case(api, hworld, alert):
    user = hworld.users["nurse"]
    case = make_case(alert.children.first(), notifiable=False)
    foreign = make_case(hworld.other_child, notifiable=False)
    url = f"{URL}/{alert.pk}/case"
    bad = api("POST", url, user, json={"case_id": foreign.pk})
    assert bad.status_code == 400 and "case_id" in bad.json()["errors"]
    assert api("POST", url, user, json={"case_id": case.pk}).json()["case_id"] == case.pk
    assert api("POST", url, user, json={"case_id": None}).json()["case_id"] is None
    assert api("POST", url, hworld.users["dutylead"], json={"case_id": case.pk}).status_code == 403
    assert api("POST", url, hworld.users["police"], json={"case_id": case.pk}).status_code == 403
