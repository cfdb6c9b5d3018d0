"""Stored activity compliance (drills.standings, ADR 0030 addendum): what the overviews read
is what judging afresh gives, after every kind of change the rules read; a change made
while a reader judges is never lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from huxiao.drills import compliance, standings
from huxiao.drills.models import ActivityRule, ActivityStanding
from huxiao.drills.tests import compliance_fixtures as fx
from huxiao.orgs.tests.factories import SchoolFactory
from huxiao.people.tests.factories import SchoolClassFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def termed(world):
    """A term of the county running today (five weeks behind, eight ahead), no holidays."""
    today = timezone.localdate()
    fx.term(
        world.region,
        start=today - dt.timedelta(days=35),
        end=today + dt.timedelta(days=56),
        breaks=[],
    )
    world.other = SchoolFactory(town=world.town, region=world.region, name="二小")
    return world


def ids(world):
    return [world.school.pk, world.other.pk]


def stored(world):
    return {
        pk: r.verdicts for pk, r in compliance.evaluate_schools(ids(world), stored=True).items()
    }


def fresh(world):
    return {pk: r.verdicts for pk, r in compliance.evaluate_schools(ids(world)).items()}


def same_as_fresh(world):
    assert stored(world) == fresh(world)


def judged_now(world, **kwargs) -> int:
    """How many queries of activities a stored read made (0: all read from the rows)."""
    with CaptureQueriesContext(connection) as c:
        compliance.evaluate_schools(ids(world), stored=True, **kwargs)
    return sum('FROM "drills_activity" ' in q["sql"] for q in c.captured_queries)


def test_a_second_read_is_the_stored_one_and_the_same(termed):
    first = stored(termed)
    assert ActivityStanding.objects.filter(school__in=ids(termed)).count() == 2
    assert judged_now(termed) == 0  # read from the rows: no activity read
    assert stored(termed) == first == fresh(termed)
    row = ActivityStanding.objects.get(school=termed.school)
    assert row.evaluated_on == timezone.localdate() and row.computed_version == row.version


def test_an_activity_recorded_is_seen_at_once(termed):
    stored(termed)
    today = timezone.localdate()
    fx.drill(termed.school, today - dt.timedelta(days=7))
    assert judged_now(termed) > 0
    same_as_fresh(termed)
    assert judged_now(termed) == 0


def test_an_activity_changed_or_deleted_is_seen_at_once(termed):
    drill = fx.drill(termed.school, timezone.localdate() - dt.timedelta(days=7))
    stored(termed)
    drill.status = "cancelled"
    drill.save()
    same_as_fresh(termed)
    drill.delete()
    same_as_fresh(termed)


def test_classes_and_their_sessions_are_seen_at_once(termed):
    stored(termed)
    one = SchoolClassFactory(school=termed.school, name="一班")
    same_as_fresh(termed)
    session = fx.activity(
        termed.school, "safety_education", timezone.localdate() - dt.timedelta(days=3)
    )
    stored(termed)
    session.classes.add(one)  # only the m2m changes
    same_as_fresh(termed)
    one.delete()
    same_as_fresh(termed)


def test_a_legal_vice_principal_is_seen_at_once(termed):
    stored(termed)
    fx.lvp(termed.school, termed.station, termed.users["officer"], start=timezone.localdate())
    same_as_fresh(termed)


def test_rules_term_and_day_changes_judge_again(termed):
    stored(termed)
    rule = ActivityRule.objects.get(region=termed.region, key="weekly_drill")
    rule.enabled = False
    rule.save()
    assert judged_now(termed) > 0
    same_as_fresh(termed)
    term = termed.region.terms.get()
    term.breaks = [
        [
            str(timezone.localdate() - dt.timedelta(days=14)),
            str(timezone.localdate() - dt.timedelta(days=8)),
        ]
    ]
    term.save()
    assert judged_now(termed) > 0
    same_as_fresh(termed)
    # Another day is judged afresh and not stored over today's.
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    before = list(ActivityStanding.objects.values_list("evaluated_on", "computed_at"))
    compliance.evaluate_schools(ids(termed), stored=True, today=yesterday)
    assert list(ActivityStanding.objects.values_list("evaluated_on", "computed_at")) == before


def test_a_change_made_while_a_reader_judges_is_not_lost(termed, monkeypatch):
    """The reader reads the versions, then the facts; a change lands in between (its touch
    creating the row the reader has not seen): what the reader stores does not count."""
    day = timezone.localdate() - dt.timedelta(days=7)
    real = compliance.evaluate_terms

    def judge_then_change(rows, terms, today):
        results = real(rows, terms, today)  # judged without the drill below
        fx.drill(termed.school, day)  # committed before the reader stores
        return results

    monkeypatch.setattr(compliance, "evaluate_terms", judge_then_change)
    stale = stored(termed)
    monkeypatch.setattr(compliance, "evaluate_terms", real)
    row = ActivityStanding.objects.get(school=termed.school)
    assert row.computed_version != row.version
    assert stored(termed) == fresh(termed) != stale


def test_refresh_stores_every_school_for_the_day(termed):
    assert standings.refresh() >= 2
    assert judged_now(termed) == 0
    same_as_fresh(termed)


def test_overview_reads_the_stored_standings(termed):
    from huxiao.drills import compliance_selectors as sel

    fx.drill(termed.school, timezone.localdate() - dt.timedelta(days=7))
    first = sel.area_overview(school_ids=ids(termed), rows=True)
    assert ActivityStanding.objects.filter(school__in=ids(termed)).count() == 2
    again = sel.area_overview(school_ids=ids(termed), rows=True)
    assert [r.result.verdicts for r in again.rows] == [r.result.verdicts for r in first.rows]
    assert again.rates.compliant == first.rates.compliant
