"""Exports of the supervision lists (issue 10 item 5): campaigns, notices, accountability,
action items, schemes, a ranking, vetoes and a group's progress reports. Each holds the
page's rows for the same filters (every page of a paginated list); another town's ranking
or group is 404 as on the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from huxiao.orgs.tests.export_helpers import (
    button_on,
    export_ids,
    page,
    request_export,
    round_trip,
)
from huxiao.supervision import assessment_selectors as asel
from huxiao.supervision import assessment_services as asvc
from huxiao.supervision import meeting_services as ms
from huxiao.supervision.tests import notice_fixtures as nf
from huxiao.supervision.tests.assessment_fixtures import scheme
from huxiao.supervision.tests.campaign_fixtures import make_campaign
from huxiao.supervision.tests.meeting_fixtures import (  # noqa: F401
    at,
    group_fixture,
    held_fixture,
    mworld_fixture,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervised(mworld, group, held):
    w = mworld
    w.group, w.held = group, held
    w.campaign = make_campaign(w)
    w.notice = nf.publish(w, nf.make_draft(w))
    w.record = nf.record(w)
    month = asel.previous_period("month", asel.local_today())
    w.scheme = scheme(w, [("安全教育", "manual", "100", {})])
    indicator = w.scheme.indicators.get()
    for school, value in ((w.school, "90"), (w.other_school, "70")):
        asvc.manual_score_set(
            actor=w.users["edu"], indicator=indicator, school=school, day=month.start, percent=value
        )
    w.veto = asvc.veto_record(actor=w.users["gov"], school=w.school, day=month.start, reason="事故")
    w.run = asvc.assessment_compute(actor=w.users["edu"], scheme=w.scheme, day=month.start)
    w.report = ms.report_send(
        actor=w.users["gov"],
        group=group,
        period_start=dt.date(2025, 3, 1),
        period_end=dt.date(2025, 3, 20),
        summary="请审阅",
        now=at(dt.date(2025, 3, 21), "10:00"),
    )
    return w


def _lists(w):
    """(export, user, page url, export query, the page's row ids from its context)."""
    page_objects = lambda c: [o.pk for o in c["page"].object_list]  # noqa: E731
    return [
        ("supervision.campaigns", "edu", reverse("supervision:campaign_list"), "", page_objects),
        (
            "supervision.notices",
            "edu",
            reverse("supervision:notice_list"),
            "",
            lambda c: [r["notice"].pk for r in c["rows"]],
        ),
        (
            "supervision.accountability",
            "gov",
            f"{reverse('supervision:accountability_list')}?kind=interview",
            "kind=interview",
            page_objects,
        ),
        (
            "supervision.actions",
            "gov",
            f"{reverse('supervision:meetings_action_list')}?group={w.group.pk}",
            f"group={w.group.pk}",
            lambda c: [a.pk for a, _late in c["rows"]],
        ),
        (
            "supervision.schemes",
            "edu",
            reverse("supervision:assessment_home"),
            "",
            lambda c: [s.pk for s in c["schemes"]],
        ),
        (
            "supervision.ranking",
            "edu",
            reverse("supervision:assessment_run", args=[w.run.pk]),
            f"run={w.run.pk}",
            lambda c: [r["result"].school_id for r in c["rows"]],
        ),
        (
            "supervision.vetoes",
            "gov",
            f"{reverse('supervision:assessment_vetoes')}?school={w.school.pk}",
            f"school={w.school.pk}",
            lambda c: [v.pk for v in c["vetoes"]],
        ),
        (
            "supervision.progress_reports",
            "gov",
            reverse("supervision:meetings_report_list", args=[w.group.pk]),
            f"group={w.group.pk}",
            page_objects,
        ),
    ]


@pytest.mark.parametrize("index", range(8))
def test_export_rows_are_the_pages_rows(client, supervised, index):
    w = supervised
    name, who, url, query, page_ids = _lists(w)[index]
    user = w.users[who]
    response = page(client, user, url)
    assert button_on(response, name)
    listed = page_ids(response.context)
    assert listed and export_ids(user, name, query) == listed


def test_filters_narrow_the_export(supervised):
    w = supervised
    gov = w.users["gov"]
    assert export_ids(gov, "supervision.accountability", "kind=referral") == []
    assert export_ids(gov, "supervision.actions", "status=closed") == []
    assert export_ids(gov, "supervision.vetoes", f"school={w.other_school.pk}") == []
    assert export_ids(w.users["edu"], "supervision.campaigns", "status=closed") == []
    # an unknown status is no filter, as on the page
    assert export_ids(w.users["edu"], "supervision.campaigns", "status=nope") == [w.campaign.pk]


@pytest.mark.parametrize(
    "name, query",
    [
        ("supervision.ranking", "run={run}"),
        ("supervision.progress_reports", "group={group}"),
        ("supervision.ranking", "run=abc"),
        ("supervision.ranking", f"run={2**70}"),
        ("supervision.progress_reports", "group="),
    ],
)
def test_another_towns_ranking_or_group_is_404(client, supervised, name, query):
    w = supervised
    query = query.format(run=w.run.pk, group=w.group.pk)
    assert request_export(client, w.users["fargov"], name, query).status_code == 404


def test_another_town_sees_none_of_these_records(supervised):
    w = supervised
    far = w.users["fargov"]
    assert w.record.pk not in export_ids(far, "supervision.accountability")
    assert w.veto.pk not in export_ids(far, "supervision.vetoes")
    assert not {w.held.station_item.pk, w.held.school_item.pk} & set(
        export_ids(far, "supervision.actions")
    )


def test_ranking_round_trip(client, supervised, django_capture_on_commit_callbacks):
    w = supervised
    values = round_trip(
        client,
        w.users["edu"],
        "supervision.ranking",
        f"run={w.run.pk}",
        django_capture_on_commit_callbacks,
    )
    assert "本园" in values and "同镇学校" in values and "测试方案" in " ".join(map(str, values))
