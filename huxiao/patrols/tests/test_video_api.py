"""Camera registry and video patrol API: role × scope, device ID validation, bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from huxiao.audit.models import AuditEvent
from huxiao.patrols import video_services
from huxiao.patrols.models import Camera, VideoObservation, VideoPatrol
from huxiao.patrols.tests.video_fixtures import device_id, expect, now

pytestmark = pytest.mark.django_db
CAMERA_READERS = {"police", "officer", "postofficer", "principal", "guard", "edu", "gov", "county"}
ELSEWHERE = {"farpolice", "principal2"}


def _user(world, who):
    return None if who == "anonymous" else world.users[who]


@pytest.mark.parametrize(("who", "status"), expect({200: CAMERA_READERS, 404: ELSEWHERE}).items())
def test_camera_detail_matrix(cams, api, who, status):
    r = api("get", f"/api/v1/patrols/video/cameras/{cams.cam.pk}", _user(cams, who))
    assert r.status_code == status, r.content
    if status == 200:
        assert r.json()["device_id"] == cams.cam.device_id


@pytest.mark.parametrize(("who", "status"), expect({200: CAMERA_READERS | ELSEWHERE}).items())
def test_camera_list_matrix(cams, api, who, status):
    r = api("get", "/api/v1/patrols/video/cameras", _user(cams, who))
    assert r.status_code == status
    if status == 200:
        ids = {c["id"] for c in r.json()["items"]}
        assert (cams.cam.pk in ids) == (who in CAMERA_READERS)
        assert (cams.far_cam.pk in ids) == (who in {"farpolice", "county"})


def test_camera_list_other_school_filter_is_404(cams, api):
    r = api(
        "get",
        f"/api/v1/patrols/video/cameras?school_id={cams.school.pk}",
        cams.users["principal2"],
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    expect({201: {"police", "principal"}, 404: ELSEWHERE}).items(),
)
def test_camera_register_matrix(cams, api, who, status):
    before = Camera.objects.count()
    r = api(
        "post",
        "/api/v1/patrols/video/cameras",
        _user(cams, who),
        json={
            "school_id": cams.school.pk,
            "device_id": device_id(),
            "name": "操场",
            "kind": "playground",
        },
    )
    assert r.status_code == status, r.content
    assert Camera.objects.count() == before + (1 if status == 201 else 0)


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: {"police", "principal"}, 404: ELSEWHERE}).items(),
)
def test_camera_update_matrix(cams, api, who, status):
    r = api(
        "patch",
        f"/api/v1/patrols/video/cameras/{cams.cam.pk}",
        _user(cams, who),
        json={"is_online": False},
    )
    assert r.status_code == status, r.content
    cams.cam.refresh_from_db()
    assert cams.cam.is_online is (status != 200)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("13012310001320000099", True),
        ("1301231000132000009", False),  # 19 digits
        ("130123100013200000999", False),  # 21 digits
        ("1301231000132000009X", False),
        ("１３０１２３１０００１３２００００９９", False),  # full-width digits
        ("13012310 0013200009", False),
        ("00012310001320000099", False),  # no such province
        ("99012310001320000099", False),
        ("13001234001320000099", False),  # city 00 with a county part
        ("", False),
    ],
)
def test_device_id_validation(cams, api, value, ok):
    r = api(
        "post",
        "/api/v1/patrols/video/cameras",
        cams.users["principal"],
        json={"school_id": cams.school.pk, "device_id": value, "name": "门", "kind": "gate"},
    )
    assert r.status_code == (201 if ok else 400), r.content
    if not ok:
        assert "device_id" in r.json()["errors"]
        assert not Camera.objects.filter(name="门").exists()


def test_device_id_error_is_chinese(cams, api):
    r = api(
        "post",
        "/api/v1/patrols/video/cameras",
        cams.users["principal"],
        json={"school_id": cams.school.pk, "device_id": "123", "name": "门", "kind": "gate"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert r.status_code == 400
    assert r.json()["errors"]["device_id"]


def test_duplicate_device_id_refused_even_from_another_station(cams, api):
    r = api(
        "post",
        "/api/v1/patrols/video/cameras",
        cams.users["farpolice"],
        json={
            "school_id": cams.far_school.pk,
            "device_id": cams.cam.device_id,
            "name": "门",
            "kind": "gate",
        },
    )
    assert r.status_code == 400
    # The message names no school.
    assert cams.school.name not in r.content.decode()


@pytest.mark.parametrize(
    "payload",
    [
        {"kind": "tower"},
        {"name": ""},
        {"name": "x" * 101},
        {"is_online": "maybe"},
        {"school_id": 1},
        {"unknown": 1},
        {"device_id": "abc"},
        {"last_seen_at": "2999-01-01T00:00:00+08:00"},
    ],
)
def test_camera_update_bad_input(cams, api, payload):
    before = Camera.objects.values().get(pk=cams.cam.pk)
    r = api(
        "patch",
        f"/api/v1/patrols/video/cameras/{cams.cam.pk}",
        cams.users["principal"],
        json=payload,
    )
    assert r.status_code == 400, r.content
    assert Camera.objects.values().get(pk=cams.cam.pk) == before


def test_camera_update_audited(cams, api):
    r = api(
        "patch",
        f"/api/v1/patrols/video/cameras/{cams.cam.pk}",
        cams.users["principal"],
        json={"is_networked": False, "location": "北门"},
    )
    assert r.status_code == 200
    assert AuditEvent.objects.filter(object_id=str(cams.cam.pk), action="update").exists()


def test_networking_rates(cams, api):
    r = api("get", "/api/v1/patrols/video/networking", cams.users["police"])
    assert r.status_code == 200
    schools = {row["id"]: row for row in r.json()["schools"]}
    assert schools[cams.school.pk]["cameras"] == 2
    assert schools[cams.school.pk]["networked"] == 1
    assert schools[cams.school.pk]["rate"] == 0.5
    assert cams.far_school.pk not in schools
    station = r.json()["stations"][0]
    assert station["station_id"] == cams.station.pk
    assert station["cameras"] == 3 and station["networked"] == 2
    # The principal sees only their school's figure.
    r = api("get", "/api/v1/patrols/video/networking", cams.users["principal"])
    assert [row["id"] for row in r.json()["schools"]] == [cams.school.pk]
    assert api("get", "/api/v1/patrols/video/networking", cams.users["health"]).status_code == 403


def test_retired_camera_leaves_the_rate(cams):
    video_services.camera_update(
        actor=cams.users["principal"], camera=cams.cam_offline, is_active=False
    )
    from huxiao.patrols.video_selectors import networking_rates

    rows, _stations = networking_rates(actor=cams.users["principal"])
    assert rows[0].cameras == 1 and rows[0].rate == 1.0


# ------------------------------------------------------------------ video patrols


def _patrol_payload(world, cameras, **extra):
    end = now()
    data = {
        "started_at": (end - dt.timedelta(minutes=20)).isoformat(),
        "ended_at": end.isoformat(),
        "observations": [{"camera_id": c.pk, "seen": "秩序正常"} for c in cameras],
        "findings": "未见异常",
    }
    data.update(extra)
    return data


@pytest.fixture
def vpatrol(cams):
    cams.patrol = video_services.video_patrol_create(
        actor=cams.users["officer"],
        started_at=now() - dt.timedelta(minutes=30),
        ended_at=now() - dt.timedelta(minutes=10),
        observations=[
            {"camera_id": cams.cam.pk, "seen": "正常"},
            {
                "camera_id": cams.cam_offline.pk,
                "seen": "离线",
                "needs_follow_up": True,
                "follow_up_note": "联系园方检修",
            },
        ],
    )
    return cams


PATROLLERS = {"police", "officer", "postofficer"}


@pytest.mark.parametrize(("who", "status"), expect({200: PATROLLERS, 404: {"farpolice"}}).items())
def test_video_patrol_detail_matrix(vpatrol, api, who, status):
    r = api("get", f"/api/v1/patrols/video/patrols/{vpatrol.patrol.pk}", _user(vpatrol, who))
    assert r.status_code == status
    if status == 200:
        body = r.json()
        assert [o["needs_follow_up"] for o in body["observations"]] == [False, True]
        assert body["schools"] == [{"id": vpatrol.school.pk, "name": vpatrol.school.name}]


@pytest.mark.parametrize(("who", "status"), expect({200: PATROLLERS | {"farpolice"}}).items())
def test_video_patrol_list_matrix(vpatrol, api, who, status):
    r = api("get", "/api/v1/patrols/video/patrols?follow_up=true", _user(vpatrol, who))
    assert r.status_code == status
    if status == 200:
        assert r.json()["count"] == (0 if who == "farpolice" else 1)


@pytest.mark.parametrize(("who", "status"), expect({201: PATROLLERS, 400: {"farpolice"}}).items())
def test_video_patrol_create_matrix(cams, api, who, status):
    r = api(
        "post",
        "/api/v1/patrols/video/patrols",
        _user(cams, who),
        json=_patrol_payload(cams, [cams.cam]),
    )
    assert r.status_code == status, r.content
    assert VideoPatrol.objects.count() == (1 if status == 201 else 0)
    if status == 400:
        assert cams.school.name not in r.content.decode()


def test_postofficer_cannot_name_a_camera_outside_the_post(cams, api):
    r = api(
        "post",
        "/api/v1/patrols/video/patrols",
        cams.users["postofficer"],
        json=_patrol_payload(cams, [cams.cam, cams.other_cam]),
    )
    assert r.status_code == 400
    assert not VideoPatrol.objects.exists()


def test_video_patrol_adds_schools_of_cameras(cams, api):
    r = api(
        "post",
        "/api/v1/patrols/video/patrols",
        cams.users["officer"],
        json=_patrol_payload(cams, [cams.cam, cams.other_cam], school_ids=[cams.school.pk]),
    )
    assert r.status_code == 201, r.content
    assert {s["id"] for s in r.json()["schools"]} == {cams.school.pk, cams.other_school.pk}
    assert VideoObservation.objects.count() == 2
    assert AuditEvent.objects.filter(object_type__contains="videopatrol").exists()


@pytest.mark.parametrize(
    "change",
    [
        {"observations": []},
        {"observations": [{"camera_id": 10**12}]},
        {"started_at": "2999-01-01T00:00:00+08:00"},
        {"ended_at": "not a time"},
        {"findings": "\x00"},
        {"school_ids": [10**12]},
        {"extra": True},
    ],
)
def test_video_patrol_bad_input(cams, api, change):
    payload = _patrol_payload(cams, [cams.cam])
    payload.update(change)
    r = api("post", "/api/v1/patrols/video/patrols", cams.users["officer"], json=payload)
    assert r.status_code == 400, r.content
    assert not VideoPatrol.objects.exists() and not VideoObservation.objects.exists()


def test_follow_up_needs_a_note_and_cameras_only_once(cams, api):
    payload = _patrol_payload(cams, [])
    payload["observations"] = [{"camera_id": cams.cam.pk, "needs_follow_up": True}]
    r = api("post", "/api/v1/patrols/video/patrols", cams.users["officer"], json=payload)
    assert r.status_code == 400
    assert "observations.0.follow_up_note" in r.json()["errors"]
    payload["observations"] = [{"camera_id": cams.cam.pk}, {"camera_id": cams.cam.pk}]
    r = api("post", "/api/v1/patrols/video/patrols", cams.users["officer"], json=payload)
    assert r.status_code == 400
    assert not VideoPatrol.objects.exists()


def test_ids_out_of_range_are_400_not_500(cams, api):
    r = api("get", f"/api/v1/patrols/video/cameras/{2**64}", cams.users["police"])
    assert r.status_code in (400, 404)
