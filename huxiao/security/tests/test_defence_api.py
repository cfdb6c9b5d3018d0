"""Defence API: role × scope for every endpoint, the shape of the answers, bad input (400,
nothing written) and refusals (409)."""

from __future__ import annotations

import datetime as dt

import pytest

from huxiao.accounts.models import DeviceKind
from huxiao.accounts.services import device_token_issue
from huxiao.audit.models import AuditEvent
from huxiao.security import defence_services as services
from huxiao.security.choices import SystemKind
from huxiao.security.models import DefenceProfile, TechnicalSystem

pytestmark = pytest.mark.django_db
EVERYONE = (
    "anonymous",
    "nobody",
    "police",
    "officer",
    "postofficer",
    "farpolice",
    "principal",
    "guard",
    "teacher",
    "principal2",
    "edu",
    "gov",
    "county",
)
READERS = {"police", "officer", "postofficer", "principal", "guard", "teacher", "edu", "gov"}
READERS |= {"county"}
ELSEWHERE = {"principal2", "farpolice"}


def expect(table: dict, default: int = 403) -> dict:
    result = {who: default for who in EVERYONE}
    result["anonymous"] = 401
    for status, users in table.items():
        for who in users:
            result[who] = status
    return result


def user(world, who):
    return None if who == "anonymous" else world.users[who]


def profile_json(**changes) -> dict:
    data = {
        "video_retention_days": 30,
        "monitoring_room": True,
        "monitoring_room_24h": True,
        "perimeter": "wall",
        "bollards": 2,
        "vehicle_barrier": True,
        "speed_bumps": False,
        "parent_waiting_area": True,
        "closed_management": True,
        "gatehouse_24h": True,
        "notes": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def system(world):
    return services.technical_system_add(
        actor=world.users["principal"],
        school=world.school,
        kind=SystemKind.ONE_CLICK_ALARM,
        name="门卫室一键报警",
        networked_to_police=True,
        installed_on=dt.date(2024, 9, 1),
    )


@pytest.fixture
def far_system(world):
    return TechnicalSystem.objects.create(
        school=world.far_school, kind=SystemKind.VIDEO_RECORDER, name="外镇录像机"
    )


# ------------------------------------------------------------------ profile


@pytest.mark.parametrize(("who", "status"), expect({200: READERS, 404: ELSEWHERE}).items())
def test_get_matrix(api, world, system, who, status):
    r = api("get", f"/api/v1/security/schools/{world.school.pk}/defence", user(world, who))
    assert r.status_code == status, r.content
    if status == 200:
        body = r.json()
        assert body["school_id"] == world.school.pk and body["has_profile"] is False
        assert body["perimeter"] == "none" and body["video_retention_days"] is None
        assert [s["name"] for s in body["systems"]] == ["门卫室一键报警"]
        assert body["can_edit"] == (who == "principal")
        assert set(body["cameras"]) >= {"total", "active", "networked", "by_kind"}


@pytest.mark.parametrize(("who", "status"), expect({200: {"principal"}, 404: ELSEWHERE}).items())
def test_put_matrix(api, world, who, status):
    r = api(
        "put",
        f"/api/v1/security/schools/{world.school.pk}/defence",
        user(world, who),
        json=profile_json(),
    )
    assert r.status_code == status, r.content
    assert DefenceProfile.objects.exists() == (status == 200)
    if status == 200:
        body = r.json()
        assert body["has_profile"] and body["video_retention_days"] == 30
        assert body["perimeter_label"]


def test_put_twice_updates_one_row(api, world):
    principal = world.users["principal"]
    url = f"/api/v1/security/schools/{world.school.pk}/defence"
    assert api("put", url, principal, json=profile_json()).status_code == 200
    r = api("put", url, principal, json=profile_json(video_retention_days=None, bollards=0))
    assert r.status_code == 200
    assert r.json()["video_retention_days"] is None and r.json()["bollards"] == 0
    assert DefenceProfile.objects.count() == 1
    actions = set(
        AuditEvent.objects.filter(object_type="security.defenceprofile").values_list(
            "action", flat=True
        )
    )
    assert actions == {"create", "update"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"video_retention_days": 3651}, "video_retention_days"),
        ({"video_retention_days": -5}, "video_retention_days"),
        ({"video_retention_days": "lots"}, "video_retention_days"),
        ({"video_retention_days": 10**30}, "video_retention_days"),
        ({"bollards": -1}, "bollards"),
        ({"bollards": 100000}, "bollards"),
        ({"perimeter": "moat"}, "perimeter"),
        ({"closed_management": None}, "closed_management"),
        ({"closed_management": "perhaps"}, "closed_management"),
        ({"monitoring_room": False}, "monitoring_room_24h"),
        ({"notes": "x" * 2001}, "notes"),
        ({"notes": "a\x00b"}, "notes"),
    ],
)
def test_put_bad_input(api, world, changes, field):
    r = api(
        "put",
        f"/api/v1/security/schools/{world.school.pk}/defence",
        world.users["principal"],
        json=profile_json(**changes),
    )
    assert r.status_code == 400, r.content
    assert field in r.json()["errors"]
    assert not DefenceProfile.objects.exists()


