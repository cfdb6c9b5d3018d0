"""Exports of the hazard list pages (issue 10 item 5): hazards, inspections, the listed-
supervision board, surroundings tasks and checklist templates hold the page's rows for the
same filters (a bad filter filters nothing on both); refused like the page; round trip."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from huxiao.hazards.choices import HazardStatus
from huxiao.hazards.tests import listing_fixtures
from huxiao.hazards.tests.hazard_fixtures import advance, report
from huxiao.hazards.tests.inspection_fixtures import make_template, plan
from huxiao.reports.tests.export_checks import (
    assert_export_is_the_page,
    assert_refused_like_the_page,
    cells,
    export_rows,
    first_column,
    workbook_values,
)

lworld = listing_fixtures.lworld

PAGES = {
    "hazards.hazards": ("hazards:hazard_list", lambda c: [h.pk for h in c["page"].object_list]),
    "hazards.inspections": ("hazards:inspection_list", lambda c: [i.pk for i in c["inspections"]]),
    "hazards.listings": ("hazards:listing_board", lambda c: [r["listing"].pk for r in c["rows"]]),
    "hazards.tasks": ("hazards:task_list", lambda c: [t.pk for t in c["page"].object_list]),
    "hazards.templates": (
        "hazards:template_list",
        lambda c: [t.pk for t in [*c["drafts"], *c["templates"]]],
    ),
}


@pytest.fixture
def records(lworld):
    w = lworld
    advance(w, report(w, title="消防通道堵塞"), "assigned")
    report(w, title="围墙破损")
    report(w, school=w.other_school, actor=w.users["principal2"], title="同镇隐患")
    report(w, school=w.far_school, actor=w.users["farpolice"], title="外镇隐患")
    w.template = make_template()
    plan(w)
    plan(w, unannounced=True)
    listing_fixtures.list_problem(w)
    listing_fixtures.task_to(w, listing_fixtures.give_task(w), "accepted")
    listing_fixtures.give_task(w, department=w.traffic, title="交通疏导")
    return w


@pytest.mark.parametrize(
    "export, name, query",
    [
        ("hazards.hazards", "principal", ""),
        ("hazards.hazards", "county", "status=reported"),
        ("hazards.hazards", "edu", "overdue=on&level=zzz"),  # a bad filter: the full list
        ("hazards.hazards", "police", "school={other}"),
        ("hazards.inspections", "edu", ""),
        ("hazards.inspections", "principal", ""),  # the unannounced one stays hidden
        ("hazards.listings", "gov", "status=active"),
        ("hazards.listings", "principal2", ""),
        ("hazards.tasks", "gov", ""),
        ("hazards.tasks", "market", "status=accepted"),
        ("hazards.templates", "edu", "kind=zzz"),
    ],
)
def test_export_rows_are_the_pages_rows(records, client, export, name, query):
    url, shown_of = PAGES[export]
    url = reverse(url) + "?" + query.format(other=records.other_school.pk)
    shown = assert_export_is_the_page(client, records.users[name], export, url, shown_of)
    assert shown or export == "hazards.listings"


def test_scope_of_the_hazard_export(records):
    titles = {row[1] for row in export_rows(records.users["principal"], "hazards.hazards")}
    assert titles == {"消防通道堵塞", "围墙破损"}
    assert len(first_column(records.users["principal"], "hazards.inspections")) == 1
    assert len(first_column(records.users["edu"], "hazards.inspections")) == 2


@pytest.mark.parametrize("export", sorted(PAGES))
@pytest.mark.parametrize("name", ["nobody", "market", "teacher"])
def test_export_refused_as_the_page(records, client, export, name):
    url = reverse(PAGES[export][0])
    page = assert_refused_like_the_page(client, records.users[name], export, url)
    assert page == 403 or name != "nobody"


def test_export_round_trip(records, client, django_capture_on_commit_callbacks):
    values = workbook_values(
        client,
        records.users["principal"],
        "hazards.hazards",
        "status=assigned",
        django_capture_on_commit_callbacks,
    )
    found = cells(values)
    assert "消防通道堵塞" in found and "围墙破损" not in found and "同镇隐患" not in found
    with translation.override("zh-hans"):
        assert values[1][0] == f"状态: {HazardStatus.ASSIGNED.label}"  # the filter, as a heading
