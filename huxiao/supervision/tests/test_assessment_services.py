"""Services of assessment: schemes (weights, sources, parameters, the freeze once a ranking
is published, copies), manual scores, computing (periods, the future, replacing the
draft), publishing (frozen, notified), the veto (who, reason, period) — each refusal with
its message and nothing written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from huxiao.audit.models import AuditEvent
from huxiao.notify.models import Notification
from huxiao.supervision import assessment_services as svc
from huxiao.supervision.choices import RunStatus
from huxiao.supervision.models import (
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    Indicator,
    ManualScore,
    Veto,
)
from huxiao.supervision.tests.assessment_fixtures import (
    AFTER,
    MARCH,
    MARCH_START,
    add_schools,
    at,
    compute,
    indicator,
    manual,
    results_by_name,
    scheme,
)

pytestmark = pytest.mark.django_db
ONE = [("甲", "manual", "100", {})]


@pytest.fixture
def aworld(sworld):
    return add_schools(sworld)


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted by their English msgids (whatever is compiled)."""
    with translation.override("en"):
        yield


def _messages(exc) -> str:
    return " ".join(str(m) for m in exc.value.messages)


# ------------------------------------------------------------------ schemes


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("甲", "manual", "60", {}), ("乙", "manual", "30", {})], "add up to 90"),
        ([("甲", "no_such_source", "100", {})], "Unknown source"),
        ([("甲", "manual", "99.95", {}), ("乙", "manual", "0.05", {})], "one decimal"),
        ([("甲", "manual", "abc", {})], "Enter a number"),
        ([("甲", "manual", "0", {}), ("乙", "manual", "100", {})], "more than 0"),
        ([("甲", "manual", "150", {})], "from 0 to 100"),
        ([("甲", "overdue_hazards", "100", {"per_hazard": 500})], "from 0 to 100"),
        ([("甲", "overdue_hazards", "100", {"nonsense": 1})], "Unknown parameter"),
        ([("甲", "overdue_hazards", "100", "{not json")], "JSON"),
        ([("甲", "overdue_hazards", "100", {"per_hazard": True})], "must be a number"),
        ([("甲", "overdue_hazards", "100", '{"per_hazard": 1e999}')], "from 0 to 100"),
        ([("甲", "overdue_hazards", "100", {"per_hazard": 2.5})], "whole number"),
        ([], "at least one indicator"),
    ],
)
def test_scheme_bad_input_is_refused_and_nothing_written(aworld, rows, expected):
    with pytest.raises(ValidationError) as exc:
        scheme(aworld, rows)
    assert expected in _messages(exc)
    assert not AssessmentScheme.objects.exists() and not Indicator.objects.exists()


def test_scheme_thresholds_must_rise(aworld):
    with pytest.raises(ValidationError) as exc:
        scheme(aworld, ONE, excellent_from="70", good_from="80", pass_from="60")
    assert "pass ≤ good ≤ excellent" in _messages(exc)


def test_scheme_create_stores_defaults_and_audits(aworld):
    w = aworld
    s = scheme(w, [("逾期", "overdue_hazards", "100", {})])
    ind = s.indicators.get()
    assert ind.params == {"per_hazard": 20} and ind.weight == Decimal("100.0")
    assert s.owner == w.edu_office and s.created_by == w.users["edu"]
    assert AuditEvent.objects.filter(object_type="supervision.assessmentscheme").count() == 1
    assert AuditEvent.objects.filter(object_type="supervision.indicator").count() == 1
    # A blank name takes the source's label.
    s2 = scheme(w, [("", "overdue_hazards", "100", {})], name="二")
    assert s2.indicators.get().name


@pytest.mark.parametrize("name", ["principal", "police", "officer", "nobody"])
def test_scheme_create_needs_an_assessing_office(aworld, name):
    with pytest.raises(PermissionDenied):
        svc.scheme_create(
            actor=aworld.users[name],
            name="x",
            indicators=[{"name": "甲", "source": "manual", "weight": "100"}],
        )


def test_scheme_owner_must_be_the_actors_office(aworld):
    w = aworld
    with pytest.raises(ValidationError) as exc:
        scheme(w, ONE, owner=w.gov_office)  # edu is not a member there
    assert "assessing offices" in _messages(exc)


