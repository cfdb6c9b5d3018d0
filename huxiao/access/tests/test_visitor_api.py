"""The visitors' API: role × scope, the response shape, and that screening never tells a
school role anything about the police register."""

from __future__ import annotations

import pytest

from huxiao.access import visitor_services as services
from huxiao.access.models import Visit
from huxiao.access.tests.conftest import (
    BLOCKED_ID,
    CLEAR_ID,
    REGISTER_ID,
    REGISTER_NAME,
    visitor,
)
from huxiao.intel.models import ScreeningHit
from huxiao.notify.models import Notification

pytestmark = pytest.mark.django_db

CHECK_IN = "/api/v1/visitors/check-in"


def body(gate, **overrides) -> dict:
    fields = visitor(gate, **overrides)
    fields["host_id"] = fields.pop("host")
    return {"school_id": gate.school.pk, **fields}


def device(api, gate, method, path, json=None):
    return api(method, path, json=json, HTTP_AUTHORIZATION=f"Bearer {gate.device_token}")


def state():
    return (Visit.objects.count(), ScreeningHit.objects.count(), Notification.objects.count())


# ------------------------------------------------------------------ role × scope


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 401),
        ("nobody", 403),
        ("teacher", 403),
        ("principal2", 404),
        ("police", 403),
        ("officer", 403),
        ("farpolice", 403),
        ("edu", 403),
        ("county", 403),
        ("guard", 201),
        ("duty", 201),
        ("principal", 201),
        ("security", 201),
    ],
)
def test_check_in_matrix(api, gate, who, status):
    before = state()
    response = api("post", CHECK_IN, gate.users.get(who), json=body(gate))
    assert response.status_code == status, response.content
    if status != 201:
        assert state() == before
        assert response.json()["detail"]


def test_a_device_checks_in_at_its_own_school_only(api, gate):
    payload = body(gate)
    payload.pop("school_id")
    response = device(api, gate, "post", CHECK_IN, payload)
    assert response.status_code == 201
    before = state()
    other = body(gate, id_number=BLOCKED_ID)
    other["school_id"] = gate.other_school.pk
    response = device(api, gate, "post", CHECK_IN, other)
    assert response.status_code == 400 and "school_id" in response.json()["errors"]
    assert state() == before


def test_check_in_without_school_for_a_one_school_guard(api, gate):
    payload = body(gate)
    payload.pop("school_id")
    assert api("post", CHECK_IN, gate.users["guard"], json=payload).status_code == 201


# ------------------------------------------------------------------ screening discloses nothing


def _normalised(response, visit_id) -> str:
    return (
        response.content.decode()
        .replace(f'"id": {visit_id}', '"id": 0')
        .replace(f'"id":{visit_id}', '"id":0')
    )


def test_screening_never_discloses_which_list_or_why(api, gate):
    guard = gate.users["guard"]
    clear = api("post", CHECK_IN, guard, json=body(gate))
    register = api("post", CHECK_IN, guard, json=body(gate, id_number=REGISTER_ID))
    blocked = api("post", CHECK_IN, guard, json=body(gate, id_number=BLOCKED_ID))
    assert [r.status_code for r in (clear, register, blocked)] == [201, 201, 201]

    assert clear.json()["screening"] == "clear"
    assert set(clear.json()["badge"]) == {"code", "expires_at"}
    # The two holds answer byte for byte the same, apart from the visit's id.
    assert register.json() == {
        "id": register.json()["id"],
        "screening": "hold",
        "badge": None,
        "message": "请稍候，联系值班领导",
    }
    assert _normalised(register, register.json()["id"]) == _normalised(
        blocked, blocked.json()["id"]
    )
    assert dict(register.headers).keys() == dict(blocked.headers).keys()
    person = gate.register_person
    for response in (register, blocked):
        text = response.content.decode()
        for secret in (
            person.reference,
            REGISTER_NAME,
            gate.station.name,
            "register",
            "高危",
            "blocklist",
            "禁入",
            "法院",
            str(person.pk) + ",",
        ):
            assert secret not in text
    # Reading the held visit back tells no more.
    held = api("get", f"/api/v1/visitors/{register.json()['id']}", guard).json()
    held_blocked = api("get", f"/api/v1/visitors/{blocked.json()['id']}", guard).json()
    for payload in (held, held_blocked):
        payload.pop("id")
        payload.pop("id_number_masked")
        payload.pop("checked_in_at")
    assert held == held_blocked
    assert held["screening"] == "hold" and held["badge"] is None and held["status"] == "expected"


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"id_number": CLEAR_ID[:-1] + ("0" if CLEAR_ID[-1] != "0" else "1")},
            "id_number",
            "校验位",
        ),
        ({"id_number": "abc"}, "id_number", "18"),
        ({"host_id": 999999}, "host", "请选择本校的教职工作为接待人。"),
        ({"host_id": "李老师"}, "host", "请选择本校的教职工作为接待人。"),
        ({"phone": ""}, "phone", "必填"),
        ({"purpose": "?"}, "purpose", "请选择来访事由。"),
        ({"invitation": "HX1.I.1.ABCD"}, "invitation", "不是护校二维码"),
    ],
)
def test_bad_input_is_400_in_chinese_and_writes_nothing(api, gate, overrides, field, message):
    before = state()
    payload = {**body(gate, id_number=REGISTER_ID), **overrides}
    response = api("post", CHECK_IN, gate.users["guard"], json=payload)
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"][field])
    assert state() == before


