"""An alarm box's POST /api/v1/alarms takes the terminals' lane (huxiao/access/gate_lane.py):
the lane must answer it exactly as Django's full stack does, for every outcome."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from huxiao.access.gate_lane import GateLane
from huxiao.access.tests.test_gate_performance import lane_request
from huxiao.accounts.services import api_token_issue, device_token_issue
from huxiao.alarms.models import Alarm, AlarmEvent

pytestmark = pytest.mark.django_db

ALARMS = "/api/v1/alarms"
# What differs between two alarms raised by the same request by design.
_DIFFERS = {"id", "raised_at", "cancel_window_ends_at"}


@pytest.fixture
def device(world):
    _device, token = device_token_issue(
        actor=None, school=world.school, name="门卫报警箱", kind="alarm_box"
    )
    return token


def _comparable(response) -> tuple:
    body = json.loads(response.content)
    if isinstance(body, dict):
        body = {k: ("…" if k in _DIFFERS else v) for k, v in body.items()}
    headers = {k: v for k, v in response.items() if k not in {"X-Request-ID", "Content-Length"}}
    return response.status_code, body, headers


BODY = {"kind": "violence", "location": "大门", "note": "持刀", "drill": False}


@pytest.mark.parametrize(
    "case",
    [
        "raised",
        "retried",
        "conflict",
        "bad_kind",
        "other_school",
        "bad_token",
        "not_json",
        "user_token",
    ],
)
def test_the_lane_answers_an_alarm_as_the_full_stack(world, device, case):
    lane = GateLane()
    client = Client(enforce_csrf_checks=True)
    token, body = device, dict(BODY)
    if case == "bad_kind":
        body["kind"] = "earthquake"
    elif case == "other_school":
        body["school_id"] = world.other_school.pk
    elif case == "bad_token":
        token = "hxd_forged"
    elif case == "not_json":
        body = "{not json"
    elif case == "user_token":  # an app's user token: the school in the body, source "api"
        token = api_token_issue(user=world.users["guard"])
        body["school_id"] = world.school.pk

    def via_lane(key, data):
        request = lane_request(ALARMS, data, token, HTTP_IDEMPOTENCY_KEY=key)
        assert lane.takes(request)
        return lane.get_response(request)

    def via_full_stack(key, data):
        return client.post(
            ALARMS,
            data=data if isinstance(data, str) else json.dumps(data),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    answers = []
    for send, key in ((via_lane, "lane-1"), (via_full_stack, "full-1")):
        if case in ("retried", "conflict"):
            assert send(key, body).status_code == 201
        # A conflict: the same key again with another body.
        answers.append(send(key, {**BODY, "kind": "fire"} if case == "conflict" else body))
    assert _comparable(answers[0]) == _comparable(answers[1])
    assert (
        answers[0].status_code
        == {
            "raised": 201,
            "retried": 200,
            "conflict": 409,
            "bad_kind": 400,
            "other_school": 400,
            "bad_token": 403,
            "not_json": 400,
            "user_token": 201,
        }[case]
    )
    if case == "user_token":
        assert [json.loads(a.content)["source"] for a in answers] == ["api", "api"]
    written = 2 if case in ("raised", "retried", "conflict", "user_token") else 0
    assert Alarm.objects.count() == AlarmEvent.objects.count() == written


def test_a_device_alarm_names_its_device_without_reading_it_again(world, device):
    lane = GateLane()
    with CaptureQueriesContext(connection) as queries:
        response = lane.get_response(lane_request(ALARMS, BODY, device))
    assert response.status_code == 201
    assert json.loads(response.content)["raised_by"] == "门卫报警箱"
    token_reads = [
        q["sql"]
        for q in queries
        if "accounts_devicetoken" in q["sql"] and q["sql"].startswith("SELECT")
    ]
    assert len(token_reads) == 1, token_reads  # the token's own lookup only
    alarm = Alarm.objects.select_related("raised_by_device").get()
    assert alarm.raised_by_device.name == "门卫报警箱"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_an_app_token_alarm_is_from_the_api_whatever_the_scheme_case(world, client, scheme):
    token = api_token_issue(user=world.users["guard"])
    response = client.post(
        ALARMS,
        data={**BODY, "school_id": world.school.pk},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"{scheme} {token}",
    )
    assert response.status_code == 201 and response.json()["source"] == "api"
