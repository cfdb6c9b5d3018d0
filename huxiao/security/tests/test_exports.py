"""Exports of the security lists (issue 10 item 5): defences of the schools, a school's
security staff and equipment, the compliance table of schools. Each holds the page's rows
for the same filters; another school's or town's list is 404 as on the page."""

from __future__ import annotations

import html
import re

import pytest
from django.http import QueryDict
from django.urls import reverse

from huxiao.orgs.tests.export_helpers import (
    button_on,
    export_ids,
    export_table,
    page,
    refused_with_message,
    request_export,
    round_trip,
)
from huxiao.security import compliance
from huxiao.security.tests import compliance_fixtures as fx
from huxiao.security.tests.personnel_fixtures import pworld  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def secured(pworld):  # noqa: F811
    w = pworld
    fx.make_compliant(w.school)
    compliance.evaluate_region(w.region.pk, now=fx.NOW)
    return w


def _lists(w):
    """(export, user, page url, export query, the page's row ids from its context)."""
    s, t = w.school.pk, w.town.pk
    drill = "rule=equipment_complete&verdict=fail"
    return [
        (
            "security.defence",
            "edu",
            reverse("security:defence_schools"),
            "",
            lambda c: [r["school"].pk for r in c["rows"]],
        ),
        (
            "security.personnel",
            "principal",
            reverse("security:personnel", args=[s]),
            f"school={s}",
            lambda c: [r.staff.pk for r in c["rows"]] + [f.pk for f in c["former"]],
        ),
        (
            "security.equipment",
            "principal",
            reverse("security:equipment", args=[s]),
            f"school={s}",
            lambda c: [r.item.pk for r in c["rows"]],
        ),
        (
            "security.compliance",
            "edu",
            f"{reverse('security:compliance_town', args=[t])}?{drill}",
            f"town={t}&{drill}",
            lambda c: [r.school.pk for r in c["overview"].rows],
        ),
        (
            "security.compliance",
            "police",
            reverse("security:compliance_schools"),
            "",
            lambda c: [r.school.pk for r in c["overview"].rows],
        ),
    ]


@pytest.mark.parametrize("index", range(5))
def test_export_rows_are_the_pages_rows(client, secured, index):
    w = secured
    name, who, url, query, page_ids = _lists(w)[index]
    user = w.users[who]
    response = page(client, user, url)
    assert button_on(response, name)
    # the button carries what the path says (school, town) with the page's filters
    form = response.content.decode().split(f'data-testid="export-{name}"')[1]
    sent = re.search(r'name="query" value="([^"]*)"', form).group(1)
    assert QueryDict(html.unescape(sent)).dict() == QueryDict(query).dict()
    listed = page_ids(response.context)
    assert listed and export_ids(user, name, query) == listed


@pytest.mark.parametrize(
    "who, name, query",
    [
        ("principal2", "security.personnel", "school={school}"),
        ("principal2", "security.equipment", "school={school}"),
        ("farpolice", "security.compliance", "town={town}"),
        ("principal", "security.personnel", "school=abc"),
        ("principal", "security.equipment", f"school={2**70}"),
        ("edu", "security.compliance", "town=x"),
    ],
)
def test_out_of_scope_or_junk_is_404(client, secured, who, name, query):
    w = secured
    query = query.format(school=w.school.pk, town=w.town.pk)
    assert request_export(client, w.users[who], name, query).status_code == 404


def test_another_school_never_in_the_defence_list(secured):
    w = secured
    assert export_ids(w.users["principal2"], "security.defence") == [w.other_school.pk]


def test_a_bad_drill_down_is_a_message(client, secured):
    response = request_export(
        client, secured.users["edu"], "security.compliance", "rule=no_such_rule&verdict=maybe"
    )
    assert refused_with_message(response)


def test_a_school_member_is_refused_the_compliance_table(client, secured):
    assert (
        request_export(client, secured.users["principal"], "security.compliance").status_code == 403
    )


def test_personnel_shows_the_certificate_and_round_trips(
    client, secured, django_capture_on_commit_callbacks
):
    w = secured
    _columns, rows = export_table(
        w.users["principal"], "security.personnel", f"school={w.school.pk}"
    )
    assert "冀公保12345678" in {r[5] for r in rows}
    values = round_trip(
        client,
        w.users["security"],
        "security.personnel",
        f"school={w.school.pk}",
        django_capture_on_commit_callbacks,
    )
    assert "张保安" in values and "本园" in values