@pytest.mark.parametrize("payload", [[], "x", {"name": ["a"]}, {"school_id": 2**70}])
def test_malformed_bodies_are_400_not_500(api, gate, payload):
    response = api("post", CHECK_IN, gate.users["guard"], json=payload)
    assert response.status_code == 400


def test_duplicate_check_in_is_refused(api, gate):
    guard = gate.users["guard"]
    assert api("post", CHECK_IN, guard, json=body(gate)).status_code == 201
    before = state()
    response = api("post", CHECK_IN, guard, json=body(gate))
    assert response.status_code == 400
    assert "此人已在校内" in response.json()["errors"]["id_number"][0]
    assert state() == before


# ------------------------------------------------------------------ check-out, lists, invitations


def test_check_out_by_id_and_by_badge(api, gate):
    guard = gate.users["guard"]
    first = api("post", CHECK_IN, guard, json=body(gate)).json()
    inside = api("get", f"/api/v1/visitors?school_id={gate.school.pk}", guard).json()
    assert [v["id"] for v in inside["items"]] == [first["id"]]
    response = api("post", f"/api/v1/visitors/{first['id']}/check-out", guard)
    assert response.status_code == 200 and response.json()["status"] == "left"
    again = api("post", f"/api/v1/visitors/{first['id']}/check-out", guard)
    assert again.status_code == 400 and again.json()["errors"]["__all__"] == ["该访客不在校内。"]
    # The badge of a visit already left.
    response = device(
        api, gate, "post", "/api/v1/visitors/check-out", {"code": first["badge"]["code"]}
    )
    assert response.status_code == 400 and response.json()["errors"]["code"] == ["该访客已离校。"]


def test_check_out_scope(api, gate):
    visit = api("post", CHECK_IN, gate.users["guard"], json=body(gate)).json()
    url = f"/api/v1/visitors/{visit['id']}/check-out"
    assert api("post", url).status_code == 401
    assert api("post", url, gate.users["principal2"]).status_code == 404
    assert api("post", url, gate.users["farpolice"]).status_code == 404
    assert api("post", url, gate.users["teacher"]).status_code == 404
    assert (
        api("post", f"/api/v1/visitors/{2**62}/check-out", gate.users["guard"]).status_code == 404
    )
    assert Visit.objects.get(pk=visit["id"]).status == "inside"


def test_lists(api, gate):
    guard = gate.users["guard"]
    api("post", CHECK_IN, guard, json=body(gate))
    for status in ("inside", "expected", "today"):
        response = api("get", f"/api/v1/visitors?status={status}", guard)
        assert response.status_code == 200
    assert api("get", "/api/v1/visitors?status=bogus", guard).status_code == 400
    assert (
        api(
            "get", f"/api/v1/visitors?school_id={gate.school.pk}", gate.users["teacher"]
        ).status_code
        == 403
    )
    assert (
        api(
            "get", f"/api/v1/visitors?school_id={gate.school.pk}", gate.users["principal2"]
        ).status_code
        == 404
    )


def test_pre_register_and_check_in_with_the_invitation_once(api, gate):
    teacher = gate.users["teacher"]
    today = services.local_now().date().isoformat()
    response = api(
        "post",
        "/api/v1/visitors/pre-register",
        teacher,
        json={
            "school_id": gate.school.pk,
            "name": "家长乙",
            "phone": "13900139000",
            "purpose": "interview",
            "expected_on": today,
        },
    )
    assert response.status_code == 201, response.content
    invitation = response.json()["invitation"]
    assert invitation.startswith("HX1.I.")
    payload = body(gate, name="家长乙", invitation=f" {invitation.lower()}\r\n")
    first = api("post", CHECK_IN, gate.users["guard"], json=payload)
    assert first.status_code == 201 and first.json()["id"] == response.json()["id"]
    before = state()
    replay = api(
        "post",
        CHECK_IN,
        gate.users["guard"],
        json=body(gate, id_number=BLOCKED_ID, invitation=invitation),
    )
    assert replay.status_code == 400 and replay.json()["errors"]["invitation"] == ["已使用过"]
    assert state() == before
    # Another school's staff and the police may not invite here.
    for who in ("principal2", "police"):
        response = api(
            "post",
            "/api/v1/visitors/pre-register",
            gate.users[who],
            json={
                "school_id": gate.school.pk,
                "name": "x",
                "phone": "13900139000",
                "purpose": "other",
                "expected_on": today,
            },
        )
        assert response.status_code in (403, 404)


def test_a_hold_through_the_api_alerts_the_police_and_the_duty_leader(api, gate):
    api("post", CHECK_IN, gate.users["guard"], json=body(gate, id_number=REGISTER_ID))
    kinds = set(Notification.objects.values_list("event_type", flat=True))
    assert kinds == {"intel.screening_hold", "access.visit_hold", "access.visit_hold_details"}
