"""The reports foundation: areas, one job per request, building, storing, visibility,
downloads, the export framework and the PDF renderer with embedded CJK fonts."""

from __future__ import annotations

import shutil
import subprocess
import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, QueryDict
from django.urls import reverse

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.reports import areas, exports, registry, services
from huxiao.reports import selectors as sel
from huxiao.reports.models import Report, ReportKind, ReportStatus
from huxiao.reports.pdf import html_to_pdf

TEST_KIND = ReportKind.MONTHLY  # borrowed: the tests register their own builder for it


@pytest.fixture
def fake_kind(monkeypatch):
    calls = []

    def build(report, progress):
        calls.append(report.pk)
        progress(50, "half")
        if report.params.get("fail") == "user":
            raise registry.ReportFailed("这个月没有数据")
        if report.params.get("fail") == "bug":
            raise RuntimeError("boom")
        return registry.Built(filename="测试报告", pdf=b"%PDF-1.4 test", xlsx=b"PK test")

    def may_view(user, report):
        try:
            areas.report_area(user, kind=areas.area_of_report(report)[0], pk=report.town_id)
        except (Http404, PermissionDenied):
            return False
        return True

    saved = registry._KINDS.get(TEST_KIND)
    registry.register(TEST_KIND, build=build, may_view=may_view)
    yield calls
    if saved is not None:
        registry._KINDS[TEST_KIND] = saved


def _request(w, user="edu", **params):
    return services.report_request(
        actor=w.users[user],
        kind=TEST_KIND,
        title="月报",
        region_id=w.region.pk,
        town_id=w.town.pk,
        params=params,
        dedupe_key=f"town:{w.town.pk}:2026-10",
    )


# --- areas --------------------------------------------------------------------------


def test_dashboard_areas_follow_memberships(rworld):
    w = rworld
    county = areas.dashboard_area(w.users["county"])
    assert county.kind == areas.COUNTY
    assert {w.school.pk, w.other_school.pk, w.far_school.pk} <= county.school_ids
    town = areas.dashboard_area(w.users["edu"])
    assert (town.kind, town.pk) == (areas.TOWN, w.town.pk)
    assert w.far_school.pk not in town.school_ids
    station = areas.dashboard_area(w.users["police"])
    assert station.kind == areas.STATION and station.is_police
    assert station.school_ids == {w.school.pk, w.other_school.pk}
    # a county office drills into a town; a town office may not open another town
    drilled = areas.dashboard_area(w.users["county"], town_id=str(w.other_town.pk))
    assert drilled.school_ids == {w.far_school.pk}
    with pytest.raises(Http404):
        areas.dashboard_area(w.users["edu"], town_id=w.other_town.pk)
    for junk in ("x", "-1", "0", str(2**70)):
        with pytest.raises(Http404):
            areas.dashboard_area(w.users["county"], town_id=junk)
    for name in ("principal", "teacher", "guard", "nobody"):
        with pytest.raises(PermissionDenied):
            areas.dashboard_area(w.users[name])


def test_report_areas(rworld):
    w = rworld
    county = {a.key for a in areas.report_areas(w.users["county"])}
    assert county == {
        f"county:{w.region.pk}",
        f"town:{w.town.pk}",
        f"town:{w.other_town.pk}",
    }
    assert {a.key for a in areas.report_areas(w.users["edu"])} == {f"town:{w.town.pk}"}
    assert areas.report_areas(w.users["police"]) == []
    assert areas.report_areas(w.users["health"]) == []
    with pytest.raises(Http404):
        areas.report_area(w.users["edu"], kind=areas.TOWN, pk=w.other_town.pk)
    with pytest.raises(PermissionDenied):
        areas.report_area(w.users["police"], kind=areas.TOWN, pk=w.town.pk)


# --- jobs ---------------------------------------------------------------------------


