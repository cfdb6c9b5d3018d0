"""Asking for the monthly report (issue 10 item 4): the request page and the API, who may
ask for which area, who reads the result, and bad input — a future or junk month, a town
outside one's area, odd ids, a double submit — answered clearly, never with a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.reports import services
from huxiao.reports.models import Report, ReportKind, ReportStatus

URL = "/reports/monthly/"
API = "/api/v1/reports/monthly"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _last_month() -> str:
    first = timezone.localdate().replace(day=1)
    return f"{first - dt.timedelta(days=1):%Y-%m}"


def _next_month() -> str:
    first = timezone.localdate().replace(day=1)
    return f"{first + dt.timedelta(days=32):%Y-%m}"


def _post(client, w, user, **data):
    client.force_login(w.users[user])
    return client.post(URL, data)


# --- the page -----------------------------------------------------------------------


def test_request_page_offers_the_users_areas(rworld, client):
    w = rworld
    assert reverse("reports:monthly_request") == URL
    client.force_login(w.users["edu"])
    page = client.get(URL)
    body = page.content.decode()
    assert page.status_code == 200
    assert f'value="town:{w.town.pk}"' in body
    assert f"town:{w.other_town.pk}" not in body and f"county:{w.region.pk}" not in body
    assert f'value="{_last_month()}"' in body  # last month by default
    client.force_login(w.users["county"])
    body = client.get(URL).content.decode()
    for value in (f"county:{w.region.pk}", f"town:{w.town.pk}", f"town:{w.other_town.pk}"):
        assert f'value="{value}"' in body


@pytest.mark.parametrize("user", ["police", "principal", "teacher", "health", "nobody"])
def test_request_page_needs_the_role(rworld, client, user):
    w = rworld
    client.force_login(w.users[user])
    assert client.get(URL).status_code == 403
    assert (
        client.post(URL, {"area": f"town:{w.town.pk}", "month": _last_month()}).status_code == 403
    )
    assert not Report.objects.exists()


def test_anonymous_is_sent_to_log_in(client):
    assert client.get(URL).status_code == 302
    assert client.post(URL, {}).status_code == 302


def test_request_queues_one_job_and_leads_to_its_progress(rworld, client):
    w = rworld
    response = _post(client, w, "edu", area=f"town:{w.town.pk}", month=_last_month())
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:detail", args=[report.pk])
    assert report.kind == ReportKind.MONTHLY and report.status == ReportStatus.QUEUED
    assert report.town_id == w.town.pk and report.region_id == w.region.pk
    assert f"{report.month:%Y-%m}" == _last_month() and report.params == {}
    assert report.requested_by == w.users["edu"]
    # The job is still waiting (the queue runs on commit): a second submit — a double
    # click, or the town's governance office — gets the same job.
    again = _post(client, w, "gov", area=f"town:{w.town.pk}", month=_last_month())
    assert again["Location"] == response["Location"]
    assert Report.objects.count() == 1


def test_api_double_post_gets_the_same_job(rworld, api):
    w = rworld
    body = {"town_id": w.town.pk, "month": _last_month()}
    first = api("post", API, w.users["edu"], json=body)
    second = api("post", API, w.users["county"], json=body)
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["status"] == "queued" and first.json()["kind"] == "monthly"
    assert Report.objects.count() == 1


def test_county_over_the_api(rworld, api):
    w = rworld
    response = api("post", API, w.users["county"], json={"town_id": None, "month": "2025-03"})
    assert response.status_code == 202
    report = Report.objects.get(pk=response.json()["id"])
    assert report.town_id is None and report.region_id == w.region.pk
    assert report.month == dt.date(2025, 3, 1)
    # A town office may not report on the county.
    refused = api("post", API, w.users["edu"], json={"town_id": None, "month": "2025-03"})
    assert refused.status_code == 404 and refused.json()["errors"]["town_id"]


def test_the_running_month_is_reported_so_far(rworld, client):
    w = rworld
    today = timezone.localdate()
    _post(client, w, "edu", area=f"town:{w.town.pk}", month=f"{today:%Y-%m}")
    report = Report.objects.get()
    assert report.params == {"through": today.isoformat()}
    assert f"截至{today.isoformat()}" in report.title
    assert report.month == today.replace(day=1)


# --- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("__next__", "尚未开始"),
        ("2026-13", "请按“年-月”格式填写月份"),
        ("abc", "请按“年-月”格式填写月份"),
        ("", "此项为必填项"),
        ("1999-12", "2000-01 及以后"),
        ("99999-01", "请按“年-月”格式填写月份"),
        ("2025-03-01", "请按“年-月”格式填写月份"),
    ],
)
def test_bad_months_are_field_errors(rworld, client, month, message):
    w = rworld
    month = _next_month() if month == "__next__" else month
    response = _post(client, w, "edu", area=f"town:{w.town.pk}", month=month)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Report.objects.exists()


def test_a_town_outside_the_area_is_refused_with_a_message(rworld, client):
    w = rworld
    response = _post(client, w, "edu", area=f"town:{w.other_town.pk}", month=_last_month())
    assert response.status_code == 404
    assert "该镇不在您的管辖范围内" in response.content.decode()
    # The county office may report on it; the other town's office on its own town only.
    assert (
        _post(client, w, "county", area=f"town:{w.other_town.pk}", month="2025-03").status_code
        == 302
    )
    response = _post(client, w, "faredu", area=f"town:{w.town.pk}", month="2025-03")
    assert response.status_code == 404
    assert Report.objects.filter(town=w.town).count() == 0


@pytest.mark.parametrize(
    "area",
    ["town:abc", f"town:{2**70}", "town:-1", "town:0", "county:abc", "region:1", "", "x" * 50],
)
def test_junk_areas_never_500(rworld, client, area):
    w = rworld
    response = _post(client, w, "county", area=area, month="2025-03")
    assert response.status_code in (400, 404)
    assert not Report.objects.exists()


def test_the_form_answers_in_english_too(rworld, client):
    w = rworld
    client.force_login(w.users["edu"])
    client.cookies["django_language"] = "en"
    response = client.post(URL, {"area": f"town:{w.other_town.pk}", "month": "2025-03"})
    assert response.status_code == 404
    assert "This town is outside your area." in response.content.decode()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"town_id": "__other__", "month": "2025-03"}, 404, "town_id"),
        ({"town_id": 2**70, "month": "2025-03"}, 404, "town_id"),
        ({"town_id": -5, "month": "2025-03"}, 404, "town_id"),
        ({"town_id": "__own__", "month": "__next__"}, 400, "month"),
        ({"town_id": "__own__", "month": "2025/03"}, 400, "month"),
        ({"town_id": "__own__", "month": "1999-12"}, 400, "month"),
        ({"town_id": "__own__", "month": 202503}, 400, "month"),
        ({"town_id": "abc", "month": "2025-03"}, 400, "town_id"),
        ({"town_id": "__own__"}, 400, "month"),
    ],
)
def test_api_bad_input(rworld, api, body, status, field):
    w = rworld
    body = dict(body)
    body["town_id"] = {"__other__": w.other_town.pk, "__own__": w.town.pk}.get(
        body.get("town_id"), body.get("town_id")
    )
    if body.get("month") == "__next__":
        body["month"] = _next_month()
    response = api("post", API, w.users["edu"], json=body)
    assert response.status_code == status, response.content
    assert response.json()["errors"].get(field), response.json()
    assert not Report.objects.exists()


def test_api_message_is_in_the_users_language(rworld, api):
    w = rworld
    body = {"town_id": w.other_town.pk, "month": "2025-03"}
    chinese = api("post", API, w.users["edu"], json=body)
    assert chinese.json()["detail"] == "该镇不在您的管辖范围内。"
    future = api("post", API, w.users["edu"], json={"town_id": w.town.pk, "month": _next_month()})
    assert "尚未开始" in future.json()["errors"]["month"][0]
    api.client.cookies["django_language"] = "en"  # the language the user chose
    english = api("post", API, w.users["edu"], json={"town_id": w.town.pk, "month": "x"})
    assert english.json()["errors"]["month"] == ["Enter the month as YYYY-MM, e.g. 2026-10."]


@pytest.mark.parametrize("user", ["police", "principal", "health", "liaison_dept"])
def test_api_needs_the_role(rworld, api, user):
    w = rworld
    if user == "liaison_dept":
        from conftest import _user
        from huxiao.core.roles import OrgKind, Role
        from huxiao.orgs.tests.factories import OrganizationFactory

        dept = OrganizationFactory(kind=OrgKind.DEPARTMENT, town=w.town, name="市场监管所")
        _user(w, user, dept, Role.GOVERNMENT_LIAISON)
    response = api("post", API, w.users[user], json={"town_id": w.town.pk, "month": "2025-03"})
    assert response.status_code == 403
    assert api("post", API, json={"town_id": w.town.pk, "month": "2025-03"}).status_code == 401
    assert not Report.objects.exists()


# --- who reads the report -----------------------------------------------------------


def test_town_report_is_read_by_the_towns_offices_and_the_county(rworld, client, media):
    w = rworld
    _post(client, w, "edu", area=f"town:{w.town.pk}", month="2025-03")
    report = Report.objects.get()
    services.report_build(report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE, report.error
    detail = reverse("reports:detail", args=[report.pk])
    for user in ("edu", "gov", "liaison", "county", "countyedu"):
        client.force_login(w.users[user])
        assert client.get(detail).status_code == 200, user
        pdf = client.get(reverse("reports:download", args=[report.pk, "pdf"]))
        assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
        xlsx = client.get(reverse("reports:download", args=[report.pk, "xlsx"]))
        assert xlsx.status_code == 200
    # The request page lists it, with who generated it, for the town's offices.
    client.force_login(w.users["gov"])
    page = client.get(URL).content.decode()
    assert f'data-testid="monthly-{report.pk}"' in page and report.requested_by_name in page
    for user in ("faredu", "police", "farpolice", "principal", "health", "teacher"):
        client.force_login(w.users[user])
        assert client.get(detail).status_code == 404, user
        assert client.get(reverse("reports:download", args=[report.pk, "pdf"])).status_code == 404
    client.force_login(w.users["faredu"])
    assert f'data-testid="monthly-{report.pk}"' not in client.get(URL).content.decode()


def test_county_report_is_not_for_town_offices(rworld, client, api):
    w = rworld
    response = api("post", API, w.users["county"], json={"town_id": None, "month": "2025-03"})
    report_id = response.json()["id"]
    for user, status in (("countyedu", 200), ("county", 200), ("edu", 404), ("gov", 404)):
        assert api("get", f"/api/v1/reports/{report_id}", w.users[user]).status_code == status, user


def test_requester_who_left_no_longer_reads_it(rworld, client):
    w = rworld
    _post(client, w, "edu", area=f"town:{w.town.pk}", month="2025-03")
    report = Report.objects.get()
    w.users["edu"].memberships.update(is_active=False)
    client.force_login(w.users["edu"])
    assert client.get(reverse("reports:detail", args=[report.pk])).status_code == 404


def test_the_list_of_reports_costs_the_same_for_many(rworld, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = rworld
    client.force_login(w.users["county"])

    def queries_with(n: int) -> int:
        for month in range(1, n + 1):
            client.post(URL, {"area": f"town:{w.town.pk}", "month": f"2024-{month:02d}"})
        assert Report.objects.count() == n
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    few = queries_with(2)
    assert queries_with(9) == few
