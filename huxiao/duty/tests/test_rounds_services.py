"""Scanning checkpoints into rounds, ending rounds, and the daily missed-rounds job, with a
controllable clock (rounds_services; ADR 0029 "Rounds")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huxiao.audit.models import AuditEvent
from huxiao.duty import checkpoint_services, rounds_services
from huxiao.duty.choices import GapKind
from huxiao.duty.models import CheckpointScan, DutyGap, DutyPlan, PatrolRound
from huxiao.duty.rounds_services import CheckpointUnknown, RoundRefused
from huxiao.duty.tests.rounds_fixtures import build_rounds_world, local, walk
from huxiao.orgs.tests.factories import SchoolFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rounds_world(world):
    return build_rounds_world(world)


DAY = dt.date(2026, 3, 10)


def scan(w, name, at, who="guard", school=None, **kw):
    school = school or w.school
    return rounds_services.checkpoint_scan(
        actor=w.users[who], code=w.cps[school.pk][name].code, now=at, **kw
    )


def nothing_written():
    return PatrolRound.objects.count() == 0 and CheckpointScan.objects.count() == 0


# ------------------------------------------------------------------ scanning


def test_first_scan_starts_a_round(rounds_world):
    w = rounds_world
    out = scan(w, "大门", local(DAY, 9))
    assert not out.duplicate and not out.finished
    assert (out.position, out.total) == (1, 3)  # a day round skips the dormitory
    assert [c.name for c in out.left] == ["教学楼", "食堂"]
    rnd = out.round
    assert rnd.guard == w.users["guard"] and rnd.started_at == local(DAY, 9)
    assert rnd.finished_at is None and not rnd.is_night
    assert AuditEvent.objects.filter(object_type="duty.checkpointscan").count() == 1
    assert AuditEvent.objects.filter(object_type="duty.patrolround", action="create").count() == 1
    # The audit trail never holds a checkpoint's code.
    for event in AuditEvent.objects.all():
        assert w.cps[w.school.pk]["大门"].code not in str(event.changes)


def test_second_scan_same_round_and_repeat(rounds_world):
    w = rounds_world
    first = scan(w, "大门", local(DAY, 9))
    second = scan(w, "教学楼", local(DAY, 9, 5))
    assert second.round.pk == first.round.pk and (second.position, second.total) == (2, 3)
    again = scan(w, "大门", local(DAY, 9, 7))
    assert again.duplicate and again.scan is None and again.round.pk == first.round.pk
    assert CheckpointScan.objects.count() == 2


def test_round_ends_by_itself_when_every_checkpoint_is_scanned(rounds_world):
    w = rounds_world
    scan(w, "大门", local(DAY, 9))
    scan(w, "教学楼", local(DAY, 9, 5))
    last = scan(w, "食堂", local(DAY, 9, 10))
    assert last.finished and last.left == [] and (last.position, last.total) == (3, 3)
    last.round.refresh_from_db()
    assert last.round.finished_at == local(DAY, 9, 10)
    # The next scan starts a new round.
    nxt = scan(w, "教学楼", local(DAY, 11))
    assert nxt.round.pk != last.round.pk and nxt.position == 1


def test_each_guard_has_their_own_round(rounds_world):
    w = rounds_world
    a = scan(w, "大门", local(DAY, 9))
    b = scan(w, "大门", local(DAY, 9, 1), who="teacher")
    assert a.round.pk != b.round.pk and not b.duplicate


def test_another_schools_code_is_unknown_and_writes_nothing(rounds_world):
    w = rounds_world
    for name, school in (("校门", w.other_school), ("外镇大门", w.far_school)):
        with pytest.raises(CheckpointUnknown) as exc:
            rounds_services.checkpoint_scan(
                actor=w.users["guard"], code=w.cps[school.pk][name].code, now=local(DAY, 9)
            )
        assert exc.value.message
    for bad in ("", "nope", "x" * 33, "a b", "<script>", "../../etc", "大门"):
        with pytest.raises(CheckpointUnknown):
            rounds_services.checkpoint_scan(actor=w.users["guard"], code=bad, now=local(DAY, 9))
    assert nothing_written()


def test_retired_and_replaced_codes_stop_working(rounds_world):
    w = rounds_world
    gate = w.cps[w.school.pk]["大门"]
    old = gate.code
    checkpoint_services.checkpoint_reissue_code(actor=w.users["principal"], checkpoint=gate)
    gate.refresh_from_db()
    with pytest.raises(CheckpointUnknown):
        rounds_services.checkpoint_scan(actor=w.users["guard"], code=old, now=local(DAY, 9))
    hall = w.cps[w.school.pk]["教学楼"]
    checkpoint_services.checkpoint_update(
        actor=w.users["principal"], checkpoint=hall, is_active=False
    )
    with pytest.raises(CheckpointUnknown):
        rounds_services.checkpoint_scan(actor=w.users["guard"], code=hall.code, now=local(DAY, 9))
    assert nothing_written()
    # The new code works; the round now has two checkpoints to walk.
    out = rounds_services.checkpoint_scan(actor=w.users["guard"], code=gate.code, now=local(DAY, 9))
    assert out.total == 2


def test_the_url_a_scanner_types_is_accepted(rounds_world):
    w = rounds_world
    code = w.cps[w.school.pk]["大门"].code
    out = rounds_services.checkpoint_scan(
        actor=w.users["guard"],
        code=f"  https://huxiao.example/duty/scan/{code}/  ",
        now=local(DAY, 9),
    )
    assert out.checkpoint.name == "大门"
    out = rounds_services.checkpoint_scan(
        actor=w.users["guard"],
        code=f"/duty/scan/{w.cps[w.school.pk]['食堂'].code}",
        now=local(DAY, 9, 2),
    )
    assert out.position == 2


def test_roles_without_duty_may_not_scan(rounds_world):
    w = rounds_world
    code = w.cps[w.school.pk]["大门"].code
    for who in ("police", "edu", "county", "nobody"):
        with pytest.raises(PermissionDenied):
            rounds_services.checkpoint_scan(actor=w.users[who], code=code, now=local(DAY, 9))
    assert nothing_written()


def test_the_manual_entry_of_one_school_takes_only_its_codes(rounds_world):
    w = rounds_world
    with pytest.raises(CheckpointUnknown):
        rounds_services.checkpoint_scan(
            actor=w.users["guard"],
            code=w.cps[w.school.pk]["大门"].code,
            school_id=w.other_school.pk,
            now=local(DAY, 9),
        )
    assert nothing_written()


def test_a_note_too_long_writes_nothing(rounds_world):
    w = rounds_world
    with pytest.raises(ValidationError) as exc:
        scan(w, "大门", local(DAY, 9), note="长" * 501)
    assert "note" in exc.value.message_dict
    with pytest.raises(ValidationError):
        scan(w, "大门", local(DAY, 9), note="a\x00b")
    assert nothing_written()
    assert scan(w, "大门", local(DAY, 9), note="东侧围墙有裂缝").scan.note == "东侧围墙有裂缝"


# ------------------------------------------------------------------ night rounds


def test_night_rounds_only_at_boarding_schools_in_the_window(rounds_world):
    w = rounds_world
    d1, d2, d3 = (DAY + dt.timedelta(days=n) for n in (1, 2, 3))
    out = scan(w, "大门", local(DAY, 22))
    assert not out.round.is_night  # not a boarding school
    rounds_services.round_finish(actor=w.users["guard"], round=out.round, now=local(DAY, 22, 5))
    w.school.is_boarding = True
    w.school.save()
    evening = scan(w, "大门", local(d1, 20, 30))
    assert not evening.round.is_night
    rounds_services.round_finish(actor=w.users["guard"], round=evening.round, now=local(d1, 20, 40))
    night = scan(w, "宿舍", local(d2, 1, 30))
    assert night.round.is_night and night.total == 4  # the night round walks all four
    rounds_services.round_finish(actor=w.users["guard"], round=night.round, now=local(d2, 1, 40))
    # A plan with its own window.
    DutyPlan.objects.create(school=w.school, night_round_from="20:00", night_round_until="06:00")
    early = scan(w, "大门", local(d3, 20, 30))
    assert early.round.is_night


def test_a_night_round_ends_when_all_checkpoints_incl_dormitories_are_scanned(rounds_world):
    w = rounds_world
    w.school.is_boarding = True
    w.school.save()
    start = local(DAY, 22)
    for index, name in enumerate(("大门", "教学楼", "食堂")):
        out = scan(w, name, start + dt.timedelta(minutes=index))
    assert not out.finished and [c.name for c in out.left] == ["宿舍"]
    out = scan(w, "宿舍", start + dt.timedelta(minutes=5))
    assert out.finished


# ------------------------------------------------------------------ idle and ending


def test_an_idle_round_ends_at_its_last_scan_on_the_next_scan(rounds_world):
    w = rounds_world
    first = scan(w, "大门", local(DAY, 9))
    scan(w, "教学楼", local(DAY, 9, 10))
    later = scan(w, "食堂", local(DAY, 10, 11))
    assert later.round.pk != first.round.pk
    first.round.refresh_from_db()
    assert first.round.finished_at == local(DAY, 9, 10)


def test_round_finish(rounds_world):
    w = rounds_world
    out = scan(w, "大门", local(DAY, 9))
    with pytest.raises(PermissionDenied):  # another guard's round
        rounds_services.round_finish(
            actor=w.users["teacher"], round=out.round, now=local(DAY, 9, 5)
        )
    rnd = rounds_services.round_finish(
        actor=w.users["guard"], round=out.round, now=local(DAY, 9, 20)
    )
    assert rnd.finished_at == local(DAY, 9, 20)
    with pytest.raises(RoundRefused):
        rounds_services.round_finish(actor=w.users["guard"], round=out.round, now=local(DAY, 9, 21))
    # The principal (who plans duty) may end anyone's round; an idle one ends at its last scan.
    other = scan(w, "大门", local(DAY, 11), who="teacher")
    rnd = rounds_services.round_finish(
        actor=w.users["principal"], round=other.round, now=local(DAY, 13)
    )
    assert rnd.finished_at == local(DAY, 11)


def test_a_reload_just_after_the_round_ended_starts_no_new_round(rounds_world):
    w = rounds_world
    scan(w, "大门", local(DAY, 9))
    scan(w, "教学楼", local(DAY, 9, 5))
    done = scan(w, "食堂", local(DAY, 9, 10))
    assert done.finished
    again = scan(w, "食堂", local(DAY, 9, 12))
    assert again.duplicate and again.round.pk == done.round.pk
    assert PatrolRound.objects.count() == 1
    # Much later the same checkpoint starts a new round.
    assert not scan(w, "食堂", local(DAY, 10)).duplicate
    assert PatrolRound.objects.count() == 2


def test_rounds_finish_idle(rounds_world):
    w = rounds_world
    a = scan(w, "大门", local(DAY, 9))
    scan(w, "教学楼", local(DAY, 9, 30))
    b = scan(w, "大门", local(DAY, 10), who="teacher")
    assert rounds_services.rounds_finish_idle(now=local(DAY, 10, 29)) == 0
    assert rounds_services.rounds_finish_idle(now=local(DAY, 10, 31)) == 1
    a.round.refresh_from_db()
    b.round.refresh_from_db()
    assert a.round.finished_at == local(DAY, 9, 30) and b.round.finished_at is None
    assert rounds_services.rounds_finish_idle(now=local(DAY, 10, 31)) == 0
    assert AuditEvent.objects.filter(
        object_type="duty.patrolround", object_id=str(a.round.pk), action="update"
    ).exists()


# ------------------------------------------------------------------ the daily job


def _gaps(kind=GapKind.ROUNDS_MISSED):
    return {g.school_id: g for g in DutyGap.objects.filter(kind=kind)}


def test_daily_check_flags_schools_with_too_few_rounds(rounds_world):
    w = rounds_world
    bare = SchoolFactory(town=w.town, name="无点位学校")
    SchoolFactory(town=w.town, name="停办学校", is_active=False)
    for hour in (8, 10, 14, 16, 18):
        walk(w, ["大门", "教学楼"], start=local(DAY, hour))
    walk(w, ["校门", "操场"], start=local(DAY, 9), who="principal2", school=w.other_school)
    walk(w, ["校门"], start=local(DAY, 11), who="principal2", school=w.other_school)
    result = rounds_services.rounds_check(now=local(DAY + dt.timedelta(days=1), 0, 20))
    assert result.day == DAY
    gaps = _gaps()
    assert set(gaps) == {w.other_school.pk, w.far_school.pk, bare.pk}
    g = gaps[w.other_school.pk]
    assert g.detail == {"required": 5, "done": 1, "checkpoints": 2}
    assert g.day == DAY and g.starts_at == local(DAY, 0)
    assert g.ends_at == local(DAY + dt.timedelta(days=1), 0)
    assert gaps[bare.pk].detail == {"required": 5, "done": 0, "checkpoints": 0}
    # Idempotent: a second run (or the noon run) flags nothing more.
    rounds_services.rounds_check(now=local(DAY + dt.timedelta(days=1), 0, 21))
    rounds_services.rounds_check(now=local(DAY + dt.timedelta(days=1), 12, 20))
    assert DutyGap.objects.filter(kind=GapKind.ROUNDS_MISSED, day=DAY).count() == 3


def test_daily_check_night_rounds_of_boarding_schools(rounds_world):
    w = rounds_world
    w.school.is_boarding = True
    w.school.save()
    w.other_school.is_boarding = True
    w.other_school.save()
    DutyPlan.objects.create(
        school=w.other_school, night_round_from="20:30", night_round_until="06:00"
    )
    nxt = DAY + dt.timedelta(days=1)
    walk(w, ["宿舍", "大门"], start=local(nxt, 1, 30))  # the night of DAY, after midnight
    # At 00:20 of DAY+1 the night of DAY is not over: the night of DAY−1 is checked.
    result = rounds_services.rounds_check(now=local(nxt, 0, 20))
    assert result.night == DAY - dt.timedelta(days=1)
    assert set(_gaps(GapKind.NIGHT_ROUND_MISSED)) == {w.school.pk, w.other_school.pk}
    DutyGap.objects.all().delete()
    # At 12:20 it is over: world.school walked one, other_school none.
    result = rounds_services.rounds_check(now=local(nxt, 12, 20))
    assert result.night == DAY
    gaps = _gaps(GapKind.NIGHT_ROUND_MISSED)
    assert set(gaps) == {w.other_school.pk}
    g = gaps[w.other_school.pk]
    assert g.starts_at == local(DAY, 20, 30) and g.ends_at == local(nxt, 6)
    assert g.detail == {"required": 1, "done": 0} and g.day == DAY
    # A day school is never flagged for nights.
    assert w.far_school.pk not in gaps


def test_daily_check_ends_idle_rounds_first(rounds_world):
    w = rounds_world
    for hour in (8, 10, 14, 16):
        walk(w, ["大门", "教学楼"], start=local(DAY, hour))
    walk(w, ["大门", "食堂"], start=local(DAY, 20), finish=False)  # left open
    rounds_services.rounds_check(now=local(DAY + dt.timedelta(days=1), 0, 20))
    assert w.school.pk not in _gaps()
    assert not PatrolRound.objects.filter(finished_at__isnull=True).exists()


def test_daily_check_rule_switched_off(rounds_world, monkeypatch):
    monkeypatch.setattr(rounds_services, "rule_params", lambda region_id, key: {})
    rounds_services.rounds_check(now=local(DAY + dt.timedelta(days=1), 0, 20))
    assert not DutyGap.objects.exists()


def test_daily_check_counts_all_schools_in_a_few_queries(rounds_world, monkeypatch):
    w = rounds_world
    flagged = []
    monkeypatch.setattr(
        "huxiao.duty.gap_services.gap_flag", lambda **kwargs: flagged.append(kwargs)
    )
    for _ in range(40):
        SchoolFactory(town=w.town)
    with CaptureQueriesContext(connection) as ctx:
        rounds_services.rounds_check(now=local(DAY + dt.timedelta(days=1), 0, 20))
    assert len(flagged) == 43
    assert len(ctx.captured_queries) <= 8
