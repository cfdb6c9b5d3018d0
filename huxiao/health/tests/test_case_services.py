"""The suspected-case services (issue 9 item 5; ADR 0032 "Case"): the report and who is
told, the procedure step by step with its roles and order, bad input that writes nothing,
double taps, contacts traced and their families told, closing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.health import case_services as services
from huxiao.health.choices import CaseStatus, ResponseGroupKind, Step, SymptomSource
from huxiao.health.models import (
    CaseContact,
    CaseGroupMember,
    CaseStep,
    HealthCase,
    SymptomEvent,
)
from huxiao.health.tests.case_fixtures import (
    DAY,
    at,
    attendance,
    capture_notify,
    check,
    inbox,
    make_case,
)
from huxiao.people.tests.factories import ChildFactory, GuardianFactory

pytestmark = pytest.mark.django_db


def report(world, who="teacher", **overrides):
    values = {
        "class_id": world.school_class.pk,
        "child_id": world.child.pk,
        "symptoms": ["cough"],
        "temperature": "38.6",
        "onset_date": DAY,
        "suspected_disease": "流感",
        "now": at(9, 0),
    }
    values.update(overrides)
    return services.case_report(actor=world.users[who], **values)


def step(world, case, name, who="principal", **fields):
    fields.setdefault("now", at(10, 0))
    return services.case_step(actor=world.users[who], case_id=case.pk, step=name, **fields)


def _nothing_written(before_audit: int) -> None:
    assert not HealthCase.objects.exists()
    assert not SymptomEvent.objects.exists()
    assert AuditEvent.objects.count() == before_audit


# ------------------------------------------------------------------ reporting


def test_a_teacher_reports_and_the_duty_leader_is_told(hworld, monkeypatch):
    w = hworld
    calls = capture_notify(monkeypatch)
    case = report(w)
    assert case.status == CaseStatus.REPORTED
    assert case.symptoms == ["fever", "cough"]  # 38.6 °C is a fever
    assert str(case.temperature) == "38.6"
    reported = CaseStep.objects.get(case=case)
    assert (reported.step, reported.done_by, reported.done_at) == (
        Step.REPORTED,
        w.users["teacher"],
        at(9, 0),
    )
    events = SymptomEvent.objects.filter(case=case)
    assert sorted(events.values_list("symptom", flat=True)) == ["cough", "fever"]
    assert set(events.values_list("source", "date")) == {(SymptomSource.CASE, DAY)}
    assert inbox(services.EVENT_REPORTED) == ["dutylead", "nurse", "principal"]
    assert w.child.name not in calls[0]["title"] + calls[0]["body"]
    assert AuditEvent.objects.filter(object_type="health.healthcase", action="create").exists()


def test_the_rostered_duty_leader_is_preferred(hworld):
    from huxiao.duty.choices import DutyRole, ShiftKind
    from huxiao.duty.models import DutyAssignment, DutyShift

    w = hworld
    shift = DutyShift.objects.create(
        school=w.school, date=DAY, kind=ShiftKind.DAY, starts_at=at(7), ends_at=at(19)
    )
    DutyAssignment.objects.create(shift=shift, user=w.users["principal"], role=DutyRole.LEADER)
    report(w)
    # The principal (on the roster) is told once; the duty leader off duty is not.
    assert inbox(services.EVENT_REPORTED) == ["nurse", "principal"]


def test_a_notifiable_disease_alerts_on_commit(
    hworld, monkeypatch, django_capture_on_commit_callbacks
):
    from huxiao.health import surveillance_services

    alerted = []
    monkeypatch.setattr(
        surveillance_services, "alert_for_case", lambda case: alerted.append(case.pk)
    )
    with django_capture_on_commit_callbacks(execute=True):
        case = report(hworld, notifiable=True)
    assert alerted == [case.pk]
    with django_capture_on_commit_callbacks(execute=True):
        other = report(hworld, child_id=ChildFactory(school_class=hworld.school_class).pk)
    assert alerted == [case.pk] and other.notifiable is False


def test_an_alert_failure_never_undoes_the_report(
    hworld, monkeypatch, django_capture_on_commit_callbacks
):
    from huxiao.health import surveillance_services

    def broken(case):
        raise RuntimeError("down")

    monkeypatch.setattr(surveillance_services, "alert_for_case", broken)
    with django_capture_on_commit_callbacks(execute=True):
        report(hworld, notifiable=True)
    assert HealthCase.objects.count() == 1


def test_the_report_takes_the_check_that_found_it(hworld):
    w = hworld
    found = check(w.child, DAY, "东门", at(7, 30), temperature="38.2", symptoms=["fever"])
    case = report(w, check_id=found.pk)
    assert case.child_check == found
    stranger = check(ChildFactory(school_class=w.school_class), DAY, "东门", at(7, 31))
    with pytest.raises(ValidationError) as err:
        report(w, child_id=ChildFactory(school_class=w.school_class).pk, check_id=stranger.pk)
    assert "check" in err.value.message_dict


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"child_id": "abc"}, "child"),
        ({"temperature": "44"}, "temperature"),
        ({"temperature": "", "symptoms": []}, "symptoms"),
        ({"symptoms": ["plague"]}, "symptoms"),
        ({"onset_date": DAY + dt.timedelta(days=1)}, "onset_date"),
        ({"onset_date": DAY - dt.timedelta(days=31)}, "onset_date"),
        ({"onset_date": "yesterday"}, "onset_date"),
        ({"onset_date": None}, "onset_date"),
        ({"contact_window_days": 15}, "contact_window_days"),
        ({"contact_window_days": -1}, "contact_window_days"),
        ({"contact_window_days": "x"}, "contact_window_days"),
        ({"suspected_disease": "x" * 101}, "suspected_disease"),
        ({"note": "bad\x00"}, "note"),
    ],
)
def test_bad_report_input_writes_nothing(hworld, overrides, field):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as err:
        report(hworld, **overrides)
    assert field in err.value.message_dict
    _nothing_written(before)


def test_a_child_of_another_class_is_refused(hworld):
    w = hworld
    with pytest.raises(ValidationError) as err:
        report(w, child_id=w.other_child.pk)
    assert "child" in err.value.message_dict
    # A temperature out of range: the message is Chinese once the lead compiles the
    # translations (clean_temperature's message is already translated).
    with pytest.raises(ValidationError) as err:
        report(w, temperature="33")
    assert "temperature" in err.value.message_dict


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("police", PermissionDenied),
        ("principal2", Http404),
        ("health", PermissionDenied),
        ("nobody", PermissionDenied),
    ],
)
def test_who_may_not_report(hworld, who, error):
    with pytest.raises(error):
        report(hworld, who=who)
    assert not HealthCase.objects.exists()


def test_one_open_case_per_child(hworld):
    first = report(hworld)
    with pytest.raises(services.CaseConflict) as err:
        report(hworld, who="principal")
    assert err.value.case == first
    assert HealthCase.objects.count() == 1


# ------------------------------------------------------------------ the order and the roles


def test_verification_then_start(hworld, monkeypatch):
    from huxiao.health import response_services

    w = hworld
    planned = []
    monkeypatch.setattr(
        response_services,
        "monitoring_plan_for_case",
        lambda *, actor, case, today: planned.append((actor.username, case.pk, today)),
    )
    case = report(w)
    with pytest.raises(services.CaseConflict):
        step(w, case, Step.STARTED)  # not verified yet
    with pytest.raises(PermissionDenied):
        step(w, case, Step.VERIFIED, who="health")  # the health centre is not on the spot
    with pytest.raises(PermissionDenied):
        step(w, case, Step.VERIFIED, who="teacher")
    verified = step(w, case, Step.VERIFIED, who="dutylead", note="核实体温38.6")
    assert (verified.done_by, verified.note) == (w.users["dutylead"], "核实体温38.6")
    with pytest.raises(PermissionDenied) as err:
        step(w, case, Step.STARTED, who="nurse")
    assert "principal" in str(err.value) or "园长" in str(err.value)
    step(w, case, Step.STARTED)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE
    started = case.steps.get(step=Step.STARTED).done_at
    assert planned == [("principal", case.pk, timezone.localdate(started))]


def test_isolation_never_waits_but_other_steps_do(hworld):
    w = hworld
    case = report(w)
    for name in (Step.CLASS_MOVED, Step.PARENTS_NOTIFIED, Step.TRANSFERRED, Step.OUTCOME):
        with pytest.raises(services.CaseConflict):
            step(
                w,
                case,
                name,
                standby_classroom="备用教室",
                destination="县医院",
                escort="郑医生",
                outcome="cleared",
            )
    step(w, case, Step.ISOLATED, who="dutylead", isolation_place="观察室", isolated_at=at(9, 5))
    case.refresh_from_db()
    assert (case.isolation_place, case.isolated_at) == ("观察室", at(9, 5))


def test_a_monitoring_plan_failure_never_blocks_the_start(hworld, monkeypatch):
    from huxiao.health import response_services

    def broken(*, actor, case):
        raise RuntimeError("bug")

    monkeypatch.setattr(response_services, "monitoring_plan_for_case", broken)
    w = hworld
    case = make_case(w, steps=[Step.VERIFIED])
    step(w, case, Step.STARTED)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACTIVE


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"isolation_place": ""}, "isolation_place"),
        ({"isolation_place": "观察室", "isolated_at": "soon"}, "isolated_at"),
        # Local time of year 1 with an offset would overflow a date (a 500 before).
        ({"isolation_place": "观察室", "isolated_at": "0001-01-01T00:00:00+14:00"}, "isolated_at"),
        ({"isolation_place": "观察室", "isolated_at": "9999-12-31T23:59:59-12:00"}, "isolated_at"),
        ({"isolation_place": "观察室", "isolated_at": at(12, 0)}, "isolated_at"),  # future
        # The onset (DAY) after the isolation (the day before): no contact window.
        (
            {"isolation_place": "观察室", "isolated_at": at(9, 0, DAY - dt.timedelta(1))},
            "isolated_at",
        ),
    ],
)
def test_bad_isolation_writes_nothing(hworld, fields, field):
    w = hworld
    case = make_case(w)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as err:
        step(w, case, Step.ISOLATED, who="dutylead", **fields)
    assert field in err.value.message_dict
    case.refresh_from_db()
    assert case.isolated_at is None and case.isolation_place == ""
    assert not case.steps.filter(step=Step.ISOLATED).exists()
    assert AuditEvent.objects.count() == before


def test_a_double_tap_records_one_step_and_tells_once(hworld, monkeypatch):
    w = hworld
    GuardianFactory(child=w.child, name="王爸爸", phone="13700001111", is_primary=True)
    calls = capture_notify(monkeypatch)
    case = make_case(w, steps=[Step.VERIFIED, Step.STARTED])
    first = step(w, case, Step.PARENTS_NOTIFIED, who="dutylead")
    second = step(w, case, Step.PARENTS_NOTIFIED, who="nurse")
    assert first.pk == second.pk and first.done_by == w.users["dutylead"]
    assert len(calls) == 1
    assert calls[0]["mention_phones"] == ["13700001111", "13800138000"]
    assert CaseStep.objects.filter(case=case, step=Step.PARENTS_NOTIFIED).count() == 1


def test_the_wrong_role_is_refused_even_when_done(hworld):
    w = hworld
    case = make_case(w, steps=[Step.VERIFIED])
    with pytest.raises(PermissionDenied):
        step(w, case, Step.VERIFIED, who="health")
    with pytest.raises(PermissionDenied):
        step(w, case, Step.VERIFIED, who="police")
    with pytest.raises(Http404):
        step(w, case, Step.VERIFIED, who="principal2")


@pytest.mark.parametrize(
    "name", ["classroom_disinfected", "assessed", "aftercare", "reported", "nope"]
)
def test_steps_this_area_does_not_record(hworld, name):
    w = hworld
    case = make_case(w, steps=[Step.VERIFIED, Step.STARTED])
    with pytest.raises(ValidationError) as err:
        step(w, case, name)
    assert "step" in err.value.message_dict


# ------------------------------------------------------------------ the whole procedure


def _all_groups(world):
    u = world.users
    return [
        {"group": ResponseGroupKind.COORDINATION, "user_id": u["principal"].pk, "is_leader": True},
        {"group": ResponseGroupKind.MONITORING, "user_id": u["nurse"].pk},
        {"group": ResponseGroupKind.TREATMENT, "name": "郑医生", "phone": "13900001111"},
        {"group": ResponseGroupKind.LIAISON, "user_id": u["dutylead"].pk},
        {"group": ResponseGroupKind.DISINFECTION, "name": "保洁员"},
        {"group": ResponseGroupKind.PUBLICITY, "user_id": u["teacher"].pk},
    ]


def test_the_procedure_end_to_end(hworld, monkeypatch):
    w = hworld
    calls = capture_notify(monkeypatch)
    case = report(w)
    step(w, case, Step.VERIFIED, who="dutylead")
    step(w, case, Step.STARTED)
    # Groups: all six must have someone, or nothing is added.
    with pytest.raises(ValidationError) as err:
        step(w, case, Step.GROUPS, members=_all_groups(w)[:5])
    assert "members" in err.value.message_dict
    assert not CaseGroupMember.objects.exists()
    step(w, case, Step.GROUPS, members=_all_groups(w))
    assert CaseGroupMember.objects.filter(case=case).count() == 6
    step(w, case, Step.ISOLATED, who="nurse", isolation_place="观察室", isolated_at=at(9, 10))
    step(w, case, Step.CLASS_MOVED, who="dutylead", standby_classroom="多功能室")
    step(w, case, Step.PARENTS_NOTIFIED, who="dutylead")
    step(w, case, Step.CENTRAL_SCHOOL_REPORTED)
    step(w, case, Step.HEALTH_CENTRE_REPORTED, who="nurse")
    with pytest.raises(PermissionDenied):
        step(w, case, Step.HEALTH_CENTRE_REPORTED, who="dutylead")
    with pytest.raises(ValidationError) as err:
        step(w, case, Step.TRANSFERRED, who="health", destination="")
    assert set(err.value.message_dict) == {"destination", "escort"}
    transferred = step(
        w, case, Step.TRANSFERRED, who="health", destination="县人民医院", escort="郑医生"
    )
    assert "县人民医院" in transferred.note and "郑医生" in transferred.note
    step(w, case, Step.CONTACTS_TRACED, who="health")
    step(w, case, Step.CONTACTS_NOTIFIED, who="nurse")
    with pytest.raises(services.CaseConflict):
        services.case_close(actor=w.users["health"], case_id=case.pk)
    with pytest.raises(ValidationError) as err:
        step(w, case, Step.OUTCOME, who="health", outcome="confirmed")
    assert "diagnosis" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        step(w, case, Step.OUTCOME, who="health", outcome="maybe")
    assert "outcome" in err.value.message_dict
    step(w, case, Step.OUTCOME, who="health", outcome="confirmed", diagnosis="甲型流感")
    case.refresh_from_db()
    assert (case.status, case.diagnosis) == (CaseStatus.CONFIRMED, "甲型流感")
    closed = services.case_close(actor=w.users["health"], case_id=case.pk, now=at(16, 0))
    assert (closed.status, closed.closed_at) == (CaseStatus.CLOSED, at(16, 0))
    assert services.case_close(actor=w.users["health"], case_id=case.pk).closed_at == at(16, 0)
    with pytest.raises(services.CaseConflict):
        services.case_group_member_add(
            actor=w.users["principal"], case_id=case.pk, group="publicity", name="x"
        )
    done = set(case.steps.values_list("step", flat=True))
    assert done == {
        Step.REPORTED, Step.VERIFIED, Step.STARTED, Step.GROUPS, Step.ISOLATED,
        Step.CLASS_MOVED, Step.PARENTS_NOTIFIED, Step.CENTRAL_SCHOOL_REPORTED,
        Step.HEALTH_CENTRE_REPORTED, Step.TRANSFERRED, Step.CONTACTS_TRACED,
        Step.CONTACTS_NOTIFIED, Step.OUTCOME,
    }  # fmt: skip
    assert inbox(services.EVENT_CENTRAL_SCHOOL) == ["edu"]
    assert inbox(services.EVENT_HEALTH_CENTRE) == ["health"]
    assert inbox(services.EVENT_PARENTS) == []  # 李老师 (head teacher) has no login here
    assert "dutylead" in inbox(services.EVENT_OUTCOME) and "health" in inbox(services.EVENT_OUTCOME)
    events = [c["event_type"] for c in calls]
    assert events.count(services.EVENT_OUTCOME) == 1
    for call in calls:
        if call["event_type"] != services.EVENT_PARENTS:
            assert w.child.name not in call["title"] + call["body"]


def test_a_step_after_closing_is_refused(hworld):
    w = hworld
    case = make_case(w, status=CaseStatus.CLOSED, steps=[Step.VERIFIED, Step.STARTED])
    with pytest.raises(services.CaseConflict):
        step(w, case, Step.ISOLATED, isolation_place="观察室")


def test_group_members_one_at_a_time(hworld):
    w = hworld
    u = w.users
    case = make_case(w, steps=[Step.VERIFIED, Step.STARTED])
    members = _all_groups(w)
    for member in members[:5]:
        services.case_group_member_add(actor=u["nurse"], case_id=case.pk, **member)
    assert not case.steps.filter(step=Step.GROUPS).exists()
    with pytest.raises(ValidationError) as err:
        services.case_group_member_add(actor=u["nurse"], case_id=case.pk, group="publicity")
    assert "name" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.case_group_member_add(
            actor=u["nurse"], case_id=case.pk, group="publicity", user_id=u["principal2"].pk
        )
    assert "user_id" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.case_group_member_add(
            actor=u["nurse"], case_id=case.pk, group="bogus", name="x", phone="12"
        )
    assert {"group", "phone"} <= set(err.value.message_dict)
    with pytest.raises(PermissionDenied):
        services.case_group_member_add(
            actor=u["dutylead"], case_id=case.pk, group="publicity", name="x"
        )
    services.case_group_member_add(actor=u["nurse"], case_id=case.pk, **members[5])
    assert case.steps.filter(step=Step.GROUPS).exists()
    # A new leader takes over; the member is named from the login.
    services.case_group_member_add(
        actor=u["principal"],
        case_id=case.pk,
        group="coordination",
        user_id=u["nurse"].pk,
        is_leader=True,
    )
    leaders = CaseGroupMember.objects.filter(case=case, group="coordination", is_leader=True)
    assert [m.user for m in leaders] == [u["nurse"]]
    member = CaseGroupMember.objects.get(case=case, group="treatment")
    services.case_group_member_remove(actor=u["principal"], case_id=case.pk, member_id=member.pk)
    assert not CaseGroupMember.objects.filter(pk=member.pk).exists()
    assert case.steps.filter(step=Step.GROUPS).exists()
    with pytest.raises(Http404):
        services.case_group_member_remove(
            actor=u["principal"], case_id=case.pk, member_id=member.pk
        )


# ------------------------------------------------------------------ contacts and the window


def test_contacts_traced_then_told_once_each(hworld, monkeypatch):
    w = hworld
    klass = w.school_class
    mate = ChildFactory(school_class=klass, name="同班甲")
    GuardianFactory(child=mate, name="甲妈妈", phone="13500000001")
    GuardianFactory(child=mate, name="甲爸爸", phone="not a phone")
    silent = ChildFactory(school_class=klass, name="同班乙")  # no guardian: to call
    attendance(klass, DAY)
    case = make_case(w, steps=[Step.VERIFIED, Step.STARTED], isolated_at=at(9, 0))
    calls = capture_notify(monkeypatch)
    count = services.case_contacts_record(actor=w.users["health"], case_id=case.pk, now=at(10))
    assert count == 2  # 同班甲 and 同班乙 (the class has no head teacher here)
    rows = CaseContact.objects.filter(case=case)
    assert {r.child_id for r in rows if r.child_id} == {mate.pk, silent.pk}
    assert rows.get(child=mate).reasons == [
        {"reason": "same_class", "dates": [DAY.isoformat()], "detail": klass.name}
    ]
    result = services.case_contacts_notify(actor=w.users["nurse"], case_id=case.pk, now=at(11))
    assert (result.children, result.unreachable) == (1, 1)
    sms = [c for c in calls if c.get("mention_phones")]
    assert sms[0]["mention_phones"] == ["13500000001"]
    assert rows.get(child=mate).notified_at == at(11)
    assert rows.get(child=silent).notified_at is None
    assert case.steps.filter(step=Step.CONTACTS_NOTIFIED).exists()
    # A new contact appears (a guardian is added); a second action tells only them.
    GuardianFactory(child=silent, name="乙妈妈", phone="13500000002")
    calls.clear()
    again = services.case_contacts_notify(actor=w.users["nurse"], case_id=case.pk, now=at(12))
    assert again.children == 1
    assert [c["mention_phones"] for c in calls if c.get("mention_phones")] == [["13500000002"]]
    assert rows.get(child=mate).notified_at == at(11)
    calls.clear()
    third = services.case_contacts_notify(actor=w.users["nurse"], case_id=case.pk, now=at(13))
    assert third.notified == 0 and not calls


def test_staff_contacts_get_their_inbox(hworld):
    w = hworld
    from huxiao.health.models import ClassStaff
    from huxiao.people.models import Staff

    teacher_staff = Staff.objects.create(
        school=w.school, name="李静", role="teacher", phone="13600000000", user=w.users["teacher"]
    )
    ClassStaff.objects.create(school_class=w.school_class, staff=teacher_staff, duty="配班")
    case = make_case(w, steps=[Step.VERIFIED, Step.STARTED])
    result = services.case_contacts_notify(actor=w.users["nurse"], case_id=case.pk)
    assert result.staff == 1
    assert inbox(services.EVENT_CONTACTS) == ["teacher"]


def test_contacts_wait_for_the_start_and_the_right_role(hworld):
    w = hworld
    case = make_case(w, steps=[Step.VERIFIED])
    with pytest.raises(services.CaseConflict):
        services.case_contacts_record(actor=w.users["nurse"], case_id=case.pk)
    with pytest.raises(PermissionDenied):
        services.case_contacts_record(actor=w.users["dutylead"], case_id=case.pk)
    assert not CaseContact.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"onset_date": DAY, "contact_window_days": 15}, "contact_window_days"),
        ({"onset_date": DAY + dt.timedelta(days=1), "contact_window_days": 2}, "onset_date"),
        ({"onset_date": "x", "contact_window_days": 2}, "onset_date"),
    ],
)
def test_bad_window_writes_nothing(hworld, values, field):
    w = hworld
    case = make_case(w)
    with pytest.raises(ValidationError) as err:
        services.case_window_set(actor=w.users["health"], case_id=case.pk, now=at(10), **values)
    assert field in err.value.message_dict
    case.refresh_from_db()
    assert (case.onset_date, case.contact_window_days) == (DAY, 2)


def test_an_onset_after_isolation_is_refused(hworld):
    """ "A contact window with onset after isolation": a clear error on the field."""
    w = hworld
    case = make_case(
        w, onset=DAY - dt.timedelta(days=3), isolated_at=at(9, 0, DAY - dt.timedelta(days=2))
    )
    with pytest.raises(ValidationError) as err:
        services.case_window_set(
            actor=w.users["health"],
            case_id=case.pk,
            onset_date=DAY,
            contact_window_days=2,
            now=at(10),
        )
    assert "onset_date" in err.value.message_dict
    changed = services.case_window_set(
        actor=w.users["health"],
        case_id=case.pk,
        onset_date=DAY - dt.timedelta(days=2),
        contact_window_days=5,
        now=at(10),
    )
    assert (changed.onset_date, changed.contact_window_days) == (DAY - dt.timedelta(2), 5)


def test_a_new_onset_moves_the_line_list_and_asks_for_an_evaluation(hworld, monkeypatch):
    """The onset corrected on the contacts page moves the case's symptoms on the line list:
    like every writer of it, the change asks for the school's evaluation after commit."""
    w = hworld
    asked = []
    monkeypatch.setattr(services, "cluster_check_on_commit", asked.append)
    case = make_case(w)
    earlier = DAY - dt.timedelta(days=1)
    services.case_window_set(
        actor=w.users["health"],
        case_id=case.pk,
        onset_date=earlier,
        contact_window_days=2,
        now=at(10),
    )
    assert set(SymptomEvent.objects.filter(case=case).values_list("date", flat=True)) == {earlier}
    assert asked == [w.school.pk]
    # Only the days traced changed: the line list stays, nothing to evaluate.
    services.case_window_set(
        actor=w.users["health"],
        case_id=case.pk,
        onset_date=earlier,
        contact_window_days=4,
        now=at(10),
    )
    assert asked == [w.school.pk]
