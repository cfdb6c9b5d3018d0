# ruff: noqa: F811 - pytest fixtures imported from campaign_fixtures are arguments here
"""Review fixes of self-check campaigns (ADR 0027, "Campaigns", "Review fixes"): a gap
recorded after the final acceptance date, the list's counts limited to the schools the
actor may see, and entry moves that cannot commit into a campaign closed meanwhile."""

from __future__ import annotations

import contextlib

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from huxiao.supervision import campaign_selectors as sel
from huxiao.supervision import campaign_services as cs
from huxiao.supervision.campaign_models import Campaign, CampaignAnswer, CampaignSchool
from huxiao.supervision.choices import CampaignResult, CampaignSchoolStatus, CampaignStatus
from huxiao.supervision.tests.campaign_fixtures import (
    TODAY,
    advance,
    answer_all,
    at,
    campaign,  # noqa: F401 - a fixture
    day,
    entry_of,
    items_of,
    real_campaign,
)

pytestmark = pytest.mark.django_db
ES = CampaignSchoolStatus
BASE = "/api/v1/supervision/campaigns"


# ------------------------------------------------------------------ 3. late gaps


def _gap(w, campaign, deadline, *, now):
    return cs.campaign_answer(
        actor=w.users["principal"],
        entry=entry_of(campaign, w.school),
        item=items_of(campaign)[0],
        result=CampaignResult.GAP,
        note="缺少专职保安员",
        gap_owner=w.users["security"],
        gap_deadline=deadline,
        now=now,
    )


def test_a_gap_after_the_acceptance_date_gets_up_to_thirty_days(sworld, campaign):
    """Acceptance was due on day 30; on day 40 the school still answers (the campaign
    runs): a gap due between today and today + 30 days is accepted."""
    w = sworld
    assert campaign.acceptance_due == day(30)
    now = at(day(40))
    answer = _gap(w, campaign, day(40 + 30), now=now)
    assert answer.gap_deadline == day(70)
    answer = _gap(w, campaign, day(40), now=now)
    assert answer.gap_deadline == day(40)
    assert cs.gap_deadline_bounds(campaign, day(40)) == (day(40), day(70))
    for deadline in (day(39), day(71)):
        with pytest.raises(ValidationError) as exc:
            _gap(w, campaign, deadline, now=now)
        assert "gap_deadline" in exc.value.message_dict
    assert CampaignAnswer.objects.get().gap_deadline == day(40)


def test_before_the_acceptance_date_the_acceptance_still_bounds(sworld, campaign):
    w = sworld
    now = at(day(25))
    assert _gap(w, campaign, day(30), now=now).gap_deadline == day(30)
    with pytest.raises(ValidationError) as exc:
        _gap(w, campaign, day(31), now=now)
    assert "gap_deadline" in exc.value.message_dict


# ------------------------------------------------------------------ 4. list counts


@pytest.mark.parametrize(
    ("name", "schools", "accepted"),
    [("edu", 2, 1), ("gov", 2, 1), ("principal", 1, 1), ("principal2", 1, 0)],
)
def test_list_counts_only_the_schools_the_actor_sees(sworld, name, schools, accepted):
    w = sworld
    running = real_campaign(w)
    advance(w, running, "accepted", now=None)
    row = sel.campaign_list(actor=w.users[name]).get(pk=running.pk)
    assert (row.school_count, row.accepted_count) == (schools, accepted)


def test_list_counts_api_and_page(api, client, sworld):
    w = sworld
    running = real_campaign(w)
    principal2 = w.users["principal2"]
    item = api("get", BASE, principal2).json()["items"][0]
    assert item["id"] == running.pk and item["school_count"] == 1
    # The detail already showed one school; the list now agrees with it.
    assert len(api("get", f"{BASE}/{running.pk}", principal2).json()["schools"]) == 1
    client.force_login(principal2)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("supervision:campaign_list")).content.decode()
    assert "0 of 1 schools accepted" in page and "of 2 schools" not in page


# ------------------------------------------------------------------ 5. moves vs closing


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_closing_waits_for_a_move_in_flight(sworld, monkeypatch):
    """A school submits while the office closes the campaign. The move has read the
    campaign as running; without the campaign's row lock the close commits first and the
    submission then commits into a closed campaign. With it, the close waits."""
    import threading

    from django.db import connections

    w = sworld
    campaign = cs.campaign_start(
        actor=w.users["edu"],
        campaign=cs.campaign_create(
            actor=w.users["edu"],
            title="春季护校安园专项自查",
            self_check_due=day(7),
            spot_check_due=day(14),
            acceptance_due=day(30),
            items=[{"text": "专职保安员配备到位", "reference": ""}],
            schools=[w.school.pk],
            now=at(TODAY, "08:00"),
        ),
        now=at(TODAY, "08:00"),
    )
    entry = answer_all(w, campaign)
    move_checked = threading.Event()
    close_done = threading.Event()
    order = []
    original = cs._require_running

    def checked_then_linger(campaign_row):
        original(campaign_row)
        if threading.current_thread().name == "move":
            move_checked.set()
            close_done.wait(timeout=1.5)  # the close gets through only without the lock

    monkeypatch.setattr(cs, "_require_running", checked_then_linger)
    outcomes = {}

    def move():
        try:
            outcomes["move"] = cs.entry_submit(
                actor=w.users["principal"], entry=entry, now=at(TODAY, "11:00")
            )
            order.append("move")
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcomes["move"] = exc
        finally:
            connections.close_all()

    def close():
        try:
            move_checked.wait(timeout=5)
            outcomes["close"] = cs.campaign_close(
                actor=w.users["edu"], campaign=campaign, now=at(TODAY, "11:00")
            )
            order.append("close")
            close_done.set()
        except Exception as exc:  # noqa: BLE001
            outcomes["close"] = exc
        finally:
            with contextlib.suppress(Exception):
                connections.close_all()

    threads = [threading.Thread(target=move, name="move"), threading.Thread(target=close)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert order == ["move", "close"], outcomes
    assert CampaignSchool.objects.get(pk=entry.pk).status == ES.SUBMITTED
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.CLOSED
