"""Who may ask for, see and download the PDF of an incident, an inspection or a hazard
(issue 10 item 4): whoever may see the record, in its app's own scope. Another school's
principal and another town's police are told it does not exist; junk is 404; a double
request gives one job; the record's page lists its documents."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from huxiao.orgs.models import Membership
from huxiao.reports import document_builders, services
from huxiao.reports.models import Report, ReportKind, ReportStatus
from huxiao.reports.tests import documents_fixtures
from huxiao.reports.tests.documents_fixtures import (
    assigned_hazard,
    open_incident,
    request_url,
    signed_inspection,
)

dworld = documents_fixtures.dworld  # the fixture, for the tests below

KINDS = {
    "incident": (ReportKind.INCIDENT, open_incident, "incidents:detail"),
    "inspection": (ReportKind.INSPECTION, signed_inspection, "hazards:inspection_detail"),
    "hazard_notice": (ReportKind.HAZARD_NOTICE, assigned_hazard, "hazards:hazard_detail"),
}
# Those who see the kindergarten's record from outside it, for every kind.
OUTSIDE_VIEWERS = ["police", "edu", "county"]
HIDDEN = ["principal2", "farpolice", "faredu"]


def _record(w, slug):
    return KINDS[slug][1](w)


def _build_queued(report):
    services.report_build(report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE, report.error
    return report


@pytest.mark.parametrize("slug", KINDS)
def test_request_scope(dworld, client, slug):
    w = dworld
    record = _record(w, slug)
    url = request_url(slug, record.pk)
    assert client.post(url).status_code == 302  # anonymous: to the login page
    assert not Report.objects.exists()
    for name in HIDDEN:
        client.force_login(w.users[name])
        assert client.post(url).status_code == 404, name
    client.force_login(w.users["nobody"])
    # No role anywhere: 403 where the record's page says so (hazards, inspections), else 404.
    assert client.post(url).status_code == (404 if slug == "incident" else 403)
    assert not Report.objects.exists()  # nothing queued for any of them
    client.force_login(w.users["principal"])
    response = client.post(url)
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{report.pk}/")
    assert report.kind == KINDS[slug][0] and report.subject_id == record.pk
    assert (report.school_id, report.town_id, report.region_id) == (
        w.school.pk,
        w.town.pk,
        w.region.pk,
    )
    assert client.get(url).status_code == 405


@pytest.mark.parametrize("slug", KINDS)
def test_download_scope(dworld, client, slug):
    w = dworld
    record = _record(w, slug)
    report, _created = document_builders.document_request(
        actor=w.users["principal"], slug=slug, subject_id=record.pk
    )
    _build_queued(report)
    detail = reverse("reports:detail", args=[report.pk])
    download = reverse("reports:download", args=[report.pk, "pdf"])
    for name in ["principal", *OUTSIDE_VIEWERS]:
        client.force_login(w.users[name])
        assert client.get(detail).status_code == 200, name
        response = client.get(download)
        assert response.status_code == 200, name
        assert b"".join(response.streaming_content).startswith(b"%PDF")
    for name in [*HIDDEN, "nobody"]:
        client.force_login(w.users[name])
        assert client.get(detail).status_code == 404, name
        assert client.get(download).status_code == 404, name
    # The requester who loses access to the record loses the document too.
    Membership.objects.filter(user=w.users["principal"]).update(is_active=False)
    client.force_login(w.users["principal"])
    assert client.get(download).status_code == 404


@pytest.mark.parametrize("slug", KINDS)
def test_junk_is_not_found(dworld, client, slug):
    w = dworld
    record = _record(w, slug)
    client.force_login(w.users["county"])
    base = reverse("reports:list")
    for junk in ["abc", "0", "-1", "1.5", "１", str(2**63), str(2**70), str(record.pk + 10**6)]:
        assert client.post(f"{base}documents/{slug}/{junk}/").status_code == 404, junk
    assert client.post(f"{base}documents/nope/{record.pk}/").status_code == 404
    if KINDS[slug][0] != slug:  # the URL names the document, not the report kind
        assert client.post(f"{base}documents/{KINDS[slug][0]}/{record.pk}/").status_code == 404
    assert not Report.objects.exists()


def test_a_record_of_another_kind_is_not_found(dworld, client):
    """An id is read as the kind the URL names: a hazard's id is no incident."""
    w = dworld
    hazard = assigned_hazard(w)
    incident = open_incident(w)
    client.force_login(w.users["police"])
    missing_incident = incident.pk + hazard.pk + 1000
    assert client.post(request_url("incident", missing_incident)).status_code == 404


