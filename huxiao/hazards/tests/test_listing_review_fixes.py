"""Review fixes of listed supervision (ADR 0026, "Review fixes"): a listing whose hazard is
verified and closed awaits lifting (待摘牌) — no reminders, no overdue countdown, the
supervising office told once — and a hazard reopened after its listing was lifted may be
listed again (one active listing per hazard)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from huxiao.hazards import hazard_services as hs
from huxiao.hazards import listing_selectors as selectors
from huxiao.hazards import listing_services as ls
from huxiao.hazards.choices import HazardLevel, HazardStatus, ListingStatus
from huxiao.hazards.models import ListedSupervision
from huxiao.hazards.tests import listing_fixtures
from huxiao.hazards.tests.hazard_fixtures import advance, at, day, photo, report
from huxiao.hazards.tests.listing_fixtures import NOW
from huxiao.notify.models import Delivery, Notification

pytestmark = pytest.mark.django_db
lworld = listing_fixtures.lworld
BOARD = reverse("hazards:listing_board")


def inbox(user, event_type) -> int:
    return Delivery.objects.filter(
        recipient=user, channel="inbox", notification__event_type=event_type
    ).count()


def listing_of(hazard) -> ListedSupervision:
    """The hazard's one listing (in the tests of part 1)."""
    return ListedSupervision.objects.get(hazard=hazard)


def closed_major(w, *, deadline=None, now=None):
    """A major hazard (listed automatically by the town office) verified and closed."""
    now = now or NOW
    hazard = report(w, level=HazardLevel.MAJOR, deadline=deadline or day(7), now=now)
    hazard = advance(w, hazard, "closed", now=now + dt.timedelta(hours=1))
    assert hazard.status == HazardStatus.CLOSED
    return hazard


# ------------------------------------------------------------------ 1. awaiting lifting


def test_a_listing_whose_hazard_is_closed_is_not_reminded(lworld):
    w = lworld
    hazard = closed_major(w)
    listing = listing_of(hazard)
    assert listing.status == ListingStatus.ACTIVE
    # Near the deadline, on it and past it: nobody is reminded of a closed hazard.
    for n in (5, 7, 8, 20):
        result = ls.listings_remind(now=at(day(n), "07:40"))
        assert result["near"] == [] and result["overdue"] == []
    assert inbox(w.users["principal"], "listings.due") == 0
    assert inbox(w.users["principal"], "listings.overdue") == 0
    assert inbox(w.users["gov"], "listings.overdue") == 0


def test_an_open_listed_hazard_is_still_reminded(lworld):
    """The exclusion is of closed hazards only (the test above can fail)."""
    w = lworld
    hazard = report(w, level=HazardLevel.MAJOR, deadline=day(7))
    hazard = advance(w, hazard, "submitted")
    listing = listing_of(hazard)
    assert ls.listings_remind(now=at(day(8), "07:40"))["overdue"] == [listing.pk]
    assert inbox(w.users["gov"], "listings.overdue") == 1


def test_the_office_is_told_once_when_the_listed_hazard_is_closed(lworld):
    w = lworld
    hazard = closed_major(w)
    listing = listing_of(hazard)
    gov, county = w.users["gov"], w.users["county"]
    assert inbox(gov, "listings.hazard_closed") == 1
    # The county coordinator (not the supervising office) is not told.
    assert inbox(county, "listings.hazard_closed") == 0
    note = Notification.objects.get(event_type="listings.hazard_closed")
    assert note.payload == {
        "listing_id": listing.pk,
        "school_id": w.school.pk,
        "hazard_id": hazard.pk,
    }
    # The daily job does not tell it again, today or later.
    assert ls.listings_remind(now=at(day(1), "07:40"))["awaiting"] == []
    assert ls.listings_remind(now=at(day(9), "07:40"))["awaiting"] == []
    assert inbox(gov, "listings.hazard_closed") == 1


def test_the_daily_job_catches_up_on_a_closure_not_told(lworld):
    """E.g. a hazard closed before this rule existed: told once by the next morning's job."""
    w = lworld
    hazard = closed_major(w)
    listing = listing_of(hazard)
    Notification.objects.filter(event_type="listings.hazard_closed").delete()
    assert ls.listings_remind(now=at(day(1), "07:40"))["awaiting"] == [listing.pk]
    assert inbox(w.users["gov"], "listings.hazard_closed") == 1
    assert ls.listings_remind(now=at(day(1), "09:00"))["awaiting"] == []
    assert ls.listings_remind(now=at(day(2), "07:40"))["awaiting"] == []
    assert inbox(w.users["gov"], "listings.hazard_closed") == 1


def test_a_lifted_listing_is_not_awaiting(lworld):
    w = lworld
    hazard = closed_major(w)
    Notification.objects.filter(event_type="listings.hazard_closed").delete()
    ls.listing_lift(actor=w.users["gov"], listing=listing_of(hazard), note="验收合格")
    assert ls.listings_remind(now=at(day(1), "07:40"))["awaiting"] == []
    assert inbox(w.users["gov"], "listings.hazard_closed") == 0


