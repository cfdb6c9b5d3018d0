"""The compliance engine against hand-worked calendars (compliance_fixtures: a term of seven
school weeks with two holidays); each verdict and each missing item is worked out by hand
in the test's comment. Also: terms resolution, parameters, and the fixed query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from huxiao.drills import compliance
from huxiao.drills import rules as R
from huxiao.drills import terms as T
from huxiao.drills.models import ActivityRule
from huxiao.drills.tests import compliance_fixtures as fx
from huxiao.orgs.tests.factories import SchoolFactory
from huxiao.people.tests.factories import SchoolClassFactory

pytestmark = pytest.mark.django_db


def judge(world, today=fx.TODAY, school=None):
    school = school or world.school
    return compliance.evaluate_schools([school.pk], today=today)[school.pk]


def verdict(result, key):
    return result.verdict_of(key)


def texts(items):
    """The messages in English (the msgids), whatever the translations say."""
    with translation.override("en"):
        return [R.render_message(m) for m in items]


@pytest.fixture
def termed(world):
    fx.term(world.region)
    return world


# ------------------------------------------------------------------ terms


def test_school_weeks_of_the_hand_worked_term(termed):
    term = T.term_for(termed.region.pk, fx.TODAY)
    assert term.starts_on == fx.TERM_START
    assert T.school_weeks(term) == fx.SCHOOL_WEEKS


def test_weekend_only_overlap_is_no_school_week():
    # The default autumn term of 2024 began on Sunday 1 September: the week of 26 August
    # has no weekday in the term.
    term = T.default_term(None, dt.date(2024, 9, 1))
    weeks = T.school_weeks(term)
    assert weeks[0] == dt.date(2024, 9, 2)
    # National Day 1–7 October 2024 (Tuesday–Monday): the week of 30 September keeps its
    # Monday, the week of 7 October Tuesday–Friday.
    assert dt.date(2024, 9, 30) in weeks and dt.date(2024, 10, 7) in weeks


def test_an_entered_term_replaces_the_default_it_overlaps(world):
    fx.term(world.region, start=dt.date(2026, 2, 23), end=dt.date(2026, 7, 3), breaks=[])
    # 5 July is in the default spring term (to 10 July) but after the county's own end.
    assert T.term_for(world.region.pk, dt.date(2026, 7, 5)) is None
    last = T.current_terms([world.region.pk], dt.date(2026, 7, 5))[world.region.pk]
    assert last.starts_on == dt.date(2026, 2, 23)
    # Where the county entered nothing, the default calendar applies.
    autumn = T.term_for(world.region.pk, dt.date(2026, 10, 12))
    assert autumn.pk is None and autumn.starts_on == dt.date(2026, 9, 1)


def test_in_the_summer_holiday_the_last_term_is_judged(world):
    result = judge(world, today=dt.date(2026, 8, 1))
    assert result.term.starts_on == dt.date(2026, 2, 20)
    assert result.term.ends_on == dt.date(2026, 7, 10)


# ------------------------------------------------------------------ weekly drill


def test_weekly_drill_fails_for_a_completed_week_without_a_drill(termed):
    # Week of 2 March: a drill. Week of 9 March: only a planned and a cancelled one. Week of
    # 16 March: holiday (a drill there changes nothing). Week of 23 March: running, none.
    fx.drill(termed.school, dt.date(2026, 3, 4))
    fx.drill(termed.school, dt.date(2026, 3, 10), status="planned")
    fx.drill(termed.school, dt.date(2026, 3, 11), status="cancelled")
    fx.drill(termed.school, dt.date(2026, 3, 18))
    v = verdict(judge(termed), "weekly_drill")
    assert v["verdict"] == "fail"
    assert (v["required"], v["actual"]) == (2, 1)
    # The running week, still short, is listed as due.
    assert texts(v["missing"]) == [
        "Week of 2026-03-09 to 2026-03-15: 0 of 1 drills held",
        "This week (2026-03-23 to 2026-03-29): 0 of 1 drills so far",
    ]
    assert v["deadline"] == "2026-03-29"
    assert "1 of 2 completed school weeks with at least 1 held drills" in texts(v["evidence"])


def test_weekly_drill_running_week_is_due_not_failed(termed):
    fx.drills(termed.school, [dt.date(2026, 3, 4), dt.date(2026, 3, 13)])
    v = verdict(judge(termed), "weekly_drill")
    assert v["verdict"] == "due"
    assert v["deadline"] == "2026-03-29"
    assert texts(v["missing"]) == ["This week (2026-03-23 to 2026-03-29): 0 of 1 drills so far"]
    # The drill of this week turns it into a pass.
    fx.drill(termed.school, dt.date(2026, 3, 24))
    v = verdict(judge(termed), "weekly_drill")
    assert v["verdict"] == "pass" and v["missing"] == []
    assert "Last drill held on 2026-03-24" in texts(v["evidence"])


def test_weekly_drill_two_a_week(termed):
    ActivityRule.objects.bulk_create(
        [ActivityRule(region=termed.region, key="weekly_drill", params={"min_per_week": 2})]
    )
    # Week of 2 March: two drills (Monday and Sunday). Week of 9 March: one.
    fx.drills(termed.school, [dt.date(2026, 3, 2), dt.date(2026, 3, 8), dt.date(2026, 3, 9)])
    v = verdict(judge(termed), "weekly_drill")
    assert v["verdict"] == "fail"
    assert texts(v["missing"])[0] == "Week of 2026-03-09 to 2026-03-15: 1 of 2 drills held"


def test_weekly_drill_after_the_term_every_week_counts(termed):
    # Drills in five of the seven school weeks: the weeks of 30 March and 20 April lack one.
    days = [dt.date(2026, 3, 3), dt.date(2026, 3, 10), dt.date(2026, 3, 24)]
    days += [dt.date(2026, 4, 7), dt.date(2026, 4, 14)]
    fx.drills(termed.school, days)
    v = verdict(judge(termed, today=fx.AFTER), "weekly_drill")
    assert v["verdict"] == "fail"
    assert (v["required"], v["actual"]) == (7, 5)
    assert [m["params"]["monday"] for m in v["missing"]] == ["2026-03-30", "2026-04-20"]


def test_weekly_drill_before_the_first_school_week(world):
    fx.term(world.region, start=dt.date(2026, 3, 7), end=dt.date(2026, 4, 26), breaks=[])
    # Saturday 7 March: the term has begun but its first school week is next week.
    v = verdict(judge(world, today=dt.date(2026, 3, 7)), "weekly_drill")
    assert v["verdict"] == "no_data"
    assert texts(v["evidence"]) == ["No school week of the term has begun yet"]


# ------------------------------------------------------------------ safety education


def test_safety_education_every_class(termed):
    w = termed
    b = SchoolClassFactory(school=w.school, name="小二班")
    c = SchoolClassFactory(school=w.school, name="小三班")
    fx.activity(w.school, "safety_education", dt.date(2026, 3, 10), classes=[w.school_class])
    fx.activity(w.school, "safety_education", dt.date(2026, 3, 11), classes=[b], status="planned")
    # Before the term: not counted.
    fx.activity(w.school, "safety_education", dt.date(2026, 2, 25), classes=[c])
    v = verdict(judge(w), "safety_education_per_class")
    assert v["verdict"] == "due"
    assert v["deadline"] == "2026-04-26"
    # In class order (grade, then name).
    assert texts(v["missing"]) == [
        "小三班: 0 of 1 safety-education sessions",
        "小二班: 0 of 1 safety-education sessions",
    ]
    assert (v["required"], v["actual"]) == (3, 1)
    # After the term the same is a failure.
    assert verdict(judge(w, today=fx.AFTER), "safety_education_per_class")["verdict"] == "fail"
    # A whole-school session (flagged, or naming no class) covers every class.
    fx.activity(w.school, "safety_education", dt.date(2026, 4, 1))
    v = verdict(judge(w, today=fx.AFTER), "safety_education_per_class")
    assert v["verdict"] == "pass"
    assert "Whole-school safety-education sessions held: 1" in texts(v["evidence"])


def test_whole_school_flag_with_classes_listed_counts_once(termed):
    w = termed
    fx.activity(
        w.school, "safety_education", dt.date(2026, 3, 10), classes=[w.school_class], whole=True
    )
    v = verdict(judge(w), "safety_education_per_class")
    assert v["verdict"] == "pass"
    assert "Whole-school safety-education sessions held: 1" in texts(v["evidence"])


def test_school_without_classes_has_no_data(termed):
    bare = SchoolFactory(town=termed.town, region=termed.region)
    v = verdict(judge(termed, school=bare), "safety_education_per_class")
    assert v["verdict"] == "no_data"
    assert texts(v["evidence"]) == ["No classes recorded for the school"]


# ------------------------------------------------------------------ legal vice-principal


def test_lecture_by_the_legal_vice_principal(termed):
    w = termed
    officer, other = w.users["officer"], w.users["police"]
    fx.lvp(w.school, w.station, officer)
    fx.activity(w.school, "legal_lecture", dt.date(2026, 3, 12), officer=other)
    v = verdict(judge(w), "lvp_lecture")
    assert v["verdict"] == "due"
    assert texts(v["evidence"]) == [
        "Legal lectures by the legal vice-principal this term: 0",
        "Legal lectures not counted (not by the legal vice-principal): 1",
    ]
    assert texts(v["missing"]) == [
        "1 more legal lectures by the legal vice-principal (deadline 2026-04-26)"
    ]
    fx.activity(w.school, "legal_lecture", dt.date(2026, 3, 19), officer=officer)
    v = verdict(judge(w), "lvp_lecture")
    assert v["verdict"] == "pass"
    assert "Last held on 2026-03-19" in texts(v["evidence"])


def test_lecture_after_the_assignment_ended_does_not_count(termed):
    w = termed
    officer = w.users["officer"]
    fx.lvp(w.school, w.station, officer, ended_at=fx.at(dt.date(2026, 3, 10)))
    fx.activity(w.school, "legal_lecture", dt.date(2026, 3, 12), officer=officer)
    v = verdict(judge(w, today=fx.AFTER), "lvp_lecture")
    assert v["verdict"] == "fail"
    assert (v["required"], v["actual"]) == (1, 0)


def test_school_without_a_legal_vice_principal_is_told(termed):
    v = verdict(judge(termed), "lvp_lecture")
    assert "The school has no legal vice-principal in this term" in texts(v["missing"])


def test_any_officer_parameter(termed):
    w = termed
    ActivityRule.objects.bulk_create(
        [ActivityRule(region=w.region, key="lvp_lecture", params={"any_officer": 1})]
    )
    fx.activity(w.school, "legal_lecture", dt.date(2026, 3, 12), officer=w.users["police"])
    v = verdict(judge(w), "lvp_lecture")
    assert v["verdict"] == "pass"
    assert texts(v["evidence"])[0] == "Legal lectures by a police officer this term: 1"


def test_parent_meeting_attended_by_the_legal_vice_principal(termed):
    w = termed
    officer = w.users["officer"]
    fx.lvp(w.school, w.station, officer)
    fx.activity(w.school, "parent_meeting", dt.date(2026, 3, 5))
    v = verdict(judge(w, today=fx.AFTER), "parent_meeting_lvp")
    assert v["verdict"] == "fail"
    assert "Parent meetings without the legal vice-principal (not counted): 1" in texts(
        v["evidence"]
    )
    fx.activity(w.school, "parent_meeting", dt.date(2026, 4, 20), officer=officer)
    assert verdict(judge(w, today=fx.AFTER), "parent_meeting_lvp")["verdict"] == "pass"


def test_staff_training(termed):
    w = termed
    v = verdict(judge(w), "staff_training")
    assert v["verdict"] == "due"
    assert texts(v["missing"]) == ["1 more staff trainings (deadline 2026-04-26)"]
    fx.activity(w.school, "staff_training", dt.date(2026, 3, 3))
    v = verdict(judge(w), "staff_training")
    assert v["verdict"] == "pass"
    assert texts(v["evidence"]) == ["Staff trainings held this term: 1", "Last held on 2026-03-03"]


# ------------------------------------------------------------------ the whole school


def test_a_fully_compliant_school(termed):
    w = termed
    officer = w.users["officer"]
    fx.lvp(w.school, w.station, officer)
    fx.drills(w.school, fx.SCHOOL_WEEKS)
    fx.activity(w.school, "safety_education", dt.date(2026, 3, 10), whole=True)
    fx.activity(w.school, "legal_lecture", dt.date(2026, 3, 12), officer=officer)
    fx.activity(w.school, "parent_meeting", dt.date(2026, 3, 13), officer=officer)
    fx.activity(w.school, "staff_training", dt.date(2026, 3, 3))
    result = judge(w, today=fx.AFTER)
    assert [v["verdict"] for v in result.verdicts] == ["pass"] * 5
    assert result.is_compliant and result.missing_count == 0


def test_is_compliant_counts_due_as_not_failed(termed):
    w = termed
    fx.drills(w.school, [dt.date(2026, 3, 4), dt.date(2026, 3, 11)])
    result = judge(w)
    assert {v["verdict"] for v in result.verdicts} == {"due"}
    assert result.is_compliant
    assert result.missing_count == 0 and result.due_count >= 4


def test_rules_switched_off_are_not_judged(termed):
    R.ensure_rules(termed.region)
    ActivityRule.objects.filter(region=termed.region).exclude(key="staff_training").update(
        enabled=False
    )
    result = judge(termed)
    assert [v["rule"] for v in result.verdicts] == ["staff_training"]


def test_explicit_term_for_every_school(termed):
    other = fx.term(
        termed.region, start=dt.date(2025, 9, 1), end=dt.date(2026, 1, 20), breaks=[], name="秋"
    )
    result = compliance.evaluate_schools([termed.school.pk], term=other, today=fx.TODAY)
    assert result[termed.school.pk].term == other
    assert verdict(result[termed.school.pk], "staff_training")["verdict"] == "fail"


def test_inactive_schools_and_non_schools_are_left_out(termed):
    w = termed
    w.other_school.is_active = False
    w.other_school.save()
    result = compliance.evaluate_schools([w.school.pk, w.other_school.pk, w.station.pk])
    assert list(result) == [w.school.pk]
    assert compliance.evaluate_schools([]) == {}


def test_query_count_does_not_grow_with_schools(termed):
    w = termed
    fx.drills(w.school, [dt.date(2026, 3, 4)])
    R.ensure_rules(w.region)
    ids = [w.school.pk, w.other_school.pk]
    with CaptureQueriesContext(connection) as few:
        compliance.evaluate_schools(ids, today=fx.TODAY)
    for _ in range(6):
        school = SchoolFactory(town=w.town, region=w.region)
        SchoolClassFactory(school=school)
        fx.drill(school, dt.date(2026, 3, 4))
        ids.append(school.pk)
    with CaptureQueriesContext(connection) as many:
        result = compliance.evaluate_schools(ids, today=fx.TODAY)
    assert len(result) == 8
    assert len(many) == len(few) <= 10
