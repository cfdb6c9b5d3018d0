"""The health home `/health/` by role × scope: a teacher's classes, one school's day, the
schools of the health centre and the county (open alerts and cases first), suspensions;
the directory box; a constant number of queries whatever the number of schools or
classes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from huxiao.health.choices import (
    AbsenceCause,
    CaseStatus,
    CheckSession,
    RuleKind,
    Step,
    SuspensionScope,
    SymptomGroup,
)
from huxiao.health.models import (
    Absence,
    AttendanceDay,
    CaseStep,
    ChildCheck,
    ClassStaff,
    ClassSuspension,
    ClusterAlert,
    HealthCase,
    HealthCheck,
    MonitoringPlan,
)
from huxiao.orgs.tests.factories import SchoolFactory
from huxiao.people.tests.factories import ChildFactory, SchoolClassFactory, StaffFactory

pytestmark = pytest.mark.django_db
HOME = "/health/"

SCOPE = [
    ("principal", 200),
    ("teacher", 200),
    ("guard", 200),
    ("nurse", 200),
    ("dutylead", 200),
    ("principal2", 200),
    ("police", 403),
    ("officer", 403),
    ("postofficer", 403),
    ("farpolice", 403),
    ("health", 200),
    ("countyhealth", 200),
    ("edu", 200),
    ("gov", 200),
    ("liaison", 200),
    ("county", 200),
    ("nobody", 403),
]
# `?school=` the home school: the other school's principal (and the far town) see nothing.
FOCUS = [
    ("principal", 200),
    ("principal2", 404),
    ("police", 403),
    ("health", 200),
    ("countyhealth", 200),
    ("edu", 200),
    ("nobody", 403),
]


def _today() -> dt.date:
    return timezone.localdate()


def _now():
    return timezone.now()


def _check(school_class, session=CheckSession.MORNING, unwell_children=(), day=None):
    day = day or _today()
    check = HealthCheck.objects.create(
        school=school_class.school,
        school_class=school_class,
        date=day,
        session=session,
        expected=10,
        checked=10,
        unwell=len(unwell_children),
        recorded_at=_now(),
    )
    for child in unwell_children:
        ChildCheck.objects.create(
            health_check=check,
            school=school_class.school,
            child=child,
            date=day,
            checked_at=_now(),
            symptoms=["cough"],
            is_well=False,
        )
    return check


def _attendance(school_class, absences=(), day=None):
    day = day or _today()
    AttendanceDay.objects.create(
        school=school_class.school,
        school_class=school_class,
        date=day,
        enrolled=10,
        absent=len(absences),
        recorded_at=_now(),
    )
    for child, cause, chased in absences:
        Absence.objects.create(
            school=school_class.school,
            school_class=school_class,
            child=child,
            date=day,
            cause=cause,
            chased_at=_now() if chased else None,
            recorded_at=_now(),
        )


def _alert(school_class):
    return ClusterAlert.objects.create(
        school=school_class.school,
        school_class=school_class,
        kind=RuleKind.CLASS_CLUSTER,
        symptom_group=SymptomGroup.RESPIRATORY,
        key=f"test:{school_class.pk}",
        window_start=_today() - dt.timedelta(days=2),
        window_end=_today(),
        child_count=3,
        raised_at=_now(),
    )


def _case(child, steps=(), status=CaseStatus.ACTIVE):
    case = HealthCase.objects.create(
        school=child.school,
        school_class=child.school_class,
        child=child,
        status=status,
        onset_date=_today(),
        reported_at=_now(),
    )
    for step in steps:
        CaseStep.objects.create(case=case, step=step, done_at=_now())
    return case


def _suspend(school_class, scope=SuspensionScope.CLASS):
    return ClassSuspension.objects.create(
        school=school_class.school,
        scope=scope,
        school_class=school_class if scope == SuspensionScope.CLASS else None,
        grade=school_class.grade if scope == SuspensionScope.GRADE else "",
        starts_on=_today(),
        ends_on=_today() + dt.timedelta(days=3),
        reason="疑似病例密切接触",
        decided_at=_now(),
    )


def _lead(w, school_class, user_name="teacher"):
    staff = StaffFactory(school=school_class.school, user=w.users[user_name], name="李静")
    school_class.head_teacher = staff
    school_class.save()
    return staff


def _get(client, user, url=HOME):
    client.force_login(user)
    return client.get(url)


def _has_route(name: str, *args) -> bool:
    try:
        reverse(name, args=args)
    except NoReverseMatch:
        return False
    return True


def test_anonymous_goes_to_login(client, hworld):
    response = client.get(HOME)
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(("name", "status"), SCOPE)
def test_home_scope(client, hworld, name, status):
    w = hworld
    _lead(w, w.school_class)
    response = _get(client, w.users[name])
    assert response.status_code == status
    if status != 200:
        return
    page = response.content.decode()
    assert 'data-testid="health-home"' in page
    figures = 'data-testid="school-day"' in page
    rows = 'data-testid="school-rows"' in page
    assert figures == (name in ("principal", "nurse", "dutylead", "principal2"))
    assert rows == (name in ("health", "countyhealth"))
    assert ('data-testid="my-classes"' in page) == (name == "teacher")
    # One school: its directory box; the offices: their schools' directories.
    box = 'data-testid="four-party-directory"' in page
    assert box == (name in ("principal", "teacher", "guard", "nurse", "dutylead", "principal2"))
    if name in ("edu", "gov", "liaison", "county"):
        assert f'data-testid="directory-link-{w.school.pk}"' in page


@pytest.mark.parametrize(("name", "status"), FOCUS)
def test_one_school_by_query(client, hworld, name, status):
    w = hworld
    response = _get(client, w.users[name], f"{HOME}?school={w.school.pk}")
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert 'data-testid="four-party-directory"' in page
        assert ('data-testid="school-day"' in page) == (name != "edu")


def test_school_query_out_of_reach_or_garbage_is_404(client, hworld):
    w = hworld
    user = w.users["health"]
    for value in (w.far_school.pk, "abc", "0", str(2**63), w.station.pk):
        assert _get(client, user, f"{HOME}?school={value}").status_code == 404, value


def test_teacher_sees_their_classes_and_what_is_left(client, hworld):
    w = hworld
    _lead(w, w.school_class)
    second = SchoolClassFactory(school=w.school, name="小二班")
    ChildFactory(school_class=second)
    ClassStaff.objects.create(school_class=second, staff=w.school_class.head_teacher)
    not_mine = SchoolClassFactory(school=w.school, name="大一班")
    page = _get(client, w.users["teacher"]).content.decode()
    one, two = w.school_class.pk, second.pk
    assert f'data-testid="class-{one}"' in page and f'data-testid="class-{two}"' in page
    assert f'data-testid="class-{not_mine.pk}"' not in page
    assert f'data-testid="morning-todo-{one}"' in page
    assert f'data-testid="attendance-todo-{one}"' in page
    _check(w.school_class, unwell_children=[w.child])
    _attendance(w.school_class, [(w.child, AbsenceCause.ILLNESS, True)])
    page = _get(client, w.users["teacher"]).content.decode()
    assert f'data-testid="morning-done-{one}"' in page
    assert f'data-testid="attendance-done-{one}"' in page
    assert f'data-testid="noon-todo-{one}"' in page
    assert 'data-testid="school-day"' not in page  # a teacher sees no school figures
    if _has_route("health:check_entry", one, "morning"):
        href = reverse("health:check_entry", args=[one, "morning"])
        assert f'href="{href}?date={_today().isoformat()}"' in page
    if _has_route("health:attendance", one):
        assert reverse("health:attendance", args=[one]) in page


def test_teacher_without_classes_is_told(client, hworld):
    page = _get(client, hworld.users["teacher"]).content.decode()
    assert 'data-testid="no-classes"' in page


def test_suspended_class_and_monitoring_plan(client, hworld):
    w = hworld
    _lead(w, w.school_class)
    second = SchoolClassFactory(school=w.school, name="小二班", grade="小班")
    ChildFactory(school_class=second)
    ClassStaff.objects.create(school_class=second, staff=w.school_class.head_teacher)
    suspension = _suspend(w.school_class)
    MonitoringPlan.objects.create(
        school=w.school,
        school_class=second,
        starts_on=_today() - dt.timedelta(days=1),
        ends_on=_today() + dt.timedelta(days=12),
        checks_per_day=2,
    )
    _check(second)
    page = _get(client, w.users["teacher"]).content.decode()
    assert f'data-testid="class-suspended-{w.school_class.pk}"' in page
    assert f'data-testid="morning-link-{w.school_class.pk}"' not in page
    assert f'data-testid="monitoring-{second.pk}"' in page
    assert f'data-testid="suspension-{suspension.pk}"' in page
    # The guard and the central school see the suspension too; the police do not.
    assert (
        f'data-testid="suspension-{suspension.pk}"'
        in _get(client, w.users["guard"]).content.decode()
    )
    assert (
        f'data-testid="suspension-{suspension.pk}"' in _get(client, w.users["edu"]).content.decode()
    )
    assert _get(client, w.users["police"]).status_code == 403


def test_school_day_figures(client, hworld):
    w = hworld
    big = SchoolClassFactory(school=w.school, name="大一班", grade="大班")
    kids = [ChildFactory(school_class=big) for _ in range(4)]
    empty = SchoolClassFactory(school=w.school, name="空班")  # no children: not counted
    _check(w.school_class, unwell_children=[w.child])
    _check(w.school_class, CheckSession.NOON, unwell_children=[w.child])
    _attendance(
        big,
        [
            (kids[0], AbsenceCause.ILLNESS, True),
            (kids[1], AbsenceCause.UNKNOWN, False),
            (kids[2], AbsenceCause.UNKNOWN, False),
            (kids[3], AbsenceCause.PERSONAL, True),
        ],
    )
    alert = _alert(w.school_class)
    case = _case(w.child, steps=[Step.REPORTED, Step.VERIFIED, Step.ISOLATED])
    closed = _case(kids[0], status=CaseStatus.CLOSED)
    # Yesterday's figures do not count today.
    _check(big, day=_today() - dt.timedelta(days=1))
    response = _get(client, w.users["nurse"])
    detail = response.context["detail"]
    assert (detail.classes, detail.morning_checked, detail.noon_checked) == (2, 1, 1)
    assert detail.attendance_taken == 1 and detail.unwell == 1
    assert detail.absences == {"illness": 1, "unknown": 2, "personal": 1}
    assert detail.unknown_unchased == 2
    assert (detail.open_alerts, detail.open_cases) == (1, 1)
    page = response.content.decode()
    assert f'data-testid="alert-{alert.pk}"' in page
    assert f'data-testid="case-{case.pk}"' in page and f'data-testid="case-{closed.pk}"' not in page
    assert f'data-testid="case-next-{case.pk}"' in page
    (row,) = detail.cases
    assert row.next_step == Step.STARTED and row.steps_done == 3
    assert empty.pk  # (kept only to show an empty class is ignored)
    if _has_route("health:case", case.pk):
        assert reverse("health:case", args=[case.pk]) in page


def test_grade_and_school_suspensions_are_counted(client, hworld):
    w = hworld
    w.school_class.grade = "小班"
    w.school_class.save()
    second = SchoolClassFactory(school=w.school, name="小二班", grade="小班")
    third = SchoolClassFactory(school=w.school, name="大一班", grade="大班")
    for c in (second, third):
        ChildFactory(school_class=c)
    _suspend(w.school_class, SuspensionScope.GRADE)
    detail = _get(client, w.users["principal"]).context["detail"]
    assert (detail.classes, detail.suspended_classes) == (1, 2)
    _suspend(third, SuspensionScope.SCHOOL)
    detail = _get(client, w.users["principal"]).context["detail"]
    assert (detail.classes, detail.suspended_classes) == (0, 3)


def test_health_officer_rows_alerts_and_cases_first(client, hworld):
    w = hworld
    _alert(w.other_class)
    response = _get(client, w.users["health"])
    rows = response.context["rows"]
    assert [r.school.pk for r in rows] == [w.other_school.pk, w.school.pk]
    assert rows[0].open_alerts == 1
    page = response.content.decode()
    assert f'data-testid="alerts-{w.other_school.pk}"' in page
    assert f'data-testid="school-{w.far_school.pk}"' not in page
    county = _get(client, w.users["countyhealth"]).context["rows"]
    assert {r.school.pk for r in county} >= {w.school.pk, w.other_school.pk, w.far_school.pk}
    detail = _get(client, w.users["health"], f"{HOME}?school={w.other_school.pk}").context["detail"]
    assert detail.school == w.other_school and detail.open_alerts == 1


def test_dates(client, hworld):
    w = hworld
    yesterday = _today() - dt.timedelta(days=1)
    _check(w.school_class, day=yesterday)
    user = w.users["principal"]
    response = _get(client, user, f"{HOME}?date={yesterday.isoformat()}")
    assert response.context["day"] == yesterday
    assert response.context["detail"].morning_checked == 1
    tomorrow = _today() + dt.timedelta(days=1)
    for value in (tomorrow.isoformat(), "garbage", "2026-02-30", "9999-01-01"):
        response = _get(client, user, f"{HOME}?date={value}")
        assert response.status_code == 200 and response.context["day"] == _today()


def _count(client, user, url=HOME) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _busy_school(w):
    school = SchoolFactory(town=w.town, health_centre=w.health_centre)
    for n in range(3):
        school_class = SchoolClassFactory(school=school, name=f"班{n}", grade=f"{n}年级")
        kids = [ChildFactory(school_class=school_class) for _ in range(2)]
        _check(school_class, unwell_children=kids[:1])
        _attendance(school_class, [(kids[1], AbsenceCause.UNKNOWN, False)])
        _alert(school_class)
        _case(kids[0], steps=[Step.REPORTED])
    _suspend(school_class)
    return school


def test_queries_do_not_grow_with_schools(client, hworld):
    w = hworld
    before = _count(client, w.users["health"])
    for _ in range(3):
        _busy_school(w)
    after = _count(client, w.users["health"])
    assert after == before, (before, after)


def test_queries_do_not_grow_with_classes(client, hworld):
    w = hworld
    _lead(w, w.school_class)
    _check(w.school_class)
    _case(w.child, steps=[Step.REPORTED])
    before_teacher = _count(client, w.users["teacher"])
    before_nurse = _count(client, w.users["nurse"])
    staff = w.school_class.head_teacher
    for n in range(4):
        school_class = SchoolClassFactory(school=w.school, name=f"班{n}")
        kids = [ChildFactory(school_class=school_class) for _ in range(2)]
        ClassStaff.objects.create(school_class=school_class, staff=staff)
        _check(school_class, unwell_children=kids[:1])
        _attendance(school_class, [(kids[1], AbsenceCause.ILLNESS, True)])
        _alert(school_class)
        _case(kids[0], steps=[Step.REPORTED, Step.VERIFIED])
        _suspend(school_class)
    assert _count(client, w.users["teacher"]) == before_teacher
    assert _count(client, w.users["nurse"]) == before_nurse


def test_links_only_to_pages_the_role_may_open(client, hworld):
    w = hworld
    if not _has_route("health:check_home"):
        pytest.skip("the check area's pages are not there yet")
    for name, shown in (("teacher", True), ("nurse", True), ("edu", False), ("guard", False)):
        page = _get(client, w.users[name]).content.decode()
        assert ('data-testid="check-home-link"' in page) == shown, name
