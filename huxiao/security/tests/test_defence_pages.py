"""Defence pages: role × scope for every page, the forms' errors in place (400, nothing
written), refusals (409) and what the school's page shows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.accounts.models import DeviceKind, DeviceToken
from huxiao.audit.models import AuditEvent
from huxiao.patrols.models import Camera
from huxiao.patrols.video_choices import CameraKind
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
    result["anonymous"] = 302
    for status, users in table.items():
        for who in users:
            result[who] = status
    return result


def login(client, world, who):
    if who != "anonymous":
        client.force_login(world.users[who])


def form_data(**changes) -> dict:
    data = {
        "video_retention_days": "30",
        "monitoring_room": "on",
        "monitoring_room_24h": "on",
        "perimeter": "wall",
        "bollards": "2",
        "vehicle_barrier": "on",
        "closed_management": "on",
        "gatehouse_24h": "on",
        "notes": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def system(world):
    return services.technical_system_add(
        actor=world.users["principal"],
        school=world.school,
        kind=SystemKind.ONE_CLICK_ALARM,
        name="门卫室一键报警",
        networked_to_police=True,
    )


# ------------------------------------------------------------------ role × scope


@pytest.mark.parametrize(("who", "status"), expect({200: READERS, 404: ELSEWHERE}).items())
def test_school_page_matrix(client, world, who, status):
    login(client, world, who)
    r = client.get(reverse("security:defence", args=[world.school.pk]))
    assert r.status_code == status
    if status == 200:
        assert b'data-testid="defence-title"' in r.content
        assert (b'data-testid="defence-edit"' in r.content) == (who == "principal")


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: {"principal"}, 404: ELSEWHERE}).items(),
)
def test_edit_page_matrix(client, world, who, status):
    login(client, world, who)
    r = client.get(reverse("security:defence_edit", args=[world.school.pk]))
    assert r.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    expect({302: {"principal"}, 404: ELSEWHERE}).items(),
)
def test_edit_post_matrix(client, world, who, status):
    login(client, world, who)
    r = client.post(reverse("security:defence_edit", args=[world.school.pk]), form_data())
    assert r.status_code == status
    saved = who == "principal"
    assert DefenceProfile.objects.filter(school=world.school).exists() == saved
    if who == "anonymous":
        assert "login" in r["Location"]


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: {"principal"}, 404: ELSEWHERE}).items(),
)
def test_system_new_page_matrix(client, world, who, status):
    login(client, world, who)
    r = client.get(reverse("security:defence_system_new", args=[world.school.pk]))
    assert r.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: {"principal"}, 404: ELSEWHERE}).items(),
)
def test_system_edit_page_matrix(client, world, system, who, status):
    login(client, world, who)
    r = client.get(reverse("security:defence_system_edit", args=[system.pk]))
    assert r.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    expect({302: {"principal"}, 404: ELSEWHERE}).items(),
)
def test_system_retire_matrix(client, world, system, who, status):
    login(client, world, who)
    r = client.post(reverse("security:defence_system_retire", args=[system.pk]))
    assert r.status_code == status
    system.refresh_from_db()
    assert system.is_active == (who != "principal")


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: READERS | {"principal2", "farpolice"}}).items(),
)
def test_school_list_matrix(client, world, who, status):
    login(client, world, who)
    r = client.get(reverse("security:defence_schools"))
    if who in {"principal", "guard", "teacher", "principal2", "postofficer"}:
        # Who sees one school only goes straight to its page.
        assert r.status_code == 302
        school = world.other_school if who == "principal2" else world.school
        assert r["Location"] == reverse("security:defence", args=[school.pk])
        return
    if who == "farpolice":
        assert r.status_code == 302
        assert r["Location"] == reverse("security:defence", args=[world.far_school.pk])
        return
    assert r.status_code == status
    if status == 200:
        body = r.content.decode()
        assert f'data-testid="defence-school-{world.school.pk}"' in body
        assert (f'data-testid="defence-school-{world.far_school.pk}"' in body) == (who == "county")


def test_wrong_methods_and_huge_ids(client, world):
    client.force_login(world.users["principal"])
    assert client.get(reverse("security:defence_system_retire", args=[1])).status_code == 405
    assert client.post(reverse("security:defence", args=[world.school.pk])).status_code == 405
    assert client.get(f"/security/schools/{2**64}/defence/").status_code == 404
    assert client.get(reverse("security:defence", args=[world.station.pk])).status_code == 404


# ------------------------------------------------------------------ forms


def test_edit_saves_and_redirects(client, world):
    client.force_login(world.users["principal"])
    r = client.post(
        reverse("security:defence_edit", args=[world.school.pk]),
        form_data(video_retention_days="15", speed_bumps="on"),
    )
    assert r.status_code == 302
    profile = DefenceProfile.objects.get(school=world.school)
    assert profile.video_retention_days == 15 and profile.speed_bumps
    assert profile.parent_waiting_area is False
    # The form shows what was saved.
    r = client.get(reverse("security:defence_edit", args=[world.school.pk]))
    assert b'value="15"' in r.content


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"video_retention_days": "3651"}, "video_retention_days"),
        ({"video_retention_days": "-1"}, "video_retention_days"),
        ({"video_retention_days": "abc"}, "video_retention_days"),
        ({"monitoring_room": None}, "monitoring_room_24h"),
        ({"perimeter": "moat"}, "perimeter"),
        ({"bollards": ""}, "bollards"),
        ({"bollards": "-2"}, "bollards"),
        ({"notes": "x" * 2001}, "notes"),
    ],
)
def test_edit_errors_in_place(client, world, changes, field):
    client.force_login(world.users["principal"])
    r = client.post(reverse("security:defence_edit", args=[world.school.pk]), form_data(**changes))
    assert r.status_code == 400
    assert f'data-testid="error-{field}"'.encode() in r.content
    assert not DefenceProfile.objects.exists()


def test_system_forms(client, world):
    client.force_login(world.users["principal"])
    url = reverse("security:defence_system_new", args=[world.school.pk])
    today = timezone.localdate()
    r = client.post(
        url,
        {
            "kind": "intrusion_alarm",
            "name": "宿舍入侵报警",
            "installed_on": (today + dt.timedelta(days=1)).isoformat(),
        },
    )
    assert r.status_code == 400 and b'data-testid="error-installed_on"' in r.content
    r = client.post(
        url,
        {
            "kind": "intrusion_alarm",
            "name": "宿舍入侵报警",
            "installed_on": "2025-05-02",
            "last_tested_on": "2025-05-01",
        },
    )
    assert r.status_code == 400 and b'data-testid="error-last_tested_on"' in r.content
    assert not TechnicalSystem.objects.exists()
    r = client.post(
        url,
        {"kind": "intrusion_alarm", "name": "宿舍入侵报警", "installed_on": "2025-05-02"},
    )
    assert r.status_code == 302
    system = TechnicalSystem.objects.get()
    assert system.networked_to_police is False and system.installed_on == dt.date(2025, 5, 2)
    edit = reverse("security:defence_system_edit", args=[system.pk])
    r = client.get(edit)
    assert b'value="2025-05-02"' in r.content  # ISO, whatever the language
    r = client.post(
        edit,
        {
            "kind": "intrusion_alarm",
            "name": "宿舍入侵报警",
            "networked_to_police": "on",
            "installed_on": "2025-05-02",
            "is_active": "on",
        },
    )
    assert r.status_code == 302
    system.refresh_from_db()
    assert system.networked_to_police is True and system.is_active
    r = client.post(edit, {"kind": "intrusion_alarm", "name": "", "is_active": "on"})
    assert r.status_code == 400 and b'data-testid="error-name"' in r.content


def test_retire_twice_is_409(client, world, system):
    client.force_login(world.users["principal"])
    url = reverse("security:defence_system_retire", args=[system.pk])
    assert client.post(url).status_code == 302
    r = client.post(url)
    assert r.status_code == 409 and b'data-testid="refusal"' in r.content
    assert AuditEvent.objects.filter(object_type="security.technicalsystem").count() == 2


# ------------------------------------------------------------------ what the page shows


def test_page_shows_registry_alarm_boxes_and_systems(client, world, system):
    s = world.school
    world.school.is_boarding = True
    world.school.save(update_fields=["is_boarding"])
    Camera.objects.create(
        school=s, device_id="13012310001320000001", name="正门", kind=CameraKind.GATE,
        is_networked=True, is_online=True,
    )  # fmt: skip
    Camera.objects.create(
        school=s, device_id="13012310001320000002", name="旧", kind=CameraKind.GATE,
        is_active=False,
    )  # fmt: skip
    DeviceToken.objects.create(
        school=s, name="一号报警箱", kind=DeviceKind.ALARM_BOX, key_hash="a" * 64, prefix="hxd_a"
    )
    DeviceToken.objects.create(
        school=s, name="闸机", kind=DeviceKind.GATE_TERMINAL, key_hash="b" * 64, prefix="hxd_b"
    )
    client.force_login(world.users["teacher"])
    r = client.get(reverse("security:defence", args=[s.pk]))
    body = r.content.decode()
    assert 'data-testid="no-profile"' in body
    assert '<strong data-testid="cameras-active">1</strong>' in body
    assert '<strong data-testid="cameras-networked">1</strong>' in body
    assert '<strong data-testid="alarm-boxes">1</strong>' in body
    assert "一号报警箱" in body and "闸机" in body  # both listed, one counted as an alarm box
    assert "门卫室一键报警" in body
    assert 'data-testid="missing-kinds"' in body  # perimeter, playground, dormitory
    assert "13012310001320000001" not in body  # device IDs stay on the registry page
    # A teacher reads no camera registry: no link to it; the principal has one.
    assert 'data-testid="camera-registry"' not in body
    assert 'data-testid="system-new"' not in body
    client.force_login(world.users["principal"])
    body = client.get(reverse("security:defence", args=[s.pk])).content.decode()
    assert 'data-testid="camera-registry"' in body and 'data-testid="system-new"' in body


def test_page_in_english(client, world):
    client.force_login(world.users["principal"])
    client.cookies["django_language"] = "en"
    r = client.get(reverse("security:defence", args=[world.school.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
