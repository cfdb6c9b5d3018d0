"""Helpers of the list-export tests of the apps (issue 10 item 5, ADR 0033): the rows an
export holds for a user and a query, and one end-to-end request → build → download."""

from __future__ import annotations

import io
import re
from html import unescape

import openpyxl
from django.urls import reverse

from huxiao.reports import exports
from huxiao.reports.models import Report, ReportKind, ReportStatus


def export_table(user, name: str, query: str = "") -> exports.Table:
    """The table `user` would export from list `name` with the page's query string."""
    spec = exports.get_export(name)
    assert spec is not None, f"export {name} is not registered"
    return exports.table_for(user, spec, query)


def export_rows(user, name: str, query: str = "") -> list[list]:
    return [list(row) for row in export_table(user, name, query).rows]


def first_column(user, name: str, query: str = "") -> list:
    """The first column (the record's number in most exports) of every row."""
    return [row[0] for row in export_rows(user, name, query)]


def workbook_values(client, user, name: str, query: str, capture) -> list[tuple]:
    """POST the export as the page's button does, build it in the queue, download it and
    read it back with openpyxl: every row's values (heading lines included)."""
    client.force_login(user)
    with capture(execute=True):
        response = client.post(reverse("reports:export_request", args=[name]), {"query": query})
    assert response.status_code == 302, response.status_code
    report = Report.objects.filter(kind=ReportKind.EXPORT, export_name=name).latest("pk")
    assert report.status == ReportStatus.DONE, report.error
    download = client.get(reverse("reports:download", args=[report.pk, "xlsx"]))
    assert download.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    return list(book.active.iter_rows(values_only=True))


def cells(values: list[tuple]) -> list:
    return [c for row in values for c in row if c is not None]


def post_status(client, user, name: str, query: str = "") -> int:
    """The status of the export request (302 queued, 403/404 refused as on the page)."""
    client.force_login(user)
    response = client.post(reverse("reports:export_request", args=[name]), {"query": query})
    return response.status_code


def has_button(response, name: str) -> bool:
    """Whether the page shows the export button of list `name`."""
    return f'data-testid="export-{name}"' in response.content.decode()


def button_query(response, name: str) -> str:
    """The query string the page's export button posts (its hidden `query` field)."""
    html = response.content.decode()
    start = html.index(f'data-testid="export-{name}"')
    found = re.search(r'name="query" value="([^"]*)"', html[start:])
    assert found, f"the export button of {name} posts no query"
    return unescape(found.group(1))


def assert_export_is_the_page(client, user, name: str, url: str, shown_of, column: int = 0):
    """GET `url` as `user`: the page shows the export button, and the export with the
    button's query holds the page's rows (`shown_of(page.context)`, e.g. their ids) in the
    page's order, read from `column` (blank cells skipped). Returns the page's rows."""
    client.force_login(user)
    page = client.get(url)
    assert page.status_code == 200 and has_button(page, name)
    shown = shown_of(page.context)
    rows = export_rows(user, name, button_query(page, name))
    assert [r[column] for r in rows if r[column] is not None] == shown
    return shown


def assert_refused_like_the_page(client, user, name: str, url: str, query: str = "") -> int:
    """The export request answers as the page does for the same user and query: refused
    alike (403, 404) or queued (302) where the page is shown. Returns the page's status."""
    client.force_login(user)
    page = client.get(f"{url}?{query}" if query else url).status_code
    expected = {200: 302, 400: 302, 403: 403, 404: 404}[page]
    assert post_status(client, user, name, query) == expected
    return page
