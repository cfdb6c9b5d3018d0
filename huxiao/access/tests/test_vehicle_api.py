"""Vehicles: role × scope of the API and pages, plate validation at entry, a second entry
of a plate already inside, exit, and entry with a vehicle pass."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.access import pass_services, vehicle_services
from huxiao.access.choices import PassKind
from huxiao.access.models import PassScan, VehicleMovement
from huxiao.access.tests.pass_fixtures import (
    ELSEWHERE,
    GATE,
    add_gate_users,
    expect,
    issue,
    user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate(world):
    return add_gate_users(world)


READERS = GATE


def _entry(world, **extra):
    return {"school_id": world.school.pk, "plate": "京A12345", "purpose": "supplier", **extra}


def _enter(world, plate="京B12345", **extra):
    return vehicle_services.vehicle_enter(
        actor=world.users["guard"], school=world.school, plate=plate, purpose="staff", **extra
    )


@pytest.mark.parametrize(("who", "status"), expect({201: GATE, 404: ELSEWHERE}).items())
def test_entry_matrix(gate, api, who, status):
    r = api("post", "/api/v1/vehicles/entries", user(gate, who), json=_entry(gate))
    assert r.status_code == status, r.content
    assert VehicleMovement.objects.count() == (1 if status == 201 else 0)
    if status == 201:
        assert r.json()["inside"] is True


def test_second_entry_of_a_plate_inside_is_refused(gate, api):
    guard = gate.users["guard"]
    assert api("post", "/api/v1/vehicles/entries", guard, json=_entry(gate)).status_code == 201
    r = api("post", "/api/v1/vehicles/entries", guard, json=_entry(gate, plate="京a 12345"))
    assert r.status_code == 400
    assert "该车辆已在校内" in r.json()["errors"]["plate"][0]
    assert VehicleMovement.objects.count() == 1
    # The same plate at another school is another gate.
    r = api(
        "post",
        "/api/v1/vehicles/entries",
        gate.users["guard2"],
        json=_entry(gate, school_id=gate.other_school.pk),
    )
    assert r.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"plate": "京AO1234"}, "plate"),
        ({"plate": ""}, "plate"),
        ({"purpose": "joyride"}, "purpose"),
        ({"driver_phone": "12"}, "driver_phone"),
        ({"driver_name": "x" * 51}, "driver_name"),
        ({"school_id": 0}, "school_id"),
    ],
)
def test_entry_bad_input(gate, api, change, field):
    r = api("post", "/api/v1/vehicles/entries", gate.users["guard"], json=_entry(gate, **change))
    assert r.status_code == 400, r.content
    assert field in r.json()["errors"]
    assert not VehicleMovement.objects.exists()


@pytest.mark.parametrize(("who", "status"), expect({200: GATE, 404: ELSEWHERE}).items())
def test_exit_matrix(gate, api, who, status):
    movement = _enter(gate)
    r = api("post", f"/api/v1/vehicles/{movement.pk}/exit", user(gate, who))
    assert r.status_code == status
    movement.refresh_from_db()
    assert (movement.exited_at is not None) == (status == 200)


def test_exit_twice_is_400_and_reentry_allowed(gate, api):
    movement = _enter(gate)
    guard = gate.users["guard"]
    assert api("post", f"/api/v1/vehicles/{movement.pk}/exit", guard).status_code == 200
    assert api("post", f"/api/v1/vehicles/{movement.pk}/exit", guard).status_code == 400
    assert _enter(gate).pk != movement.pk


@pytest.mark.parametrize(("who", "status"), expect({200: READERS | ELSEWHERE}).items())
def test_list_matrix(gate, api, who, status):
    inside = _enter(gate)
    left = _enter(gate, plate="京C12345")
    vehicle_services.vehicle_exit(actor=gate.users["guard"], movement=left)
    r = api("get", "/api/v1/vehicles?inside=true", user(gate, who))
    assert r.status_code == status
    if status == 200:
        ids = [v["id"] for v in r.json()["items"]]
        assert ids == ([inside.pk] if who in READERS else [])


def test_entry_with_a_vehicle_pass(gate, api):
    vehicle_pass = issue(gate, PassKind.VEHICLE)
    code = pass_services.pass_code(vehicle_pass)
    r = api(
        "post",
        "/api/v1/vehicles/entries",
        gate.users["guard"],
        json=_entry(gate, pass_code=code),
    )
    assert r.status_code == 201
    assert r.json()["pass_id"] == vehicle_pass.pk
    assert PassScan.objects.get().result == "accepted"


def test_entry_with_a_pass_of_another_vehicle_or_kind_is_refused(gate, api):
    vehicle_pass = issue(gate, PassKind.VEHICLE)
    staff_pass = issue(gate)
    for code in (pass_services.pass_code(vehicle_pass), pass_services.pass_code(staff_pass)):
        r = api(
            "post",
            "/api/v1/vehicles/entries",
            gate.users["guard"],
            json=_entry(gate, plate="京B99999", pass_code=code),
        )
        assert r.status_code == 400 and "pass_code" in r.json()["errors"]
    assert not VehicleMovement.objects.exists()


def test_a_forged_pass_with_a_real_serial_tells_nothing_of_that_pass(gate, api):
    """The pass is looked up only after its signature is checked: a forged code with a real
    serial gets "forged", never the plate the real pass is for."""
    vehicle_pass = issue(gate, PassKind.VEHICLE)
    code = pass_services.pass_code(vehicle_pass)
    forged = code[:-4] + ("AAAA" if not code.endswith("AAAA") else "BBBB")
    r = api(
        "post",
        "/api/v1/vehicles/entries",
        gate.users["guard"],
        json=_entry(gate, plate="京B99999", pass_code=forged),
    )
    assert r.status_code == 400
    assert vehicle_pass.plate not in r.content.decode()
    assert PassScan.objects.get().reason == "forged"
    assert not VehicleMovement.objects.exists()


def test_the_audit_trail_keeps_no_drivers_phone(gate):
    """The audit trail outlives the movement (retention purge), as for visitors."""
    import json

    from huxiao.audit.models import AuditEvent

    movement = _enter(gate, driver_name="王师傅", driver_phone="13700137001")
    vehicle_services.vehicle_exit(actor=gate.users["guard"], movement=movement)
    rows = AuditEvent.objects.filter(object_type="access.vehiclemovement")
    assert rows.count() >= 1
    trail = json.dumps([row.changes for row in rows], ensure_ascii=False)
    assert "13700137001" not in trail and "王师傅" in trail


def test_entry_with_a_revoked_pass_is_refused_but_the_scan_is_logged(gate, api):
    vehicle_pass = issue(gate, PassKind.VEHICLE)
    pass_services.pass_revoke(actor=gate.users["principal"], gate_pass=vehicle_pass, reason="x")
    r = api(
        "post",
        "/api/v1/vehicles/entries",
        gate.users["guard"],
        json=_entry(gate, pass_code=pass_services.pass_code(vehicle_pass)),
    )
    assert r.status_code == 400 and "pass_code" in r.json()["errors"]
    assert not VehicleMovement.objects.exists()
    assert PassScan.objects.get().reason == "revoked"


# ------------------------------------------------------------------ pages


@pytest.mark.parametrize(("who", "status"), expect({200: READERS | ELSEWHERE}, 403).items())
def test_list_page_matrix(gate, client, who, status):
    _enter(gate)
    if who != "anonymous":
        client.force_login(gate.users[who])
    r = client.get(reverse("access:vehicle_list"))
    assert r.status_code == (302 if who == "anonymous" else status)
    if status == 200 and who != "anonymous":
        assert ("京B12345" in r.content.decode()) == (who in READERS)


def test_list_page_other_school_is_404(gate, client):
    client.force_login(gate.users["guard2"])
    r = client.get(reverse("access:vehicle_list") + f"?school={gate.school.pk}")
    assert r.status_code == 404


def test_entry_page_records_and_refuses_duplicates(gate, client):
    client.force_login(gate.users["guard"])
    url = reverse("access:vehicle_enter")
    assert client.get(url).status_code == 200
    data = {"plate": "京A·12345", "purpose": "supplier", "driver_name": "王师傅"}
    r = client.post(url, data)
    assert r.status_code == 302
    r = client.post(url, data)
    assert r.status_code == 400
    assert VehicleMovement.objects.count() == 1
    r = client.post(url, {**data, "plate": "京AI2345"})
    assert r.status_code == 400


def test_exit_page_button(gate, client):
    movement = _enter(gate)
    client.force_login(gate.users["guard"])
    r = client.post(reverse("access:vehicle_exit", args=[movement.pk]))
    assert r.status_code == 302
    movement.refresh_from_db()
    assert movement.exited_at is not None
    client.force_login(gate.users["guard2"])
    assert client.post(reverse("access:vehicle_exit", args=[movement.pk])).status_code == 404
    client.force_login(gate.users["teacher"])
    assert client.post(reverse("access:vehicle_exit", args=[movement.pk])).status_code == 403