def test_unannounced_inspection_is_hidden_from_the_school_until_it_starts(dworld, client):
    from huxiao.hazards.tests.inspection_fixtures import make_template, plan

    w = dworld
    w.template = make_template()
    inspection = plan(w, unannounced=True)
    client.force_login(w.users["principal"])
    assert client.post(request_url("inspection", inspection.pk)).status_code == 404
    client.force_login(w.users["edu"])
    assert client.post(request_url("inspection", inspection.pk)).status_code == 302
    report = Report.objects.get()
    _build_queued(report)
    client.force_login(w.users["principal"])
    assert client.get(reverse("reports:download", args=[report.pk, "pdf"])).status_code == 404


@pytest.mark.parametrize("slug", KINDS)
def test_double_request_makes_one_job(dworld, client, slug):
    w = dworld
    record = _record(w, slug)
    url = request_url(slug, record.pk)
    client.force_login(w.users["principal"])
    first = client.post(url)  # on_commit callbacks do not run here: the job stays queued
    client.force_login(w.users["police"])
    second = client.post(url, follow=True)
    report = Report.objects.get()
    assert first["Location"] == second.redirect_chain[0][0]
    assert "already being generated" in second.content.decode() or "正在生成" in (
        second.content.decode()
    )
    assert report.status == ReportStatus.QUEUED and report.requested_by == w.users["principal"]
    _build_queued(report)
    client.post(url)  # the first is done: a new request makes a new document
    assert Report.objects.filter(kind=KINDS[slug][0], subject_id=record.pk).count() == 2


@pytest.mark.parametrize("slug", KINDS)
def test_record_page_lists_its_documents(dworld, client, slug):
    w = dworld
    record = _record(w, slug)
    page = reverse(KINDS[slug][2], args=[record.pk])
    client.force_login(w.users["principal"])
    html = client.get(page).content.decode()
    assert f'data-testid="document-request-{slug}"' in html
    assert request_url(slug, record.pk) in html
    assert 'data-testid="document-row"' not in html
    report, _created = document_builders.document_request(
        actor=w.users["police"], slug=slug, subject_id=record.pk
    )
    _build_queued(report)
    # A document of another record of the same kind is not listed.
    other = Report.objects.create(
        kind=report.kind,
        title="x",
        region=w.region,
        school=w.school,
        subject_id=record.pk + 1,
        dedupe_key="other",
        requested_by=w.users["principal"],
        status=ReportStatus.DONE,
    )
    html = client.get(page).content.decode()
    assert html.count('data-testid="document-row"') == 1
    assert reverse("reports:download", args=[report.pk, "pdf"]) in html
    assert report.requested_by_name in html
    assert reverse("reports:detail", args=[other.pk]) not in html


def test_document_list_queries_do_not_grow(dworld, client):
    w = dworld
    hazard = assigned_hazard(w)
    page = reverse("hazards:hazard_detail", args=[hazard.pk])
    client.force_login(w.users["edu"])

    def add(name):
        report, _created = document_builders.document_request(
            actor=w.users[name], slug="hazard_notice", subject_id=hazard.pk
        )
        Report.objects.filter(pk=report.pk).update(status=ReportStatus.FAILED)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(page).status_code == 200
        return len(queries)

    add("police")
    small = count()
    for name in ("principal", "edu", "county", "police"):
        add(name)
    assert client.get(page).content.decode().count('data-testid="document-row"') == 5
    assert count() == small
