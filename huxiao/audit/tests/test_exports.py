"""Export of the audit trail page (issue 10 item 5): the page's rows, scope, round trip."""

from __future__ import annotations

import pytest

from huxiao.people import services
from huxiao.reports.tests.export_checks import (
    button_query,
    cells,
    export_rows,
    has_button,
    post_status,
    workbook_values,
)

QUERY = "object_type=people.child"


@pytest.fixture
def trail(world):
    services.child_update(actor=world.users["principal"], child=world.child, name="王二明")
    services.child_update(actor=world.users["principal2"], child=world.other_child, name="张四")
    return world


@pytest.mark.parametrize("name", ["county", "principal"])
def test_export_rows_are_the_pages_rows(trail, client, name):
    user = trail.users[name]
    client.force_login(user)
    page = client.get(f"/audit/?{QUERY}")
    assert has_button(page, "audit.events")
    # The filter form swaps the list with htmx: the button comes with it, filters and all.
    partial = client.get(f"/audit/?{QUERY}", headers={"HX-Request": "true"})
    assert button_query(partial, "audit.events") == QUERY
    shown = [(e.object_id, e.object_repr) for e in page.context["page"]]
    exported = [(row[4], row[5]) for row in export_rows(user, "audit.events", QUERY)]
    assert exported == shown and shown
    if name == "principal":
        assert "张四" not in {repr_ for _id, repr_ in exported}


def test_export_refused_as_the_page(trail, client):
    for name in ("police", "edu", "nobody"):
        assert post_status(client, trail.users[name], "audit.events", QUERY) == 403


def test_export_round_trip(trail, client, django_capture_on_commit_callbacks):
    values = workbook_values(
        client, trail.users["principal"], "audit.events", QUERY, django_capture_on_commit_callbacks
    )
    found = cells(values)
    assert "王二明" in found and "张四" not in found
    assert any(isinstance(c, str) and "people.child" in c for c in found)  # the heading
