"""The response pages (ADR 0032 "Response"): role × scope for each page, the forms of the
case's panel posting back to the case, errors in place (400, nothing written), refusals
(409), the four-party directory on every page about one school."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.health import response_services as services
from huxiao.health.choices import Step
from huxiao.health.models import (
    AftercareTask,
    CaseStep,
    ClassSuspension,
    Disinfection,
    MonitoringPlan,
    OfficialStatement,
)
from huxiao.health.tests.response_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

# Everyone of the matrix: (user, status of a page about `school` for a reader of health
# records, status for a reader of suspensions and statements).
NO_HEALTH = ("police", "officer", "postofficer", "farpolice", "nobody")


def page(client, user, url, method="get", data=None):
    client.logout()
    if user is not None:
        client.force_login(user)
    return getattr(client, method)(url, data or {})


def _now_field(delta=dt.timedelta(minutes=-20)) -> str:
    return (timezone.localtime() + delta).strftime("%Y-%m-%dT%H:%M")


# ------------------------------------------------------------------ scope matrices


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal", 200),
        ("teacher", 200),
        ("nurse", 200),
        ("dutylead", 200),
        ("health", 200),
        ("countyhealth", 200),
        ("principal2", 404),
        ("guard", 403),
        ("edu", 403),
        ("liaison", 403),
        *[(who, 403) for who in NO_HEALTH],
    ],
)
def test_health_record_pages_scope(client, hworld, who, status):
    w = hworld
    for name in ("health:disinfections", "health:monitoring"):
        r = page(client, w.users[who], reverse(name, args=[w.school.pk]))
        assert r.status_code == status, name
        if status == 200:
            assert 'data-testid="four-party-directory"' in r.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal", 200),
        ("teacher", 200),
        ("guard", 200),
        ("nurse", 200),
        ("health", 200),
        ("countyhealth", 200),
        ("edu", 200),
        ("liaison", 200),
        ("county", 200),
        ("principal2", 404),
        *[(who, 403) for who in NO_HEALTH],
    ],
)
def test_suspension_and_statement_pages_scope(client, hworld, who, status):
    w = hworld
    user = w.users[who]
    r = page(client, user, reverse("health:statements", args=[w.school.pk]))
    assert r.status_code == status
    r = page(client, user, reverse("health:suspensions") + f"?school={w.school.pk}")
    assert r.status_code == status
    r = page(client, user, reverse("health:suspensions"))
    assert r.status_code == (200 if status == 404 else status)
    r = page(client, user, reverse("health:aftercare"))
    assert r.status_code == (200 if status == 404 else status)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal", 200),
        ("health", 200),
        ("countyhealth", 200),
        ("principal2", 404),
        ("nurse", 403),
        ("teacher", 403),
        ("police", 403),
        (None, 302),
    ],
)
def test_suspension_decision_page_scope(client, hworld, who, status):
    w = hworld
    # The health officers have the school in scope but do not decide: 403.
    status = 403 if who in ("health", "countyhealth") else status
    r = page(client, w.users.get(who), reverse("health:suspension_new", args=[w.school.pk]))
    assert r.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("principal", 200),
        ("nurse", 200),
        ("dutylead", 200),
        ("health", 200),
        ("countyhealth", 200),
        ("principal2", 404),
        ("teacher", 403),
        ("guard", 403),
        *[(who, 403) for who in NO_HEALTH],
    ],
)
def test_case_response_page_scope_and_read_logged(client, hworld, case, who, status):
    r = page(client, hworld.users[who], reverse("health:case_response", args=[case.pk]))
    # A teacher records health but does not read cases: VIEW_HEALTH anywhere, else 403.
    assert r.status_code == status
    logged = AuditEvent.objects.filter(
        action="read_sensitive", object_type="health.healthcase", object_id=str(case.pk)
    ).exists()
    assert logged is (status == 200)
    if status == 200:
        html = r.content.decode()
        assert 'data-testid="case-response"' in html
        assert 'data-testid="four-party-directory"' in html
        assert 'data-testid="one-voice-reminder"' in html


def test_pages_need_a_login(client, hworld, case):
    w = hworld
    for url in (
        reverse("health:disinfections", args=[w.school.pk]),
        reverse("health:monitoring", args=[w.school.pk]),
        reverse("health:statements", args=[w.school.pk]),
        reverse("health:suspensions"),
        reverse("health:aftercare"),
        reverse("health:case_response", args=[case.pk]),
    ):
        r = page(client, None, url)
        assert r.status_code == 302 and "/accounts/login/" in r.url, url


# ------------------------------------------------------------------ disinfection


def _disinfection_form(**extra) -> dict:
    data = {
        "area": "classroom",
        "area_detail": "小一班教室",
        "method": "含氯消毒液擦拭",
        "agent": "84消毒液",
        "done_by_name": "李静",
        "done_at": _now_field(),
    }
    data.update(extra)
    return data


def test_teacher_records_routine_disinfection(client, hworld):
    w = hworld
    url = reverse("health:disinfections", args=[w.school.pk])
    html = page(client, w.users["teacher"], url).content.decode()
    assert 'data-testid="disinfection-form"' in html
    r = page(client, w.users["teacher"], url, "post", _disinfection_form())
    assert r.status_code == 302 and "?month=" in r.url
    row = Disinfection.objects.get()
    assert (row.kind, row.recorded_by) == ("routine", w.users["teacher"])
    # The month the record fell in (20 minutes ago is last month just after midnight on
    # the 1st), where the save redirected.
    html = page(client, w.users["health"], r.url).content.decode()
    assert html.count('data-testid="disinfection-row"') == 1
    assert 'data-testid="disinfection-form"' not in html  # the health officer reads


def test_disinfection_form_errors_in_place(client, hworld):
    w = hworld
    url = reverse("health:disinfections", args=[w.school.pk])
    future = _now_field(dt.timedelta(hours=3))
    r = page(client, w.users["teacher"], url, "post", _disinfection_form(done_at=future))
    assert r.status_code == 400
    assert 'data-testid="error-done_at"' in r.content.decode()
    data = _disinfection_form(method="", done_by_name="", done_at="")
    r = page(client, w.users["teacher"], url, "post", data)
    assert r.status_code == 400
    html = r.content.decode()
    for name in ("method", "done_by_name", "done_at"):  # every error at once
        assert f'data-testid="error-{name}"' in html, name
    r = page(client, w.users["teacher"], url, "post", _disinfection_form(area="roof"))
    assert r.status_code == 400 and 'data-testid="error-area"' in r.content.decode()
    assert not Disinfection.objects.exists()


def test_reading_roles_cannot_post(client, hworld):
    w = hworld
    url = reverse("health:disinfections", args=[w.school.pk])
    r = page(client, w.users["health"], url, "post", _disinfection_form())
    assert r.status_code == 403
    r = page(client, w.users["principal2"], url, "post", _disinfection_form())
    assert r.status_code == 404
    assert not Disinfection.objects.exists()


@pytest.mark.parametrize("month", ["2026-13", "bogus", "9999-01", ""])
def test_bad_month_shows_this_month(client, hworld, month):
    w = hworld
    r = page(
        client,
        w.users["principal"],
        reverse("health:disinfections", args=[w.school.pk]) + f"?month={month}",
    )
    assert r.status_code == 200


def test_emergency_disinfection_from_the_case_page(client, hworld, case):
    w = hworld
    url = reverse("health:case_disinfection", args=[case.pk])
    data = {f"disinfection-{k}": v for k, v in _disinfection_form(area="isolation").items()}
    r = page(client, w.users["nurse"], url, "post", data)
    assert r.status_code == 302
    assert r.url.endswith("#response-disinfection")
    assert Disinfection.objects.get().case == case
    assert CaseStep.objects.filter(case=case, step=Step.EMERGENCY_DISINFECTION).exists()
    # Errors: the panel again with them in place, nothing written.
    data["disinfection-done_at"] = _now_field(dt.timedelta(days=1))
    r = page(client, w.users["nurse"], url, "post", data)
    assert r.status_code == 400 and 'data-testid="error-done_at"' in r.content.decode()
    assert Disinfection.objects.count() == 1
    for who, status in (("teacher", 403), ("principal2", 404), ("police", 403)):
        r = page(client, w.users[who], url, "post", data)
        assert r.status_code == status, who
    assert Disinfection.objects.count() == 1


# ------------------------------------------------------------------ suspension


def _decision(w, **extra) -> dict:
    data = {
        "scope": "class",
        "school_class": w.school_class.pk,
        "starts_on": timezone.localdate().isoformat(),
        "ends_on": (timezone.localdate() + dt.timedelta(days=6)).isoformat(),
        "reason": "疑似流感",
        "health_centre_opinion": "建议停课7天",
        "education_office_opinion": "同意",
    }
    data.update(extra)
    return data


def test_principal_decides_from_the_case(client, hworld, case):
    w = hworld
    url = reverse("health:suspension_new", args=[w.school.pk])
    r = page(client, w.users["principal"], url + f"?case={case.pk}")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="four-party-directory"' in html
    assert f'value="{case.pk}" selected' in html
    r = page(client, w.users["principal"], url, "post", _decision(w, case=case.pk))
    assert r.status_code == 302 and r.url.endswith("#response-suspension")
    suspension = ClassSuspension.objects.get()
    assert suspension.case == case and suspension.decided_by == w.users["principal"]
    html = page(client, w.users["teacher"], reverse("health:suspensions")).content.decode()
    assert f'data-testid="current-{suspension.pk}"' in html
    assert 'data-testid="in-force"' in html
    assert f'data-testid="resume-open-{suspension.pk}"' not in html  # the teacher reads


def test_suspending_a_class_of_another_school_on_the_page(client, hworld):
    w = hworld
    url = reverse("health:suspension_new", args=[w.school.pk])
    r = page(client, w.users["principal"], url, "post", _decision(w, school_class=w.other_class.pk))
    assert r.status_code == 400
    assert not ClassSuspension.objects.exists()


def test_suspension_errors_in_place(client, hworld):
    w = hworld
    url = reverse("health:suspension_new", args=[w.school.pk])
    data = _decision(w, ends_on="2000-01-01", health_centre_opinion="")
    r = page(client, w.users["principal"], url, "post", data)
    assert r.status_code == 400
    html = r.content.decode()
    assert 'data-testid="error-ends_on"' in html
    assert 'data-testid="error-health_centre_opinion"' in html
    assert not ClassSuspension.objects.exists()


def test_resume_on_the_list(client, hworld):
    w = hworld
    suspension = services.suspension_decide(
        actor=w.users["principal"],
        school_id=w.school.pk,
        scope="class",
        school_class_id=w.school_class.pk,
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + dt.timedelta(days=3),
        reason="r",
        health_centre_opinion="h",
        education_office_opinion="e",
    )
    url = reverse("health:suspension_resume", args=[suspension.pk])
    prefix = f"resume-{suspension.pk}"
    html = page(client, w.users["principal"], reverse("health:suspensions")).content.decode()
    assert f'data-testid="resume-open-{suspension.pk}"' in html
    r = page(client, w.users["principal"], url, "post", {f"{prefix}-resumed_on": "2000-01-01"})
    assert r.status_code == 400 and 'data-testid="error-resumed_on"' in r.content.decode()
    r = page(client, w.users["nurse"], url, "post", {f"{prefix}-resumed_on": "2000-01-01"})
    assert r.status_code == 403
    r = page(client, w.users["principal2"], url, "post", {f"{prefix}-resumed_on": "2000-01-01"})
    assert r.status_code == 404
    day = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    r = page(client, w.users["principal"], url, "post", {f"{prefix}-resumed_on": day})
    assert r.status_code == 302
    suspension.refresh_from_db()
    assert suspension.resumed_on.isoformat() == day
    r = page(client, w.users["principal"], url, "post", {f"{prefix}-resumed_on": day})
    assert r.status_code == 409 and 'data-testid="refusal"' in r.content.decode()


def test_no_suspension_from_the_case(client, hworld, case):
    w = hworld
    url = reverse("health:case_no_suspension", args=[case.pk])
    r = page(client, w.users["principal"], url, "post", {"assessment-note": ""})
    assert r.status_code == 400
    r = page(client, w.users["nurse"], url, "post", {"assessment-note": "x"})
    assert r.status_code == 403
    r = page(client, w.users["principal"], url, "post", {"assessment-note": "散发，无需停课"})
    assert r.status_code == 302
    assert CaseStep.objects.get(case=case, step=Step.ASSESSED).note.endswith("散发，无需停课")
    r = page(client, w.users["principal"], url, "post", {"assessment-note": "again"})
    assert r.status_code == 409
    html = page(
        client, w.users["principal"], reverse("health:case_response", args=[case.pk])
    ).content.decode()
    assert 'data-testid="assessed-note"' in html and 'data-testid="no-suspension-form"' not in html


# ------------------------------------------------------------------ statements, aftercare


def test_statements_page_and_case_form(client, hworld, case):
    w = hworld
    url = reverse("health:statements", args=[w.school.pk])
    data = {"text": "官方说明", "published_at": _now_field(), "approved_by": "园长"}
    r = page(client, w.users["teacher"], url, "post", data)
    assert r.status_code == 403
    r = page(client, w.users["nurse"], url, "post", {**data, "text": ""})
    assert r.status_code == 400 and 'data-testid="error-text"' in r.content.decode()
    r = page(client, w.users["nurse"], url, "post", {**data, "case": case.pk})
    assert r.status_code == 302
    case_url = reverse("health:case_statement", args=[case.pk])
    r = page(
        client,
        w.users["health"],
        case_url,
        "post",
        # Another statement: the same one again would be a double submission (kept once).
        {f"statement-{k}": v for k, v in {**data, "text": "官方说明（二）"}.items()},
    )
    assert r.status_code == 302 and r.url.endswith("#response-statements")
    assert OfficialStatement.objects.filter(case=case).count() == 2
    html = page(client, w.users["guard"], url).content.decode()
    assert html.count('data-testid="statement-row"') == 2
    assert 'data-testid="statement-form"' not in html
    html = page(client, w.users["nurse"], url + f"?case={case.pk}").content.decode()
    assert 'data-testid="statements-case"' in html


def test_aftercare_from_the_case_and_done_by_the_assignee(client, hworld, case):
    w = hworld
    url = reverse("health:case_aftercare", args=[case.pk])
    data = {
        "aftercare-kind": "psychological",
        "aftercare-description": "心理疏导",
        "aftercare-assignee": w.users["teacher"].pk,
        "aftercare-due_on": "",
    }
    r = page(client, w.users["teacher"], url, "post", data)
    assert r.status_code == 403
    r = page(client, w.users["nurse"], url, "post", {**data, "aftercare-assignee": 10**6})
    assert r.status_code == 400
    r = page(client, w.users["nurse"], url, "post", data)
    assert r.status_code == 302 and r.url.endswith("#response-aftercare")
    task = AftercareTask.objects.get()
    # The teacher (no case reading) sees it among their tasks and completes it there.
    html = page(client, w.users["teacher"], reverse("health:aftercare")).content.decode()
    assert f'data-testid="task-{task.pk}"' in html
    assert f'data-testid="task-done-save-{task.pk}"' in html
    done_url = reverse("health:aftercare_done", args=[task.pk])
    prefix = f"done-{task.pk}"
    r = page(client, w.users["teacher"], done_url, "post", {f"{prefix}-note": ""})
    assert r.status_code == 400  # psychological support needs its notes
    r = page(client, w.users["guard"], done_url, "post", {f"{prefix}-note": "x"})
    assert r.status_code == 404
    r = page(client, w.users["teacher"], done_url, "post", {f"{prefix}-note": "谈心"})
    assert r.status_code == 302
    task.refresh_from_db()
    assert task.done_by == w.users["teacher"]
    r = page(client, w.users["nurse"], done_url, "post", {f"{prefix}-note": "x", "back": "case"})
    assert r.status_code == 409


# ------------------------------------------------------------------ monitoring


def test_monitoring_page_plan_and_end(client, hworld, case):
    w = hworld
    services.monitoring_plan_for_case(actor=w.users["principal"], case=case)
    url = reverse("health:monitoring", args=[w.school.pk])
    html = page(client, w.users["teacher"], url).content.decode()
    plan = MonitoringPlan.objects.get()
    assert f'data-testid="plan-{plan.pk}"' in html and 'data-testid="plan-today"' in html
    assert 'data-testid="plan-form"' not in html
    today = timezone.localdate()
    data = {
        "school_class": w.school_class.pk,
        "starts_on": today.isoformat(),
        "ends_on": (today + dt.timedelta(days=2)).isoformat(),
        "checks_per_day": 2,
    }
    r = page(client, w.users["nurse"], url, "post", data)
    assert r.status_code == 400 and 'data-testid="error-school_class"' in r.content.decode()
    r = page(client, w.users["nurse"], url, "post", {**data, "checks_per_day": 3})
    assert r.status_code == 302
    end_url = reverse("health:monitoring_end", args=[plan.pk])
    r = page(client, w.users["nurse"], end_url, "post", {f"end-{plan.pk}-ends_on": "2000-01-01"})
    assert r.status_code == 400
    r = page(client, w.users["teacher"], end_url, "post", {f"end-{plan.pk}-ends_on": "x"})
    assert r.status_code == 403
    r = page(client, w.users["nurse"], end_url, "post", {f"end-{plan.pk}-ends_on": today})
    assert r.status_code == 302
    plan.refresh_from_db()
    assert plan.ends_on == today


# ------------------------------------------------------------------ the panel tag


def _panel(user, case) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = Template('{% include "health/_case_response.html" %}')
    return template.render(Context({"request": request, "case": case}))


def test_panel_shows_forms_by_role_and_nothing_without_the_record(hworld, case):
    w = hworld
    principal = _panel(w.users["principal"], case)
    for testid in (
        "case-response",
        "disinfection-form",
        "decide-suspension",
        "no-suspension-form",
        "statement-form",
        "aftercare-form",
        "one-voice-reminder",
    ):
        assert f'data-testid="{testid}"' in principal, testid
    officer = _panel(w.users["health"], case)
    assert 'data-testid="disinfection-form"' in officer
    assert 'data-testid="decide-suspension"' not in officer
    duty = _panel(w.users["dutylead"], case)
    assert 'data-testid="case-response"' in duty and "<form" not in duty
    for who in ("teacher", "police", "principal2"):
        assert _panel(w.users[who], case).strip() == "", who
