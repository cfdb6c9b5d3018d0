"""Helpers of the list-export tests of group B (orgs, people, patrols, security,
supervision, transport, notify): what the export holds, what the page lists, the export
request's status, and one end-to-end round trip through the task queue."""

from __future__ import annotations

import io

import openpyxl
from django.urls import reverse

from huxiao.reports import exports
from huxiao.reports.models import Report, ReportKind, ReportStatus


def export_table(user, name: str, query: str = ""):
    """(columns, rows) of the export as `user` would get it; raises like the page."""
    spec = exports.get_export(name)
    assert spec is not None, f"export {name} is not registered"
    table = exports.table_for(user, spec, query)
    return [str(c) for c in table.columns], [tuple(row) for row in table.rows]


def export_ids(user, name: str, query: str = "") -> list:
    """The first column (the record's id) of every exported row, in order."""
    return [row[0] for row in export_table(user, name, query)[1]]


def page(client, user, url: str):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def request_export(client, user, name: str, query: str = ""):
    client.force_login(user)
    return client.post(reverse("reports:export_request", args=[name]), {"query": query})


def round_trip(client, user, name: str, query: str, capture) -> list:
    """POST the export button, build the report in the task queue, download the workbook;
    every non-empty cell value of its sheet, in order."""
    with capture(execute=True):
        response = request_export(client, user, name, query)
    assert response.status_code == 302, response.status_code
    report = Report.objects.filter(kind=ReportKind.EXPORT, export_name=name).latest("pk")
    assert report.status == ReportStatus.DONE, (report.status, report.error)
    data = client.get(reverse("reports:download", args=[report.pk, "xlsx"]))
    assert data.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(data.streaming_content))).active
    return [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]


def button_on(response, name: str) -> bool:
    return f'data-testid="export-{name}"' in response.content.decode()


def refused_with_message(response) -> bool:
    """Unusable filters: back to where the user came from with the message, nothing queued."""
    from django.contrib.messages import get_messages

    return (
        response.status_code == 302
        and response["Location"] == reverse("reports:list")
        and any(m.level_tag == "error" for m in get_messages(response.wsgi_request))
        and not Report.objects.filter(kind=ReportKind.EXPORT).exists()
    )