def test_request_builds_stores_and_downloads(
    rworld, fake_kind, client, django_capture_on_commit_callbacks
):
    w = rworld
    with django_capture_on_commit_callbacks(execute=True):
        report, created = _request(w)
    assert created
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE and report.progress == 100
    assert report.requested_by_name and report.pdf and report.xlsx
    assert AuditEvent.objects.filter(
        object_type="reports.report", object_id=str(report.pk), action=AuditAction.CREATE
    ).exists()
    client.force_login(w.users["gov"])  # same town, may report on it: sees the report
    page = client.get(reverse("reports:detail", args=[report.pk]))
    assert page.status_code == 200 and "月报" in page.content.decode()
    pdf = client.get(reverse("reports:download", args=[report.pk, "pdf"]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert client.get(reverse("reports:download", args=[report.pk, "doc"])).status_code == 404
    for name in ("faredu", "principal", "police"):
        client.force_login(w.users[name])
        assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 404
        assert client.get(reverse("reports:download", args=[report.pk, "pdf"])).status_code == 404
    client.force_login(w.users["county"])
    assert report in sel.report_list(actor=w.users["county"])


def test_second_request_while_running_gets_the_same_job(rworld, fake_kind):
    w = rworld
    first, created = _request(w)  # on_commit never runs: the job stays queued
    second, created2 = _request(w, user="gov")
    assert created and not created2 and first.pk == second.pk
    assert Report.objects.count() == 1
    services.report_build(first.pk)
    assert services.report_build(first.pk) is None  # delivered twice: built once
    assert fake_kind == [first.pk]
    third, created3 = _request(w)  # done: a new request makes a new report
    assert created3 and third.pk != first.pk


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_make_one_job(rworld, fake_kind, monkeypatch):
    w = rworld
    # Keep the job waiting (in tests the queue would build it at once on commit, and a
    # request after it is done rightly makes a new report).
    monkeypatch.setattr(services, "_enqueue", lambda report_id: None)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def go(name):
        try:
            barrier.wait(timeout=10)
            results.append(_request(w, user=name)[0].pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=go, args=(n,)) for n in ("edu", "gov", "county", "edu")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if connection.vendor == "sqlite" and errors:
        # SQLite serialises writers; a locked database is an honest "try again" there.
        assert all("locked" in str(e) for e in errors), errors
    else:
        assert not errors, errors
    assert len(set(results)) == 1
    assert Report.objects.filter(kind=TEST_KIND).count() == 1


def test_failures_are_stored_with_a_message(rworld, fake_kind):
    w = rworld
    report, _ = _request(w, fail="user")
    services.report_build(report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.error == "这个月没有数据"
    assert not report.pdf
    report2 = services.report_request(
        actor=w.users["edu"],
        kind=TEST_KIND,
        title="月报",
        region_id=w.region.pk,
        town_id=w.town.pk,
        params={"fail": "bug"},
        dedupe_key="other",
    )[0]
    services.report_build(report2.pk)
    report2.refresh_from_db()
    assert report2.status == ReportStatus.FAILED and "boom" not in report2.error


def test_stale_jobs_fail(rworld, fake_kind):
    import datetime as dt

    from django.utils import timezone

    w = rworld
    report, _ = _request(w)
    now = timezone.now()
    # a queue an hour behind is slow, not dead
    assert services.reports_fail_stale(now + dt.timedelta(hours=1)) == 0
    assert services.reports_fail_stale(now + dt.timedelta(hours=7)) == 1
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and report.error
    # a running build is judged by when it started, not when it was requested
    running, _ = services.report_request(
        actor=w.users["edu"],
        kind=TEST_KIND,
        title="月报",
        region_id=w.region.pk,
        town_id=w.town.pk,
        dedupe_key="running",
    )
    Report.objects.filter(pk=running.pk).update(
        status=ReportStatus.RUNNING, created_at=now - dt.timedelta(hours=2), started_at=now
    )
    assert services.reports_fail_stale(now + dt.timedelta(minutes=10)) == 0
    assert services.reports_fail_stale(now + dt.timedelta(minutes=31)) == 1


def test_report_pages_refuse_junk(rworld, client):
    client.force_login(rworld.users["edu"])
    assert client.get(reverse("reports:list")).status_code == 200
    assert client.get("/reports/99999999/").status_code == 404
    assert client.get(f"/reports/{2**70}/").status_code == 404
    assert client.get("/reports/1/download/pdf/").status_code == 404


def test_report_api(rworld, fake_kind, api):
    w = rworld
    report, _ = _request(w)
    services.report_build(report.pk)
    ok = api("get", f"/api/v1/reports/{report.pk}", w.users["gov"])
    assert ok.status_code == 200 and ok.json()["status"] == "done"
    assert ok.json()["pdf_url"].endswith("/pdf/")
    assert api("get", f"/api/v1/reports/{report.pk}", w.users["faredu"]).status_code == 404
    assert api("get", f"/api/v1/reports/{report.pk}").status_code == 401
    assert [r["id"] for r in api("get", "/api/v1/reports", w.users["edu"]).json()] == [report.pk]


# --- exports ------------------------------------------------------------------------


@pytest.fixture
def school_export():
    from huxiao.core.roles import Action
    from huxiao.core.scoping import can
    from huxiao.orgs.models import Organization

    def table(actor, query: QueryDict):
        school_id = query.get("school")
        if not (school_id or "").isdigit() or not can(actor, Action.VIEW, int(school_id)):
            raise Http404
        school = Organization.objects.get(pk=int(school_id))
        return exports.Table(
            columns=["名称", "公式"],
            rows=((school.name, "=HYPERLINK(1)") for _ in range(3)),
            school=school,
            heading=[school.name],
        )

    exports.register_export("tests.school", title="测试清单", table=table)
    yield
    exports._EXPORTS.pop("tests.school", None)


def test_export_round_trip(rworld, school_export, client, django_capture_on_commit_callbacks):
    import io

    import openpyxl

    w = rworld
    client.force_login(w.users["principal"])
    url = reverse("reports:export_request", args=["tests.school"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"query": f"school={w.school.pk}"})
    assert response.status_code == 302
    report = Report.objects.get(kind=ReportKind.EXPORT)
    assert report.status == ReportStatus.DONE and report.rows == 3
    data = client.get(reverse("reports:download", args=[report.pk, "xlsx"]))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(data.streaming_content))).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert "本园" in values and "'=HYPERLINK(1)" in values
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_id="tests.school").exists()
    # another school's list: refused at once, nothing queued
    assert client.post(url, {"query": f"school={w.far_school.pk}"}).status_code == 404
    assert client.post(reverse("reports:export_request", args=["nope"]), {}).status_code == 404
    assert client.post(url, {"query": "school=1&" + "x" * 3000}).status_code == 302
    assert Report.objects.filter(kind=ReportKind.EXPORT).count() == 1
    # filters that differ only after the first 255 characters are two exports, not one
    from huxiao.reports.services import _active

    long_a, long_b = "a=" + "x" * 300 + "1", "a=" + "x" * 300 + "2"
    first, _ = exports.export_request(
        actor=w.users["principal"], name="tests.school", query=f"school={w.school.pk}&{long_a}"
    )
    second, _ = exports.export_request(
        actor=w.users["principal"], name="tests.school", query=f"school={w.school.pk}&{long_b}"
    )
    assert first.pk != second.pk and _active(first.dedupe_key) == first
    # an export is its requester's alone
    client.force_login(w.users["edu"])
    assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 404


# --- PDF ----------------------------------------------------------------------------


def test_pdf_embeds_a_cjk_font_and_has_text(tmp_path):
    assert shutil.which("pdffonts") and shutil.which("pdftotext"), (
        "poppler-utils missing: run scripts/install-report-tools.sh"
    )
    from django.template import engines

    html = (
        engines["django"]
        .from_string(
            '{% extends "reports/pdf/base.html" %}{% block content %}<h1>护校安园月度报告</h1>'
            "<p>达标率</p><img src='https://cdn.example.org/x.png'>{% endblock %}"
        )
        .render({"title": "t"})
    )
    path = tmp_path / "t.pdf"
    path.write_bytes(html_to_pdf(html))  # the CDN image is refused, not fetched
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "CJK" in fonts and " yes " in fonts.split("CJK", 1)[1].splitlines()[0]
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "护校安园月度报告" in text and "达标率" in text
