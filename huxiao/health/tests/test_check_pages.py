"""The check pages (issue 9 items 2–3): role × scope for every page, the class sheet on a
phone (all well by default, the exceptions posted as one form, errors in place, nothing
written), attendance with causes and chasing, follow-ups, dining, dormitory rooms, class
staff, a child's record (a logged read), and constant queries for a class of 40."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.health import check_services as services
from huxiao.health.choices import SuspensionScope
from huxiao.health.models import (
    Absence,
    AttendanceDay,
    ChildCheck,
    ClassStaff,
    ClassSuspension,
    DiningSeat,
    DormAssignment,
    HealthCheck,
    IllnessFollowUp,
    MonitoringPlan,
)
from huxiao.health.tests.check_fixtures import *  # noqa: F403
from huxiao.people.tests.factories import ChildFactory, StaffFactory

pytestmark = pytest.mark.django_db

# Who reads the health pages of `school`: (user, status). The health officer of the town
# and of the county read; police, the guard and other schools do not.
READERS = [
    ("principal", 200),
    ("teacher", 200),
    ("nurse", 200),
    ("dutylead", 200),
    ("health", 200),
    ("countyhealth", 200),
    ("principal2", 404),
    ("police", 403),
    ("officer", 403),
    ("postofficer", 403),
    ("guard", 403),
    ("edu", 403),
    ("nobody", 403),
]


def page(client, user, url, method="get", data=None):
    client.logout()
    if user is not None:
        client.force_login(user)
    return getattr(client, method)(url, data or {})


def today() -> dt.date:
    return timezone.localdate()


def entry_url(klass, session="morning", day=None):
    url = reverse("health:check_entry", args=[klass.school_class.pk, session])
    return url + (f"?date={day.isoformat()}" if day else "")


def class_pages(klass) -> list[str]:
    c = klass.school_class.pk
    s = klass.world.school.pk
    return [
        reverse("health:checks", args=[s]),
        entry_url(klass),
        entry_url(klass, "noon"),
        reverse("health:attendance", args=[c]),
        reverse("health:follow_ups", args=[s]),
        reverse("health:dining", args=[c]),
        reverse("health:dorms", args=[s]),
        reverse("health:class_staff", args=[c]),
    ]


@pytest.mark.parametrize(("who", "status"), READERS)
def test_scope_of_every_page(client, klass, who, status):
    for url in class_pages(klass):
        r = page(client, klass.world.users[who], url)
        assert r.status_code == status, (url, r.status_code)
        if status == 200:
            assert 'data-testid="four-party-directory"' in r.content.decode(), url


def test_pages_need_a_login(client, klass):
    for url in [*class_pages(klass), reverse("health:check_home")]:
        r = page(client, None, url)
        assert r.status_code == 302 and "login" in r.url, url


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("nurse", 200),
        ("principal", 200),
        ("health", 200),
        ("countyhealth", 200),
        ("teacher", 403),  # takes checks, does not read health records
        ("principal2", 404),
        ("police", 403),
        ("nobody", 403),
        (None, 302),
    ],
)
def test_child_record_scope_and_logged_read(client, klass, who, status):
    child = klass.children[0]
    user = klass.world.users.get(who)
    r = page(client, user, reverse("health:child", args=[child.pk]))
    assert r.status_code == status
    reads = AuditEvent.objects.filter(
        action=AuditAction.READ_SENSITIVE, object_type="people.child", object_id=str(child.pk)
    )
    assert reads.count() == (1 if status == 200 else 0)
    if status == 200:
        assert 'data-testid="four-party-directory"' in r.content.decode()


def test_out_of_range_ids_are_404(client, klass):
    user = klass.world.users["principal"]
    for name in ("health:child", "health:attendance", "health:dining", "health:class_staff"):
        assert page(client, user, reverse(name, args=[2**64])).status_code == 404, name
    assert page(client, user, reverse("health:checks", args=[2**64])).status_code == 404
    bad_session = reverse("health:check_entry", args=[klass.school_class.pk, "midnight"])
    assert page(client, user, bad_session).status_code == 404


# ------------------------------------------------------------------ home


def test_check_home(client, klass):
    w = klass.world
    r = page(client, w.users["teacher"], reverse("health:check_home"))
    assert r.status_code == 200
    assert f'data-testid="my-class-{klass.school_class.pk}"' in r.content.decode()
    r = page(client, w.users["principal"], reverse("health:check_home"))
    assert r.status_code == 302 and r.url == reverse("health:checks", args=[w.school.pk])
    r = page(client, w.users["health"], reverse("health:check_home"))
    assert r.status_code == 200 and r.content.decode().count('data-testid="school-row"') == 2
    r = page(client, w.users["countyhealth"], reverse("health:check_home"))
    assert r.content.decode().count('data-testid="school-row"') == 3
    for who in ("police", "guard", "nobody"):
        assert page(client, w.users[who], reverse("health:check_home")).status_code == 403


# ------------------------------------------------------------------ a school's day


def test_school_day_shows_status_suspension_and_monitoring(client, klass):
    w = klass.world
    services.health_check_record(
        actor=w.users["teacher"],
        school_class_id=klass.school_class.pk,
        date=today(),
        session="morning",
        results=[{"child_id": klass.children[0].pk, "symptoms": ["cough"]}],
    )
    services.attendance_record(
        actor=w.users["teacher"],
        school_class_id=klass.school_class.pk,
        date=today(),
        absences=[{"child_id": klass.children[3].pk, "cause": "unknown"}],
    )
    ClassSuspension.objects.create(
        school=w.school,
        scope=SuspensionScope.CLASS,
        school_class=klass.school_class,
        starts_on=today(),
        ends_on=today(),
        reason="疑似病例",
        decided_at=timezone.now(),
    )
    MonitoringPlan.objects.create(
        school=w.school,
        school_class=klass.school_class,
        starts_on=today() - dt.timedelta(days=1),
        ends_on=today() + dt.timedelta(days=12),
        checks_per_day=2,
    )
    html = page(client, w.users["nurse"], reverse("health:checks", args=[w.school.pk])).content
    html = html.decode()
    c = klass.school_class.pk
    for testid in (f"suspended-{c}", f"plan-{c}", f"unknown-{c}", f"entry-{c}"):
        assert f'data-testid="{testid}"' in html, testid


def test_school_day_with_a_bad_or_future_date_shows_today(client, klass):
    url = reverse("health:checks", args=[klass.world.school.pk])
    for day in ("9999-12-31", "bogus", (today() + dt.timedelta(days=3)).isoformat()):
        r = page(client, klass.world.users["principal"], f"{url}?date={day}")
        assert r.status_code == 200


# ------------------------------------------------------------------ the class sheet


def sheet_post(klass, **per_child) -> dict:
    """The form as a teacher posts it: every child listed, `per_child` {child: fields}."""
    data = {"checkpoint": "大门", "child": [str(c.pk) for c in klass.children]}
    for child, fields in per_child.items():
        for key, value in fields.items():
            data[f"{key}-{child.pk}"] = value
    return data


def test_the_sheet_lists_the_class_well_by_default(client, klass):
    html = page(client, klass.world.users["teacher"], entry_url(klass)).content.decode()
    for child in klass.children:
        assert f'data-testid="row-{child.pk}"' in html
    assert 'data-testid="check-form"' in html and 'data-testid="save-check"' in html
    assert "health/check_entry.js" in html and 'data-live="1"' in html
    # Kindergarten: the blisters toggle is offered.
    assert 'value="hfmd"' in html


def test_a_primary_school_has_no_blisters_toggle(client, klass):
    school = klass.world.school
    school.kind = "school"
    school.save()
    html = page(client, klass.world.users["teacher"], entry_url(klass)).content.decode()
    assert 'value="hfmd"' not in html and 'value="cough"' in html


def test_posting_the_sheet_records_the_check(client, klass):
    sick, other = klass.children[:2]
    data = sheet_post(
        klass,
        **{},
    )
    data.update(
        {
            f"t-{sick.pk}": "38.3",
            f"s-{sick.pk}": ["cough"],
            f"a-{sick.pk}": "observation",
            f"at-{sick.pk}": timezone.now().isoformat(),
            f"t-{other.pk}": "36.4",
        }
    )
    r = page(client, klass.world.users["teacher"], entry_url(klass), "post", data)
    assert r.status_code == 302 and r.url.endswith("#unwell")
    check = HealthCheck.objects.get()
    assert (check.checked, check.unwell, check.checkpoint) == (4, 1, "大门")
    row = ChildCheck.objects.get(child=sick)
    assert row.symptoms == ["fever", "cough"] and row.action == "observation"
    html = page(client, klass.world.users["teacher"], entry_url(klass)).content.decode()
    assert f'data-testid="unwell-{sick.pk}"' in html
    report = reverse("health:case_report", args=[klass.school_class.pk])
    assert f"{report}?child={sick.pk}&amp;check={row.pk}" in html
    # Saving again edits the same check.
    data[f"a-{sick.pk}"] = "sent_home"
    page(client, klass.world.users["teacher"], entry_url(klass), "post", data)
    assert HealthCheck.objects.count() == 1 and ChildCheck.objects.get(child=sick).action == (
        "sent_home"
    )


def test_a_bad_temperature_is_shown_on_the_row_and_nothing_is_written(client, klass):
    sick, bad = klass.children[:2]
    data = sheet_post(klass)
    data.update({f"t-{sick.pk}": "38.3", f"t-{bad.pk}": "45"})
    r = page(client, klass.world.users["teacher"], entry_url(klass), "post", data)
    assert r.status_code == 400
    html = r.content.decode()
    assert f'data-testid="row-errors-{bad.pk}"' in html
    assert 'value="45"' in html and 'value="38.3"' in html  # what was typed stays
    assert not HealthCheck.objects.exists() and not ChildCheck.objects.exists()


def test_a_child_of_another_class_posted_is_refused(client, klass):
    data = sheet_post(klass)
    data["child"].append(str(klass.world.other_child.pk))
    r = page(client, klass.world.users["teacher"], entry_url(klass), "post", data)
    assert r.status_code == 400 and 'data-testid="form-errors"' in r.content.decode()
    assert not HealthCheck.objects.exists()


@pytest.mark.parametrize("raw", ["²", "١٢", "9" * 30, "-1", ""])
def test_a_child_id_that_is_no_number_is_refused_on_every_sheet(client, klass, raw):
    # "²" is a digit to str.isdigit() but not to int(): it was a 500.
    c = klass.school_class.pk
    data = {"child": [raw], f"absent-{raw}": "1", f"table-{raw}": "1号桌", f"t-{raw}": "36.5"}
    for url in (
        entry_url(klass),
        reverse("health:attendance", args=[c]),
        reverse("health:dining", args=[c]),
    ):
        r = page(client, klass.world.users["teacher"], url, "post", data)
        assert r.status_code == 400, (url, r.status_code)
        assert 'data-testid="form-errors"' in r.content.decode()
    assert not HealthCheck.objects.exists() and not Absence.objects.exists()
    assert not DiningSeat.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("health", 403), ("police", 403), ("principal2", 404), ("guard", 403)]
)
def test_only_the_school_side_posts_a_check(client, klass, who, status):
    r = page(client, klass.world.users[who], entry_url(klass), "post", sheet_post(klass))
    assert r.status_code == status and not HealthCheck.objects.exists()


def test_the_health_officer_reads_the_sheet_without_a_form(client, klass):
    html = page(client, klass.world.users["health"], entry_url(klass)).content.decode()
    assert 'data-testid="read-only"' in html and 'data-testid="check-form"' not in html


def test_a_future_day_is_refused(client, klass):
    tomorrow = today() + dt.timedelta(days=1)
    r = page(client, klass.world.users["teacher"], entry_url(klass, day=tomorrow))
    assert r.status_code == 400 and 'data-testid="refusal"' in r.content.decode()
    url = entry_url(klass, day=tomorrow)
    r = page(client, klass.world.users["teacher"], url, "post", sheet_post(klass))
    assert r.status_code == 400 and not HealthCheck.objects.exists()


def test_a_past_day_has_no_live_clock(client, klass):
    yesterday = today() - dt.timedelta(days=1)
    html = page(client, klass.world.users["teacher"], entry_url(klass, day=yesterday))
    assert 'data-live="0"' in html.content.decode()
    r = page(
        client,
        klass.world.users["teacher"],
        entry_url(klass, day=yesterday),
        "post",
        {**sheet_post(klass), "date": yesterday.isoformat()},
    )
    assert r.status_code == 302
    assert HealthCheck.objects.get().date == yesterday
    assert {
        timezone.localdate(t) for t in ChildCheck.objects.values_list("checked_at", flat=True)
    } == {yesterday}


def test_the_sheet_takes_constant_queries(client, klass):
    user = klass.world.users["teacher"]
    client.force_login(user)
    client.get(entry_url(klass))  # warm the session and caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(entry_url(klass)).status_code == 200
    for i in range(36):
        ChildFactory(school_class=klass.school_class, name=f"孩子{i:02d}")
    services.health_check_record(
        actor=user, school_class_id=klass.school_class.pk, date=today(), session="morning"
    )
    with CaptureQueriesContext(connection) as large:
        r = client.get(entry_url(klass))
    assert r.status_code == 200 and r.content.decode().count('data-testid="row-') >= 40
    assert len(large) <= len(small) + 2, [q["sql"] for q in large.captured_queries]


# ------------------------------------------------------------------ attendance


def attendance_url(klass, day=None):
    url = reverse("health:attendance", args=[klass.school_class.pk])
    return url + (f"?date={day.isoformat()}" if day else "")


def test_attendance_page_records_absences_and_chasing(client, klass):
    ill, away, unknown = klass.children[:3]
    data = {
        "child": [str(c.pk) for c in klass.children],
        f"absent-{ill.pk}": "1",
        f"cause-{ill.pk}": "illness",
        f"s-{ill.pk}": ["fever"],
        f"absent-{away.pk}": "1",
        f"cause-{away.pk}": "personal",
        f"absent-{unknown.pk}": "1",
        f"cause-{unknown.pk}": "unknown",
    }
    teacher = klass.world.users["teacher"]
    r = page(client, teacher, attendance_url(klass), "post", data)
    assert r.status_code == 302
    assert AttendanceDay.objects.get().absent == 3
    assert IllnessFollowUp.objects.get().child == ill
    absence = Absence.objects.get(child=unknown)
    html = page(client, teacher, attendance_url(klass)).content.decode()
    assert f'data-testid="unknown-{absence.pk}"' in html
    assert f'data-testid="follow-up-{ill.pk}"' in html
    url = reverse("health:absence_establish", args=[absence.pk])
    r = page(client, teacher, url, "post", {f"e{absence.pk}-cause": "illness"})
    assert r.status_code == 400 and 'data-testid="error-symptoms"' in r.content.decode()
    r = page(
        client,
        teacher,
        url,
        "post",
        {f"e{absence.pk}-cause": "illness", f"e{absence.pk}-symptoms": ["diarrhoea"]},
    )
    assert r.status_code == 302
    absence.refresh_from_db()
    assert absence.cause == "illness" and absence.chased_by == teacher
    assert page(client, klass.world.users["health"], url, "post", {}).status_code == 403
    assert page(client, klass.world.users["principal2"], url, "post", {}).status_code == 404


def test_attendance_errors_stay_on_the_row(client, klass):
    ill = klass.children[0]
    data = {
        "child": [str(c.pk) for c in klass.children],
        f"absent-{ill.pk}": "1",
        f"cause-{ill.pk}": "illness",
    }
    r = page(client, klass.world.users["teacher"], attendance_url(klass), "post", data)
    assert r.status_code == 400 and f'data-testid="row-errors-{ill.pk}"' in r.content.decode()
    assert not AttendanceDay.objects.exists() and not Absence.objects.exists()


def test_follow_ups_page_shows_present_again_and_records_the_return(client, klass):
    ill = klass.children[0]
    teacher = klass.world.users["teacher"]
    yesterday = today() - dt.timedelta(days=1)
    services.attendance_record(
        actor=teacher,
        school_class_id=klass.school_class.pk,
        date=yesterday,
        absences=[{"child_id": ill.pk, "cause": "illness", "symptoms": ["fever"]}],
    )
    services.attendance_record(
        actor=teacher, school_class_id=klass.school_class.pk, date=today(), absences=[]
    )
    follow_up = IllnessFollowUp.objects.get()
    url = reverse("health:follow_ups", args=[klass.world.school.pk])
    html = page(client, teacher, url).content.decode()
    assert f'data-testid="present-again-{follow_up.pk}"' in html
    close = reverse("health:follow_up_close", args=[follow_up.pk])
    prefix = f"r{follow_up.pk}"
    r = page(client, teacher, close, "post", {f"{prefix}-returned_on": today().isoformat()})
    assert r.status_code == 400 and 'data-testid="error-return_note"' in r.content.decode()
    r = page(
        client,
        teacher,
        close,
        "post",
        {f"{prefix}-returned_on": today().isoformat(), f"{prefix}-return_note": "已痊愈"},
    )
    assert r.status_code == 302
    assert IllnessFollowUp.objects.get().returned_on == today()
    html = page(client, teacher, url).content.decode()
    assert f'data-testid="returned-{follow_up.pk}"' in html
    assert page(client, klass.world.users["police"], close, "post", {}).status_code == 403


# ------------------------------------------------------------------ dining, dorms, staff


def test_dining_page_saves_and_copies(client, klass):
    teacher = klass.world.users["teacher"]
    a, b = klass.children[:2]
    yesterday = today() - dt.timedelta(days=1)
    url = reverse("health:dining", args=[klass.school_class.pk])
    data = {
        "date": yesterday.isoformat(),
        "child": [str(a.pk), str(b.pk)],
        f"table-{a.pk}": "1桌",
        f"table-{b.pk}": "2桌",
    }
    r = page(client, teacher, f"{url}?date={yesterday.isoformat()}", "post", data)
    assert r.status_code == 302 and DiningSeat.objects.count() == 2
    html = page(client, teacher, url).content.decode()
    assert 'data-testid="copy-last"' in html
    r = page(client, teacher, url, "post", {"copy": "1", "date": today().isoformat()})
    assert r.status_code == 302 and DiningSeat.objects.filter(date=today()).count() == 2
    r = page(client, teacher, url, "post", {"child": [str(a.pk)], f"table-{a.pk}": "桌" * 31})
    assert r.status_code == 400 and f'data-testid="row-errors-{a.pk}"' in r.content.decode()
    assert page(client, klass.world.users["health"], url, "post", {}).status_code == 403


def test_dorms_page(client, klass):
    w = klass.world
    url = reverse("health:dorms", args=[w.school.pk])
    html = page(client, w.users["principal"], url).content.decode()
    assert 'data-testid="dorm-form"' not in html  # no boarders here
    w.school.is_boarding = True
    w.school.save()
    child = klass.children[0]
    data = {"child": str(child.pk), "room": "女生201", "starts_on": today().isoformat()}
    r = page(client, w.users["principal"], url, "post", data)
    assert r.status_code == 302 and DormAssignment.objects.get().room == "女生201"
    html = page(client, w.users["nurse"], url).content.decode()
    assert f'data-testid="boarder-{child.pk}"' in html
    r = page(client, w.users["principal"], url, "post", {**data, "starts_on": "soon"})
    assert r.status_code == 400 and 'data-testid="error-starts_on"' in r.content.decode()
    assert page(client, w.users["health"], url, "post", data).status_code == 403


def test_class_staff_page(client, klass):
    w = klass.world
    carer = StaffFactory(school=w.school, name="王阿姨", role="childcare")
    url = reverse("health:class_staff", args=[klass.school_class.pk])
    r = page(client, w.users["teacher"], url, "post", {"staff": str(carer.pk), "duty": "保育员"})
    assert r.status_code == 302
    row = ClassStaff.objects.get()
    r = page(client, w.users["teacher"], url, "post", {"staff": str(carer.pk)})
    assert r.status_code == 400 and 'data-testid="error-staff"' in r.content.decode()
    remove = reverse("health:class_staff_remove", args=[row.pk])
    assert page(client, w.users["principal2"], remove, "post").status_code == 404
    assert page(client, w.users["teacher"], remove, "post").status_code == 302
    assert not ClassStaff.objects.exists()
