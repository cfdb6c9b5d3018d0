"""The scorecard's selector at a fixed time: which scheme it shows, months, the monthly
self-check, vetoes, and the areas a role does not see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from huxiao.core.roles import OrgKind
from huxiao.hazards.models import ChecklistTemplate, Inspection
from huxiao.orgs.models import Organization
from huxiao.reports import scorecard_selectors as sel
from huxiao.supervision import assessment_services as svc


def at(day: dt.date, hhmm: str = "09:00") -> dt.datetime:
    hour, minute = hhmm.split(":")
    return timezone.make_aware(dt.datetime.combine(day, dt.time(int(hour), int(minute))))


NOW = at(dt.date(2025, 4, 16))  # a Wednesday
ROWS = [{"name": "逾期隐患", "source": "overdue_hazards", "weight": "100"}]


def self_check(school, day):
    return Inspection.objects.create(
        school=school,
        template=ChecklistTemplate.objects.filter(is_published=True).order_by("pk").first(),
        kind="self_check",
        organization=school,
        planned_on=day,
        status="signed_off",
        signed_off_at=at(day, "11:00"),
        score=90,
        max_score=100,
    )


@pytest.fixture
def offices(rworld):
    w = rworld
    w.edu_office = Organization.objects.get(kind=OrgKind.EDUCATION_OFFICE, town=w.town)
    w.gov_office = Organization.objects.get(kind=OrgKind.GOVERNANCE_OFFICE, town=w.town)
    w.county_office = Organization.objects.get(kind=OrgKind.GOVERNANCE_OFFICE, town__isnull=True)
    return w


def scheme(w, owner, actor, name):
    return svc.scheme_create(actor=w.users[actor], owner=owner, name=name, indicators=ROWS)


def test_the_nearest_scheme_is_shown_unless_another_was_published(offices):
    w = offices
    county = scheme(w, w.county_office, "county", "县方案")
    gov = scheme(w, w.gov_office, "gov", "综治方案")
    edu = scheme(w, w.edu_office, "edu", "教育方案")
    principal = w.users["principal"]
    card = sel.scorecard(actor=principal, school_id=w.school.pk, now=NOW)
    assert [s.name for s in card.schemes] == ["教育方案", "综治方案", "县方案"]
    assert card.scheme == edu
    assert (
        sel.scorecard(
            actor=principal, school_id=w.school.pk, scheme_id=str(county.pk), now=NOW
        ).scheme
        == county
    )

    run = svc.assessment_compute(
        actor=w.users["gov"], scheme=gov, day=dt.date(2025, 3, 31), now=at(dt.date(2025, 4, 2))
    )
    svc.assessment_publish(actor=w.users["gov"], run=run, now=at(dt.date(2025, 4, 2)))
    card = sel.scorecard(actor=principal, school_id=w.school.pk, now=NOW)
    assert card.scheme == gov
    assert card.standing is not None and card.standing.run == run
    assert [p.published for p in card.trend] == [False, False, False, False, True, False]

    # A switched-off scheme no longer covers the school.
    edu.is_active = False
    edu.save(update_fields=["is_active"])
    with pytest.raises(Http404):
        sel.scorecard(actor=principal, school_id=w.school.pk, scheme_id=edu.pk, now=NOW)


def test_months():
    today = dt.date(2025, 4, 16)
    april = sel.parse_month("", today)
    assert (april.start, april.end, april.as_of, april.running) == (
        dt.date(2025, 4, 1),
        dt.date(2025, 4, 30),
        today,
        True,
    )
    assert sel.parse_month("2025-02", today).as_of == dt.date(2025, 2, 28)
    assert [m.label for m in sel.months_until(sel.parse_month("2025-02", today), today)] == [
        "2024-09",
        "2024-10",
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
    ]
    assert [m.label for m in sel.months_until(sel.parse_month("2000-02", today), today)] == [
        "2000-01",
        "2000-02",
    ]
    for bad in ("2025-05", "2025-5", "x", "2025-02-30", "1999-12"):
        with pytest.raises(sel.MonthError):
            sel.parse_month(bad, today)


def test_monthly_self_check(offices):
    w = offices
    principal = w.users["principal"]

    def inspections():
        card = sel.scorecard(actor=principal, school_id=w.school.pk, now=NOW)
        return [(g.severity, g.since) for g in card.gaps if g.area == "inspections"]

    assert inspections() == [(sel.OVERDUE, None)]
    self_check(w.school, dt.date(2025, 3, 20))
    assert inspections() == [(sel.DUE, dt.date(2025, 3, 20))]
    self_check(w.other_school, dt.date(2025, 4, 2))  # another school's does not count
    assert inspections() == [(sel.DUE, dt.date(2025, 3, 20))]
    self_check(w.school, dt.date(2025, 4, 3))
    assert inspections() == []


def test_a_veto_is_on_record_for_everyone_who_views_the_school(offices):
    w = offices
    svc.veto_record(
        actor=w.users["gov"],
        school=w.school,
        day=dt.date(2025, 3, 10),
        reason="发生重大安全责任事故",
        now=at(dt.date(2025, 3, 12)),
    )
    for user, page in (("principal", "/supervision/assessment/schools/"), ("gov", "vetoes")):
        card = sel.scorecard(actor=w.users[user], school_id=w.school.pk, now=NOW)
        (veto,) = [g for g in card.gaps if g.area == "veto"]
        assert veto.severity == sel.OVERDUE and "重大安全责任事故" in veto.detail
        assert page in veto.url
    other = sel.scorecard(actor=w.users["edu"], school_id=w.other_school.pk, now=NOW)
    assert [g for g in other.gaps if g.area == "veto"] == []


def test_hidden_areas_follow_each_apps_rules(offices):
    w = offices

    def hidden(user):
        card = sel.scorecard(actor=w.users[user], school_id=w.school.pk, now=NOW)
        return {str(sel.AREAS[a]) for a in sel.AREAS} & set(card.hidden_areas)

    health, campaigns, patrols, accountability = (
        str(sel.AREAS[k]) for k in ("health", "campaigns", "patrols", "accountability")
    )
    assert hidden("principal") == set()
    assert hidden("police") == {health, campaigns, accountability}
    assert hidden("teacher") == {health, patrols, accountability}
    assert hidden("health") == {campaigns, patrols, accountability}


def test_scope_of_the_selector(offices):
    w = offices
    with pytest.raises(Http404):
        sel.scorecard(actor=w.users["principal2"], school_id=w.school.pk, now=NOW)
    with pytest.raises(PermissionDenied):
        sel.scorecard(actor=w.users["nobody"], school_id=w.school.pk, now=NOW)
    for junk in ("abc", None, -3, 2**64):
        with pytest.raises(Http404):
            sel.school_get(actor=w.users["county"], school_id=junk)
    assert sel.own_school_ids(w.users["principal"]) == [w.school.pk]
    assert sel.own_school_ids(w.users["edu"]) == []


def test_a_campaign_not_accepted_in_time(offices):
    from huxiao.supervision.tests.campaign_fixtures import make_campaign

    w = offices
    campaign = make_campaign(w)  # from 2025-03-03: self-check due 03-10, acceptance 04-02
    for user in ("principal", "teacher", "edu", "county"):
        card = sel.scorecard(actor=w.users[user], school_id=w.school.pk, now=NOW)
        (gap,) = [g for g in card.gaps if g.area == "campaigns"]
        assert gap.severity == sel.OVERDUE
        assert gap.since == dt.date(2025, 3, 10)
        assert gap.url == f"/supervision/campaigns/{campaign.pk}/schools/{w.school.pk}/"
    police = sel.scorecard(actor=w.users["police"], school_id=w.school.pk, now=NOW)
    assert [g for g in police.gaps if g.area == "campaigns"] == []
    # A school outside the campaign has nothing to show.
    far = sel.scorecard(actor=w.users["county"], school_id=w.far_school.pk, now=NOW)
    assert [g for g in far.gaps if g.area == "campaigns"] == []