def test_only_the_owning_office_edits_and_computes(aworld):
    w = aworld
    s = scheme(w, ONE)
    for name in ("gov", "county"):  # they read it (same town / county) but do not own it
        with pytest.raises(PermissionDenied):
            svc.scheme_update(actor=w.users[name], scheme=s, name="改")
        with pytest.raises(PermissionDenied):
            compute(w, s, actor=w.users[name])
    for name in ("principal", "police"):  # no assessing right anywhere
        with pytest.raises(PermissionDenied):
            compute(w, s, actor=w.users[name])


def test_far_offices_do_not_see_a_town_scheme(aworld):
    from huxiao.core.roles import OrgKind, Role
    from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

    w = aworld
    s = scheme(w, ONE)
    far_edu = OrganizationFactory(
        kind=OrgKind.EDUCATION_OFFICE, town=w.other_town, name="外镇中心校"
    )
    far_user = UserFactory(username="faredu")
    MembershipFactory(user=far_user, organization=far_edu, role=Role.EDUCATION_SUPERVISOR)
    with pytest.raises(Http404):
        compute(w, s, actor=far_user)


def test_editing_indicators_discards_drafts_and_keeps_manual_scores(aworld):
    w = aworld
    s = scheme(w, [("甲", "manual", "60", {}), ("乙", "overdue_hazards", "40", {})])
    manual(w, s, "甲", w.school, "80")
    compute(w, s)
    keep = indicator(s, "甲")
    svc.scheme_update(
        actor=w.users["edu"],
        scheme=s,
        name=s.name,
        indicators=[
            {"id": keep.pk, "name": "甲", "source": "manual", "weight": "70"},
            {"name": "丙", "source": "inspection_score", "weight": "30"},
        ],
    )
    assert sorted(s.indicators.values_list("name", flat=True)) == ["丙", "甲"]
    assert ManualScore.objects.filter(indicator=keep).count() == 1
    assert not AssessmentRun.objects.filter(scheme=s).exists()  # the stale draft went


def test_published_scheme_indicators_are_frozen_copy_instead(aworld):
    w = aworld
    s = scheme(w, ONE)
    svc.assessment_publish(actor=w.users["edu"], run=compute(w, s), now=AFTER)
    ind = s.indicators.get()
    with pytest.raises(svc.AssessmentRefused) as exc:
        svc.scheme_update(
            actor=w.users["edu"],
            scheme=s,
            name=s.name,
            indicators=[
                {"id": ind.pk, "name": "甲", "source": "manual", "weight": "50"},
                {"name": "乙", "source": "manual", "weight": "50"},
            ],
        )
    assert "Make a copy" in _messages(exc)
    with pytest.raises(svc.AssessmentRefused):
        svc.scheme_update(actor=w.users["edu"], scheme=s, name=s.name, period_kind="year")
    # The name and the thresholds may change; the same indicators are accepted.
    svc.scheme_update(
        actor=w.users["edu"],
        scheme=s,
        name="改名",
        good_from="75",
        indicators=[{"id": ind.pk, "name": "甲", "source": "manual", "weight": "100"}],
    )
    s.refresh_from_db()
    assert s.name == "改名" and s.good_from == Decimal("75.0")
    copy = svc.scheme_copy(actor=w.users["county"], scheme=s)
    assert copy.owner == w.county_office and copy.indicators.count() == 1
    assert copy.pk != s.pk and not copy.runs.exists()


def test_invalid_weight_is_bad_input_even_when_frozen(aworld):
    w = aworld
    s = scheme(w, ONE)
    with pytest.raises(ValidationError) as exc:
        svc.scheme_update(
            actor=w.users["edu"],
            scheme=s,
            name=s.name,
            indicators=[{"name": "甲", "source": "manual", "weight": "0"}],
        )
    assert not isinstance(exc.value, svc.AssessmentRefused)


# ------------------------------------------------------------------ manual scores


@pytest.mark.parametrize("value", ["150", "-1", "abc", "99.99", "1e30"])
def test_manual_score_out_of_range_refused(aworld, value):
    w = aworld
    s = scheme(w, ONE)
    with pytest.raises(ValidationError):
        manual(w, s, "甲", w.school, value)
    assert not ManualScore.objects.exists()


