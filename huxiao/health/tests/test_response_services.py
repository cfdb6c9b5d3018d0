"""The response services (§3 7–10; ADR 0032 "Response"): disinfection, suspension and
resumption, the "no suspension" assessment, statements, aftercare, monitoring plans and
their reminders — rules, steps, audit rows, notifications, and bad input that writes
nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.health import response_selectors as sel
from huxiao.health import response_services as services
from huxiao.health.choices import Step, SuspensionScope
from huxiao.health.models import (
    AftercareTask,
    CaseStep,
    ClassSuspension,
    Disinfection,
    HealthCheck,
    MonitoringPlan,
    OfficialStatement,
)
from huxiao.health.suspensions import suspended_class_ids
from huxiao.health.tests.response_fixtures import *  # noqa: F403
from huxiao.health.tests.response_fixtures import NOW, TODAY, make_case
from huxiao.notify.models import Delivery, Notification
from huxiao.people.tests.factories import ChildFactory, GuardianFactory, SchoolClassFactory

pytestmark = pytest.mark.django_db


def _steps(case) -> dict:
    return {s.step: s for s in CaseStep.objects.filter(case=case)}


def _disinfect(w, user="nurse", **extra):
    values = {
        "actor": w.users[user],
        "school_id": w.school.pk,
        "area": "classroom",
        "area_detail": "小一班教室",
        "method": "含氯消毒液擦拭",
        "agent": "84消毒液 500mg/L",
        "done_by_name": "郭秀兰",
        "done_at": NOW - dt.timedelta(minutes=30),
        "now": NOW,
    }
    values.update(extra)
    return services.disinfection_record(**values)


# ------------------------------------------------------------------ disinfection


def test_teacher_records_routine_disinfection_audited(hworld):
    row = _disinfect(hworld, "teacher")
    assert (row.kind, row.case_id, row.recorded_by) == ("routine", None, hworld.users["teacher"])
    assert AuditEvent.objects.filter(
        object_type="health.disinfection", object_id=str(row.pk), action="create"
    ).exists()


def test_emergency_disinfection_records_the_steps_once(hworld, case):
    w = hworld
    first = _disinfect(w, case_id=case.pk, area="isolation", area_detail="隔离观察室")
    assert first.kind == "emergency"
    steps = _steps(case)
    assert set(steps) == {Step.EMERGENCY_DISINFECTION}
    assert steps[Step.EMERGENCY_DISINFECTION].done_at == first.done_at
    _disinfect(w, case_id=case.pk, area="classroom")
    _disinfect(w, case_id=case.pk, area="classroom", done_at=NOW - dt.timedelta(minutes=5))
    steps = _steps(case)
    assert set(steps) == {Step.EMERGENCY_DISINFECTION, Step.CLASSROOM_DISINFECTED}
    assert steps[Step.EMERGENCY_DISINFECTION].done_at == first.done_at
    assert CaseStep.objects.filter(case=case).count() == 2


@pytest.mark.parametrize("user", ["teacher", "dutylead"])
def test_emergency_disinfection_needs_manage_health(hworld, case, user):
    with pytest.raises(PermissionDenied):
        _disinfect(hworld, user, case_id=case.pk)
    assert not Disinfection.objects.exists()


@pytest.mark.parametrize("user", ["police", "officer", "postofficer", "guard", "edu"])
def test_disinfection_refused_to_roles_without_health(hworld, user):
    with pytest.raises(PermissionDenied):
        _disinfect(hworld, user)
    assert not Disinfection.objects.exists()


def test_disinfection_of_another_school_is_not_found(hworld):
    with pytest.raises(Http404):
        _disinfect(hworld, "principal2")
    assert not Disinfection.objects.exists()


def test_emergency_disinfection_with_a_case_of_another_school(hworld, other_case):
    # The health officer sees both schools: still an error on the case, nothing written.
    with pytest.raises(ValidationError) as err:
        _disinfect(hworld, "health", case_id=other_case.pk)
    assert set(err.value.message_dict) == {"case"}
    assert not Disinfection.objects.exists() and not CaseStep.objects.exists()


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"done_at": NOW + dt.timedelta(hours=1)}, {"done_at"}),
        ({"done_at": NOW - dt.timedelta(days=400)}, {"done_at"}),
        ({"done_at": "yesterday"}, {"done_at"}),
        ({"done_at": ""}, {"done_at"}),
        ({"area": "roof"}, {"area"}),
        ({"method": "  "}, {"method"}),
        ({"method": "x" * 101, "done_by_name": ""}, {"method", "done_by_name"}),
        ({"agent": "bad\x00agent"}, {"agent"}),
    ],
)
def test_disinfection_bad_input_writes_nothing(hworld, changes, fields):
    with pytest.raises(ValidationError) as err:
        _disinfect(hworld, **changes)
    assert set(err.value.message_dict) == fields
    assert not Disinfection.objects.exists()
    assert not AuditEvent.objects.filter(object_type="health.disinfection").exists()


def test_future_time_message_is_chinese(hworld):
    # Checked after the lead compiles the translations: 时间 / 未来 in the message.
    with pytest.raises(ValidationError) as err:
        _disinfect(hworld, done_at=NOW + dt.timedelta(hours=1))
    assert err.value.message_dict["done_at"]


def test_emergency_disinfection_not_before_onset(hworld, case):
    with pytest.raises(ValidationError) as err:
        _disinfect(hworld, case_id=case.pk, done_at=NOW - dt.timedelta(days=3))
    assert set(err.value.message_dict) == {"done_at"}


def test_naive_time_is_local(hworld):
    row = _disinfect(hworld, done_at="2026-11-30T08:15")
    assert row.done_at == NOW.replace(hour=8, minute=15)


# ------------------------------------------------------------------ suspension


def _decide(w, user="principal", **extra):
    values = {
        "actor": w.users[user],
        "school_id": w.school.pk,
        "scope": "class",
        "school_class_id": w.school_class.pk,
        "starts_on": dt.date(2026, 12, 1),
        "ends_on": dt.date(2026, 12, 7),
        "reason": "一名幼儿疑似流感",
        "health_centre_opinion": "建议停课7天",
        "education_office_opinion": "同意停课",
        "now": NOW,
    }
    values.update(extra)
    return services.suspension_decide(**values)


def test_suspension_of_a_class_with_case_notifies_everyone(hworld, case, sent):
    w = hworld
    GuardianFactory(child=w.child, name="王爸爸", phone="13900000002", is_primary=True)
    sister = ChildFactory(school_class=w.school_class, name="王小红")
    GuardianFactory(child=sister, name="红妈", phone="13900000003")
    suspension = _decide(w, case_id=case.pk)
    assert (suspension.scope, suspension.school_class, suspension.case) == (
        "class",
        w.school_class,
        case,
    )
    assert suspension.decided_by == w.users["principal"] and suspension.decided_at == NOW
    assert AuditEvent.objects.filter(
        object_type="health.classsuspension", object_id=str(suspension.pk)
    ).exists()
    assert _steps(case)[Step.ASSESSED].done_by == w.users["principal"]
    assert suspended_class_ids(w.school.pk, dt.date(2026, 12, 3)) == {w.school_class.pk}
    # Staff and offices: the school's every login, the health centre, education office and
    # the town government; never the police.
    (staff_call,) = sent.of(services.SUSPENSION_EVENT)
    u = w.users
    expected = {
        u[n].pk
        for n in ("principal", "teacher", "guard", "nurse", "dutylead", "health", "edu", "liaison")
    }
    assert set(staff_call["recipients"]) == expected
    assert not {u["police"].pk, u["officer"].pk, u["principal2"].pk} & set(staff_call["recipients"])
    assert staff_call["title"].startswith("小一班")
    inbox = set(
        Delivery.objects.filter(notification__event_type=services.SUSPENSION_EVENT).values_list(
            "recipient_id", flat=True
        )
    )
    assert inbox == expected
    # One guardian per child of the class: the primary one.
    (families,) = sent.of(services.FAMILIES_EVENT)
    assert set(families["mention_phones"]) == {"13900000002", "13900000003"}


def test_suspending_a_class_of_another_school_writes_nothing(hworld, sent):
    w = hworld
    with pytest.raises(ValidationError) as err:
        _decide(w, school_class_id=w.other_class.pk)
    assert set(err.value.message_dict) == {"school_class"}
    # Checked after the lead compiles: "不能停另一所学校的班级" in Chinese.
    assert err.value.message_dict["school_class"]
    assert not ClassSuspension.objects.exists() and not sent


def test_the_other_schools_principal_cannot_suspend_here(hworld):
    with pytest.raises(Http404):
        _decide(hworld, "principal2")
    with pytest.raises(PermissionDenied):
        _decide(hworld, "nurse")
    with pytest.raises(PermissionDenied):
        _decide(hworld, "police")
    assert not ClassSuspension.objects.exists()


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"ends_on": dt.date(2026, 11, 30)}, {"ends_on"}),
        ({"starts_on": dt.date(2026, 11, 1)}, {"starts_on"}),
        ({"ends_on": dt.date(2027, 3, 1)}, {"ends_on"}),
        ({"starts_on": "soon"}, {"starts_on"}),
        ({"scope": "town"}, {"scope"}),
        ({"school_class_id": None}, {"school_class"}),
        ({"school_class_id": 2**70}, {"school_class"}),
        ({"scope": "grade", "grade": "九年级"}, {"grade"}),
        ({"reason": ""}, {"reason"}),
        (
            {"health_centre_opinion": "", "education_office_opinion": " "},
            {"health_centre_opinion", "education_office_opinion"},
        ),
        ({"case_id": 999999}, {"case"}),
    ],
)
def test_suspension_bad_input(hworld, changes, fields):
    with pytest.raises(ValidationError) as err:
        _decide(hworld, **changes)
    assert set(err.value.message_dict) == fields
    assert not ClassSuspension.objects.exists()


def test_suspension_not_before_a_week_before_the_case(hworld):
    w = hworld
    old = make_case(w.school_class, w.child, reported_at=NOW - dt.timedelta(days=20))
    with pytest.raises(ValidationError) as err:
        _decide(w, case_id=old.pk, starts_on=dt.date(2026, 11, 2), ends_on=dt.date(2026, 11, 5))
    assert set(err.value.message_dict) == {"starts_on"}
    row = _decide(w, case_id=old.pk, starts_on=dt.date(2026, 11, 3), ends_on=dt.date(2026, 11, 5))
    assert row.pk


def test_a_case_of_another_school_is_an_error(hworld, other_case):
    with pytest.raises(ValidationError) as err:
        _decide(hworld, case_id=other_case.pk)
    assert set(err.value.message_dict) == {"case"}


def test_grade_and_school_scopes(hworld, sent):
    w = hworld
    w.school_class.grade = "小班"
    w.school_class.save()
    second = SchoolClassFactory(school=w.school, name="小二班", grade="小班")
    big = SchoolClassFactory(school=w.school, name="大一班", grade="大班")
    grade = _decide(w, scope="grade", grade="小班", school_class_id=big.pk)
    assert (grade.school_class, grade.grade) == (None, "小班")
    assert suspended_class_ids(w.school.pk, dt.date(2026, 12, 2)) == {w.school_class.pk, second.pk}
    whole = _decide(w, scope="school", starts_on=dt.date(2026, 12, 8), ends_on=dt.date(2026, 12, 9))
    assert (whole.school_class, whole.grade) == (None, "")
    assert suspended_class_ids(w.school.pk, dt.date(2026, 12, 8)) == {
        w.school_class.pk,
        second.pk,
        big.pk,
    }
    assert sent.of(services.SUSPENSION_EVENT)[0]["title"].startswith("小班")


def test_a_double_submission_is_refused(hworld):
    _decide(hworld)
    with pytest.raises(ValidationError) as err:
        _decide(hworld, starts_on=dt.date(2026, 12, 5), ends_on=dt.date(2026, 12, 10))
    assert set(err.value.message_dict) == {"school_class"}
    assert ClassSuspension.objects.count() == 1


def test_resumption(hworld, sent):
    w = hworld
    suspension = _decide(w)
    sent.clear()
    with pytest.raises(ValidationError) as err:
        services.suspension_resume(
            actor=w.users["principal"], suspension_id=suspension.pk, resumed_on="2026-12-20"
        )
    assert set(err.value.message_dict) == {"resumed_on"}
    with pytest.raises(PermissionDenied):
        services.suspension_resume(
            actor=w.users["nurse"], suspension_id=suspension.pk, resumed_on="2026-12-05"
        )
    with pytest.raises(Http404):
        services.suspension_resume(
            actor=w.users["principal2"], suspension_id=suspension.pk, resumed_on="2026-12-05"
        )
    assert not sent
    resumed = services.suspension_resume(
        actor=w.users["principal"],
        suspension_id=suspension.pk,
        resumed_on=dt.date(2026, 12, 5),
        note="无新增病例",
    )
    assert (resumed.resumed_on, resumed.resumed_by) == (dt.date(2026, 12, 5), w.users["principal"])
    assert suspended_class_ids(w.school.pk, dt.date(2026, 12, 5)) == set()
    assert suspended_class_ids(w.school.pk, dt.date(2026, 12, 4)) == {w.school_class.pk}
    assert AuditEvent.objects.filter(object_type="health.classsuspension", action="update").exists()
    assert len(sent.of(services.RESUMPTION_EVENT)) == 1
    with pytest.raises(services.ResponseConflict):
        services.suspension_resume(
            actor=w.users["principal"], suspension_id=suspension.pk, resumed_on="2026-12-06"
        )


def test_assessed_no_suspension(hworld, case, sent):
    w = hworld
    with pytest.raises(ValidationError) as err:
        services.case_assessed_no_suspension(actor=w.users["principal"], case_id=case.pk, note="")
    assert set(err.value.message_dict) == {"note"}
    with pytest.raises(PermissionDenied):
        services.case_assessed_no_suspension(actor=w.users["nurse"], case_id=case.pk, note="x")
    with pytest.raises(Http404):
        services.case_assessed_no_suspension(actor=w.users["principal2"], case_id=case.pk, note="x")
    assert not CaseStep.objects.exists()
    services.case_assessed_no_suspension(
        actor=w.users["principal"], case_id=case.pk, note="卫生院评估：散发病例，无需停课", now=NOW
    )
    step = _steps(case)[Step.ASSESSED]
    assert "无需停课" in step.note and step.done_by == w.users["principal"]
    assert len(sent.of(services.ASSESSMENT_EVENT)) == 1
    assert not ClassSuspension.objects.exists()
    with pytest.raises(services.ResponseConflict):
        services.case_assessed_no_suspension(
            actor=w.users["principal"], case_id=case.pk, note="again"
        )


# ------------------------------------------------------------------ statements


def test_statement_published_and_school_told(hworld, case, sent):
    w = hworld
    statement = services.statement_publish(
        actor=w.users["nurse"],
        school_id=w.school.pk,
        case_id=case.pk,
        text="我园一名幼儿发热，已按规定处置。",
        published_at=NOW - dt.timedelta(minutes=10),
        approved_by="刘芳（园长）",
        now=NOW,
    )
    assert statement.case == case and statement.recorded_by == w.users["nurse"]
    assert AuditEvent.objects.filter(object_type="health.officialstatement").exists()
    (call,) = sent.of(services.STATEMENT_EVENT)
    assert w.users["guard"].pk in call["recipients"] and w.users["teacher"].pk in call["recipients"]
    assert w.users["police"].pk not in call["recipients"]


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"text": ""}, {"text"}),
        ({"approved_by": ""}, {"approved_by"}),
        ({"published_at": NOW + dt.timedelta(days=1)}, {"published_at"}),
        ({"case_id": "abc"}, {"case"}),
    ],
)
def test_statement_bad_input(hworld, changes, fields):
    values = {
        "actor": hworld.users["principal"],
        "school_id": hworld.school.pk,
        "text": "声明",
        "published_at": NOW,
        "approved_by": "园长",
        "now": NOW,
    }
    values.update(changes)
    with pytest.raises(ValidationError) as err:
        services.statement_publish(**values)
    assert set(err.value.message_dict) == fields
    assert not OfficialStatement.objects.exists()


def test_statement_needs_manage_health(hworld):
    for user, error in (("teacher", PermissionDenied), ("principal2", Http404)):
        with pytest.raises(error):
            services.statement_publish(
                actor=hworld.users[user],
                school_id=hworld.school.pk,
                text="x",
                published_at=NOW,
                approved_by="x",
                now=NOW,
            )


# ------------------------------------------------------------------ aftercare


def test_aftercare_task_step_notification_and_done(hworld, case, sent):
    w = hworld
    task = services.aftercare_create(
        actor=w.users["nurse"],
        case_id=case.pk,
        kind="psychological",
        description="对同班幼儿进行心理疏导",
        assignee_id=w.users["teacher"].pk,
        due_on=dt.date(2026, 12, 2),
        now=NOW,
    )
    assert _steps(case)[Step.AFTERCARE].done_by == w.users["nurse"]
    (call,) = sent.of(services.AFTERCARE_EVENT)
    assert call["recipients"] == [w.users["teacher"].pk]
    services.aftercare_create(
        actor=w.users["nurse"], case_id=case.pk, kind="supplies", description="隔离用品", now=NOW
    )
    assert CaseStep.objects.filter(case=case, step=Step.AFTERCARE).count() == 1
    # A psychological-support task is done with its notes; the assignee completes it.
    with pytest.raises(ValidationError) as err:
        services.aftercare_done(actor=w.users["teacher"], task_id=task.pk, note=" ")
    assert set(err.value.message_dict) == {"note"}
    # The duty leader sees the case but neither manages it nor holds the task; the guard
    # does not even see it.
    with pytest.raises(PermissionDenied):
        services.aftercare_done(actor=w.users["dutylead"], task_id=task.pk, note="x")
    with pytest.raises(Http404):
        services.aftercare_done(actor=w.users["guard"], task_id=task.pk, note="x")
    with pytest.raises(Http404):
        services.aftercare_done(actor=w.users["principal2"], task_id=task.pk, note="x")
    done = services.aftercare_done(
        actor=w.users["teacher"], task_id=task.pk, note="集体谈心，情绪稳定", now=NOW
    )
    assert (done.done_at, done.done_by, done.note) == (
        NOW,
        w.users["teacher"],
        "集体谈心，情绪稳定",
    )
    assert AuditEvent.objects.filter(object_type="health.aftercaretask", action="update").exists()
    with pytest.raises(services.ResponseConflict):
        services.aftercare_done(actor=w.users["nurse"], task_id=task.pk, note="again")


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"kind": "party"}, {"kind"}),
        ({"description": ""}, {"description"}),
        ({"assignee": "principal2"}, {"assignee"}),
        ({"assignee": "police"}, {"assignee"}),
        ({"due_on": dt.date(2026, 11, 1)}, {"due_on"}),
    ],
)
def test_aftercare_bad_input(hworld, case, changes, fields):
    w = hworld
    values = {"kind": "follow_up", "description": "跟踪观察", "due_on": None}
    values.update(changes)
    assignee = values.pop("assignee", None)
    with pytest.raises(ValidationError) as err:
        services.aftercare_create(
            actor=w.users["principal"],
            case_id=case.pk,
            assignee_id=w.users[assignee].pk if assignee else None,
            now=NOW,
            **values,
        )
    assert set(err.value.message_dict) == fields
    assert not AftercareTask.objects.exists() and not CaseStep.objects.exists()


def test_aftercare_scope(hworld, case, other_case):
    w = hworld
    for user, error in (("teacher", PermissionDenied), ("police", PermissionDenied)):
        with pytest.raises(error):
            services.aftercare_create(
                actor=w.users[user], case_id=case.pk, kind="other", description="x"
            )
    with pytest.raises(Http404):
        services.aftercare_create(
            actor=w.users["principal"], case_id=other_case.pk, kind="other", description="x"
        )
    # The county health officer manages any school's case.
    task = services.aftercare_create(
        actor=w.users["countyhealth"], case_id=other_case.pk, kind="other", description="回访"
    )
    assert task.pk


# ------------------------------------------------------------------ monitoring plans


def test_plan_for_case_once_with_county_defaults(hworld, case):
    w = hworld
    plan = services.monitoring_plan_for_case(actor=w.users["principal"], case=case, today=TODAY)
    assert (plan.school_class, plan.case, plan.checks_per_day) == (w.school_class, case, 2)
    assert (plan.starts_on, plan.ends_on) == (TODAY, TODAY + dt.timedelta(days=13))
    again = services.monitoring_plan_for_case(
        actor=w.users["principal"], case=case, today=TODAY + dt.timedelta(days=1)
    )
    assert again.pk == plan.pk and MonitoringPlan.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="health.monitoringplan").count() == 1


def _plan(w, user="nurse", **extra):
    values = {
        "actor": w.users[user],
        "school_id": w.school.pk,
        "school_class_id": w.school_class.pk,
        "starts_on": TODAY,
        "ends_on": TODAY + dt.timedelta(days=6),
        "checks_per_day": 3,
        "now": NOW,
    }
    values.update(extra)
    return services.monitoring_plan_create(**values)


def test_manual_plan_and_end(hworld):
    w = hworld
    plan = _plan(w)
    assert plan.checks_per_day == 3
    with pytest.raises(ValidationError) as err:
        _plan(w, ends_on=TODAY + dt.timedelta(days=3))
    assert set(err.value.message_dict) == {"school_class"}  # already covered
    with pytest.raises(ValidationError) as err:
        services.monitoring_plan_end(
            actor=w.users["nurse"], plan_id=plan.pk, ends_on=TODAY + dt.timedelta(days=9), now=NOW
        )
    assert set(err.value.message_dict) == {"ends_on"}
    with pytest.raises(PermissionDenied):
        services.monitoring_plan_end(actor=w.users["teacher"], plan_id=plan.pk, ends_on=TODAY)
    ended = services.monitoring_plan_end(
        actor=w.users["nurse"], plan_id=plan.pk, ends_on=TODAY + dt.timedelta(days=2), now=NOW
    )
    assert ended.ends_on == TODAY + dt.timedelta(days=2)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"school_class_id": "other"}, {"school_class"}),
        ({"checks_per_day": 5}, {"checks_per_day"}),
        ({"checks_per_day": "two"}, {"checks_per_day"}),
        ({"ends_on": TODAY - dt.timedelta(days=1)}, {"ends_on"}),
        ({"ends_on": TODAY + dt.timedelta(days=90)}, {"ends_on"}),
        ({"starts_on": TODAY - dt.timedelta(days=30)}, {"starts_on"}),
    ],
)
def test_plan_bad_input(hworld, changes, fields):
    if changes.get("school_class_id") == "other":
        changes["school_class_id"] = hworld.other_class.pk
    with pytest.raises(ValidationError) as err:
        _plan(hworld, **changes)
    assert set(err.value.message_dict) == fields
    assert not MonitoringPlan.objects.exists()


def _check(w, school_class, day, session):
    HealthCheck.objects.create(
        school=w.school,
        school_class=school_class,
        date=day,
        session=session,
        recorded_at=NOW,
    )


def test_reminders_by_slot_once_and_not_for_suspended_classes(hworld, case, head_teacher, sent):
    w = hworld
    services.monitoring_plan_for_case(actor=w.users["principal"], case=case, today=TODAY)
    quiet = SchoolClassFactory(school=w.school, name="小二班")
    _plan(w, school_class_id=quiet.pk, checks_per_day=2)
    morning = NOW.replace(hour=11, minute=31)
    assert services.monitoring_remind(now=NOW) == []  # before 11:30
    _check(w, quiet, TODAY, "morning")
    result = services.monitoring_remind(now=morning)
    # 小一班 has no check yet (1 due by 11:30); 小二班 has its morning check.
    assert [r["school_class_id"] for r in result] == [w.school_class.pk]
    assert result[0]["recipients"] == [w.users["teacher"].pk, w.users["nurse"].pk]
    assert result[0]["expected"] == 1
    assert services.monitoring_remind(now=morning.replace(minute=55)) == []  # same slot
    assert Notification.objects.filter(event_type=services.MONITORING_EVENT).count() == 1
    _check(w, w.school_class, TODAY, "morning")
    afternoon = NOW.replace(hour=15, minute=30)
    result = services.monitoring_remind(now=afternoon)
    assert sorted(r["school_class_id"] for r in result) == sorted([w.school_class.pk, quiet.pk])
    assert {r["expected"] for r in result} == {2}
    # A suspended class is not checked: no reminder; nor on Saturdays.
    _decide(w, starts_on=TODAY + dt.timedelta(days=1), ends_on=TODAY + dt.timedelta(days=2))
    tuesday = afternoon + dt.timedelta(days=1)
    result = services.monitoring_remind(now=tuesday)
    assert [r["school_class_id"] for r in result] == [quiet.pk]
    assert services.monitoring_remind(now=afternoon + dt.timedelta(days=5)) == []


def test_expected_checks_by_slot():
    assert [services.expected_by(n, 0) for n in (1, 2, 3, 4)] == [1, 1, 2, 2]
    assert [services.expected_by(n, 1) for n in (1, 2, 3, 4)] == [1, 2, 3, 4]


# ------------------------------------------------------------------ the case's response


def test_case_response_in_constant_queries(hworld, case, django_assert_max_num_queries):
    w = hworld
    for i in range(3):
        _disinfect(w, case_id=case.pk, area="classroom", done_at=NOW - dt.timedelta(minutes=i))
        services.aftercare_create(
            actor=w.users["nurse"],
            case_id=case.pk,
            kind="follow_up",
            description=f"回访{i}",
            assignee_id=w.users["teacher"].pk,
        )
        services.statement_publish(
            actor=w.users["nurse"],
            school_id=w.school.pk,
            case_id=case.pk,
            text=f"声明{i}",
            published_at=NOW,
            approved_by="园长",
            now=NOW,
        )
    _decide(w, case_id=case.pk)
    services.monitoring_plan_for_case(actor=w.users["principal"], case=case, today=TODAY)
    with django_assert_max_num_queries(7):
        data = sel.case_response(case, today=TODAY)
        names = [t.assignee.username for t in data.tasks] + [
            d.recorded_by.username for d in data.disinfections
        ]
        _ = [s.school_class.name for s in data.suspensions] + [
            p.school_class.name for p in data.plans
        ]
    assert len(names) == 6
    assert (len(data.disinfections), len(data.statements), len(data.tasks)) == (3, 3, 3)
    assert data.plans[0].running and data.plans[0].missing_today == 2
    assert data.suspensions[0].scope == SuspensionScope.CLASS


# ------------------------------------------------------------------ review fixes


def test_a_plan_asks_for_no_more_checks_than_a_day_has(hworld):
    """A class has one morning, one noon and one extra check a day (HealthCheck is unique
    per class, day and session): a plan of four a day could never be met and would remind
    every afternoon of its whole length."""
    w = hworld
    with pytest.raises(ValidationError) as err:
        _plan(w, checks_per_day=4)
    assert set(err.value.message_dict) == {"checks_per_day"}
    assert not MonitoringPlan.objects.exists()
    assert _plan(w, checks_per_day=3).checks_per_day == 3


def test_double_submits_write_once(hworld, case, sent):
    """The same disinfection, statement or aftercare task sent twice (a double tap, a
    retried request) is recorded, audited and told once; the second call returns the first."""
    w = hworld
    first = _disinfect(w, case_id=case.pk)
    assert _disinfect(w, case_id=case.pk).pk == first.pk
    routine = _disinfect(w, user="teacher", area="canteen")
    assert _disinfect(w, user="teacher", area="canteen").pk == routine.pk
    assert Disinfection.objects.count() == 2
    statement = {
        "actor": w.users["nurse"],
        "school_id": w.school.pk,
        "case_id": case.pk,
        "text": "我园一名幼儿疑似流感，已隔离观察。",
        "published_at": NOW - dt.timedelta(minutes=5),
        "approved_by": "园长",
        "now": NOW,
    }
    first_statement = services.statement_publish(**statement)
    assert services.statement_publish(**statement).pk == first_statement.pk
    assert OfficialStatement.objects.count() == 1
    assert len(sent.of(services.STATEMENT_EVENT)) == 1
    task = {
        "actor": w.users["nurse"],
        "case_id": case.pk,
        "kind": "supplies",
        "description": "补充隔离用品",
        "assignee_id": w.users["teacher"].pk,
        "now": NOW,
    }
    first_task = services.aftercare_create(**task)
    assert services.aftercare_create(**task).pk == first_task.pk
    assert AftercareTask.objects.count() == 1
    assert len(sent.of(services.AFTERCARE_EVENT)) == 1
    audited = AuditEvent.objects.filter(
        object_type__in=[
            "health.disinfection",
            "health.officialstatement",
            "health.aftercaretask",
        ],
        action="create",
    )
    assert audited.count() == 4
    # Another task of the same text once the first is done is a new task.
    services.aftercare_done(actor=w.users["teacher"], task_id=first_task.pk, note="已补充")
    assert services.aftercare_create(**task).pk != first_task.pk


def test_reminders_skip_a_head_teacher_who_left(hworld, case, head_teacher, sent):
    """The head teacher is reminded while they teach at the school: not once their staff
    record is closed, nor once their login left the school; the health staff still are."""
    w = hworld
    services.monitoring_plan_for_case(actor=w.users["principal"], case=case, today=TODAY)
    morning = NOW.replace(hour=11, minute=31)
    head_teacher.is_active = False
    head_teacher.save(update_fields=["is_active"])
    (row,) = services.monitoring_remind(now=morning)
    assert row["recipients"] == [w.users["nurse"].pk]
    head_teacher.is_active = True
    head_teacher.save(update_fields=["is_active"])
    w.users["teacher"].memberships.update(is_active=False)
    (row,) = services.monitoring_remind(now=morning.replace(hour=15, minute=31))
    assert row["recipients"] == [w.users["nurse"].pk]


def test_messages_link_to_pages_their_recipients_may_open(client, hworld, case, head_teacher, sent):
    """Every message of the area carries the page it is about (the inbox's link), one that
    each of its recipients may open: the suspensions (not the case) for the offices, the
    statements for every login, the assignee's tasks, the class's check."""
    w = hworld
    _decide(w, case_id=case.pk)
    services.statement_publish(
        actor=w.users["nurse"],
        school_id=w.school.pk,
        text="声明",
        published_at=NOW,
        approved_by="园长",
        now=NOW,
    )
    services.aftercare_create(
        actor=w.users["nurse"],
        case_id=case.pk,
        kind="follow_up",
        description="回访",
        assignee_id=w.users["guard"].pk,
        now=NOW,
    )
    services.monitoring_plan_for_case(actor=w.users["principal"], case=case, today=TODAY)
    services.monitoring_remind(now=NOW.replace(hour=11, minute=31))
    other = make_case(w.school_class, ChildFactory(school_class=w.school_class, name="李四"))
    services.case_assessed_no_suspension(
        actor=w.users["principal"], case_id=other.pk, note="不停课"
    )
    events = [
        services.SUSPENSION_EVENT,
        services.STATEMENT_EVENT,
        services.AFTERCARE_EVENT,
        services.MONITORING_EVENT,
        services.ASSESSMENT_EVENT,
    ]
    users = {u.pk: u for u in w.users.values()}
    for event in events:
        (call,) = sent.of(event)
        url = call["payload"]["url"]
        assert url.startswith("/health/"), event
        if event == services.MONITORING_EVENT:
            assert url.startswith(f"/health/classes/{w.school_class.pk}/checks/morning/")
            url = url.split("?")[0]  # the fixed clock's day may be ahead of today
        assert call["recipients"], event
        for user_id in call["recipients"]:
            client.force_login(users[user_id])
            assert client.get(url).status_code == 200, (event, users[user_id].username)


def test_a_task_for_one_person_stays_in_their_inbox(hworld, case, sent):
    """An aftercare task is not sent to the school's outbound channels (robot groups,
    e-mail): it is one person's, and its text may name the child."""
    w = hworld
    services.aftercare_create(
        actor=w.users["nurse"],
        case_id=case.pk,
        kind="psychological",
        description="对王小明进行心理疏导",
        assignee_id=w.users["teacher"].pk,
        now=NOW,
    )
    (call,) = sent.of(services.AFTERCARE_EVENT)
    assert list(call["organizations"]) == []
    assert call["recipients"] == [w.users["teacher"].pk]
