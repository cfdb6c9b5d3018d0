"""The daily reminder of listed supervisions with a controllable clock: due within three
days → the school's principals; overdue → the principals and the supervising office;
once per listing and day; lifted listings are left alone."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from huxiao.hazards import listing_services as ls
from huxiao.hazards import tasks
from huxiao.hazards.tests import listing_fixtures
from huxiao.hazards.tests.hazard_fixtures import at, day
from huxiao.hazards.tests.listing_fixtures import list_problem
from huxiao.notify.models import Delivery, Notification

pytestmark = pytest.mark.django_db
lworld = listing_fixtures.lworld


def inbox(user, event_type) -> int:
    return Delivery.objects.filter(
        recipient=user, channel="inbox", notification__event_type=event_type
    ).count()


@pytest.fixture
def listing(lworld):
    """Listed on Monday (day 0), due on day 10."""
    return list_problem(lworld, deadline=day(10))


def test_nothing_before_the_reminder_window(lworld, listing):
    assert ls.listings_remind(now=at(day(6), "07:40")) == {
        "near": [],
        "overdue": [],
        "awaiting": [],
    }
    assert not Notification.objects.filter(event_type__startswith="listings.d").exists()


def test_near_then_today_then_overdue_once_a_day(lworld, listing):
    w = lworld
    principal, gov = w.users["principal"], w.users["gov"]
    assert ls.listings_remind(now=at(day(7), "07:40")) == {
        "near": [listing.pk],
        "overdue": [],
        "awaiting": [],
    }
    assert inbox(principal, "listings.due") == 1 and inbox(gov, "listings.due") == 0
    # A second run the same day (another worker, a restart) sends nothing.
    assert ls.listings_remind(now=at(day(7), "18:00")) == {
        "near": [],
        "overdue": [],
        "awaiting": [],
    }
    assert inbox(principal, "listings.due") == 1
    # The next days: once each.
    assert ls.listings_remind(now=at(day(8), "07:40"))["near"] == [listing.pk]
    assert ls.listings_remind(now=at(day(10), "07:40"))["near"] == [listing.pk]
    assert inbox(principal, "listings.due") == 3
    today_note = Notification.objects.filter(event_type="listings.due").order_by("-pk").first()
    assert today_note.payload["listing_id"] == listing.pk
    # Overdue: the supervising office is told as well.
    assert ls.listings_remind(now=at(day(11), "07:40")) == {
        "near": [],
        "overdue": [listing.pk],
        "awaiting": [],
    }
    assert inbox(principal, "listings.overdue") == 1 and inbox(gov, "listings.overdue") == 1
    assert ls.listings_remind(now=at(day(11), "09:00"))["overdue"] == []
    assert ls.listings_remind(now=at(day(12), "07:40"))["overdue"] == [listing.pk]
    assert inbox(gov, "listings.overdue") == 2
    # The county coordinator (not the supervising office) is not told.
    assert inbox(w.users["county"], "listings.overdue") == 0


def test_lifted_listings_are_not_reminded(lworld, listing):
    ls.listing_lift(actor=lworld.users["gov"], listing=listing, note="已整改", now=at(day(2)))
    assert ls.listings_remind(now=at(day(11), "07:40")) == {
        "near": [],
        "overdue": [],
        "awaiting": [],
    }


def test_one_notification_per_listing_and_queries_do_not_grow(lworld):
    w = lworld
    for i in range(2):
        list_problem(w, title=f"问题{i}", reference=f"挂督〔2025〕{i}号", deadline=day(1))
    with CaptureQueriesContext(connection) as two:
        assert len(ls.listings_remind(now=at(day(2), "07:40"))["overdue"]) == 2
    for i in range(2, 8):
        list_problem(w, title=f"问题{i}", reference=f"挂督〔2025〕{i}号", deadline=day(1))
    with CaptureQueriesContext(connection) as eight:
        assert len(ls.listings_remind(now=at(day(3), "07:40"))["overdue"]) == 8
    assert len(eight.captured_queries) == len(two.captured_queries)
    assert Notification.objects.filter(event_type="listings.overdue").count() == 10


def test_the_periodic_task_calls_the_job(lworld):
    now = timezone.now()
    list_problem(lworld, deadline=timezone.localdate(now), now=now)
    assert tasks.listings_remind_daily.call_local() == {"near": 1, "overdue": 0, "awaiting": 0}
    assert tasks.listings_remind_daily.call_local() == {"near": 0, "overdue": 0, "awaiting": 0}
