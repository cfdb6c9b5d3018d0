"""Export of the import job list (issue 10 item 5): the page's jobs, scope, round trip."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.imports.choices import ImportKind
from huxiao.imports.tests.sheets import CHILD_HEADER, child_rows, xlsx
from huxiao.reports.tests.export_checks import (
    assert_export_is_the_page,
    cells,
    has_button,
    post_status,
    workbook_values,
)


@pytest.fixture
def jobs(world, run_job):
    own = run_job(
        actor=world.users["principal"],
        school=world.school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, child_rows(2)),
        name="本园名单.xlsx",
    )
    other = run_job(
        actor=world.users["principal2"],
        school=world.other_school,
        kind=ImportKind.CHILDREN,
        data=xlsx(CHILD_HEADER, child_rows(2)),
        name="同镇名单.xlsx",
    )
    return own, other


@pytest.mark.parametrize("name", ["principal", "principal2"])
def test_export_rows_are_the_pages_rows(world, jobs, client, name):
    url = reverse("imports:job_list")
    shown = assert_export_is_the_page(
        client, world.users[name], "imports.jobs", url, lambda c: [j.pk for j in c["jobs"]]
    )
    assert len(shown) == 1


@pytest.mark.parametrize("name", ["teacher", "edu", "police", "nobody"])
def test_no_job_list_no_export(world, jobs, client, name):
    client.force_login(world.users[name])
    assert not has_button(client.get(reverse("imports:job_list")), "imports.jobs")
    assert post_status(client, world.users[name], "imports.jobs") == 403


def test_export_round_trip(world, jobs, client, django_capture_on_commit_callbacks):
    values = workbook_values(
        client, world.users["principal"], "imports.jobs", "", django_capture_on_commit_callbacks
    )
    found = cells(values)
    assert "本园名单.xlsx" in found and "同镇名单.xlsx" not in found