def test_countdown_says_awaiting_lifting_not_overdue(lworld):
    w = lworld
    hazard = closed_major(w)
    listing = listing_of(hazard)
    assert selectors.countdown(listing, day(9)) == {"days": 0, "state": "awaiting"}
    assert selectors.awaits_lifting(listing)
    ls.listing_lift(actor=w.users["gov"], listing=listing, note="验收合格")
    listing.refresh_from_db()
    assert selectors.countdown(listing, day(9))["state"] == "lifted"


def _closed_in_the_past(w):
    """A major hazard listed 20 days ago with a deadline 13 days ago, closed 15 days ago:
    the pages count from the real today."""
    then = timezone.now() - dt.timedelta(days=20)
    hazard = report(
        w,
        level=HazardLevel.MAJOR,
        deadline=timezone.localdate(then) + dt.timedelta(days=7),
        now=then,
    )
    later = then + dt.timedelta(days=5)
    hazard = hs.hazard_assign(
        actor=w.users["principal"],
        hazard=hazard,
        owner=w.users["security"],
        deadline=timezone.localdate(then) + dt.timedelta(days=7),
        plan="清理杂物",
        now=later,
    )
    hazard = hs.hazard_start(actor=w.users["security"], hazard=hazard, now=later)
    hazard = hs.hazard_submit(
        actor=w.users["security"], hazard=hazard, note="已清理", photos=[photo()], now=later
    )
    return hs.hazard_verify(actor=w.users["edu"], hazard=hazard, now=later)


def test_board_and_detail_show_awaiting_lifting(client, lworld):
    w = lworld
    hazard = _closed_in_the_past(w)
    listing = listing_of(hazard)
    client.force_login(w.users["gov"])
    board = client.get(BOARD).content.decode()
    assert 'data-state="awaiting"' in board and 'data-state="overdue"' not in board
    detail = client.get(reverse("hazards:listing_detail", args=[listing.pk])).content.decode()
    assert 'data-state="awaiting"' in detail and 'data-testid="awaiting-lifting"' in detail
    page = client.get(reverse("hazards:hazard_detail", args=[hazard.pk])).content.decode()
    assert 'data-state="awaiting"' in page


def test_api_countdown_awaiting(api, lworld):
    w = lworld
    listing = listing_of(_closed_in_the_past(w))
    response = api("get", f"/api/v1/hazards/listings/{listing.pk}", w.users["gov"])
    assert response.status_code == 200
    assert response.json()["countdown"] == "awaiting"
    assert response.json()["days_left"] < 0


# ------------------------------------------------------------------ 2. listed again


def _reopen(w, hazard, n=3):
    return hs.hazard_reopen(
        actor=w.users["edu"],
        hazard=hazard,
        reason="复查发现通道再次堵塞",
        deadline=day(n + 7),
        now=at(day(n)),
    )


def test_a_reopened_hazard_can_be_listed_again(lworld):
    w = lworld
    hazard = closed_major(w)
    first = listing_of(hazard)
    ls.listing_lift(actor=w.users["gov"], listing=first, note="验收合格", now=at(day(2)))
    hazard = _reopen(w, hazard)
    again = ls.listing_create(
        actor=w.users["gov"],
        hazard=hazard,
        reason="整改后反弹，再次挂牌督办",
        deadline=day(12),
        now=at(day(3)),
    )
    assert again.pk != first.pk and again.status == ListingStatus.ACTIVE
    assert set(hazard.listings.values_list("pk", flat=True)) == {first.pk, again.pk}
    assert ls.may_list_hazard(w.users["gov"], hazard) is False
    # The hazard page's block shows the active listing, not the lifted one.
    assert selectors.listing_of_hazard(actor=w.users["gov"], hazard=hazard) == again


def test_the_hazard_page_offers_listing_again_after_lifting(client, lworld):
    w = lworld
    hazard = closed_major(w)
    ls.listing_lift(actor=w.users["gov"], listing=listing_of(hazard), note="验收合格")
    _reopen(w, hazard, n=0)
    client.force_login(w.users["gov"])
    page = client.get(reverse("hazards:hazard_detail", args=[hazard.pk])).content.decode()
    assert 'data-testid="hazard-list-action"' in page


def test_a_second_active_listing_of_a_hazard_is_refused(lworld):
    w = lworld
    hazard = report(w, level=HazardLevel.MAJOR, deadline=day(7))
    with pytest.raises(ls.ListingRefused):
        ls.listing_create(
            actor=w.users["gov"], hazard=hazard, reason="再挂一次", deadline=day(9), now=NOW
        )
    assert hazard.listings.count() == 1
    # The database holds the rule too.
    first = listing_of(hazard)
    with pytest.raises(IntegrityError), transaction.atomic():
        ListedSupervision.objects.create(
            school=first.school,
            hazard=hazard,
            title="x",
            reason="x",
            supervising_org=first.supervising_org,
            deadline=day(9),
            listed_at=NOW,
        )
