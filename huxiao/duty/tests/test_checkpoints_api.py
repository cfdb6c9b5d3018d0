"""/api/v1/duty/checkpoints: role × scope, codes only for duty planners, bad input 400 with
nothing written (ADR 0029 "Rounds")."""

from __future__ import annotations

import pytest

from huxiao.duty.models import Checkpoint
from huxiao.duty.tests.rounds_fixtures import VIEWERS, build_rounds_world, expect

pytestmark = pytest.mark.django_db


@pytest.fixture
def rounds_world(world):
    return build_rounds_world(world)


URL = "/api/v1/duty/checkpoints"


def user(w, who):
    return None if who == "anonymous" else w.users[who]


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: VIEWERS | {"principal2", "farpolice"}}, anonymous=401).items(),
)
def test_list(rounds_world, api, who, status):
    w = rounds_world
    r = api("get", URL, user=user(w, who))
    assert r.status_code == status
    if status != 200:
        return
    items = r.json()["items"]
    schools = {i["school_id"] for i in items}
    if who in VIEWERS:
        assert w.school.pk in schools
    assert (w.far_school.pk in schools) == (who in {"farpolice", "county"})
    for item in items:
        # The code only where the caller plans duty.
        planner = (who == "principal" and item["school_id"] == w.school.pk) or (
            who == "principal2" and item["school_id"] == w.other_school.pk
        )
        assert (item["code"] is not None) == planner


@pytest.mark.parametrize(
    ("who", "status"),
    expect({200: VIEWERS, 404: {"principal2", "farpolice"}}, anonymous=401).items(),
)
def test_list_of_one_school(rounds_world, api, who, status):
    w = rounds_world
    r = api("get", f"{URL}?school_id={w.school.pk}", user=user(w, who))
    assert r.status_code == status
    if status == 200:
        assert [i["name"] for i in r.json()["items"]] == ["大门", "教学楼", "食堂", "宿舍"]


def test_list_includes_retired_on_request(rounds_world, api):
    w = rounds_world
    p = w.users["principal"]
    cp = w.cps[w.school.pk]["食堂"]
    api("patch", f"{URL}/{cp.pk}", user=p, json={"is_active": False})
    names = [
        i["name"] for i in api("get", f"{URL}?school_id={w.school.pk}", user=p).json()["items"]
    ]
    assert "食堂" not in names
    r = api("get", f"{URL}?school_id={w.school.pk}&include_retired=true", user=p)
    assert "食堂" in [i["name"] for i in r.json()["items"]]
    assert api("get", f"{URL}?school_id=0", user=p).status_code == 400


@pytest.mark.parametrize(
    ("who", "status"), expect({201: {"principal"}, 404: {"principal2"}}, anonymous=401).items()
)
def test_create(rounds_world, api, who, status):
    w = rounds_world
    r = api(
        "post",
        URL,
        user=user(w, who),
        json={"school_id": w.school.pk, "name": "操场", "location": "南侧", "for_night": False},
    )
    assert r.status_code == status
    assert Checkpoint.objects.filter(school=w.school, name="操场").exists() == (status == 201)
    if status == 201:
        body = r.json()
        assert body["code"] and body["order"] == 5 and body["school_name"] == w.school.name


@pytest.mark.parametrize(
    "payload",
    [
        {"name": ""},
        {"name": "大门"},
        {"name": "x" * 101},
        {"name": "ok", "order": -1},
        {"name": "ok", "order": "seven"},
        {"name": "ok", "for_night": "maybe"},
        {"name": "ok", "code": "mine"},
        {"name": "ok", "school_id": 0},
        {},
    ],
)
def test_create_bad_input(rounds_world, api, payload):
    w = rounds_world
    data = {"school_id": w.school.pk, **payload}
    before = Checkpoint.objects.count()
    r = api("post", URL, user=w.users["principal"], json=data)
    assert r.status_code == 400, r.json()
    assert r.json()["errors"]
    assert Checkpoint.objects.count() == before


def test_create_at_an_unknown_school(rounds_world, api):
    w = rounds_world
    r = api("post", URL, user=w.users["principal"], json={"school_id": 10**9, "name": "x"})
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), expect({200: {"principal"}, 404: {"principal2"}}, anonymous=401).items()
)
def test_patch(rounds_world, api, who, status):
    w = rounds_world
    cp = w.cps[w.school.pk]["教学楼"]
    r = api("patch", f"{URL}/{cp.pk}", user=user(w, who), json={"name": "教学楼A", "order": 3})
    assert r.status_code == status
    cp.refresh_from_db()
    assert (cp.name == "教学楼A") == (status == 200)


def test_patch_reissue_and_bad_input(rounds_world, api):
    w = rounds_world
    p = w.users["principal"]
    cp = w.cps[w.school.pk]["大门"]
    old = cp.code
    r = api("patch", f"{URL}/{cp.pk}", user=p, json={"reissue_code": True})
    assert r.status_code == 200 and r.json()["code"] not in (None, old)
    for payload in ({"name": None}, {"is_active": None}, {"code": "x"}, {"name": "教学楼"}):
        r = api("patch", f"{URL}/{cp.pk}", user=p, json=payload)
        assert r.status_code == 400, payload
    # A failed patch with reissue_code changes nothing at all.
    code = Checkpoint.objects.get(pk=cp.pk).code
    r = api("patch", f"{URL}/{cp.pk}", user=p, json={"name": "", "reissue_code": True})
    assert r.status_code == 400 and Checkpoint.objects.get(pk=cp.pk).code == code
    assert api("patch", f"{URL}/{2**63}", user=p, json={"name": "x"}).status_code == 400
    assert api("patch", f"{URL}/99999999", user=p, json={"name": "x"}).status_code == 404
