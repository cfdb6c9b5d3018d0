"""The scoring rule and ranking against hand-computed examples (ADR 0027, "Assessment and
ranking"): weights over the indicators with data, no data neither zero nor full marks,
ratings, the veto's cap and place, ties, town means, and queries that do not grow with the
number of schools."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from huxiao.orgs.tests.factories import SchoolFactory
from huxiao.supervision import assessment_services as svc
from huxiao.supervision.choices import Rating
from huxiao.supervision.tests.assessment_fixtures import (
    AFTER,
    add_schools,
    compute,
    hazard_row,
    manual,
    results_by_name,
    scheme,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def aworld(sworld):
    return add_schools(sworld)


D = Decimal
ROWS = [
    ("安全教育", "manual", "40", {}),
    ("台账资料", "manual", "30", {}),
    ("逾期隐患", "overdue_hazards", "30", {"per_hazard": 25}),
]


def _hand_example(w):
    """本园: 90, 80, one overdue hazard (75)  → (36 + 24 + 22.5) / 100 → 82.50, good.
    同镇学校: 100, —, no hazard (no data)      → 40 / 40           → 100.00, excellent.
    三校: 50, 60, two overdue hazards (50)    → (20 + 18 + 15) / 100 → 53.00, fail.
    四校: nothing at all                       → no score, no rank."""
    s = scheme(w, ROWS)
    manual(w, s, "安全教育", w.school, "90")
    manual(w, s, "台账资料", w.school, "80")
    manual(w, s, "安全教育", w.other_school, "100")
    manual(w, s, "安全教育", w.school3, "50")
    manual(w, s, "台账资料", w.school3, "60")
    hazard_row(w.school, deadline=dt.date(2025, 3, 20))
    # Closed in time, and one closed after the period: still open at its end.
    hazard_row(w.school, deadline=dt.date(2025, 3, 10), closed=dt.date(2025, 3, 9))
    hazard_row(w.school3, deadline=dt.date(2025, 3, 5))
    hazard_row(w.school3, deadline=dt.date(2025, 3, 30), closed=dt.date(2025, 4, 1))
    # Due on the period's last day: not overdue at its end.
    hazard_row(w.school3, deadline=dt.date(2025, 3, 31))
    return s


def test_hand_computed_ranking(aworld):
    w = aworld
    s = _hand_example(w)
    run = compute(w, s)
    got = results_by_name(run)
    assert set(got) == {"本园", "同镇学校", "三校", "四校"}  # the town office's schools
    assert (got["本园"].score, got["本园"].max_score) == (D("82.50"), D("100.00"))
    assert (got["同镇学校"].score, got["同镇学校"].max_score) == (D("100.00"), D("40.00"))
    assert (got["三校"].score, got["三校"].max_score) == (D("53.00"), D("100.00"))
    assert got["四校"].score is None and got["四校"].max_score == 0
    assert [got[n].rank for n in ("同镇学校", "本园", "三校", "四校")] == [1, 2, 3, None]
    assert [got[n].rating for n in ("同镇学校", "本园", "三校", "四校")] == [
        Rating.EXCELLENT,
        Rating.GOOD,
        Rating.FAIL,
        "",
    ]
    # The breakdown: value and points per indicator, "no data" where there is none.
    ids = {i.name: str(i.pk) for i in s.indicators.all()}
    mine = got["本园"].details
    assert mine[ids["逾期隐患"]] == {"value": "75.00", "score": "22.50", "no_data": False}
    assert mine[ids["安全教育"]] == {"value": "90.00", "score": "36.00", "no_data": False}
    other = got["同镇学校"].details
    assert other[ids["台账资料"]]["no_data"] and other[ids["逾期隐患"]]["no_data"]
    # Town: the mean of its scored schools: (82.5 + 100 + 53) / 3.
    (town,) = run.town_results.all()
    assert (town.town_id, town.score, town.rank, town.schools) == (w.town.pk, D("78.50"), 1, 4)
    assert run.period_start == dt.date(2025, 3, 1) and run.period_end == dt.date(2025, 3, 31)


def test_no_data_is_neither_zero_nor_full_marks(aworld):
    w = aworld
    s = scheme(w, [("甲", "manual", "50", {}), ("演练", "future_app_placeholder", "50", {})])
    manual(w, s, "甲", w.school, "70")
    got = results_by_name(compute(w, s))
    # The placeholder (an app not built yet) has no data. 70 % of the half with data is 70, not 35 and not 85.
    assert got["本园"].score == D("70.00") and got["本园"].max_score == D("50.00")
    assert got["同镇学校"].score is None and got["同镇学校"].rank is None


def test_ties_share_a_rank(aworld):
    w = aworld
    s = scheme(w, [("甲", "manual", "100", {})])
    for school, value in ((w.school, "90"), (w.other_school, "80"), (w.school3, "80")):
        manual(w, s, "甲", school, value)
    manual(w, s, "甲", w.school4, "70")
    got = results_by_name(compute(w, s))
    assert [got[n].rank for n in ("本园", "同镇学校", "三校", "四校")] == [1, 2, 2, 4]


def test_veto_caps_rating_and_ranks_after_the_others(aworld):
    w = aworld
    s = scheme(w, [("甲", "manual", "100", {})])
    for school, value in ((w.school, "95"), (w.other_school, "80"), (w.school3, "60")):
        manual(w, s, "甲", school, value)
    veto = svc.veto_record(
        actor=w.users["gov"],
        school=w.school,
        day=dt.date(2025, 3, 3),
        reason="发生重大安全责任事故",
        now=AFTER,
    )
    got = results_by_name(compute(w, s))
    best = got["本园"]
    assert best.vetoed and best.rating == Rating.FAIL and best.score == D("95.00")
    assert (got["同镇学校"].rank, got["三校"].rank, best.rank) == (1, 2, 3)
    # A yearly veto overlaps the month too; a revoked one no longer caps.
    svc.veto_revoke(actor=w.users["gov"], veto=veto, reason="经复核撤销", now=AFTER)
    got = results_by_name(compute(w, s))
    assert not got["本园"].vetoed and got["本园"].rank == 1
    assert got["本园"].rating == Rating.EXCELLENT
    svc.veto_record(
        actor=w.users["gov"],
        school=w.other_school,
        day=dt.date(2025, 1, 3),
        period_kind="year",
        reason="全年一票否决",
        now=AFTER,
    )
    got = results_by_name(compute(w, s))
    assert got["同镇学校"].vetoed and got["同镇学校"].rank == 3 and got["三校"].rank == 2


def test_town_means_and_ranks_of_a_county_scheme(aworld):
    w = aworld
    s = scheme(
        w,
        [("甲", "manual", "100", {})],
        owner=w.county_office,
        actor=w.users["county"],
    )
    for school, value in ((w.school, "90"), (w.other_school, "70"), (w.far_school, "85")):
        manual(w, s, "甲", school, value, actor=w.users["county"])
    run = compute(w, s, actor=w.users["county"])
    towns = {t.town_id: t for t in run.town_results.all()}
    assert (towns[w.town.pk].score, towns[w.town.pk].rank) == (D("80.00"), 2)
    assert (towns[w.other_town.pk].score, towns[w.other_town.pk].rank) == (D("85.00"), 1)
    assert towns[w.town.pk].schools == 4 and towns[w.other_town.pk].schools == 1


def test_competition_ranks():
    assert svc.competition_ranks({1: D(90), 2: D(80), 3: D(80), 4: D(70)}) == {
        1: 1,
        2: 2,
        3: 2,
        4: 4,
    }
    assert svc.competition_ranks({7: D(50), 8: D(50)}, offset=3) == {7: 4, 8: 4}


def _queries_for(w, n_schools: int) -> int:
    for i in range(n_schools):
        SchoolFactory(town=w.town, police_station=w.station, name=f"加校{n_schools}-{i}")
    s = scheme(
        w,
        [
            ("检查", "inspection_score", "20", {}),
            ("自查", "self_checks_held", "5", {}),
            ("整改", "hazards_closed_on_time", "15", {}),
            ("逾期", "overdue_hazards", "10", {}),
            ("挂牌", "listed_supervision", "5", {}),
            ("护学岗", "gate_posts_staffed", "5", {}),
            ("走访", "police_visits", "5", {}),
            ("报警", "alarm_response", "5", {}),
            ("专项", "campaign_acceptance", "5", {}),
            ("演练", "drills_held", "10", {}),
            ("人工", "manual", "15", {}),
        ],
        name=f"方案{n_schools}",
    )
    for school in svc.sel.covered_schools(w.edu_office):
        hazard_row(school, deadline=dt.date(2025, 3, 5))
    compute(w, s)  # a draft to replace
    with CaptureQueriesContext(connection) as queries:
        run = compute(w, s)
    assert run.results.count() == 4 + n_schools
    return len(queries)


def test_compute_queries_do_not_grow_with_schools(aworld):
    few = _queries_for(aworld, 0)
    many = _queries_for(aworld, 9)
    assert few == many, (few, many)
