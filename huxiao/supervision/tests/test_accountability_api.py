# ruff: noqa: F811 - pytest fixtures imported from notice_fixtures are arguments here
"""The accountability API: role × scope of list and detail, create (400 on bad input, 403
without HOLD_ACCOUNTABLE), the follow-up (governance only; the principal reads)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from huxiao.supervision.models import Accountability
from huxiao.supervision.tests.notice_fixtures import nworld, record  # noqa: F401

pytestmark = pytest.mark.django_db

BASE = "/api/v1/supervision/accountability"


@pytest.fixture
def rec(nworld):
    return record(nworld, decided_on=timezone.localdate(), now=timezone.now())


def payload(w, **overrides):
    data = {
        "kind": "interview",
        "subject_id": w.school.pk,
        "reason": "隐患逾期未整改。",
        "decided_on": timezone.localdate().isoformat(),
        "person_name": "刘芳",
        "person_position": "园长",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("name", "status", "count"),
    [
        (None, 401, None),
        ("nobody", 403, None),
        ("edu", 403, None),
        ("police", 403, None),
        ("guard", 403, None),
        ("gov", 200, 1),
        ("county", 200, 1),
        ("principal", 200, 1),
        ("principal2", 200, 0),
    ],
)
def test_list_role_and_scope(api, nworld, rec, name, status, count):
    response = api("get", BASE, nworld.users[name] if name else None)
    assert response.status_code == status
    if count is not None:
        assert response.json()["count"] == count


def test_list_filters_and_detail(api, nworld, rec):
    w = nworld
    county = w.users["county"]
    assert api("get", f"{BASE}?town_id={w.other_town.pk}", county).json()["count"] == 0
    assert api("get", f"{BASE}?town_id={w.town.pk}", county).json()["count"] == 1
    assert api("get", f"{BASE}?subject_id={w.other_school.pk}", county).json()["count"] == 0
    assert api("get", f"{BASE}?kind=bogus", county).status_code == 400
    item = api("get", f"{BASE}/{rec.pk}", w.users["principal"]).json()
    assert item["subject_id"] == w.school.pk and item["may_manage"] is False
    assert api("get", f"{BASE}/{rec.pk}", w.users["gov"]).json()["may_manage"] is True
    assert api("get", f"{BASE}/{rec.pk}", w.users["principal2"]).status_code == 404


def test_create_and_follow_up(api, nworld):
    w = nworld
    response = api("post", BASE, w.users["gov"], json=payload(w))
    assert response.status_code == 201, response.json()
    record_id = response.json()["id"]
    url = f"{BASE}/{record_id}/follow-up"
    assert api("post", url, w.users["principal"], json={"follow_up": "x"}).status_code == 403
    assert api("post", url, w.users["principal2"], json={"follow_up": "x"}).status_code == 404
    assert api("post", url, w.users["gov"], json={"follow_up": ""}).status_code == 400
    done = api("post", url, w.users["gov"], json={"follow_up": "已约谈"})
    assert done.status_code == 200 and done.json()["follow_up"] == "已约谈"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"decided_on": "2999-01-01"}, "decided_on"),
        ({"decided_on": "soon"}, "decided_on"),
        ({"kind": "fine"}, "kind"),
        ({"subject_id": 0}, "subject_id"),
        ({"subject_id": "far"}, "subject"),
        ({"hazard_id": 10**9}, "hazard"),
        ({"notice_id": 10**9}, "notice"),
        ({"deciding_org_id": 10**9}, "deciding_org"),
    ],
)
def test_create_bad_input(api, nworld, overrides, field):
    w = nworld
    if overrides.get("subject_id") == "far":
        overrides["subject_id"] = w.far_school.pk
    response = api("post", BASE, w.users["gov"], json=payload(w, **overrides))
    assert response.status_code == 400
    assert any(field in key for key in response.json()["errors"]), response.json()
    assert not Accountability.objects.exists()


@pytest.mark.parametrize("name", ["edu", "principal", "nobody"])
def test_create_needs_hold_accountable(api, nworld, name):
    assert api("post", BASE, nworld.users[name], json=payload(nworld)).status_code == 403
    assert not Accountability.objects.exists()


def test_create_anonymous(api, nworld):
    assert api("post", BASE, None, json=payload(nworld)).status_code == 401
    assert not Accountability.objects.exists()
