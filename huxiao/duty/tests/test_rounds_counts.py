"""`round_counts` (the contract of rounds_counts.py): which rounds count, the day a round
belongs to across midnight, and two grouped queries for any number of schools."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huxiao.core.roles import Role
from huxiao.duty import checkpoint_services
from huxiao.duty.models import CheckpointScan, PatrolRound
from huxiao.duty.rounds_counts import duty_day, round_counts, threshold
from huxiao.duty.tests.rounds_fixtures import build_rounds_world, local, walk
from huxiao.orgs.tests.factories import MembershipFactory, SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rounds_world(world):
    return build_rounds_world(world)


DAY = dt.date(2026, 3, 10)


def _round(school, guard, started_at, *, night=False, checkpoints=(), finished=True):
    rnd = PatrolRound.objects.create(
        school=school,
        guard=guard,
        started_at=started_at,
        is_night=night,
        finished_at=started_at + dt.timedelta(minutes=20) if finished else None,
    )
    for index, cp in enumerate(checkpoints):
        CheckpointScan.objects.create(
            round=rnd, checkpoint=cp, scanned_at=started_at + dt.timedelta(minutes=index)
        )
    return rnd


def test_counted_rounds_per_day(rounds_world):
    w = rounds_world
    cps = w.cps[w.school.pk]
    guard = w.users["guard"]
    two = (cps["大门"], cps["教学楼"])
    _round(w.school, guard, local(DAY, 8), checkpoints=two)
    _round(w.school, guard, local(DAY, 10), checkpoints=(*two, cps["食堂"]))
    # One checkpoint only: does not count (the school has four in use).
    _round(w.school, guard, local(DAY, 12), checkpoints=(cps["大门"],))
    # Not finished: does not count.
    _round(w.school, guard, local(DAY, 14), checkpoints=two, finished=False)
    # The same checkpoint twice cannot happen (unique), so two distinct are needed.
    _round(w.school, guard, local(DAY + dt.timedelta(days=1), 9), checkpoints=two)
    counts = round_counts([w.school.pk], DAY, DAY)
    assert counts == {w.school.pk: {DAY: (2, 0)}}
    counts = round_counts([w.school.pk], DAY, DAY + dt.timedelta(days=1))
    assert counts[w.school.pk] == {DAY: (2, 0), DAY + dt.timedelta(days=1): (1, 0)}


def test_night_rounds_after_midnight_belong_to_the_evening_before(rounds_world):
    w = rounds_world
    cps = w.cps[w.school.pk]
    guard = w.users["guard"]
    two = (cps["大门"], cps["宿舍"])
    nxt = DAY + dt.timedelta(days=1)
    _round(w.school, guard, local(DAY, 22), night=True, checkpoints=two)
    _round(w.school, guard, local(nxt, 0, 30), night=True, checkpoints=two)
    _round(w.school, guard, local(nxt, 4, 50), night=True, checkpoints=two)
    _round(w.school, guard, local(nxt, 11, 59), night=True, checkpoints=two)
    # A night round at noon belongs to the day itself; a day round after midnight too.
    _round(w.school, guard, local(nxt, 12, 0), night=True, checkpoints=two)
    _round(w.school, guard, local(nxt, 0, 10), night=False, checkpoints=two)
    # A night round just after midnight at the start of the window belongs to DAY − 1.
    _round(w.school, guard, local(DAY, 1, 0), night=True, checkpoints=two)
    counts = round_counts([w.school], DAY, nxt)[w.school.pk]
    assert counts == {DAY: (0, 4), nxt: (1, 1)}
    assert round_counts([w.school], DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=1)) == {
        w.school.pk: {DAY - dt.timedelta(days=1): (0, 1)}
    }
    # The Python rule agrees with the query.
    assert duty_day(local(nxt, 4, 50), True) == DAY
    assert duty_day(local(nxt, 12, 0), True) == nxt
    assert duty_day(local(nxt, 0, 10), False) == nxt


def test_a_day_round_at_23_59_and_00_01(rounds_world):
    w = rounds_world
    cps = w.cps[w.school.pk]
    two = (cps["大门"], cps["教学楼"])
    nxt = DAY + dt.timedelta(days=1)
    _round(w.school, w.users["guard"], local(DAY, 23, 59), checkpoints=two)
    _round(w.school, w.users["guard"], local(nxt, 0, 1), checkpoints=two)
    assert round_counts([w.school.pk], DAY, DAY) == {w.school.pk: {DAY: (1, 0)}}
    assert round_counts([w.school.pk], nxt, nxt) == {w.school.pk: {nxt: (1, 0)}}


def test_threshold_follows_the_checkpoints_in_use(rounds_world):
    w = rounds_world
    lonely = SchoolFactory(town=w.town, name="单点位学校")
    boss = UserFactory(username="lonely")
    MembershipFactory(user=boss, organization=lonely, role=Role.PRINCIPAL)
    cp = checkpoint_services.checkpoint_create(actor=boss, school=lonely, name="门")
    _round(lonely, boss, local(DAY, 9), checkpoints=(cp,))
    assert round_counts([lonely.pk], DAY, DAY) == {lonely.pk: {DAY: (1, 0)}}
    # Retire its only checkpoint: the threshold is 0, the round still counts.
    checkpoint_services.checkpoint_update(actor=boss, checkpoint=cp, is_active=False)
    assert round_counts([lonely.pk], DAY, DAY) == {lonely.pk: {DAY: (1, 0)}}
    assert threshold(0) == 0 and threshold(1) == 1 and threshold(7) == 2


def test_two_queries_for_many_schools(rounds_world):
    w = rounds_world
    schools = [SchoolFactory(town=w.town) for _ in range(30)]
    cps = w.cps[w.school.pk]
    for day in range(7):
        _round(
            w.school,
            w.users["guard"],
            local(DAY + dt.timedelta(days=day), 9),
            checkpoints=(cps["大门"], cps["食堂"]),
        )
    ids = [w.school.pk, w.other_school.pk, *(s.pk for s in schools)]
    with CaptureQueriesContext(connection) as ctx:
        counts = round_counts(ids, DAY, DAY + dt.timedelta(days=6))
    assert len(ctx.captured_queries) <= 2
    assert sum(v[0] for v in counts[w.school.pk].values()) == 7
    assert round_counts([], DAY, DAY) == {}
    assert round_counts(ids, DAY, DAY - dt.timedelta(days=1)) == {}


def test_rounds_walked_through_the_service_count(rounds_world):
    w = rounds_world
    walk(w, ["大门", "教学楼"], start=local(DAY, 9))
    walk(w, ["大门"], start=local(DAY, 11))
    assert round_counts([w.school.pk], DAY, DAY) == {w.school.pk: {DAY: (1, 0)}}
