"""Contraband interceptions: role × scope of the API and pages, bad input, the photo, and
the notification that reaches the police of the school's station."""

from __future__ import annotations

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from huxiao.access import contraband_services
from huxiao.access.models import Interception
from huxiao.access.tests.pass_fixtures import ELSEWHERE, GATE, add_gate_users, expect, user
from huxiao.audit.models import AuditEvent
from huxiao.notify.models import Delivery, Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate(world):
    return add_gate_users(world)


POLICE = {"police", "officer"}
READERS = GATE | POLICE
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _data(world, **extra):
    return {
        "school_id": world.school.pk,
        "category": "knife",
        "item": "弹簧刀",
        "carrier_kind": "visitor",
        "carrier_name": "张某",
        "handling": "held",
        **extra,
    }


def _record(world, school=None, who="guard", **extra):
    data = _data(world, **extra)
    data.pop("school_id")
    return contraband_services.interception_record(
        actor=world.users[who], school=school or world.school, **data
    )


@pytest.mark.parametrize(("who", "status"), expect({201: GATE, 404: ELSEWHERE}).items())
def test_record_matrix(gate, api, who, status):
    r = api("post", "/api/v1/contraband/interceptions", user(gate, who), json=_data(gate))
    assert r.status_code == status, r.content
    assert Interception.objects.count() == (1 if status == 201 else 0)
    # Denied: nothing recorded and nobody paged.
    assert Notification.objects.count() == (1 if status == 201 else 0)


def test_notification_reaches_the_station_police(gate, api):
    r = api("post", "/api/v1/contraband/interceptions", gate.users["guard"], json=_data(gate))
    assert r.status_code == 201
    assert r.json()["police_notified_at"] is not None
    row = Interception.objects.get()
    notification = Notification.objects.get(event_type="access.interception")
    assert notification.organization_id == gate.station.pk
    assert notification.payload["id"] == row.pk
    assert "弹簧刀" in notification.body
    assert notification.title == "本园 门口查获违禁物品：管制刀具"
    told = set(
        Delivery.objects.filter(notification=notification, channel="inbox").values_list(
            "recipient__username", flat=True
        )
    )
    # The station's commander and officers and the campus post's officer; nobody else.
    assert told == {"police", "officer", "postofficer"}
    assert AuditEvent.objects.filter(object_type="access.interception", action="create").exists()


def test_school_without_a_station_is_recorded_without_notification(gate):
    gate.other_school.police_station = None
    gate.other_school.save()
    row = _record(gate, school=gate.other_school, who="guard2")
    assert row.police_notified_at is None
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "cake"}, "category"),
        ({"item": " "}, "item"),
        ({"carrier_kind": "alien"}, "carrier_kind"),
        ({"handling": "eaten"}, "handling"),
        ({"photo_base64": "@@@"}, "photo_base64"),
        ({"photo_base64": base64.b64encode(b"GIF89a....").decode()}, "photo"),
        ({"visit_id": 999999}, "visit"),
        ({"item": "刀\x00"}, "item"),
    ],
)
def test_record_bad_input(gate, api, change, field):
    r = api(
        "post",
        "/api/v1/contraband/interceptions",
        gate.users["guard"],
        json=_data(gate, **change),
    )
    assert r.status_code == 400, r.content
    assert field in r.json()["errors"]
    assert not Interception.objects.exists()
    assert not Notification.objects.exists()


def test_photo_is_encrypted_and_served_no_store_to_readers(gate, api, client):
    r = api(
        "post",
        "/api/v1/contraband/interceptions",
        gate.users["guard"],
        json=_data(gate, photo_base64=base64.b64encode(PNG).decode()),
    )
    row = Interception.objects.get(pk=r.json()["id"])
    assert r.json()["has_photo"] and PNG not in row.photo_encrypted.encode()
    url = reverse("access:contraband_photo", args=[row.pk])
    client.force_login(gate.users["officer"])
    answer = client.get(url)
    assert answer.status_code == 200 and answer.content == PNG
    assert answer["Cache-Control"] == "no-store"
    client.force_login(gate.users["principal2"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: READERS, 404: ELSEWHERE | {"farpolice"}}).items(),
)
def test_detail_matrix(gate, api, who, status):
    row = _record(gate)
    r = api("get", f"/api/v1/contraband/interceptions/{row.pk}", user(gate, who))
    assert r.status_code == status


@pytest.mark.parametrize(
    ("who", "status"), expect({200: READERS | ELSEWHERE | {"farpolice"}}).items()
)
def test_list_matrix(gate, api, who, status):
    row = _record(gate)
    r = api("get", "/api/v1/contraband/interceptions", user(gate, who))
    assert r.status_code == status
    if status == 200:
        assert ([i["id"] for i in r.json()["items"]] == [row.pk]) == (who in READERS)


@pytest.mark.parametrize(("who", "status"), expect({200: GATE, 404: ELSEWHERE}).items())
def test_handling_matrix(gate, api, who, status):
    row = _record(gate)
    r = api(
        "post",
        f"/api/v1/contraband/interceptions/{row.pk}/handling",
        user(gate, who),
        json={"handling": "handed_to_police"},
    )
    assert r.status_code == status
    row.refresh_from_db()
    assert (row.handling == "handed_to_police") == (status == 200)


# ------------------------------------------------------------------ pages


@pytest.mark.parametrize(("who", "status"), expect({200: GATE, 404: ELSEWHERE}).items())
def test_new_page_matrix(gate, client, who, status):
    if who != "anonymous":
        client.force_login(gate.users[who])
    r = client.post(
        reverse("access:contraband_new") + f"?school={gate.school.pk}",
        {
            "category": "flammable",
            "item": "汽油一瓶",
            "carrier_kind": "other",
            "handling": "held",
            "photo": SimpleUploadedFile("p.png", PNG, content_type="image/png"),
        },
    )
    expected = {200: 302, 401: 302}.get(status, status)
    assert r.status_code == expected
    assert Interception.objects.count() == (1 if status == 200 else 0)


def test_new_page_bad_input_is_400(gate, client):
    client.force_login(gate.users["guard"])
    r = client.post(reverse("access:contraband_new"), {"category": "knife", "item": ""})
    assert r.status_code == 400
    assert not Interception.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), expect({200: READERS, 404: ELSEWHERE | {"farpolice"}}).items()
)
def test_detail_page_matrix(gate, client, who, status):
    row = _record(gate)
    if who != "anonymous":
        client.force_login(gate.users[who])
    r = client.get(reverse("access:contraband_detail", args=[row.pk]))
    assert r.status_code == (302 if who == "anonymous" else status)


def test_list_page_for_police_needs_a_school(gate, client):
    _record(gate)
    client.force_login(gate.users["police"])
    r = client.get(reverse("access:contraband_list"))
    assert r.status_code == 200 and "choose-school" in r.content.decode()
    r = client.get(reverse("access:contraband_list") + f"?school={gate.school.pk}")
    assert "弹簧刀" in r.content.decode()
