# ruff: noqa: F811 - pytest fixtures imported from notice_fixtures are arguments here
"""The notices API: role × scope of the list and detail, create (400 on bad input, 403
without ASSESS), publish (409 once published), read marks and resolving."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.notify.models import Notification
from huxiao.supervision import notice_services as ns
from huxiao.supervision.choices import NoticeKind, NoticeStatus
from huxiao.supervision.models import Notice, NoticeReceipt
from huxiao.supervision.tests.notice_fixtures import nworld  # noqa: F401

pytestmark = pytest.mark.django_db

BASE = "/api/v1/supervision/notices"


def later(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def payload(w, **overrides):
    data = {
        "kind": "criticism",
        "title": "API 通报",
        "body": "正文",
        "reference": "API〔2025〕1号",
        "improve_by": later(10),
        "subject_ids": [w.school.pk],
        "recipient_ids": [w.gov_office.pk],
    }
    data.update(overrides)
    return data


@pytest.fixture
def published(nworld):
    w = nworld
    notice = ns.notice_draft(
        actor=w.users["edu"],
        kind=NoticeKind.CRITICISM,
        title="已发布",
        body="正文",
        reference="R-9",
        improve_by=timezone.localdate() + dt.timedelta(days=5),
        subjects=[w.school.pk],
        recipients=[w.other_school.pk],
    )
    return ns.notice_publish(actor=w.users["edu"], notice=notice)


@pytest.mark.parametrize(
    ("name", "status", "count"),
    [
        (None, 401, None),
        ("nobody", 403, None),
        ("edu", 200, 1),
        ("principal", 200, 1),
        ("guard", 200, 1),
        ("principal2", 200, 1),
        ("police", 200, 0),
        ("farpolice", 200, 0),
        ("county", 200, 0),
        ("gov", 200, 0),
    ],
)
def test_list_role_and_scope(api, nworld, published, name, status, count):
    response = api("get", BASE, nworld.users[name] if name else None)
    assert response.status_code == status
    if count is not None:
        assert response.json()["count"] == count


def test_list_shape_filters_and_clamp(api, nworld, published):
    w = nworld
    item = api("get", BASE, w.users["principal"]).json()["items"][0]
    assert item["id"] == published.pk and item["days_left"] == 5 and item["overdue"] is False
    assert item["unread"] is True
    assert api("get", BASE, w.users["edu"]).json()["items"][0]["unread"] is False
    assert api("get", f"{BASE}?box=issued", w.users["principal"]).json()["count"] == 0
    assert api("get", f"{BASE}?box=issued", w.users["edu"]).json()["count"] == 1
    assert api("get", f"{BASE}?kind=commendation", w.users["edu"]).json()["count"] == 0
    assert api("get", f"{BASE}?box=bogus", w.users["edu"]).status_code == 400
    assert len(api("get", f"{BASE}?limit=0&offset=-3", w.users["edu"]).json()["items"]) == 1


def test_detail(api, nworld, published):
    w = nworld
    issuer = api("get", f"{BASE}/{published.pk}", w.users["edu"]).json()
    assert issuer["may_manage"] is True and len(issuer["receipts"]) == 2
    school = api("get", f"{BASE}/{published.pk}", w.users["principal"]).json()
    assert school["may_manage"] is False
    assert [r["organization_id"] for r in school["receipts"]] == [w.school.pk]
    assert api("get", f"{BASE}/{published.pk}", w.users["farpolice"]).status_code == 404
    assert api("get", f"{BASE}/{2**63}", w.users["edu"]).status_code == 400


def test_create_publish_read_resolve(api, nworld):
    w = nworld
    response = api("post", BASE, w.users["edu"], json=payload(w, all_schools=True))
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "draft"
    assert {r["organization_id"] for r in data["receipts"]} == {
        w.school.pk,
        w.other_school.pk,
        w.gov_office.pk,
    }
    notice_id = data["id"]
    assert api("post", f"{BASE}/{notice_id}/publish", w.users["principal"]).status_code == 404
    response = api("post", f"{BASE}/{notice_id}/publish", w.users["edu"])
    assert response.status_code == 200 and response.json()["status"] == "published"
    assert api("post", f"{BASE}/{notice_id}/publish", w.users["edu"]).status_code == 409

    assert api("post", f"{BASE}/{notice_id}/read", w.users["edu"]).status_code == 403
    read = api("post", f"{BASE}/{notice_id}/read", w.users["principal2"]).json()
    assert read["receipts"][0]["read_by"] and read["receipts"][0]["read_at"]
    assert read["unread"] is False
    assert api("get", f"{BASE}/{notice_id}", w.users["principal"]).json()["unread"] is True

    assert (
        api(
            "post", f"{BASE}/{notice_id}/resolve", w.users["edu"], json={"resolution": ""}
        ).status_code
        == 400
    )
    done = api("post", f"{BASE}/{notice_id}/resolve", w.users["edu"], json={"resolution": "已整改"})
    assert done.status_code == 200 and done.json()["resolved_at"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"improve_by": "2000-01-01"}, "improve_by"),
        ({"kind": "praise"}, "kind"),
        ({"subject_ids": [10**9]}, "subjects"),
        ({"title": ""}, "title"),
        ({"improve_by": "tomorrow"}, "improve_by"),
        ({"issuer_id": 10**9}, "issuer"),
    ],
)
def test_create_bad_input(api, nworld, overrides, field):
    w = nworld
    response = api("post", BASE, w.users["edu"], json=payload(w, **overrides))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(field in key for key in errors), errors
    assert not Notice.objects.exists()


def test_create_needs_assess(api, nworld):
    w = nworld
    assert api("post", BASE, w.users["principal"], json=payload(w)).status_code == 403
    assert api("post", BASE, None, json=payload(w)).status_code == 401
    assert not Notice.objects.exists()


def test_denied_publish_changes_nothing(api, nworld, published):
    w = nworld
    draft = ns.notice_draft(
        actor=w.users["edu"], kind=NoticeKind.COMMENDATION, title="草稿", body="正文"
    )
    before = Notification.objects.count()
    assert api("post", f"{BASE}/{draft.pk}/publish", w.users["gov"]).status_code == 404
    # Missing reference and subjects: 400 with both fields.
    response = api("post", f"{BASE}/{draft.pk}/publish", w.users["edu"])
    assert response.status_code == 400
    assert {"reference", "subjects"} <= set(response.json()["errors"])
    draft.refresh_from_db()
    assert draft.status == NoticeStatus.DRAFT and Notification.objects.count() == before
    assert not NoticeReceipt.objects.filter(notice=draft).exists()
