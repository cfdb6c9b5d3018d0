# ruff: noqa: F811 - pytest fixtures imported from campaign_fixtures are arguments here
"""The campaigns API: role × scope, the draft → running → closed steps, the school's answers
and the reviewers' moves (409 when the state refuses them), bad input as 400."""

from __future__ import annotations

import datetime as dt

import pytest

from huxiao.supervision.campaign_models import Campaign, CampaignAnswer
from huxiao.supervision.choices import CampaignSchoolStatus, CampaignStatus
from huxiao.supervision.tests.campaign_fixtures import (
    ITEMS,
    advance,
    entry_of,
    items_of,
    real_campaign,
    real_today,
)

pytestmark = pytest.mark.django_db
BASE = "/api/v1/supervision/campaigns"
ES = CampaignSchoolStatus


def ahead(n: int) -> str:
    return (real_today() + dt.timedelta(days=n)).isoformat()


@pytest.fixture
def running(sworld):
    return real_campaign(sworld)


@pytest.mark.parametrize(
    ("name", "status", "count", "schools"),
    [
        (None, 401, None, None),
        ("nobody", 403, None, None),
        ("police", 403, None, None),
        ("farpolice", 403, None, None),
        ("edu", 200, 2, 2),  # the running one and its draft
        ("gov", 200, 1, 2),
        ("county", 200, 1, 2),
        ("principal", 200, 1, 1),
        ("teacher", 200, 1, 1),
        ("principal2", 200, 1, 1),
    ],
)
def test_list_and_detail_role_and_scope(api, sworld, running, name, status, count, schools):
    w = sworld
    real_campaign(w, start=False, title="草稿")
    user = w.users[name] if name else None
    response = api("get", BASE, user)
    assert response.status_code == status
    if count is None:
        assert api("get", f"{BASE}/{running.pk}", user).status_code == status
        return
    assert response.json()["count"] == count
    detail = api("get", f"{BASE}/{running.pk}", user)
    assert detail.status_code == 200
    assert len(detail.json()["schools"]) == schools


def test_draft_is_not_found_for_others(api, sworld):
    w = sworld
    draft = real_campaign(w, start=False)
    assert api("get", f"{BASE}/{draft.pk}", w.users["edu"]).status_code == 200
    for name in ("gov", "county", "principal"):
        assert api("get", f"{BASE}/{draft.pk}", w.users[name]).status_code == 404
    assert api("get", f"{BASE}/999999", w.users["edu"]).status_code == 404
    assert api("get", f"{BASE}/{2**63}", w.users["edu"]).status_code == 400