def test_put_missing_fields_and_garbage(api, world):
    url = f"/api/v1/security/schools/{world.school.pk}/defence"
    principal = world.users["principal"]
    r = api("put", url, principal, json={"video_retention_days": 30})
    assert r.status_code == 400 and "monitoring_room" in r.json()["errors"]
    r = api("put", url, principal, json=[1, 2])
    assert r.status_code == 400
    r = api("put", url, principal, data="{", content_type="application/json")
    assert r.status_code == 400
    assert api("get", "/api/v1/security/schools/0/defence", principal).status_code == 400
    r = api("get", f"/api/v1/security/schools/{2**64}/defence", principal)
    assert r.status_code == 400
    r = api("get", f"/api/v1/security/schools/{world.station.pk}/defence", world.users["county"])
    assert r.status_code == 404
    assert not DefenceProfile.objects.exists()


def test_a_device_token_reads_nothing(api, world, client):
    _device, token = device_token_issue(
        actor=None, school=world.school, name="报警箱", kind=DeviceKind.ALARM_BOX
    )
    r = client.get(
        f"/api/v1/security/schools/{world.school.pk}/defence",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 403
    # The alarm box it belongs to counts on the page of its school.
    body = api("get", f"/api/v1/security/schools/{world.school.pk}/defence", world.users["guard"])
    assert [b["name"] for b in body.json()["alarm_boxes"]] == ["报警箱"]


# ------------------------------------------------------------------ technical systems


@pytest.mark.parametrize(("who", "status"), expect({200: READERS | ELSEWHERE}).items())
def test_list_matrix(api, world, system, far_system, who, status):
    r = api("get", "/api/v1/security/technical-systems", user(world, who))
    assert r.status_code == status, r.content
    if status == 200:
        ids = {s["id"] for s in r.json()["items"]}
        assert (system.pk in ids) == (who in READERS)
        assert (far_system.pk in ids) == (who in {"farpolice", "county"})


def test_list_filters(api, world, system):
    principal = world.users["principal"]
    retired = services.technical_system_add(
        actor=principal, school=world.school, kind=SystemKind.VIDEO_RECORDER, name="旧录像机"
    )
    services.technical_system_retire(actor=principal, system=retired)
    base = "/api/v1/security/technical-systems"
    r = api("get", f"{base}?school_id={world.school.pk}", principal)
    assert [s["id"] for s in r.json()["items"]] == [system.pk]
    r = api("get", f"{base}?school_id={world.school.pk}&include_retired=true", principal)
    assert {s["id"] for s in r.json()["items"]} == {system.pk, retired.pk}
    r = api("get", f"{base}?kind=video_recorder&include_retired=true", principal)
    assert [s["id"] for s in r.json()["items"]] == [retired.pk]
    assert api("get", f"{base}?kind=laser", principal).status_code == 400
    r = api("get", f"{base}?school_id={world.other_school.pk}", principal)
    assert r.status_code == 404
    r = api("get", f"{base}?limit=1&offset=0", world.users["county"])
    assert r.json()["count"] == 1 and len(r.json()["items"]) == 1


@pytest.mark.parametrize(("who", "status"), expect({200: READERS, 404: ELSEWHERE}).items())
def test_get_one_matrix(api, world, system, who, status):
    r = api("get", f"/api/v1/security/technical-systems/{system.pk}", user(world, who))
    assert r.status_code == status
    if status == 200:
        assert r.json()["kind"] == "one_click_alarm" and r.json()["networked_to_police"]


@pytest.mark.parametrize(("who", "status"), expect({201: {"principal"}, 404: ELSEWHERE}).items())
def test_create_matrix(api, world, who, status):
    r = api(
        "post",
        "/api/v1/security/technical-systems",
        user(world, who),
        json={"school_id": world.school.pk, "kind": "perimeter_alarm", "name": "围墙报警"},
    )
    assert r.status_code == status, r.content
    assert TechnicalSystem.objects.exists() == (status == 201)
    if status == 201:
        assert r.json()["school_id"] == world.school.pk and r.json()["is_active"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "laser"}, "kind"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"installed_on": "2999-01-01"}, "installed_on"),
        ({"installed_on": "2025-02-30"}, "installed_on"),
        ({"installed_on": "2025-05-02", "last_tested_on": "2025-05-01"}, "last_tested_on"),
        ({"networked_to_police": "perhaps"}, "networked_to_police"),
    ],
)
def test_create_bad_input(api, world, changes, field):
    payload = {"school_id": world.school.pk, "kind": "perimeter_alarm", "name": "围墙报警"}
    payload.update(changes)
    r = api("post", "/api/v1/security/technical-systems", world.users["principal"], json=payload)
    assert r.status_code == 400, r.content
    assert field in r.json()["errors"]
    assert not TechnicalSystem.objects.exists()


