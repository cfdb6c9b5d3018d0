# ruff: noqa: F811 - pytest fixtures imported from pickup_fixtures are arguments here
"""Not-collected sweep with a controllable clock, the concurrent release, the kiosk panel,
retention (issue 5, ADR 0025)."""

from __future__ import annotations

import datetime as dt

import pytest

from huxiao.access import pickup_retention
from huxiao.access import pickup_selectors as selectors
from huxiao.access import pickup_services as services
from huxiao.access.choices import RefusalReason
from huxiao.access.models import (
    GateSettings,
    NotCollected,
    PickupCode,
    PickupDelegate,
    PickupRefusal,
    Release,
)
from huxiao.access.tests.pickup_fixtures import MONDAY, SATURDAY, at, pickup  # noqa: F401
from huxiao.notify.models import Delivery, Notification

pytestmark = pytest.mark.django_db


def _release(w, child_code, now):
    match = services.pickup_lookup(
        actor=w.users["guard"], school=w.school, text=child_code, now=now
    )
    return services.pickup_release(
        actor=w.users["guard"], school=w.school, token=match.token, now=now
    )


def test_not_collected_flags_once_after_grace_and_alerts(pickup):
    w = pickup
    _release(w, w.issued.pin, at(MONDAY, "16:40"))
    assert services.not_collected_sweep(now=at(MONDAY, "16:59")) == 0
    assert services.not_collected_sweep(now=at(MONDAY, "17:00")) >= 1
    flagged = set(NotCollected.objects.filter(school=w.school).values_list("child_id", flat=True))
    assert flagged == {w.child2.pk}
    assert services.not_collected_sweep(now=at(MONDAY, "17:05")) == 0
    assert NotCollected.objects.filter(school=w.school).count() == 1
    note = Notification.objects.get(
        event_type="pickup.not_collected", payload__class_id=w.school_class.pk
    )
    recipients = set(
        Delivery.objects.filter(notification=note).values_list("recipient_id", flat=True)
    )
    assert recipients == {w.users["teacher"].pk, w.users["duty"].pk}
    assert "李小红" in note.body and "王小明" not in note.body


def test_not_collected_respects_settings_and_weekends(pickup):
    w = pickup
    GateSettings.objects.create(
        school=w.school, dismissal_time=dt.time(15, 0), pickup_grace_minutes=10
    )
    assert services.not_collected_sweep(now=at(SATURDAY, "18:00")) == 0
    services.not_collected_sweep(now=at(MONDAY, "15:09"))
    assert not NotCollected.objects.filter(school=w.school).exists()
    services.not_collected_sweep(now=at(MONDAY, "15:10"))
    assert NotCollected.objects.filter(school=w.school).count() == 2


def test_class_waiting_and_kiosk_panel(pickup):
    w = pickup
    panel = selectors.kiosk_panel(actor=w.users["guard"], school=w.school, now=at(MONDAY, "16:00"))
    assert panel["waiting"] == [] and not panel["after_dismissal"]
    _release(w, w.issued.card_text, at(MONDAY, "16:40"))
    rows = selectors.class_waiting(school_class=w.school_class, now=at(MONDAY, "16:45"))
    assert [r.child for r in rows] == [w.child2, w.child]
    assert rows[1].release.released_by_label
    panel = selectors.kiosk_panel(actor=w.users["guard"], school=w.school, now=at(MONDAY, "16:45"))
    assert [r["child"] for r in panel["waiting"]] == [w.child2]
    assert [r.child for r in panel["recent"]] == [w.child]
    outsider = selectors.kiosk_panel(
        actor=w.users["principal2"], school=w.school, now=at(MONDAY, "16:45")
    )
    assert outsider["waiting"] == [] and outsider["recent"] == []


def test_concurrent_release_makes_one_release(pickup, monkeypatch):
    w = pickup
    now = at(MONDAY, "16:40")
    first = services.pickup_lookup(
        actor=w.users["guard"], school=w.school, text=w.issued.pin, now=now
    )
    second = services.pickup_lookup(
        actor=w.users["teacher"], school=w.school, text=w.issued.card_text, now=now
    )
    services.pickup_release(actor=w.users["guard"], school=w.school, token=first.token, now=now)
    # The second guard passed the check before the first wrote: the constraint decides.
    monkeypatch.setattr(services, "_authorise", lambda **kwargs: None)
    with pytest.raises(services.PickupRefused) as refused:
        services.pickup_release(
            actor=w.users["teacher"], school=w.school, token=second.token, now=now
        )
    assert refused.value.reason == RefusalReason.ALREADY_RELEASED
    assert str(refused.value.message) == "另一位工作人员刚刚放行了这个孩子。"
    assert Release.objects.count() == 1
    assert not Notification.objects.filter(event_type="pickup.refused").exists()


def _monday_delegate(w):
    return services.delegate_add(
        actor=w.users["teacher"],
        child=w.child2,
        name="李奶奶",
        phone="13700137000",
        relationship="奶奶",
        now=at(MONDAY, "10:00"),
    )


def test_purge_before(pickup):
    w = pickup
    _release(w, w.issued.pin, at(MONDAY, "16:40"))
    _monday_delegate(w)
    with pytest.raises(services.PickupRefused):
        services.pickup_lookup(
            actor=w.users["guard"], school=w.school, text=w.issued.pin, now=at(MONDAY, "16:50")
        )
    services.not_collected_sweep(now=at(MONDAY, "17:00"))
    other_refusals = PickupRefusal.objects.exclude(school=w.school).count()
    assert pickup_retention.purge_before(w.school, at(MONDAY, "00:00")) == 0
    deleted = pickup_retention.purge_before(w.school, at(MONDAY + dt.timedelta(days=1), "00:00"))
    assert deleted >= 4
    assert not Release.objects.filter(school=w.school).exists()
    assert not PickupRefusal.objects.filter(school=w.school).exists()
    assert not NotCollected.objects.filter(school=w.school).exists()
    assert not PickupDelegate.objects.exists()
    assert PickupCode.objects.filter(guardian=w.guardian).exists()  # roster codes stay
    assert PickupRefusal.objects.exclude(school=w.school).count() == other_refusals


def test_purge_takes_a_delegates_day_in_local_time(pickup):
    """The job passes `now - days` in UTC: at 03:00 in Shanghai that is still the day
    before, which kept a delegate of that day a day too long."""
    w = pickup
    _monday_delegate(w)
    cutoff = at(MONDAY + dt.timedelta(days=1), "03:00").astimezone(dt.UTC)
    assert cutoff.date() == MONDAY
    assert pickup_retention.purge_before(w.school, cutoff) >= 1
    assert not PickupDelegate.objects.exists()


def test_periodic_task_is_registered(db):
    # huey's autodiscovery loads `tasks.py` only: it must bring the pick-up job along.
    from huxiao.access import tasks

    assert tasks.pickup_not_collected_sweep.func.__name__ == "pickup_not_collected_sweep"
    assert tasks.pickup_not_collected_sweep.call_local() == 0


def test_kiosk_panel_template(pickup):
    from django.template.loader import render_to_string

    w = pickup
    _release(w, w.issued.pin, at(MONDAY, "16:40"))
    services.not_collected_sweep(now=at(MONDAY, "17:00"))
    panel = selectors.kiosk_panel(actor=w.users["guard"], school=w.school, now=at(MONDAY, "17:01"))
    html = render_to_string("access/pickup/_kiosk_panel.html", {"pickup": panel})
    assert "李小红" in html and "王小明 → 王妈妈" in html
    assert "仍在等待的孩子：1" in html and "未被接走" in html
