# ruff: noqa: F811 - pytest fixtures imported from campaign_fixtures are arguments here
"""Pages of campaigns: who gets 200, 403 and 404; the new-campaign form and the draft
editor; start and close; one item per screen; the school's moves and the reviewers' (409
with the reason, 400 with the messages)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from huxiao.supervision.campaign_models import Campaign, CampaignAnswer
from huxiao.supervision.choices import CampaignResult, CampaignSchoolStatus, GapStatus
from huxiao.supervision.tests.campaign_fixtures import (
    advance,
    answer_all,
    entry_of,
    items_of,
    real_campaign,
    real_today,
)

pytestmark = pytest.mark.django_db
ES = CampaignSchoolStatus
LIST = reverse("supervision:campaign_list")


def login(client, user):
    client.force_login(user)
    return client


def ahead(n: int) -> str:
    return (real_today() + dt.timedelta(days=n)).isoformat()


@pytest.fixture
def running(sworld):
    return real_campaign(sworld)


def detail_url(campaign):
    return reverse("supervision:campaign_detail", args=[campaign.pk])


def entry_url(campaign, school):
    return reverse("supervision:entry_detail", args=[campaign.pk, school.pk])


@pytest.mark.parametrize(
    ("name", "status", "sees", "rows"),
    [
        ("edu", 200, True, 2),
        ("gov", 200, True, 2),
        ("county", 200, True, 2),
        ("principal", 200, True, 1),
        ("guard", 200, True, 1),
        ("principal2", 200, True, 1),
        ("police", 403, False, None),
        ("nobody", 403, False, None),
    ],
)
def test_list_and_progress_role_and_scope(client, sworld, running, name, status, sees, rows):
    c = login(client, sworld.users[name])
    response = c.get(LIST)
    assert response.status_code == status
    if status == 200:
        assert (running.title in response.content.decode()) is sees
    page = c.get(detail_url(running))
    assert page.status_code == status
    if rows is not None:
        assert page.content.decode().count('data-testid="entry-row"') == rows


def test_anonymous_goes_to_login(client, running):
    assert client.get(LIST).status_code == 302
    assert client.get(detail_url(running)).status_code == 302


def test_school_sees_its_own_entry_in_the_list(client, sworld, running):
    body = login(client, sworld.users["principal"]).get(LIST).content.decode()
    assert 'data-testid="my-entry"' in body
    assert entry_url(running, sworld.school) in body
    body = login(client, sworld.users["edu"]).get(LIST).content.decode()
    assert 'data-testid="my-entry"' not in body and 'data-testid="campaign-new"' in body


def test_entry_page_scope(client, sworld, running):
    w = sworld
    url = entry_url(running, w.school)
    for name, status in (
        ("principal", 200),
        ("teacher", 200),
        ("edu", 200),
        ("county", 200),
        ("principal2", 404),
        ("farpolice", 403),
    ):
        assert login(client, w.users[name]).get(url).status_code == status, name
    far = entry_url(running, w.far_school)
    assert login(client, w.users["edu"]).get(far).status_code == 404
    big = f"/supervision/campaigns/{2**63}/"
    assert login(client, w.users["edu"]).get(big).status_code == 404


def test_draft_pages(client, sworld):
    w = sworld
    draft = real_campaign(w, start=False)
    assert login(client, w.users["gov"]).get(detail_url(draft)).status_code == 404
    assert login(client, w.users["principal"]).get(detail_url(draft)).status_code == 404
    c = login(client, w.users["edu"])
    body = c.get(detail_url(draft)).content.decode()
    assert 'data-testid="do-start"' in body and 'data-testid="campaign-edit"' in body
    edit = reverse("supervision:campaign_edit", args=[draft.pk])
    assert c.get(edit).status_code == 200
    assert login(client, w.users["county"]).get(edit).status_code == 404


def test_new_campaign_form(client, sworld):
    w = sworld
    c = login(client, w.users["edu"])
    url = reverse("supervision:campaign_new")
    assert c.get(url).status_code == 200
    assert login(client, w.users["principal"]).get(url).status_code == 403
    c = login(client, w.users["edu"])
    data = {
        "title": "秋季自查",
        "self_check_due": ahead(3),
        "spot_check_due": ahead(6),
        "acceptance_due": ahead(9),
        "items": "保安持证上岗 [§2 4]\n\n监控联网",
        "all_schools": "on",
    }
    response = c.post(url, data)
    assert response.status_code == 302
    campaign = Campaign.objects.get(title="秋季自查")
    assert [(i.text, i.reference) for i in items_of(campaign)] == [
        ("保安持证上岗", "§2 4"),
        ("监控联网", ""),
    ]
    assert campaign.schools.count() == 2
    # Dates out of order: 400, messages in place, nothing written.
    with translation.override("en"):
        bad = c.post(url, {**data, "title": "坏", "acceptance_due": ahead(1)})
    assert bad.status_code == 400
    assert "验收截止日期不能早于抽查截止日期" in bad.content.decode()
    assert not Campaign.objects.filter(title="坏").exists()
    # A school outside the office's choices is a form error, not a write.
    bad = c.post(url, {**data, "title": "外", "schools": [w.far_school.pk]})
    assert bad.status_code == 400 and not Campaign.objects.filter(title="外").exists()


def test_edit_then_start_then_close(client, sworld):
    w = sworld
    draft = real_campaign(w, start=False)
    c = login(client, w.users["edu"])
    edit = reverse("supervision:campaign_edit", args=[draft.pk])
    response = c.post(
        edit,
        {
            "title": "改后",
            "self_check_due": ahead(2),
            "spot_check_due": ahead(4),
            "acceptance_due": ahead(8),
            "items": "唯一一项",
            "schools": [w.school.pk],
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "改后" and draft.schools.count() == 1
    start = reverse("supervision:campaign_move", args=[draft.pk, "start"])
    close = reverse("supervision:campaign_move", args=[draft.pk, "close"])
    assert c.post(close).status_code == 409
    assert login(client, w.users["gov"]).post(start).status_code == 404
    c = login(client, w.users["edu"])
    assert c.post(start).status_code == 302
    assert c.post(start).status_code == 409
    assert c.get(edit).status_code == 409
    assert login(client, w.users["principal"]).post(close).status_code == 403
    assert login(client, w.users["edu"]).post(close).status_code == 302
    assert c.post(reverse("supervision:campaign_move", args=[draft.pk, "bogus"])).status_code == 404


def test_start_without_items_shows_the_messages(client, sworld):
    w = sworld
    draft = real_campaign(w, start=False, items=[])
    response = login(client, w.users["edu"]).post(
        reverse("supervision:campaign_move", args=[draft.pk, "start"])
    )
    assert response.status_code == 400 and 'data-testid="errors"' in response.content.decode()


def test_one_item_per_screen(client, sworld, running):
    w = sworld
    items = items_of(running)
    url = reverse("supervision:entry_item", args=[running.pk, w.school.pk, items[0].pk])
    c = login(client, w.users["principal"])
    assert c.get(url).status_code == 200
    # The teacher and the reviewers do not do the self-check.
    assert login(client, w.users["teacher"]).get(url).status_code == 403
    assert login(client, w.users["edu"]).get(url).status_code == 403
    assert login(client, w.users["principal2"]).get(url).status_code == 404
    c = login(client, w.users["principal"])
    # A gap without an owner: 400 with the messages, nothing saved.
    with translation.override("en"):
        bad = c.post(url, {"result": "gap", "note": "缺"})
    assert bad.status_code == 400 and "请指定整改责任人" in bad.content.decode()
    assert not CampaignAnswer.objects.exists()
    response = c.post(
        url,
        {
            "result": "gap",
            "note": "缺",
            "gap_owner": w.users["guard"].pk,
            "gap_deadline": ahead(3),
        },
    )
    next_url = reverse("supervision:entry_item", args=[running.pk, w.school.pk, items[1].pk])
    assert response.status_code == 302 and response["Location"] == next_url
    c.post(next_url, {"result": "meets"})
    last = reverse("supervision:entry_item", args=[running.pk, w.school.pk, items[2].pk])
    response = c.post(last, {"result": "na", "note": "无"})
    assert response["Location"] == entry_url(running, w.school)
    body = c.get(entry_url(running, w.school)).content.decode()
    assert 'data-testid="gap-row"' in body and 'data-testid="do-submit"' in body
    assert (
        c.get(reverse("supervision:entry_item", args=[running.pk, w.school.pk, 999999])).status_code
        == 404
    )


def test_school_and_reviewer_moves(client, sworld, running):
    w = sworld
    answer_all(w, running, gaps=(0,), now=None)
    submit = reverse("supervision:entry_move", args=[running.pk, w.school.pk, "submit"])
    spot = reverse("supervision:entry_move", args=[running.pk, w.school.pk, "spot-check"])
    ret = reverse("supervision:entry_move", args=[running.pk, w.school.pk, "return"])
    accept = reverse("supervision:entry_move", args=[running.pk, w.school.pk, "accept"])
    edu = login(client, w.users["edu"])
    assert edu.post(submit).status_code == 403
    assert edu.post(spot, {"spot-check-note": "n"}).status_code == 409
    principal = login(client, w.users["principal"])
    assert principal.post(submit).status_code == 302
    assert entry_of(running, w.school).status == ES.SUBMITTED
    assert principal.post(ret, {"return-reason": "x"}).status_code == 403
    assert principal.post(ret, {}).status_code == 403  # rights before input
    edu = login(client, w.users["edu"])
    assert edu.post(ret, {"return-reason": ""}).status_code == 400
    assert edu.post(spot, {"spot-check-note": "抽查一致"}).status_code == 302
    response = edu.post(accept, {})
    assert response.status_code == 409 and 'data-testid="refusal"' in response.content.decode()
    gap = CampaignAnswer.objects.get(result=CampaignResult.GAP)
    fixed = reverse("supervision:gap_fixed", args=[running.pk, w.school.pk, gap.item_id])
    assert login(client, w.users["teacher"]).post(fixed, {}).status_code == 403
    owner = login(client, w.users["security"])
    page = owner.get(entry_url(running, w.school)).content.decode()
    assert f'data-testid="do-fix-{gap.item_id}"' in page
    assert owner.post(fixed, {f"fix-{gap.item_id}-note": ""}).status_code == 400
    assert owner.post(fixed, {f"fix-{gap.item_id}-note": "已整改"}).status_code == 302
    gap.refresh_from_db()
    assert gap.gap_status == GapStatus.FIXED
    assert owner.post(fixed, {f"fix-{gap.item_id}-note": "再"}).status_code == 409
    edu = login(client, w.users["edu"])
    assert edu.post(accept, {}).status_code == 302
    assert entry_of(running, w.school).status == ES.ACCEPTED
    body = edu.get(detail_url(running)).content.decode()
    assert 'data-testid="total-accepted-pct">50%' in body
    assert (
        edu.post(
            reverse("supervision:entry_move", args=[running.pk, w.school.pk, "bogus"])
        ).status_code
        == 404
    )


def test_overdue_flags_on_the_pages(client, sworld):
    w = sworld
    past = real_campaign(w, title="已过期")
    # Move the dates into the past as if the campaign had run for a while.
    Campaign.objects.filter(pk=past.pk).update(
        self_check_due=real_today() - dt.timedelta(days=2),
        spot_check_due=real_today() - dt.timedelta(days=1),
    )
    advance(w, past, "submitted", school=w.other_school)
    body = login(client, w.users["edu"]).get(detail_url(past)).content.decode()
    assert body.count('data-testid="overdue"') == 2
    assert 'data-testid="total-late">2<' in body


def test_progress_page_queries_do_not_grow(client, sworld):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from huxiao.orgs.tests.factories import SchoolFactory

    w = sworld
    small = real_campaign(w, title="小")
    c = login(client, w.users["edu"])
    c.get(detail_url(small))
    with CaptureQueriesContext(connection) as few:
        c.get(detail_url(small))
    schools = [SchoolFactory(town=w.town, name=f"学校{i}") for i in range(12)]
    big = real_campaign(w, title="大", schools=[s.pk for s in schools])
    with CaptureQueriesContext(connection) as many:
        c.get(detail_url(big))
    assert len(many.captured_queries) <= len(few.captured_queries)
    with CaptureQueriesContext(connection) as listing:
        c.get(LIST)
    assert len(listing.captured_queries) <= 12
