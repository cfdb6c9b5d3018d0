# ruff: noqa: F811 - pytest fixtures imported from notice_fixtures are arguments here
"""Pages of accountability records: list (per subject, per town) and detail by role × scope,
the record form (bad input 400, nothing written), the follow-up (governance only)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.supervision.models import Accountability
from huxiao.supervision.tests.notice_fixtures import nworld, record  # noqa: F401

pytestmark = pytest.mark.django_db

LIST = reverse("supervision:accountability_list")
NEW = reverse("supervision:accountability_new")


def login(client, user):
    client.force_login(user)
    return client


def detail(rec):
    return reverse("supervision:accountability_detail", args=[rec.pk])


def follow_up(rec):
    return reverse("supervision:accountability_follow_up", args=[rec.pk])


@pytest.fixture
def rec(nworld):
    return record(nworld, decided_on=timezone.localdate(), now=timezone.now())


@pytest.mark.parametrize(
    ("name", "status", "sees"),
    [
        ("gov", 200, True),
        ("county", 200, True),
        ("principal", 200, True),
        ("principal2", 200, False),
        ("edu", 403, False),
        ("guard", 403, False),
        ("police", 403, False),
        ("nobody", 403, False),
    ],
)
def test_list_role_and_scope(client, nworld, rec, name, status, sees):
    response = login(client, nworld.users[name]).get(LIST)
    assert response.status_code == status
    if status == 200:
        assert (rec.reason in response.content.decode()) is sees


def test_list_anonymous(client, nworld):
    assert client.get(LIST).status_code == 302


def test_list_filters(client, nworld, rec):
    w = nworld
    far = record(
        w,
        actor=w.users["county"],
        subject=w.far_school,
        reason="外镇学校约谈",
        now=timezone.now(),
        decided_on=timezone.localdate(),
    )
    c = login(client, w.users["county"])
    body = c.get(LIST, {"town": w.other_town.pk}).content.decode()
    assert far.reason in body and rec.reason not in body
    body = c.get(LIST, {"subject": w.school.pk}).content.decode()
    assert rec.reason in body and far.reason not in body
    assert c.get(LIST, {"subject": "x", "town": 10**20, "page": "z"}).status_code == 200


@pytest.mark.parametrize(
    ("name", "status", "can_write"),
    [
        ("gov", 200, True),
        ("county", 200, True),
        ("principal", 200, False),
        ("principal2", 404, False),
        ("edu", 403, False),
        ("nobody", 403, False),
    ],
)
def test_detail_role_and_scope(client, nworld, rec, name, status, can_write):
    response = login(client, nworld.users[name]).get(detail(rec))
    assert response.status_code == status
    if status == 200:
        assert ('data-testid="follow-up"' in response.content.decode()) is can_write


def _form(w, **overrides):
    data = {
        "kind": "written_warning",
        "subject": w.other_school.pk,
        "person_name": "王校长",
        "person_position": "校长",
        "reason": "连续两月考核排名末位。",
        "decided_on": timezone.localdate().isoformat(),
        "hazard": "",
        "notice": "",
    }
    data.update(overrides)
    return data


def test_new_record(client, nworld):
    w = nworld
    c = login(client, w.users["gov"])
    assert c.get(NEW).status_code == 200
    response = c.post(NEW, _form(w))
    rec = Accountability.objects.get()
    assert response.status_code == 302 and response.url == detail(rec)
    assert rec.subject_id == w.other_school.pk and rec.decided_by_org_id == w.gov_office.pk


@pytest.mark.parametrize(
    "overrides",
    [
        {"reason": ""},
        {"decided_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat()},
        {"decided_on": "not a date"},
        {"subject": "far"},
        {"kind": "fine"},
        {"hazard": "999999999"},
    ],
)
def test_new_record_bad_input(client, nworld, overrides):
    w = nworld
    if overrides.get("subject") == "far":
        overrides["subject"] = w.far_school.pk
    response = login(client, w.users["gov"]).post(NEW, _form(w, **overrides))
    assert response.status_code == 400
    assert not Accountability.objects.exists()


@pytest.mark.parametrize("name", ["edu", "principal", "police", "nobody"])
def test_new_needs_hold_accountable(client, nworld, name):
    c = login(client, nworld.users[name])
    assert c.get(NEW).status_code == 403
    assert c.post(NEW, _form(nworld)).status_code == 403
    assert not Accountability.objects.exists()


def test_follow_up_by_post(client, nworld, rec):
    w = nworld
    assert (
        login(client, w.users["principal"]).post(follow_up(rec), {"follow_up": "x"}).status_code
        == 403
    )
    assert (
        login(client, w.users["principal2"]).post(follow_up(rec), {"follow_up": "x"}).status_code
        == 404
    )
    c = login(client, w.users["gov"])
    assert c.post(follow_up(rec), {"follow_up": ""}).status_code == 400
    assert c.post(follow_up(rec), {"follow_up": "已整改"}).status_code == 302
    rec.refresh_from_db()
    assert rec.follow_up == "已整改"
    body = login(client, w.users["principal"]).get(detail(rec)).content.decode()
    assert "已整改" in body


def test_list_queries_do_not_grow(client, nworld, django_assert_max_num_queries):
    w = nworld
    today = timezone.localdate()
    for i in range(30):
        record(w, subject=w.other_school, reason=f"原因{i}", decided_on=today, now=timezone.now())
    c = login(client, w.users["gov"])
    c.get(LIST)
    with django_assert_max_num_queries(14):
        assert c.get(LIST).content.decode().count('data-testid="accountability-row"') == 30