def test_manual_scores_all_or_nothing_and_scope(aworld):
    w = aworld
    s = scheme(w, [("甲", "manual", "50", {}), ("乙", "overdue_hazards", "50", {})])
    good = indicator(s, "甲")
    with pytest.raises(ValidationError) as exc:
        svc.manual_scores_save(
            actor=w.users["edu"],
            scheme=s,
            day=MARCH,
            entries=[
                {"indicator_id": good.pk, "school_id": w.school.pk, "percent": "90"},
                {"indicator_id": good.pk, "school_id": w.far_school.pk, "percent": "90"},
                {"indicator_id": indicator(s, "乙").pk, "school_id": w.school.pk, "percent": "9"},
            ],
            now=AFTER,
        )
    keys = exc.value.message_dict
    assert f"{good.pk}-{w.far_school.pk}" in keys and len(keys) == 2
    assert not ManualScore.objects.exists()
    # Upsert, then a blank removes it.
    manual(w, s, "甲", w.school, "90")
    manual(w, s, "甲", w.school, "95")
    score = ManualScore.objects.get()
    assert score.percent == Decimal("95.0") and score.period_start == MARCH_START
    manual(w, s, "甲", w.school, "")
    assert not ManualScore.objects.exists()


def test_manual_score_future_period_refused(aworld):
    w = aworld
    s = scheme(w, ONE)
    with pytest.raises(ValidationError) as exc:
        manual(w, s, "甲", w.school, "80", day=dt.date(2025, 5, 1))
    assert "future" in _messages(exc)


# ------------------------------------------------------------------ compute and publish


def test_compute_future_period_refused_and_nothing_written(aworld):
    w = aworld
    s = scheme(w, ONE)
    with pytest.raises(ValidationError) as exc:
        compute(w, s, day=dt.date(2025, 4, 3))  # AFTER is 2025-04-02
    assert "future" in _messages(exc)
    with pytest.raises(ValidationError):
        compute(w, s, day="not a date")
    with pytest.raises(ValidationError):
        compute(w, s, day=dt.date(1999, 12, 31))
    assert not AssessmentRun.objects.exists()


def test_running_period_counts_up_to_today(aworld):
    w = aworld
    s = scheme(w, ONE)
    run = compute(w, s, day=dt.date(2025, 4, 1), now=AFTER)
    assert (run.period_start, run.period_end) == (dt.date(2025, 4, 1), dt.date(2025, 4, 30))
    quarterly = scheme(w, ONE, name="季度", period_kind="quarter")
    run = compute(w, quarterly, day=MARCH)
    assert (run.period_start, run.period_end) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31))


def test_switched_off_scheme_is_not_computed(aworld):
    w = aworld
    s = scheme(w, ONE, is_active=False)
    with pytest.raises(svc.AssessmentRefused):
        compute(w, s)


def test_recompute_replaces_the_draft(aworld):
    w = aworld
    s = scheme(w, ONE)
    manual(w, s, "甲", w.school, "50")
    first = compute(w, s)
    manual(w, s, "甲", w.school, "70")
    second = compute(w, s)
    assert not AssessmentRun.objects.filter(pk=first.pk).exists()
    assert results_by_name(second)["本园"].score == Decimal("70.00")
    assert AssessmentResult.objects.count() == 4
    audit = AuditEvent.objects.filter(object_type="supervision.assessmentrun").latest("at")
    assert audit.changes["after"]["replaces_drafts"] == [first.pk]


def test_publish_freezes_and_notifies_principals(aworld):
    w = aworld
    s = scheme(w, ONE)
    manual(w, s, "甲", w.school, "88")
    run = compute(w, s)
    svc.assessment_publish(actor=w.users["edu"], run=run, now=AFTER)
    run.refresh_from_db()
    assert run.status == RunStatus.PUBLISHED and run.published_by == w.users["edu"]
    note = Notification.objects.get(
        event_type="supervision.assessment_published", organization=w.school
    )
    assert "88" in note.body and note.organization_id == w.school.pk
    assert list(
        note.deliveries.filter(recipient__isnull=False).values_list(
            "recipient__username", flat=True
        )
    ) == ["principal"]
    # Frozen: publishing again is refused, recomputing makes a new draft and leaves it.
    with pytest.raises(svc.AssessmentRefused):
        svc.assessment_publish(actor=w.users["edu"], run=run, now=AFTER)
    manual(w, s, "甲", w.school, "20")
    draft = compute(w, s)
    assert draft.pk != run.pk and draft.status == RunStatus.DRAFT
    assert results_by_name(run)["本园"].score == Decimal("88.00")
    assert results_by_name(draft)["本园"].score == Decimal("20.00")


