"""REST API of school-related cases: role × scope, person links hidden, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.intel.models import SchoolCase
from huxiao.intel.tests.cases_fixtures import (
    COMMAND,
    MANAGERS,
    NO_ACCESS,
    OUT_OF_SCOPE,
    SCHOOL_READERS,
    case_state,
)

pytestmark = pytest.mark.django_db


def _body(w, **over):
    data = {
        "school_id": w.school.pk,
        "case_number": "A2026-009",
        "title": "家长群诈骗",
        "category": "fraud",
        "occurred_at": (timezone.now() - dt.timedelta(days=1)).isoformat(),
        "officer_id": w.users["officer"].pk,
        "alarm_ids": [w.alarm.pk],
        "warning_sign_ids": [w.sign.pk],
    }
    data.update(over)
    return data


def test_anonymous_is_401(api, case):
    assert api("get", "/api/v1/cases").status_code == 401
    assert api("get", f"/api/v1/cases/{case.pk}").status_code == 401
    assert api("get", "/api/v1/cases/stats").status_code == 401


@pytest.mark.parametrize("name", MANAGERS)
def test_police_of_the_jurisdiction_see_everything(api, cw, case, name):
    data = api("get", f"/api/v1/cases/{case.pk}", cw.users[name]).json()
    assert data["case_number"] == "A2026-001" and data["status"] == "registered"
    assert data["alarm_ids"] == [cw.alarm.pk] and data["warning_sign_ids"] == [cw.sign.pk]
    assert [p["id"] for p in data["persons"]] == [cw.person.pk]
    assert "张三丰" not in str(data)  # references only, never the name
    listing = api("get", "/api/v1/cases", cw.users[name]).json()
    assert [c["id"] for c in listing["items"]] == [case.pk]
    assert "persons" not in listing["items"][0]


@pytest.mark.parametrize("name", COMMAND)
def test_command_sees_cases_without_person_links(api, cw, case, name):
    response = api("get", f"/api/v1/cases/{case.pk}", cw.users[name])
    assert response.status_code == 200
    data = response.json()
    assert data["case_number"] == "A2026-001" and data["events"]
    assert "persons" not in data and "person" not in str(list(data))
    assert api("get", "/api/v1/cases/stats", cw.users[name]).status_code == 200
    patch = api("patch", f"/api/v1/cases/{case.pk}", cw.users[name], json={"title": "x"})
    assert patch.status_code == 403
    assert SchoolCase.objects.get(pk=case.pk).title == "校门口持刀滋事"


@pytest.mark.parametrize("name", SCHOOL_READERS)
def test_school_sees_title_status_officer_only(api, cw, case, name):
    data = api("get", f"/api/v1/cases/{case.pk}", cw.users[name]).json()
    assert data["title"] == "校门口持刀滋事" and data["officer"]["id"] == cw.users["officer"].pk
    for hidden in ("persons", "events", "alarm_ids", "case_number", "description"):
        assert hidden not in data
    assert api("get", "/api/v1/cases/stats", cw.users[name]).status_code == 403
    response = api(
        "post",
        f"/api/v1/cases/{case.pk}/transition",
        cw.users[name],
        json={"status": "investigating"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize("name", NO_ACCESS)
def test_other_roles_get_403_on_list_and_404_on_case(api, cw, case, name):
    assert api("get", "/api/v1/cases", cw.users[name]).status_code == 403
    assert api("get", f"/api/v1/cases/{case.pk}", cw.users[name]).status_code == 404
    assert api("get", "/api/v1/cases/stats", cw.users[name]).status_code == 403


@pytest.mark.parametrize("name", OUT_OF_SCOPE)
def test_out_of_scope_is_404_and_nothing_changes(api, cw, case, name):
    before = case_state()
    user = cw.users[name]
    assert api("get", f"/api/v1/cases/{case.pk}", user).status_code == 404
    assert api("patch", f"/api/v1/cases/{case.pk}", user, json={"title": "x"}).status_code == 404
    response = api(
        "post", f"/api/v1/cases/{case.pk}/transition", user, json={"status": "investigating"}
    )
    assert response.status_code == 404
    assert case_state() == before


def test_create_detail_patch_transition(api, cw):
    police = cw.users["police"]
    response = api("post", "/api/v1/cases", police, json=_body(cw, person_ids=[cw.person.pk]))
    assert response.status_code == 201, response.json()
    case_id = response.json()["id"]
    assert response.json()["persons"][0]["reference"] == cw.person.reference
    assert AuditEvent.objects.filter(object_id=str(case_id), action="create").exists()
    response = api(
        "patch", f"/api/v1/cases/{case_id}", police, json={"title": "家长群冒充老师诈骗"}
    )
    assert response.status_code == 200 and response.json()["title"] == "家长群冒充老师诈骗"
    for status in ("investigating", "solved", "referred"):
        response = api(
            "post", f"/api/v1/cases/{case_id}/transition", police, json={"status": status}
        )
        assert response.status_code == 200 and response.json()["status"] == status
    data = response.json()
    assert data["solved_at"] and data["referred_at"] and data["days_to_solve"] is not None
    assert [e["kind"] for e in data["events"]][-3:] == ["transition"] * 3


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"school_id": 10**9}, "school_id"),
        ({"officer_id": 10**9}, "officer_id"),
        ({"alarm_ids": [10**9]}, "alarm_ids"),
        ({"warning_sign_ids": [10**9]}, "warning_sign_ids"),
        ({"category": "murder"}, "category"),
        ({"title": "  "}, "title"),
    ],
)
def test_bad_input_is_400_and_nothing_written(api, cw, over, field):
    response = api("post", "/api/v1/cases", cw.users["police"], json=_body(cw, **over))
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not SchoolCase.objects.exists()


def test_school_outside_jurisdiction_and_foreign_officer_and_alarm(api, cw):
    police = cw.users["police"]
    far = _body(cw, school_id=cw.far_school.pk)
    assert api("post", "/api/v1/cases", police, json=far).status_code == 400
    foreign_officer = _body(cw, officer_id=cw.users["farpolice"].pk)
    response = api("post", "/api/v1/cases", police, json=foreign_officer)
    assert response.status_code == 400 and "officer_id" in response.json()["errors"]
    other_alarm = _body(cw, alarm_ids=[cw.other_alarm.pk])
    response = api("post", "/api/v1/cases", police, json=other_alarm)
    assert response.status_code == 400 and "alarm_ids" in response.json()["errors"]
    lvp = _body(cw, officer_id=cw.users["lvp"].pk)
    assert api("post", "/api/v1/cases", police, json=lvp).status_code == 400
    assert not SchoolCase.objects.exists()


def test_duplicate_case_number_per_station(api, cw, case):
    response = api(
        "post", "/api/v1/cases", cw.users["police"], json=_body(cw, case_number="A2026-001")
    )
    assert response.status_code == 400 and "case_number" in response.json()["errors"]
    assert SchoolCase.objects.count() == 1


def test_transition_out_of_order_is_400(api, cw, case):
    before = case_state()
    response = api(
        "post",
        f"/api/v1/cases/{case.pk}/transition",
        cw.users["officer"],
        json={"status": "solved"},
    )
    assert response.status_code == 400 and "status" in response.json()["errors"]
    assert case_state() == before


def test_non_keeper_cannot_link_persons(api, cw, case):
    """Command cannot write at all; the list never counts person links."""
    response = api("patch", f"/api/v1/cases/{case.pk}", cw.users["edu"], json={"person_ids": []})
    assert response.status_code == 403
    assert list(case.persons.values_list("pk", flat=True)) == [cw.person.pk]


def test_stats_per_station(api, cw, case):
    data = api("get", "/api/v1/cases/stats", cw.users["police"]).json()
    assert data["stations"] == [
        {
            "station": {"id": cw.station.pk, "name": cw.station.name},
            "open": 1,
            "solved": 0,
            "referred": 0,
            "closed": 0,
            "median_days_to_solve": None,
        }
    ]
    assert api("get", "/api/v1/cases/stats", cw.users["farpolice"]).json() == {"stations": []}


def test_non_keeper_patch_with_person_ids_keeps_links(api, cw, case):
    """A manager who does not keep the station's register (the school has moved to the far
    station since the case was registered) cannot clear the links by sending []."""
    cw.school.police_station = cw.other_station
    cw.school.police_post = None
    cw.school.save()
    farpolice = cw.users["farpolice"]
    response = api(
        "patch", f"/api/v1/cases/{case.pk}", farpolice, json={"title": "新", "person_ids": []}
    )
    assert response.status_code == 200, response.content
    assert "persons" not in response.json()
    case.refresh_from_db()
    assert case.title == "新"
    assert list(case.persons.values_list("pk", flat=True)) == [cw.person.pk]


def test_keeper_patch_changes_person_links(api, cw, case):
    response = api(
        "patch", f"/api/v1/cases/{case.pk}", cw.users["officer"], json={"person_ids": []}
    )
    assert response.status_code == 200 and response.json()["persons"] == []
    assert not case.persons.exists()


@pytest.mark.parametrize(
    ("query", "status", "items"),
    [
        ("offset=99999999999999999999", 200, 0),
        ("offset=-3&limit=-3", 200, 1),
        ("limit=abc", 400, None),
    ],
)
def test_case_list_paging_is_clamped(api, cw, case, query, status, items):
    response = api("get", f"/api/v1/cases?{query}", cw.users["police"])
    assert response.status_code == status
    if items is not None:
        assert len(response.json()["items"]) == items
    else:
        assert response.json()["detail"] == "请求中有字段填写不正确。"
