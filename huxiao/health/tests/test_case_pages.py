"""The case pages (ADR 0032 "Case"): role × scope for each page, the teacher's report and
confirmation, the procedure as a checklist with refusals in place, the contacts page and its
actions, the export."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.health.choices import CaseStatus, Step
from huxiao.health.models import CaseContact, CaseGroupMember, CaseStep, HealthCase
from huxiao.health.tests.case_fixtures import DAY, at, attendance, check, make_case
from huxiao.people.tests.factories import ChildFactory, GuardianFactory

pytestmark = pytest.mark.django_db


def page(client, user, url, method="get", data=None):
    client.logout()
    if user is not None:
        client.force_login(user)
    return getattr(client, method)(url, data or {})


@pytest.fixture
def case(hworld):
    return make_case(hworld, steps=[Step.VERIFIED])


READERS = ["principal", "nurse", "dutylead", "health", "countyhealth"]


def _reads(case, user) -> int:
    return AuditEvent.objects.filter(
        action=AuditAction.READ_SENSITIVE, object_id=str(case.pk), actor=user
    ).count()


# ------------------------------------------------------------------ role × scope


@pytest.mark.parametrize(
    ("who", "status"),
    [
        *[(who, 200) for who in READERS],
        ("principal2", 404),
        ("police", 403),
        ("officer", 403),
        ("postofficer", 403),
        ("teacher", 403),
        ("edu", 403),
        ("nobody", 403),
        (None, 302),
    ],
)
@pytest.mark.parametrize(
    "name", ["health:case", "health:case_contacts", "health:case_contacts_export"]
)
def test_case_pages_scope(client, hworld, case, who, status, name):
    user = hworld.users.get(who)
    r = page(client, user, reverse(name, args=[case.pk]))
    assert r.status_code == status
    if status == 302:
        assert "/login" in r.url or "login" in r.url
    if status == 200:
        assert _reads(case, user) == 1
        if name != "health:case_contacts_export":
            html = r.content.decode()
            assert 'data-testid="four-party-directory"' in html
            assert 'data-testid="one-voice"' in html
    else:
        assert not AuditEvent.objects.filter(action=AuditAction.READ_SENSITIVE).exists()


@pytest.mark.parametrize(
    ("who", "status", "rows"),
    [
        ("principal", 200, 1),
        ("health", 200, 1),
        ("countyhealth", 200, 1),
        ("principal2", 200, 0),
        ("teacher", 403, 0),
        ("police", 403, 0),
        (None, 302, 0),
    ],
)
def test_case_list_scope(client, hworld, case, who, status, rows):
    r = page(client, hworld.users.get(who), reverse("health:cases"))
    assert r.status_code == status
    if status == 200:
        assert r.content.decode().count('data-testid="case-row"') == rows


def test_case_list_filters(client, hworld, case):
    w = hworld
    make_case(w, child=ChildFactory(school_class=w.school_class), status=CaseStatus.CLOSED)
    url = reverse("health:cases")
    html = page(client, w.users["health"], url + "?status=open").content.decode()
    assert html.count('data-testid="case-row"') == 1
    html = page(client, w.users["health"], url + f"?school={w.school.pk}").content.decode()
    assert html.count('data-testid="case-row"') == 2
    assert html.index('data-status="reported"') < html.index('data-status="closed"')
    assert 'data-testid="four-party-directory"' in html
    assert page(client, w.users["principal"], url + f"?school={w.far_school.pk}").status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("teacher", 200),
        ("principal", 200),
        ("nurse", 200),
        ("dutylead", 200),
        ("health", 403),
        ("principal2", 404),
        ("police", 403),
        (None, 302),
    ],
)
def test_report_page_scope(client, hworld, who, status):
    url = reverse("health:case_report", args=[hworld.school_class.pk])
    r = page(client, hworld.users.get(who), url)
    assert r.status_code == status
    if status == 200:
        assert 'data-testid="four-party-directory"' in r.content.decode()


# ------------------------------------------------------------------ reporting


def _report_data(world, **overrides):
    data = {
        "child": world.child.pk,
        "symptoms": ["fever", "cough"],
        "temperature": "38.4",
        "onset_date": "",
        "suspected_disease": "",
        "contact_window_days": "2",
        "note": "",
    }
    from django.utils import timezone

    data["onset_date"] = timezone.localdate().isoformat()
    data.update(overrides)
    return data


def test_the_teacher_reports_and_sees_a_confirmation_not_the_case(client, hworld):
    w = hworld
    url = reverse("health:case_report", args=[w.school_class.pk])
    r = page(client, w.users["teacher"], url, "post", _report_data(w))
    case = HealthCase.objects.get()
    assert r.status_code == 302 and r.url == reverse("health:case_reported", args=[case.pk])
    r = client.get(r.url)
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="next-step"' in html
    assert 'data-testid="steps"' not in html
    assert client.get(reverse("health:case", args=[case.pk])).status_code == 403
    # Someone else without VIEW_HEALTH does not see the confirmation.
    assert page(client, w.users["principal2"], r.request["PATH_INFO"]).status_code == 404
    assert page(client, w.users["police"], r.request["PATH_INFO"]).status_code == 403
    assert page(client, w.users["principal"], r.request["PATH_INFO"]).status_code == 200


def test_the_principal_reports_and_lands_on_the_case(client, hworld):
    w = hworld
    url = reverse("health:case_report", args=[w.school_class.pk])
    r = page(client, w.users["principal"], url, "post", _report_data(w))
    case = HealthCase.objects.get()
    assert r.url == reverse("health:case", args=[case.pk])


def test_the_report_is_prefilled_from_the_check(client, hworld):
    w = hworld
    found = check(w.child, DAY, "东门", at(7, 30), temperature="38.9", symptoms=["fever", "rash"])
    url = reverse("health:case_report", args=[w.school_class.pk]) + f"?check={found.pk}"
    html = page(client, w.users["teacher"], url).content.decode()
    assert 'value="38.9"' in html
    assert f'value="{DAY.isoformat()}"' in html
    assert re.search(r'value="rash"[^>]*checked', html)
    assert not re.search(r'value="cough"[^>]*checked', html)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"temperature": "45"}, "temperature"),
        ({"symptoms": [], "temperature": ""}, "symptoms"),
        ({"onset_date": "2999-01-01"}, "onset_date"),
        ({"contact_window_days": "15"}, "contact_window_days"),
        ({"child": "999999"}, "child"),
    ],
)
def test_bad_report_shows_errors_in_place(client, hworld, overrides, field):
    w = hworld
    url = reverse("health:case_report", args=[w.school_class.pk])
    r = page(client, w.users["teacher"], url, "post", _report_data(w, **overrides))
    assert r.status_code == 400
    assert f'data-testid="error-{field}"' in r.content.decode()
    assert not HealthCase.objects.exists()


def test_a_second_report_names_the_open_case(client, hworld, case):
    w = hworld
    url = reverse("health:case_report", args=[w.school_class.pk])
    r = page(client, w.users["teacher"], url, "post", _report_data(w))
    assert r.status_code == 409
    assert 'data-testid="existing-case"' in r.content.decode()
    assert HealthCase.objects.count() == 1


# ------------------------------------------------------------------ the procedure


def _step_url(case, step):
    return reverse("health:case_step", args=[case.pk, step])


def test_the_checklist_shows_state_and_next_actions(client, hworld, case):
    w = hworld
    html = page(
        client, w.users["principal"], reverse("health:case", args=[case.pk])
    ).content.decode()
    assert 'data-testid="step-verified" data-state="done"' in html
    assert 'data-testid="step-started" data-state="next"' in html
    assert 'data-testid="do-started"' in html
    # Isolation never waits; the class is moved only once the procedure started.
    assert 'data-testid="do-isolated"' in html
    assert 'data-testid="do-class_moved"' not in html
    html = page(client, w.users["nurse"], reverse("health:case", args=[case.pk])).content.decode()
    assert 'data-testid="do-started"' not in html  # only the principal starts it
    order = [html.index(f'data-testid="step-{s}"') for s in Step.values]
    assert order == sorted(order)


def test_steps_through_the_page(client, hworld, case):
    w = hworld
    r = page(client, w.users["nurse"], _step_url(case, Step.STARTED), "post", {})
    assert r.status_code == 403 and 'data-testid="refusal"' in r.content.decode()
    r = page(
        client,
        w.users["principal"],
        _step_url(case, Step.STARTED),
        "post",
        {"started-note": "启动"},
    )
    assert r.status_code == 302
    assert CaseStep.objects.get(case=case, step=Step.STARTED).note == "启动"
    r = page(client, w.users["principal"], _step_url(case, Step.STARTED), "post", {})
    assert r.status_code == 302
    assert CaseStep.objects.filter(case=case, step=Step.STARTED).count() == 1
    r = page(
        client,
        w.users["dutylead"],
        _step_url(case, Step.ISOLATED),
        "post",
        {"isolated-isolation_place": "", "isolated-isolated_at": ""},
    )
    assert r.status_code == 400 and 'data-testid="error-isolation_place"' in r.content.decode()
    r = page(
        client,
        w.users["dutylead"],
        _step_url(case, Step.ISOLATED),
        "post",
        {"isolated-isolation_place": "观察室", "isolated-isolated_at": "2020-01-01T08:00"},
    )
    assert r.status_code == 400 and 'data-testid="error-isolated_at"' in r.content.decode()
    case.refresh_from_db()
    assert case.isolated_at is None
    r = page(
        client,
        w.users["dutylead"],
        _step_url(case, Step.ISOLATED),
        "post",
        {"isolated-isolation_place": "观察室"},
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.isolation_place == "观察室" and case.isolated_at is not None
    assert (
        page(client, w.users["police"], _step_url(case, Step.CLASS_MOVED), "post", {}).status_code
        == 403
    )
    assert (
        page(
            client, w.users["principal2"], _step_url(case, Step.CLASS_MOVED), "post", {}
        ).status_code
        == 404
    )
    assert (
        page(client, w.users["principal"], _step_url(case, "assessed"), "post", {}).status_code
        == 404
    )
    assert page(client, None, _step_url(case, Step.CLASS_MOVED), "post", {}).status_code == 302


def test_out_of_order_is_a_409_in_place(client, hworld):
    w = hworld
    case = make_case(w)
    r = page(
        client,
        w.users["principal"],
        _step_url(case, Step.CLASS_MOVED),
        "post",
        {"class_moved-standby_classroom": "备用教室"},
    )
    assert r.status_code == 409 and 'data-testid="refusal"' in r.content.decode()
    assert not case.steps.filter(step=Step.CLASS_MOVED).exists()


def test_groups_and_closing_through_the_page(client, hworld):
    w = hworld
    u = w.users
    case = make_case(w, steps=[Step.VERIFIED, Step.STARTED])
    add = reverse("health:case_member_add", args=[case.pk])
    r = page(
        client,
        u["principal"],
        add,
        "post",
        {"group": "coordination", "user_id": u["principal"].pk, "is_leader": "on"},
    )
    assert r.status_code == 302
    r = page(
        client, u["principal"], add, "post", {"group": "monitoring", "user_id": "", "name": ""}
    )
    assert r.status_code == 400 and 'data-testid="error-name"' in r.content.decode()
    r = page(client, u["dutylead"], add, "post", {"group": "monitoring", "name": "某人"})
    assert r.status_code == 403
    for group in ("monitoring", "treatment", "liaison", "disinfection", "publicity"):
        page(
            client,
            u["nurse"],
            add,
            "post",
            {"group": group, "name": f"{group}员", "phone": "13900000000"},
        )
    assert case.steps.filter(step=Step.GROUPS).exists()
    member = CaseGroupMember.objects.get(case=case, group="treatment")
    r = page(
        client, u["nurse"], reverse("health:case_member_remove", args=[case.pk, member.pk]), "post"
    )
    assert r.status_code == 302 and not CaseGroupMember.objects.filter(pk=member.pk).exists()
    html = page(client, u["principal"], reverse("health:case", args=[case.pk])).content.decode()
    assert html.count('data-testid="member"') == 5
    close = reverse("health:case_close", args=[case.pk])
    assert page(client, u["health"], close, "post", {}).status_code == 409
    page(client, u["health"], _step_url(case, Step.OUTCOME), "post", {"outcome-outcome": "cleared"})
    case.refresh_from_db()
    assert case.status == CaseStatus.CLEARED
    assert page(client, u["dutylead"], close, "post", {}).status_code == 403
    assert page(client, u["health"], close, "post", {"close-note": "排除"}).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.closed_at


# ------------------------------------------------------------------ contacts


@pytest.fixture
def traced(hworld):
    w = hworld
    mate = ChildFactory(school_class=w.school_class, name="同班甲")
    GuardianFactory(child=mate, name="甲妈妈", phone="13500000001")
    from django.utils import timezone

    attendance(w.school_class, timezone.localdate())
    return make_case(w, onset=timezone.localdate(), steps=[Step.VERIFIED, Step.STARTED]), mate


def test_the_contacts_page_lists_reasons_and_phones(client, hworld, traced):
    case, mate = traced
    html = page(
        client, hworld.users["health"], reverse("health:case_contacts", args=[case.pk])
    ).content.decode()
    assert 'data-testid="contact"' in html and "同班甲" in html
    assert 'data-reasons="same_class"' in html
    assert 'href="tel:13500000001"' in html
    assert f"/health/classes/{case.school_class_id}/checks/extra/" in html


def test_record_and_notify_from_the_page(client, hworld, traced):
    case, mate = traced
    u = hworld.users
    record = reverse("health:case_contacts_record", args=[case.pk])
    notify = reverse("health:case_contacts_notify", args=[case.pk])
    assert page(client, u["dutylead"], record, "post").status_code == 403
    assert page(client, u["police"], record, "post").status_code == 403
    assert page(client, u["principal2"], notify, "post").status_code == 404
    assert not CaseContact.objects.exists()
    assert page(client, u["health"], record, "post").status_code == 302
    assert CaseContact.objects.filter(case=case, child=mate).exists()
    assert page(client, u["nurse"], notify, "post").status_code == 302
    assert CaseContact.objects.get(case=case, child=mate).notified_at is not None
    assert case.steps.filter(step=Step.CONTACTS_NOTIFIED).exists()
    html = page(
        client, u["nurse"], reverse("health:case_contacts", args=[case.pk])
    ).content.decode()
    assert "✓" in html


def test_contacts_before_the_start_are_refused(client, hworld):
    case = make_case(hworld)
    r = page(
        client,
        hworld.users["health"],
        reverse("health:case_contacts_record", args=[case.pk]),
        "post",
    )
    assert r.status_code == 409


def test_the_window_form(client, hworld, traced):
    case, _mate = traced
    url = reverse("health:case_window", args=[case.pk])
    r = page(
        client,
        hworld.users["health"],
        url,
        "post",
        {"onset_date": case.onset_date.isoformat(), "contact_window_days": "15"},
    )
    assert r.status_code == 400 and 'data-testid="error-contact_window_days"' in r.content.decode()
    r = page(
        client,
        hworld.users["health"],
        url,
        "post",
        {"onset_date": case.onset_date.isoformat(), "contact_window_days": "5"},
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.contact_window_days == 5
    r = page(
        client,
        hworld.users["dutylead"],
        url,
        "post",
        {"onset_date": case.onset_date.isoformat(), "contact_window_days": "3"},
    )
    assert r.status_code == 403


def test_the_export_is_a_workbook_of_the_contacts(client, hworld, traced):
    import openpyxl

    case, mate = traced
    r = page(client, hworld.users["nurse"], reverse("health:case_contacts_export", args=[case.pk]))
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2
    name, klass, reasons, dates, guardians, phones = rows[1]
    assert (name, klass, phones) == ("同班甲", hworld.school_class.name, "13500000001")
    assert "甲妈妈" in guardians