def test_create_edit_start_close(api, sworld):
    w = sworld
    edu = w.users["edu"]
    payload = {
        "title": "秋季专项自查",
        "self_check_due": ahead(5),
        "spot_check_due": ahead(10),
        "acceptance_due": ahead(20),
        "items": ITEMS,
        "all_schools": True,
    }
    response = api("post", BASE, edu, json=payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and len(body["items"]) == 3 and len(body["schools"]) == 2
    cid = body["id"]
    # The principal may not create; bad dates and foreign schools are 400 with fields.
    assert api("post", BASE, w.users["principal"], json=payload).status_code == 403
    bad = api(
        "post",
        BASE,
        edu,
        json={**payload, "acceptance_due": ahead(1), "school_ids": [w.far_school.pk]},
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"acceptance_due", "schools"}
    assert api("post", BASE, edu, json={**payload, "self_check_due": "soon"}).status_code == 400
    assert Campaign.objects.count() == 1

    patched = api("patch", f"{BASE}/{cid}", edu, json={"title": "改", "school_ids": [w.school.pk]})
    assert patched.status_code == 200 and patched.json()["title"] == "改"
    assert len(patched.json()["schools"]) == 1
    assert api("patch", f"{BASE}/{cid}", w.users["gov"], json={"title": "x"}).status_code == 404

    assert api("post", f"{BASE}/{cid}/close", edu).status_code == 409
    assert api("post", f"{BASE}/{cid}/start", w.users["gov"]).status_code == 404
    started = api("post", f"{BASE}/{cid}/start", edu)
    assert started.status_code == 200 and started.json()["status"] == "running"
    again = api("post", f"{BASE}/{cid}/start", edu)
    assert again.status_code == 409 and again.json()["detail"]
    refused = api("patch", f"{BASE}/{cid}", edu, json={"title": "x"})
    assert refused.status_code == 409
    assert api("post", f"{BASE}/{cid}/close", w.users["gov"]).status_code == 403
    closed = api("post", f"{BASE}/{cid}/close", edu)
    assert closed.status_code == 200 and closed.json()["status"] == CampaignStatus.CLOSED


def test_start_without_items_is_400(api, sworld):
    w = sworld
    draft = real_campaign(w, start=False, items=[])
    response = api("post", f"{BASE}/{draft.pk}/start", w.users["edu"])
    assert response.status_code == 400 and "items" in response.json()["errors"]


def test_school_answers_all_or_nothing(api, sworld, running):
    w = sworld
    url = f"{BASE}/{running.pk}/schools/{w.school.pk}"
    items = items_of(running)
    principal = w.users["principal"]
    good = {"item_id": items[0].pk, "result": "meets"}
    bad_gap = {
        "item_id": items[1].pk,
        "result": "gap",
        "note": "缺",
        "gap_owner_id": w.users["principal2"].pk,
        "gap_deadline": ahead(3),
    }
    response = api("post", f"{url}/answers", principal, json={"answers": [good, bad_gap]})
    assert response.status_code == 400
    assert "answers.1.gap_owner" in response.json()["errors"]
    assert not CampaignAnswer.objects.exists()  # all or nothing
    gap = {**bad_gap, "gap_owner_id": w.users["guard"].pk}
    response = api("post", f"{url}/answers", principal, json={"answers": [good, gap]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert [a["result"] for a in body["answers"]] == ["meets", "gap", None]
    assert body["answers"][1]["gap_owner_id"] == w.users["guard"].pk
    assert body["may_answer"] is True and body["allowed_moves"] == ["submit"]
    # Not everything answered: submit is 400 with the items named.
    response = api("post", f"{url}/submit", principal)
    assert response.status_code == 400 and ITEMS[2]["text"] in str(response.json())
    # Others.
    for name, status in (("teacher", 403), ("edu", 403), ("principal2", 404), ("police", 403)):
        answer = api("post", f"{url}/answers", w.users[name], json={"answers": [good]})
        assert answer.status_code == status, name
    garbage = api("post", f"{url}/answers", principal, json={"answers": []})
    assert garbage.status_code == 400
    bad_result = api(
        "post", f"{url}/answers", principal, json={"answers": [{**good, "result": "x"}]}
    )
    assert bad_result.status_code == 400 and "answers.0.result" in bad_result.json()["errors"]


def test_the_whole_way_through_the_api(api, sworld, running):
    w = sworld
    url = f"{BASE}/{running.pk}/schools/{w.school.pk}"
    items = items_of(running)
    principal, edu = w.users["principal"], w.users["edu"]
    answers = [{"item_id": i.pk, "result": "meets"} for i in items]
    answers[0] = {
        "item_id": items[0].pk,
        "result": "gap",
        "note": "缺少保安",
        "gap_owner_id": w.users["security"].pk,
        "gap_deadline": ahead(2),
    }
    assert api("post", f"{url}/answers", principal, json={"answers": answers}).status_code == 200
    # Reviewers may not act before the submission (409); the school may not review (403).
    assert api("post", f"{url}/spot-check", edu, json={"note": "n"}).status_code == 409
    submitted = api("post", f"{url}/submit", principal)
    assert submitted.status_code == 200 and submitted.json()["status"] == ES.SUBMITTED
    assert api("post", f"{url}/return", principal, json={"reason": "r"}).status_code == 403
    empty = api("post", f"{url}/return", edu, json={"reason": " "})
    assert empty.status_code == 400 and "reason" in empty.json()["errors"]
    returned = api("post", f"{url}/return", edu, json={"reason": "请补充"})
    assert returned.json()["status"] == ES.RETURNED
    assert returned.json()["review_note"] == "请补充"
    assert api("post", f"{url}/submit", principal).json()["status"] == ES.SUBMITTED
    spot = api("post", f"{url}/spot-check", w.users["gov"], json={"note": "抽查"})
    assert spot.json()["status"] == ES.SPOT_CHECKED and spot.json()["allowed_moves"] == [
        "accept",
        "return",
    ]
    blocked = api("post", f"{url}/accept", edu, json={})
    assert blocked.status_code == 409 and ITEMS[0]["text"] in blocked.json()["detail"]
    gap_url = f"{url}/gaps/{items[0].pk}/fixed"
    assert api("post", gap_url, w.users["teacher"], json={"note": "x"}).status_code == 403
    assert api("post", gap_url, w.users["security"], json={"note": ""}).status_code == 400
    fixed = api("post", gap_url, w.users["security"], json={"note": "已到岗"})
    assert fixed.status_code == 200 and fixed.json()["answers"][0]["gap_status"] == "fixed"
    assert api("post", gap_url, w.users["security"], json={"note": "x"}).status_code == 409
    assert (
        api("post", f"{url}/gaps/{items[1].pk}/fixed", principal, json={"note": "x"}).status_code
        == 409
    )
    assert api("post", f"{url}/gaps/999999/fixed", principal, json={"note": "x"}).status_code == 404
    accepted = api("post", f"{url}/accept", edu, json={"note": "通过"})
    assert accepted.status_code == 200 and accepted.json()["status"] == ES.ACCEPTED
    events = accepted.json()["events"]
    assert [e["to_status"] for e in events][-1] == ES.ACCEPTED
    detail = api("get", BASE + f"/{running.pk}", edu).json()
    assert detail["totals"]["by_status"]["accepted"] == 1 and detail["totals"]["accepted_pct"] == 50


def test_entry_scope(api, sworld, running):
    w = sworld
    url = f"{BASE}/{running.pk}/schools/{w.school.pk}"
    assert api("get", url, w.users["principal"]).status_code == 200
    assert api("get", url, w.users["guard"]).status_code == 200
    assert api("get", url, w.users["county"]).status_code == 200
    assert api("get", url, w.users["principal2"]).status_code == 404
    assert api("get", url, w.users["police"]).status_code == 403
    assert api("get", url, None).status_code == 401
    far = f"{BASE}/{running.pk}/schools/{w.far_school.pk}"
    assert api("get", far, w.users["edu"]).status_code == 404


def test_spot_check_with_an_unknown_inspection_is_400(api, sworld, running):
    w = sworld
    advance(w, running, "submitted", now=None)
    url = f"{BASE}/{running.pk}/schools/{w.school.pk}/spot-check"
    response = api("post", url, w.users["edu"], json={"note": "n", "inspection_id": 999999})
    assert response.status_code == 400 and "inspection" in response.json()["errors"]
    assert entry_of(running, w.school).status == ES.SUBMITTED


def test_list_filter_and_clamp(api, sworld, running):
    w = sworld
    real_campaign(w, start=False, title="草稿")
    edu = w.users["edu"]
    assert api("get", f"{BASE}?status=draft", edu).json()["count"] == 1
    assert api("get", f"{BASE}?status=bogus", edu).status_code == 400
    page = api("get", f"{BASE}?limit=0&offset=-3", edu).json()
    assert page["count"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["school_count"] == 2