@pytest.mark.parametrize(("who", "status"), expect({200: {"principal"}, 404: ELSEWHERE}).items())
def test_patch_matrix(api, world, system, who, status):
    r = api(
        "patch",
        f"/api/v1/security/technical-systems/{system.pk}",
        user(world, who),
        json={"networked_to_police": False, "location": "门卫室"},
    )
    assert r.status_code == status, r.content
    system.refresh_from_db()
    assert system.networked_to_police == (status != 200)
    if status == 200:
        assert r.json()["location"] == "门卫室"


def test_patch_rules(api, world, system):
    url = f"/api/v1/security/technical-systems/{system.pk}"
    principal = world.users["principal"]
    r = api("patch", url, principal, json={"last_tested_on": "2024-08-31"})
    assert r.status_code == 400 and "last_tested_on" in r.json()["errors"]
    r = api("patch", url, principal, json={"name": None})
    assert r.status_code == 400 and "name" in r.json()["errors"]
    r = api("patch", url, principal, json={"is_active": None})
    assert r.status_code == 400 and "is_active" in r.json()["errors"]
    r = api("patch", url, principal, json={"installed_on": None})
    assert r.status_code == 200 and r.json()["installed_on"] is None
    r = api("patch", url, principal, json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    r = api("patch", url, principal, json={})
    assert r.status_code == 200


@pytest.mark.parametrize(("who", "status"), expect({200: {"principal"}, 404: ELSEWHERE}).items())
def test_retire_matrix(api, world, system, who, status):
    r = api("post", f"/api/v1/security/technical-systems/{system.pk}/retire", user(world, who))
    assert r.status_code == status, r.content
    system.refresh_from_db()
    assert system.is_active == (status != 200)


def test_retire_twice_is_409(api, world, system):
    url = f"/api/v1/security/technical-systems/{system.pk}/retire"
    assert api("post", url, world.users["principal"]).status_code == 200
    r = api("post", url, world.users["principal"])
    assert r.status_code == 409 and r.json()["detail"]
