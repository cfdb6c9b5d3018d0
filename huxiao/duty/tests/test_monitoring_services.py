"""The monitoring-room log with a fixed clock: entries (who, from/until, bad input), the
anomaly flag, the hourly gap check over the last 24 hours (schools with a monitoring room
only, once per stretch), and the day's coverage bar."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.duty.choices import GapKind
from huxiao.duty.models import DutyGap, DutyPlan, MonitoringLogEntry
from huxiao.duty.monitoring_selectors import day_coverage
from huxiao.duty.monitoring_services import monitoring_add, monitoring_gaps_scan, uncovered
from huxiao.duty.tests.duty_fixtures import DAY, add_leader, at, inbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(world):
    from huxiao.security.models import DefenceProfile

    DefenceProfile.objects.create(school=world.school, monitoring_room=True)
    return world.school


def add(world, start, end, *, user="guard", watcher="guard", name="", anomaly=False, now=None):
    return monitoring_add(
        actor=world.users[user],
        school_id=world.school.pk,
        watcher=world.users[watcher] if watcher else None,
        watcher_name=name,
        period_start=start,
        period_end=end,
        observations="画面正常",
        anomaly=anomaly,
        now=now or end,
    )


def test_entry_by_a_member_or_a_name(world):
    e = add(world, at(8), at(10))
    assert e.watcher == world.users["guard"] and e.created_by == world.users["guard"]
    f = add(world, at(10), at(11), watcher=None, name=" 王师傅 ")
    assert f.watcher is None and f.watcher_name == "王师傅"
    # Strings from a form are read as local times.
    g = monitoring_add(
        actor=world.users["teacher"],
        school_id=world.school.pk,
        watcher=str(world.users["teacher"].pk),
        period_start="2026-03-11T11:00",
        period_end="2026-03-11T12:00",
        observations="正常",
        now=at(12, 30),
    )
    assert g.period_start == at(11)


def test_bad_input_by_field_writes_nothing(world):
    with pytest.raises(ValidationError) as exc:
        monitoring_add(
            actor=world.users["guard"],
            school_id=world.school.pk,
            watcher=world.users["principal2"],
            period_start=at(10),
            period_end=at(9),
            observations="",
            now=at(12),
        )
    assert set(exc.value.message_dict) == {"watcher", "period_end", "observations"}
    with pytest.raises(ValidationError) as exc:
        add(world, at(8), at(13), now=at(12))
    assert "period_end" in exc.value.message_dict  # in the future
    with pytest.raises(ValidationError) as exc:
        add(world, at(8, days=-2), at(9), now=at(12))
    assert "period_end" in exc.value.message_dict  # more than 24 hours
    with pytest.raises(ValidationError) as exc:
        add(world, "soon", "later", now=at(12))
    assert {"period_start", "period_end"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        add(world, at(8), at(9), watcher=None, now=at(12))
    assert "watcher" in exc.value.message_dict
    with pytest.raises(ValidationError):
        add(world, at(8, days=-40), at(9, days=-40), now=at(12))
    assert not MonitoringLogEntry.objects.exists()


def test_until_equal_from_is_allowed(world):
    add(world, at(9), at(9))


@pytest.mark.parametrize(
    ("name", "error"),
    [("police", PermissionDenied), ("county", PermissionDenied), ("principal2", Http404)],
)
def test_rights(world, name, error):
    with pytest.raises(error):
        add(world, at(8), at(9), user=name, now=at(12))
    assert not MonitoringLogEntry.objects.exists()


def test_anomaly_flags_the_duty_leader(world):
    add_leader(world)
    add(world, at(8), at(9), anomaly=True)
    assert inbox("duty.monitoring_anomaly") == ["leader", "principal"]
    add(world, at(9), at(10))
    assert len(inbox("duty.monitoring_anomaly")) == 2


# ------------------------------------------------------------------ gaps


def test_uncovered_stretches():
    a, b = at(0), at(12)
    assert uncovered([], a, b) == [(a, b)]
    assert uncovered([(at(1), at(3)), (at(2), at(5)), (at(5), at(12))], a, b) == [(a, at(1))]
    assert uncovered([(at(19, days=-1), at(13))], a, b) == []


def test_gap_scan_flags_long_stretches_once(world, room):
    now = at(12)
    # Covered from 12:00 yesterday to 02:00, then nothing until 05:00 (3 h), then to 11:30.
    add(world, at(12, days=-1), at(12, 0, days=-1) + dt.timedelta(hours=14), now=now)
    add(world, at(5), at(11, 30), now=now)
    flagged = monitoring_gaps_scan(now=now)
    assert len(flagged) == 1
    gap = DutyGap.objects.get()
    assert gap.kind == GapKind.MONITORING and gap.starts_at == at(2) and gap.ends_at == at(5)
    assert inbox("duty.gap") == ["principal"]
    assert monitoring_gaps_scan(now=at(13)) == []
    assert DutyGap.objects.count() == 1


def test_short_stretches_are_not_gaps(world, room):
    add(world, at(12, days=-1), at(23, days=-1), now=at(12))
    add(world, at(0, 30), at(11), now=at(12))  # 90 minutes uncovered < 120
    assert monitoring_gaps_scan(now=at(12)) == []
    DutyPlan.objects.create(school=world.school, monitoring_max_gap_minutes=60)
    assert len(monitoring_gaps_scan(now=at(12))) == 1


def test_running_stretch_is_flagged_once_and_closed_later(world, room):
    add(world, at(12, days=-1), at(8), now=at(8))
    assert len(monitoring_gaps_scan(now=at(10, 30))) == 1
    gap = DutyGap.objects.get()
    assert gap.starts_at == at(8) and gap.ends_at is None
    assert monitoring_gaps_scan(now=at(11, 30)) == []
    add(world, at(11), at(12), now=at(12))
    assert monitoring_gaps_scan(now=at(12, 30)) == []
    gap.refresh_from_db()
    assert gap.ends_at == at(11)
    assert DutyGap.objects.count() == 1


def test_never_logged_school_is_flagged_once(world, room):
    assert len(monitoring_gaps_scan(now=at(12))) == 1
    assert monitoring_gaps_scan(now=at(13)) == []
    assert monitoring_gaps_scan(now=at(12, days=1)) == []
    assert DutyGap.objects.count() == 1


def test_schools_without_a_monitoring_room_are_left_alone(world):
    assert monitoring_gaps_scan(now=at(12)) == []
    assert not DutyGap.objects.exists()


# ------------------------------------------------------------------ coverage


def test_day_coverage(world):
    e1 = add(world, at(0), at(6))
    e2 = add(world, at(9), at(12), anomaly=True)
    cov = day_coverage([e1, e2], DAY, at(12), 120)
    states = [s.state for s in cov.segments]
    assert states == ["covered", "gap", "anomaly", "future"]
    assert cov.elapsed_minutes == 720 and cov.covered_minutes == 540 and cov.percent == 75
    assert round(sum(s.width for s in cov.segments)) == 100
