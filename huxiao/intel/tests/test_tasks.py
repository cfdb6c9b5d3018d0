"""Review reminders: the responsible officer (or the commanders) is told once a day, not at
night, about records due or overdue; closed records are left alone."""

import datetime as dt
import zoneinfo

import pytest

from huxiao.intel import services
from huxiao.intel.models import HighRiskPerson
from huxiao.intel.services import register_reviews_remind
from huxiao.notify.models import Delivery

pytestmark = pytest.mark.django_db

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=TZ)


def inbox(username) -> list[Delivery]:
    return list(
        Delivery.objects.filter(channel="inbox", recipient__username=username).select_related(
            "notification"
        )
    )


@pytest.fixture
def due_day(reg, person):
    """The person's review is due on this day; a second record without an officer too."""
    day = dt.date(2027, 4, 1)
    HighRiskPerson.objects.filter(pk=person.pk).update(next_review_on=day)
    other = services.person_register(
        actor=reg.users["police"],
        station=reg.station,
        name="孙七",
        birth_date="1960-06-06",
        category="no_livelihood",
        risk_level="low",
        next_review_on=None,
    )
    HighRiskPerson.objects.filter(pk=other.pk).update(next_review_on=day - dt.timedelta(days=3))
    return day


def test_nothing_before_the_day_or_at_night(reg, due_day):
    assert register_reviews_remind(now=at(due_day - dt.timedelta(days=4), 10)) == 0
    assert register_reviews_remind(now=at(due_day, 6)) == 0  # night: nobody is woken
    assert not Delivery.objects.exists()


def test_reminders_go_to_the_officer_and_the_commanders(reg, due_day):
    assert register_reviews_remind(now=at(due_day, 9)) == 2
    officer = inbox("officer")
    assert len(officer) == 1 and officer[0].notification.payload["count"] == 1
    assert officer[0].notification.payload["url"].endswith("?review=due")
    commander = inbox("police")  # the record without an officer
    assert len(commander) == 1 and commander[0].notification.payload["count"] == 1
    assert inbox("postofficer") == [] and inbox("lvp") == []
    # Later runs the same day send nothing more; the next day reminds again.
    register_reviews_remind(now=at(due_day, 15))
    assert len(inbox("officer")) == 1
    register_reviews_remind(now=at(due_day + dt.timedelta(days=1), 9))
    assert len(inbox("officer")) == 2


def test_a_follow_up_or_closing_stops_the_reminders(reg, person, due_day):
    services.follow_up_add(
        actor=reg.users["officer"],
        person=person,
        on=due_day,
        method="phone",
        assessment="stable",
        finding="正常",
        today=due_day,
    )
    other = HighRiskPerson.objects.exclude(pk=person.pk).get()
    services.person_close(actor=reg.users["police"], person=other, reason="deceased")
    assert register_reviews_remind(now=at(due_day, 9)) == 0


def test_an_officer_who_left_is_replaced_by_the_commanders(reg, person, due_day):
    reg.users["officer"].memberships.update(is_active=False)
    register_reviews_remind(now=at(due_day, 9))
    assert inbox("officer") == []
    assert inbox("police")[0].notification.payload["count"] == 2


def test_the_periodic_task_calls_the_service(reg, due_day, monkeypatch):
    from huxiao.intel import tasks

    calls = []
    monkeypatch.setattr(tasks, "register_reviews_remind", lambda: calls.append(1) or 0)
    tasks.register_review_reminders.call_local()
    assert calls == [1]
