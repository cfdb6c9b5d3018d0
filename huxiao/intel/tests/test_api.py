"""The register's REST API for its keepers: shapes, field errors, and every read logged."""

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.core.idcard import make_id_number
from huxiao.intel.models import HighRiskPerson
from huxiao.intel.tests.conftest import PERSON_ID_NUMBER, PERSON_NAME, reads, register_state

pytestmark = pytest.mark.django_db

URL = "/api/v1/register/persons"


def test_create_detail_and_the_reads_logged(api, reg):
    officer = reg.users["officer"]
    number = make_id_number("130123", dt.date(1988, 8, 8), 21)
    response = api(
        "post",
        URL,
        user=officer,
        json={
            "name": "刘宁",
            "id_number": number,
            "address": "红星村3组",
            "category": "mental_illness",
            "risk_level": "high",
            "related_school_ids": [reg.school.pk, reg.other_school.pk],
            "responsible_officer_id": reg.users["postofficer"].pk,
            "notes": "有伤人史",
        },
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["name"] == "刘宁" and data["id_number"] == number
    assert data["birth_date"] == "1988-08-08" and data["gender"] == "male"
    assert data["station"] == {"id": reg.station.pk, "name": reg.station.name}
    assert sorted(data["related_school_ids"]) == sorted([reg.school.pk, reg.other_school.pk])
    assert data["responsible_officer"]["id"] == reg.users["postofficer"].pk
    assert data["reference"] == f"HR-{data['id']:06d}"
    person = HighRiskPerson.objects.get(pk=data["id"])
    assert len(reads(officer, person)) == 1
    detail = api("get", f"{URL}/{person.pk}", user=reg.users["police"])
    assert detail.status_code == 200 and detail.json()["notes"] == "有伤人史"
    assert len(reads(reg.users["police"], person)) == 1


def test_invalid_id_number_is_a_field_error_and_nothing_is_written(api, reg):
    before = register_state()
    response = api(
        "post",
        URL,
        user=reg.users["police"],
        json={
            "name": "刘宁",
            "id_number": "130123198808081234",
            "category": "other",
            "risk_level": "low",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert "id_number" in response.json()["errors"]
    assert register_state() == before


@pytest.mark.parametrize(
    "payload",
    [
        {"name": "x" * 101, "category": "other", "risk_level": "low"},
        {"name": "刘宁", "category": "other", "risk_level": "low", "birth_date": "1988-02-30"},
        {"name": "刘宁", "category": "other", "risk_level": "low", "surprise": 1},
        {"name": "刘宁", "category": "other", "risk_level": "low", "related_school_ids": [0]},
        {"name": "刘宁", "category": "other", "risk_level": "low", "station_id": 2**63},
    ],
)
def test_malformed_input_is_400(api, reg, payload):
    response = api("post", URL, user=reg.users["police"], json=payload)
    assert response.status_code == 400
    assert not HighRiskPerson.objects.exists()


def test_list_filters_and_logs_one_read_per_row(api, reg, person):
    police = reg.users["police"]
    data = api("get", URL, user=police).json()
    assert data["count"] == 1
    item = data["items"][0]
    assert item["name"] == PERSON_NAME and "id_number" not in item
    assert (
        item["id_number_masked"].startswith(PERSON_ID_NUMBER[:4])
        and "*" in item["id_number_masked"]
    )
    assert item["related_schools"] == [reg.school.name]
    assert len(reads(police, person)) == 1
    assert api("get", f"{URL}?status=closed", user=police).json()["count"] == 0
    assert api("get", f"{URL}?review=due", user=police).json()["count"] == 0
    HighRiskPerson.objects.filter(pk=person.pk).update(next_review_on=timezone.localdate())
    due = api("get", f"{URL}?review=due", user=police).json()
    assert due["count"] == 1 and due["items"][0]["review_due"] is True


def test_search_by_name_sound_and_id_number(api, reg, person):
    police = reg.users["police"]
    for query in (PERSON_NAME, "三丰", "章三峰", PERSON_ID_NUMBER, PERSON_ID_NUMBER.lower()):
        found = api("post", f"{URL}/search", user=police, json={"q": query}).json()
        assert [i["id"] for i in found["items"]] == [person.pk], query
    for query in ("李四", PERSON_ID_NUMBER[:10], "130123197903143710"):
        found = api("post", f"{URL}/search", user=police, json={"q": query}).json()
        assert found["count"] == 0, query
    # The terms are not written down; the search and each shown record are.
    searches = AuditEvent.objects.filter(actor=police, changes__purpose="search")
    assert searches.count() == 8
    assert PERSON_NAME not in str(list(searches.values_list("changes", flat=True)))


def test_update_close_reopen(api, reg, person):
    police = reg.users["police"]
    response = api(
        "patch",
        f"{URL}/{person.pk}",
        user=police,
        json={"risk_level": "low", "responsible_officer_id": None, "related_school_ids": None},
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["risk_level"] == "low" and data["responsible_officer"] is None
    assert data["related_schools"] == []
    bad = api("patch", f"{URL}/{person.pk}", user=police, json={"name": None})
    assert bad.status_code == 400 and "name" in bad.json()["errors"]
    closed = api("post", f"{URL}/{person.pk}/close", user=police, json={"reason": "deceased"})
    assert closed.json()["status"] == "closed" and closed.json()["closed_reason"] == "deceased"
    again = api("post", f"{URL}/{person.pk}/close", user=police, json={"reason": "deceased"})
    assert again.status_code == 400
    reopened = api("post", f"{URL}/{person.pk}/reopen", user=police)
    assert reopened.json()["status"] == "active"


def test_measures_and_follow_ups(api, reg, person):
    officer = reg.users["officer"]
    today = timezone.localdate()
    added = api(
        "post",
        f"{URL}/{person.pk}/measures",
        user=officer,
        json={
            "kind": "counselling",
            "started_on": today.isoformat(),
            "responsible_id": reg.users["police"].pk,
            "notes": "心理疏导",
        },
    )
    assert added.status_code == 201, added.json()
    measure = added.json()["measures"][0]
    assert measure["current"] is True and measure["notes"] == "心理疏导"
    ended = api(
        "post",
        f"{URL}/{person.pk}/measures/{measure['id']}/end",
        user=officer,
        json={"ended_on": today.isoformat()},
    )
    assert ended.json()["measures"][0]["ended_on"] == today.isoformat()
    assert (
        api(
            "post",
            f"{URL}/{person.pk}/measures/999999/end",
            user=officer,
            json={"ended_on": today.isoformat()},
        ).status_code
        == 404
    )
    follow = api(
        "post",
        f"{URL}/{person.pk}/follow-ups",
        user=officer,
        json={
            "on": today.isoformat(),
            "method": "home_visit",
            "assessment": "attention",
            "finding": "近期情绪波动",
            "next_review_on": (today + dt.timedelta(days=3)).isoformat(),
        },
    )
    assert follow.status_code == 201
    assert follow.json()["follow_ups"][0]["finding"] == "近期情绪波动"
    assert follow.json()["next_review_on"] == (today + dt.timedelta(days=3)).isoformat()


def test_photo_round_trip(api, client, reg, person):
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = b"\x89PNG\r\n\x1a\n" + b"\1" * 200
    token = api.token_for(reg.users["officer"])
    response = client.post(
        f"{URL}/{person.pk}/photo",
        {"photo": SimpleUploadedFile("p.png", png, content_type="image/png")},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200 and response.json()["has_photo"] is True
    photo = api("get", f"{URL}/{person.pk}/photo", user=reg.users["police"])
    assert photo.content == png and photo["Content-Type"] == "image/png"
    assert "no-store" in photo["Cache-Control"]
    gif = client.post(
        f"{URL}/{person.pk}/photo",
        {"photo": SimpleUploadedFile("p.gif", b"GIF89a", content_type="image/gif")},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert gif.status_code == 400 and "photo" in gif.json()["errors"]
    assert (
        api("delete", f"{URL}/{person.pk}/photo", user=reg.users["officer"]).json()["has_photo"]
        is False
    )


def test_access_log_is_for_the_commander(api, reg, person):
    api("get", f"{URL}/{person.pk}", user=reg.users["officer"])
    api("get", f"{URL}/{person.pk}", user=reg.users["principal"])  # a probe
    assert api("get", f"{URL}/{person.pk}/access-log", user=reg.users["officer"]).status_code == 403
    log = api("get", f"{URL}/{person.pk}/access-log", user=reg.users["police"]).json()["items"]
    pairs = {(e["actor"], e["action"]) for e in log}
    assert ("officer", "read_sensitive") in pairs and ("principal", "denied") in pairs
    assert ("police", "create") in pairs


def test_list_query_count_does_not_grow_with_rows(api, reg, person, django_assert_max_num_queries):
    from huxiao.intel import services

    for n in range(30):
        services.person_register(
            actor=reg.users["police"],
            station=reg.station,
            name=f"测试{n}",
            birth_date="1980-01-01",
            category="other",
            risk_level="low",
            related_schools=[reg.school],
            responsible_officer=reg.users["officer"],
        )
    token = api.token_for(reg.users["police"])
    with django_assert_max_num_queries(10):
        response = api.client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json()["count"] == 31
