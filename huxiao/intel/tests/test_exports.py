"""Exports of the intel list pages (issue 10 item 5): warning signs, early warnings and
school cases hold the page's rows for the same filters; scope and a round trip."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.intel import warnings_services
from huxiao.reports.tests.export_checks import (
    assert_export_is_the_page,
    assert_refused_like_the_page,
    cells,
    workbook_values,
)

pytestmark = pytest.mark.django_db

LISTS = {
    "intel.signs": ("intel:sign_list", lambda ctx: [s.pk for s in ctx["signs"]]),
    "intel.early_warnings": ("intel:early_list", lambda ctx: [r.warning.pk for r in ctx["rows"]]),
    "intel.cases": ("intel:case_list", lambda ctx: [c.pk for c in ctx["cases"]]),
}


@pytest.fixture
def records(cw, case):
    """`cw` (the register world with a sign and a case) plus an early warning to both of
    the first station's schools (`ww`'s fixture would add the same users again)."""
    now = timezone.now()
    warnings_services.early_warning_issue(
        actor=cw.users["police"],
        school_ids=[cw.school.pk, cw.other_school.pk],
        title="在逃人员预警",
        content="一名在逃人员可能在辖区出现",
        level="orange",
        valid_from=now,
        valid_until=now + dt.timedelta(days=3),
        now=now,
    )
    return cw


@pytest.mark.parametrize(
    "export, name, query, expect_rows",
    [
        ("intel.signs", "police", "", True),
        ("intel.signs", "guard", "status=new", True),
        ("intel.signs", "principal2", "", False),
        ("intel.early_warnings", "police", "", True),
        ("intel.early_warnings", "principal", "", True),
        ("intel.early_warnings", "farpolice", "", False),
        ("intel.cases", "police", "", True),
        ("intel.cases", "principal", "status=registered", True),
        ("intel.cases", "edu", "school=²", True),
        ("intel.cases", "principal2", "", False),
    ],
)
def test_export_rows_are_the_pages_rows(records, client, export, name, query, expect_rows):
    url, shown_of = LISTS[export]
    user = records.users[name]
    shown = assert_export_is_the_page(client, user, export, f"{reverse(url)}?{query}", shown_of)
    assert bool(shown) == expect_rows


@pytest.mark.parametrize(
    "export, name", [("intel.signs", "edu"), ("intel.cases", "teacher"), ("intel.cases", "lvp")]
)
def test_export_refused_as_the_page(records, client, export, name):
    user = records.users[name]
    assert assert_refused_like_the_page(client, user, export, reverse(LISTS[export][0])) == 403


def test_export_round_trip(records, client, django_capture_on_commit_callbacks):
    values = workbook_values(
        client, records.users["principal"], "intel.cases", "", django_capture_on_commit_callbacks
    )
    found = cells(values)
    assert "校门口持刀滋事" in found and "A2026-001" not in found  # no case number to schools