def test_publish_refused_before_the_period_is_over_or_on_stale_draft(aworld):
    w = aworld
    s = scheme(w, ONE)
    running = compute(w, s, day=dt.date(2025, 4, 1))
    with pytest.raises(svc.AssessmentRefused) as exc:
        svc.assessment_publish(actor=w.users["edu"], run=running, now=AFTER)
    assert "once the period is over" in _messages(exc)
    stale = compute(w, s, day=MARCH, now=at(dt.date(2025, 3, 30)))
    with pytest.raises(svc.AssessmentRefused) as exc:
        svc.assessment_publish(actor=w.users["edu"], run=stale, now=AFTER)
    assert "compute it again" in _messages(exc)
    with pytest.raises(PermissionDenied):
        svc.assessment_publish(actor=w.users["gov"], run=compute(w, s), now=AFTER)


# ------------------------------------------------------------------ the veto


@pytest.mark.parametrize("name", ["edu", "principal", "police"])
def test_veto_needs_hold_accountable(aworld, name):
    w = aworld
    with pytest.raises(PermissionDenied):
        svc.veto_record(actor=w.users[name], school=w.school, day=MARCH, reason="x", now=AFTER)
    assert not Veto.objects.exists()


def test_veto_out_of_scope_is_not_found(aworld):
    w = aworld
    with pytest.raises(Http404):
        svc.veto_record(actor=w.users["gov"], school=w.far_school, day=MARCH, reason="x", now=AFTER)


def test_veto_bad_input(aworld):
    w = aworld
    with pytest.raises(ValidationError) as exc:
        svc.veto_record(
            actor=w.users["gov"],
            school=w.school,
            day=dt.date(2025, 5, 1),
            period_kind="week",
            reason="  ",
            now=AFTER,
        )
    errors = exc.value.message_dict
    assert set(errors) == {"reason", "date", "period_kind"}
    assert not Veto.objects.exists()


def test_veto_recorded_once_by_the_nearest_office_and_revoked_once(aworld):
    w = aworld
    veto = svc.veto_record(
        actor=w.users["gov"], school=w.school, day=MARCH, reason="发生安全责任事故", now=AFTER
    )
    assert veto.decided_by_org == w.gov_office
    assert (veto.period_start, veto.period_end) == (MARCH_START, dt.date(2025, 3, 31))
    assert Notification.objects.filter(event_type="supervision.veto").count() == 1
    with pytest.raises(svc.AssessmentRefused):
        svc.veto_record(actor=w.users["county"], school=w.school, day=MARCH, reason="再", now=AFTER)
    with pytest.raises(ValidationError):
        svc.veto_revoke(actor=w.users["gov"], veto=veto, reason="", now=AFTER)
    with pytest.raises(PermissionDenied):
        svc.veto_revoke(actor=w.users["edu"], veto=veto, reason="撤销", now=AFTER)
    svc.veto_revoke(actor=w.users["county"], veto=veto, reason="撤销", now=AFTER)
    with pytest.raises(svc.AssessmentRefused):
        svc.veto_revoke(actor=w.users["gov"], veto=veto, reason="再撤销", now=AFTER)
    county_veto = svc.veto_record(
        actor=w.users["county"], school=w.far_school, day=MARCH, reason="县级否决", now=AFTER
    )
    assert county_veto.decided_by_org == w.county_office


def test_default_scheme_totals_100_and_is_idempotent(aworld):
    w = aworld
    s = svc.ensure_default_scheme(w.edu_office)
    assert svc.ensure_default_scheme(w.edu_office).pk == s.pk
    assert sum(i.weight for i in s.indicators.all()) == Decimal(100)
    assert {i.source for i in s.indicators.all()} >= {"drills_held", "manual", "inspection_score"}
    run = compute(w, s)
    assert run.results.count() == 4
