"""The demo's gate posts, check-ins, patrols and visits: demo mode only, idempotent, and
scoped like the real thing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.notify.models import Delivery
from huxiao.patrols import selectors
from huxiao.patrols.demo import load_demo_patrols
from huxiao.patrols.models import GatePost, PostCheckIn, PostShift

pytestmark = pytest.mark.django_db
TODAY = dt.date(2025, 3, 12)  # a Wednesday


def test_refuses_without_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_patrols()
    assert not GatePost.objects.exists()


def test_demo_patrols(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    first = load_demo_patrols(today=TODAY)
    assert first["posts"] == 10 and first["created"]["posts"] == 10
    assert first["check_ins"] > 40
    assert first["patrol_logs"] == 5
    assert first["visits"] >= 10
    # A week of history: some late, some missed, one called off.
    past = PostShift.objects.filter(date__lt=TODAY, date__gte=TODAY - dt.timedelta(days=7))
    assert past.filter(missed_flagged_at__isnull=False).exists()
    assert past.filter(arrived_late=True).exists()
    assert past.filter(cancelled_at__isnull=False).count() == 1
    assert past.filter(police_lights=True).exists()

    again = load_demo_patrols(today=TODAY)
    assert again["created"] == {}
    assert {k: v for k, v in again.items() if k != "created"} == {
        k: v for k, v in first.items() if k != "created"
    }

    users = {u.username: u for u in get_user_model().objects.all()}
    # The commander was told of last week's schools short of visits.
    assert Delivery.objects.filter(
        recipient=users["police"], notification__event_type="patrols.visits_short"
    ).exists()
    # Scope: the kindergarten's principal sees her two posts; the police all ten.
    coverage = selectors.coverage(
        actor=users["principal"],
        first_day=TODAY - dt.timedelta(days=7),
        last_day=TODAY - dt.timedelta(days=1),
    )
    assert {r.name for r in coverage.rows["school"]} == {"大杨树实验幼儿园"}
    assert selectors.post_list(actor=users["police"]).count() == 10
    assert selectors.post_list(actor=users["health"]).count() == 0
    assert PostCheckIn.objects.filter(user=users["officer"]).exists()
