"""The check services (issue 9 items 2–3): a class's check (well by default, fever from
37.3 °C, the line list, edits, the sent-away message), attendance with causes and illness
follow-ups, chasing an unknown cause, returns, dining seats, dormitory rooms, class staff and
the 15:00 reminder — rules, audit rows, and bad input that writes nothing."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.urls import reverse

from huxiao.audit.models import AuditEvent
from huxiao.health import check_selectors as sel
from huxiao.health import check_services as services
from huxiao.health.models import (
    Absence,
    AttendanceDay,
    ChildCheck,
    ClassStaff,
    DiningSeat,
    DormAssignment,
    HealthCheck,
    IllnessFollowUp,
    SymptomEvent,
)
from huxiao.health.tests.check_fixtures import *  # noqa: F403
from huxiao.health.tests.check_fixtures import NOW, TODAY, at
from huxiao.notify.models import Delivery, Notification
from huxiao.people.tests.factories import ChildFactory, SchoolClassFactory, StaffFactory

pytestmark = pytest.mark.django_db


def record(klass, who="teacher", results=(), **kwargs):
    values = {
        "actor": klass.world.users[who],
        "school_class_id": klass.school_class.pk,
        "date": TODAY,
        "session": "morning",
        "checkpoint": "大门",
        "results": list(results),
        "now": NOW,
    }
    values.update(kwargs)
    return services.health_check_record(**values)


def inbox(event) -> list[str]:
    return sorted(
        Delivery.objects.filter(notification__event_type=event, channel="inbox").values_list(
            "recipient__username", flat=True
        )
    )


def written() -> tuple:
    return (
        HealthCheck.objects.count(),
        ChildCheck.objects.count(),
        SymptomEvent.objects.count(),
        Absence.objects.count(),
        AttendanceDay.objects.count(),
        IllnessFollowUp.objects.count(),
        DiningSeat.objects.count(),
        DormAssignment.objects.count(),
        ClassStaff.objects.count(),
        Notification.objects.count(),
        AuditEvent.objects.exclude(action="read").count(),
    )


@pytest.fixture
def evaluated(monkeypatch):
    """The schools the cluster rules were asked to evaluate after commit."""
    calls: list = []
    from huxiao.health import surveillance_services

    def fake(*, school_ids=None, today=None, **kwargs):
        calls.append(list(school_ids or []))
        return []

    monkeypatch.setattr(surveillance_services, "clusters_evaluate", fake)
    return calls


# ------------------------------------------------------------------ the check


def test_everyone_is_well_by_default(klass):
    check = record(klass)
    assert (check.expected, check.checked, check.unwell) == (4, 4, 0)
    rows = ChildCheck.objects.filter(health_check=check)
    assert rows.count() == 4 and all(r.is_well for r in rows)
    assert {r.checkpoint for r in rows} == {"大门"}
    assert {r.checked_at for r in rows} == {NOW}  # no tick times: the save time
    assert AuditEvent.objects.filter(object_type="health.childcheck").count() == 4
    assert AuditEvent.objects.filter(object_type="health.healthcheck", action="create").exists()
    assert not SymptomEvent.objects.exists() and not Notification.objects.exists()


def test_fever_and_symptoms_make_a_child_unwell_and_go_to_the_line_list(
    klass, evaluated, django_capture_on_commit_callbacks
):
    child, other = klass.children[0], klass.children[1]
    with django_capture_on_commit_callbacks(execute=True):
        check = record(
            klass,
            results=[
                {"child_id": child.pk, "temperature": "38.2", "symptoms": ["cough"]},
                {"child_id": other.pk, "temperature": "36.6"},
            ],
        )
    assert check.unwell == 1
    sick = ChildCheck.objects.get(health_check=check, child=child)
    assert sick.symptoms == ["fever", "cough"] and not sick.is_well
    assert sick.temperature == Decimal("38.2")
    assert ChildCheck.objects.get(health_check=check, child=other).is_well
    events = SymptomEvent.objects.filter(child=child)
    assert sorted(events.values_list("symptom", flat=True)) == ["cough", "fever"]
    assert {e.source for e in events} == {"check"} and {e.child_check_id for e in events} == {
        sick.pk
    }
    assert evaluated == [[klass.world.school.pk]]


def test_an_action_alone_is_unwell_without_line_list(klass):
    child = klass.children[2]
    check = record(klass, results=[{"child_id": child.pk, "action": "sent_home"}])
    assert check.unwell == 1 and not SymptomEvent.objects.exists()


def test_tick_times_and_checkpoint_place_children_in_the_queue(klass):
    a, b = klass.children[:2]
    record(
        klass,
        results=[
            {"child_id": a.pk, "checked_at": at(7, 41, 5).isoformat()},
            {"child_id": b.pk, "checked_at": at(7, 41, 40)},
        ],
    )
    times = dict(ChildCheck.objects.values_list("child_id", "checked_at"))
    assert times[a.pk] == at(7, 41, 5) and times[b.pk] == at(7, 41, 40)
    assert times[klass.children[2].pk] == NOW


def test_every_untimed_result_carries_the_first_saves_time(klass):
    # The contact engine tells a tick from "not ticked" by the check's first-save time
    # (`_default_checked_at(day, recorded_at)`): a child first listed by a later save (a
    # new enrolment, an absence taken back) must carry it too, not the edit's time, or it
    # becomes a queue neighbour of whoever was ticked at the checkpoint at that moment.
    check = record(klass)
    late = ChildFactory(school_class=klass.school_class, name="孙后来")
    ticked = ChildFactory(school_class=klass.school_class, name="周准时")
    record(
        klass,
        results=[{"child_id": ticked.pk, "checked_at": at(8, 39)}],
        now=at(8, 40),
    )
    times = dict(ChildCheck.objects.values_list("child_id", "checked_at"))
    untimed = services._default_checked_at(TODAY, check.recorded_at)
    assert times[late.pk] == untimed == NOW
    assert times[ticked.pk] == at(8, 39)
    # A day gone by: the first save's clock time on that day, for later saves too.
    day = TODAY - dt.timedelta(days=1)
    past = record(klass, date=day, now=NOW)
    newcomer = ChildFactory(school_class=klass.school_class, name="吴再来")
    record(klass, date=day, now=at(9, 30))
    late_time = ChildCheck.objects.get(health_check=past, child=newcomer).checked_at
    assert late_time == services._default_checked_at(day, past.recorded_at) == at(8, 10, day=day)


def test_a_tick_a_little_ahead_of_the_server_is_still_a_tick(klass):
    # A device clock up to 5 minutes ahead is accepted; kept at exactly "now" it would
    # equal the untimed mark of a first save and drop out of the check queue.
    child = klass.children[0]
    check = record(
        klass, results=[{"child_id": child.pk, "checked_at": NOW + dt.timedelta(minutes=2)}]
    )
    moment = ChildCheck.objects.get(child=child).checked_at
    assert moment <= NOW
    assert moment != services._default_checked_at(TODAY, check.recorded_at)


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", dt.datetime(9999, 12, 31, 23)],
)
def test_a_tick_time_at_the_ends_of_the_calendar_is_a_field_error(klass, moment):
    before = written()
    child = klass.children[0]
    with pytest.raises(ValidationError) as err:
        record(klass, results=[{"child_id": child.pk, "checked_at": moment}])
    assert f"results.{child.pk}.checked_at" in err.value.message_dict
    assert written() == before


def test_control_characters_in_text_are_field_errors(klass):
    # PostgreSQL refuses a NUL in text (a 500 there); every text of the area says so by field.
    child = klass.children[0]
    before = written()
    cases = [
        (lambda: record(klass, checkpoint="大\x00门"), "checkpoint"),
        (
            lambda: record(klass, results=[{"child_id": child.pk, "note": "a\x00"}]),
            f"results.{child.pk}.note",
        ),
        (
            lambda: attend(
                klass, [{"child_id": child.pk, "cause": "illness", "diagnosis": "流感\x00"}]
            ),
            f"absences.{child.pk}.diagnosis",
        ),
        (
            lambda: services.dining_seats_record(
                actor=klass.world.users["teacher"],
                school_class_id=klass.school_class.pk,
                date=TODAY,
                seats={child.pk: "1\x07号桌"},
                now=NOW,
            ),
            f"seats.{child.pk}.table",
        ),
    ]
    for call, field in cases:
        with pytest.raises(ValidationError) as err:
            call()
        assert field in err.value.message_dict, (field, err.value.message_dict)
    assert written() == before


@pytest.mark.parametrize(
    "moment",
    [at(7, 0, day=TODAY - dt.timedelta(days=1)), at(9, 30), "yesterday at noon"],
)
def test_a_tick_time_off_the_day_or_ahead_is_refused(klass, moment):
    before = written()
    child = klass.children[0]
    with pytest.raises(ValidationError) as err:
        record(klass, results=[{"child_id": child.pk, "checked_at": moment}])
    assert f"results.{child.pk}.checked_at" in err.value.message_dict
    assert written() == before


def test_saving_again_edits_the_same_check(klass, evaluated, django_capture_on_commit_callbacks):
    child = klass.children[0]
    with django_capture_on_commit_callbacks(execute=True):
        first = record(
            klass, results=[{"child_id": child.pk, "temperature": "37.8", "checked_at": at(7, 50)}]
        )
    assert SymptomEvent.objects.filter(child=child).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        second = record(
            klass,
            checkpoint="教室",
            results=[{"child_id": child.pk, "temperature": "36.9"}],
            now=NOW + dt.timedelta(minutes=20),
        )
    assert second.pk == first.pk and HealthCheck.objects.count() == 1
    assert (second.checked, second.unwell, second.checkpoint) == (4, 0, "教室")
    row = ChildCheck.objects.get(health_check=second, child=child)
    assert row.is_well and row.temperature == Decimal("36.9")
    assert row.checked_at == at(7, 50)  # the earlier tick time is kept
    assert not SymptomEvent.objects.exists()
    assert ChildCheck.objects.count() == 4
    assert AuditEvent.objects.filter(
        object_type="health.healthcheck", action="update", object_id=str(first.pk)
    ).exists()
    assert len(evaluated) == 2


def test_a_child_of_another_class_is_named_and_nothing_is_written(klass):
    w = klass.world
    neighbour = ChildFactory(
        school_class=SchoolClassFactory(school=w.school, name="小二班"), name="孙小红"
    )
    before = written()
    with pytest.raises(ValidationError) as err:
        record(
            klass,
            results=[
                {"child_id": klass.children[0].pk, "temperature": "38.5"},
                {"child_id": neighbour.pk, "temperature": "36.5"},
                {"child_id": w.other_child.pk},
            ],
        )
    errors = err.value.message_dict
    assert "孙小红" in errors[f"results.{neighbour.pk}.child_id"][0]
    # Another school's child is never named.
    assert "张三" not in errors[f"results.{w.other_child.pk}.child_id"][0]
    assert str(w.other_child.pk) in errors[f"results.{w.other_child.pk}.child_id"][0]
    assert written() == before


def test_an_inactive_child_is_not_in_the_class(klass):
    gone = klass.children[3]
    gone.is_active = False
    gone.save()
    with pytest.raises(ValidationError) as err:
        record(klass, results=[{"child_id": gone.pk}])
    assert f"results.{gone.pk}.child_id" in err.value.message_dict
    assert record(klass).checked == 3


@pytest.mark.parametrize("value", ["33.9", "43.1", "abc", "NaN"])
def test_a_temperature_out_of_range_is_a_field_error_naming_the_child(klass, value):
    child = klass.children[1]
    before = written()
    with pytest.raises(ValidationError) as err:
        record(
            klass,
            results=[
                {"child_id": klass.children[0].pk, "temperature": "38.0"},
                {"child_id": child.pk, "temperature": value},
            ],
        )
    message = err.value.message_dict[f"results.{child.pk}.temperature"][0]
    assert child.name in message
    assert written() == before


def test_bad_input_of_every_kind(klass):
    child = klass.children[0]
    before = written()
    cases = [
        (
            {"results": [{"child_id": child.pk, "symptoms": ["plague"]}]},
            f"results.{child.pk}.symptoms",
        ),
        ({"results": [{"child_id": child.pk, "action": "fly"}]}, f"results.{child.pk}.action"),
        (
            {"results": [{"child_id": child.pk, "symptoms": ["other"]}]},
            f"results.{child.pk}.symptom_note",
        ),
        (
            {"results": [{"child_id": child.pk}, {"child_id": child.pk}]},
            f"results.{child.pk}.child_id",
        ),
        ({"results": [{"child_id": "x"}]}, "results.0.child_id"),
        ({"results": ["nobody"]}, "results.0"),
        ({"results": [{"child_id": 2**70}]}, "results.0.child_id"),
        ({"session": "midnight"}, "session"),
        ({"date": TODAY + dt.timedelta(days=1)}, "date"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": dt.date(1999, 1, 1)}, "date"),
        ({"checkpoint": "门" * 51}, "checkpoint"),
        ({"results": [{"child_id": child.pk, "note": "x" * 301}]}, f"results.{child.pk}.note"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as err:
            record(klass, **kwargs)
        assert field in err.value.message_dict, (kwargs, err.value.message_dict)
    assert written() == before


def test_other_symptom_text_adds_other(klass):
    child = klass.children[0]
    record(klass, results=[{"child_id": child.pk, "symptom_note": "咽痛"}])
    row = ChildCheck.objects.get(child=child)
    assert row.symptoms == ["other"] and row.symptom_note == "咽痛" and not row.is_well


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("police", PermissionDenied),
        ("guard", PermissionDenied),
        ("health", PermissionDenied),  # reads, does not take checks
        ("principal2", Http404),
        ("nobody", PermissionDenied),
    ],
)
def test_who_may_record(klass, who, error):
    before = written()
    with pytest.raises(error):
        record(klass, who=who)
    assert written() == before


@pytest.mark.parametrize("who", ["teacher", "nurse", "principal", "dutylead"])
def test_the_school_side_records(klass, who):
    assert record(klass, who=who).checked == 4


def test_absent_children_are_left_out(klass):
    away = klass.children[3]
    services.attendance_record(
        actor=klass.world.users["teacher"],
        school_class_id=klass.school_class.pk,
        date=TODAY,
        absences=[{"child_id": away.pk, "cause": "personal"}],
        now=NOW,
    )
    check = record(klass)
    assert (check.expected, check.checked) == (4, 3)
    assert not ChildCheck.objects.filter(child=away).exists()
    with pytest.raises(ValidationError) as err:
        record(klass, results=[{"child_id": away.pk, "temperature": "36.5"}])
    assert f"results.{away.pk}.child_id" in err.value.message_dict


def test_sent_away_tells_the_school_health_staff_and_principal_once_per_count(
    klass, django_capture_on_commit_callbacks
):
    a, b = klass.children[:2]
    with django_capture_on_commit_callbacks(execute=True):
        record(klass, results=[{"child_id": a.pk, "temperature": "38.4", "action": "observation"}])
    assert inbox(services.CHECK_EVENT) == ["nurse", "principal"]  # not the health centre
    note = Notification.objects.get(event_type=services.CHECK_EVENT)
    assert note.payload["children"] == [a.pk] and "38.4 °C" in note.body
    # It also goes out through the school's channels: no child is named (ADR 0032); the
    # inbox links the check page, where the names are.
    assert a.name not in note.title + note.body
    assert note.payload["url"] == (
        reverse("health:check_entry", args=[klass.school_class.pk, "morning"])
        + f"?date={TODAY.isoformat()}"
    )
    with django_capture_on_commit_callbacks(execute=True):
        record(klass, results=[{"child_id": a.pk, "temperature": "38.4", "action": "observation"}])
    assert Notification.objects.filter(event_type=services.CHECK_EVENT).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        record(
            klass,
            results=[
                {"child_id": a.pk, "temperature": "38.4", "action": "observation"},
                {"child_id": b.pk, "symptoms": ["vomiting"], "action": "sent_home"},
            ],
        )
    assert Notification.objects.filter(event_type=services.CHECK_EVENT).count() == 2


def test_unwell_staying_in_class_tells_nobody(klass, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record(klass, results=[{"child_id": klass.children[0].pk, "symptoms": ["cough"]}])
    assert not Notification.objects.exists()


# ------------------------------------------------------------------ attendance


def attend(klass, absences, who="teacher", day=TODAY, now=NOW):
    return services.attendance_record(
        actor=klass.world.users[who],
        school_class_id=klass.school_class.pk,
        date=day,
        absences=absences,
        now=now,
    )


def test_attendance_with_causes_and_an_illness_follow_up(
    klass, evaluated, django_capture_on_commit_callbacks
):
    ill, away, unknown = klass.children[:3]
    with django_capture_on_commit_callbacks(execute=True):
        day = attend(
            klass,
            [
                {"child_id": ill.pk, "cause": "illness", "symptoms": ["fever", "cough"]},
                {"child_id": away.pk, "cause": "personal", "note": "回老家"},
                {"child_id": unknown.pk, "cause": "unknown"},
            ],
        )
    assert (day.enrolled, day.absent) == (4, 3)
    absence = Absence.objects.get(child=ill)
    follow_up = IllnessFollowUp.objects.get(child=ill)
    assert absence.follow_up == follow_up and follow_up.first_day == TODAY
    assert sorted(
        SymptomEvent.objects.filter(absence=absence).values_list("symptom", flat=True)
    ) == ["cough", "fever"]
    assert {e.source for e in SymptomEvent.objects.all()} == {"absence"}
    assert Absence.objects.get(child=unknown).chased_at is None
    assert evaluated == [[klass.world.school.pk]]
    assert AuditEvent.objects.filter(object_type="health.absence", action="create").count() == 3


def test_attendance_edit_replaces(klass):
    ill, away = klass.children[:2]
    attend(klass, [{"child_id": ill.pk, "cause": "illness", "diagnosis": "感冒"}])
    attend(klass, [{"child_id": away.pk, "cause": "personal"}])
    assert list(Absence.objects.values_list("child_id", flat=True)) == [away.pk]
    # The follow-up opened by the removed absence goes with it.
    assert not IllnessFollowUp.objects.exists()
    assert AttendanceDay.objects.get().absent == 1


def test_the_open_follow_up_is_reused_and_stays_open_when_present(klass):
    ill = klass.children[0]
    monday = TODAY - dt.timedelta(days=2)
    attend(klass, [{"child_id": ill.pk, "cause": "illness", "symptoms": ["fever"]}], day=monday)
    attend(
        klass,
        [{"child_id": ill.pk, "cause": "illness", "symptoms": ["cough"], "diagnosis": "支气管炎"}],
        day=monday + dt.timedelta(days=1),
    )
    follow_up = IllnessFollowUp.objects.get()
    assert follow_up.first_day == monday and follow_up.symptoms == ["fever", "cough"]
    assert follow_up.diagnosis == "支气管炎" and follow_up.absences.count() == 2
    attend(klass, [])  # present today
    rows = sel.open_follow_ups(klass.world.school.pk)
    assert len(rows) == 1 and rows[0].present_again == TODAY and rows[0].days_away == 2
    assert IllnessFollowUp.objects.get().returned_on is None


def test_illness_needs_symptoms_or_diagnosis_and_others_none(klass):
    child = klass.children[0]
    before = written()
    for item, field in [
        ({"cause": "illness"}, "symptoms"),
        ({"cause": "personal", "symptoms": ["cough"]}, "symptoms"),
        ({"cause": "sleepy"}, "cause"),
        ({"cause": "illness", "diagnosis": "x" * 101}, "diagnosis"),
    ]:
        with pytest.raises(ValidationError) as err:
            attend(klass, [{"child_id": child.pk, **item}])
        assert f"absences.{child.pk}.{field}" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        attend(klass, [{"child_id": klass.world.other_child.pk, "cause": "personal"}])
    assert f"absences.{klass.world.other_child.pk}.child_id" in err.value.message_dict
    with pytest.raises(ValidationError):
        attend(klass, [], day=TODAY + dt.timedelta(days=1))
    assert written() == before


def test_absence_after_the_check_drops_the_well_result(klass):
    sick, away = klass.children[:2]
    record(klass, results=[{"child_id": sick.pk, "action": "sent_home", "symptoms": ["vomiting"]}])
    attend(
        klass,
        [
            {"child_id": away.pk, "cause": "unknown"},
            {"child_id": sick.pk, "cause": "illness", "symptoms": ["vomiting"]},
        ],
    )
    check = HealthCheck.objects.get()
    assert (check.checked, check.unwell) == (3, 1)
    assert not ChildCheck.objects.filter(child=away).exists()
    assert ChildCheck.objects.filter(child=sick).exists()  # seen, then sent home


def test_cause_established_by_the_reporter(klass, evaluated, django_capture_on_commit_callbacks):
    child = klass.children[0]
    attend(klass, [{"child_id": child.pk, "cause": "unknown"}])
    absence = Absence.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.absence_cause_establish(
            actor=klass.world.users["teacher"],
            absence_id=absence.pk,
            cause="illness",
            symptoms=["rash"],
            diagnosis="水痘?",
            note="家长电话告知",
            now=at(10, 5),
        )
    absence.refresh_from_db()
    assert absence.cause == "illness" and absence.chased_at == at(10, 5)
    assert absence.chased_by == klass.world.users["teacher"] and absence.follow_up is not None
    assert SymptomEvent.objects.filter(absence=absence, symptom="rash").exists()
    assert evaluated
    with pytest.raises(ValidationError) as err:
        services.absence_cause_establish(
            actor=klass.world.users["teacher"], absence_id=absence.pk, cause="personal"
        )
    assert "cause" in err.value.message_dict


def test_establishing_needs_a_known_cause_and_the_right_role(klass):
    child = klass.children[0]
    attend(klass, [{"child_id": child.pk, "cause": "unknown"}])
    absence = Absence.objects.get()
    with pytest.raises(ValidationError) as err:
        services.absence_cause_establish(
            actor=klass.world.users["teacher"], absence_id=absence.pk, cause="unknown"
        )
    assert "cause" in err.value.message_dict
    with pytest.raises(Http404):
        services.absence_cause_establish(
            actor=klass.world.users["principal2"], absence_id=absence.pk, cause="personal"
        )
    with pytest.raises(PermissionDenied):
        services.absence_cause_establish(
            actor=klass.world.users["police"], absence_id=absence.pk, cause="personal"
        )
    assert Absence.objects.get().cause == "unknown"


def test_return_closes_the_follow_up(klass):
    child = klass.children[0]
    yesterday = TODAY - dt.timedelta(days=1)
    attend(
        klass, [{"child_id": child.pk, "cause": "illness", "symptoms": ["fever"]}], day=yesterday
    )
    follow_up = IllnessFollowUp.objects.get()
    teacher = klass.world.users["teacher"]
    for kwargs, field in [
        ({"returned_on": yesterday, "return_note": "好了"}, "returned_on"),
        ({"returned_on": TODAY + dt.timedelta(days=1), "return_note": "好了"}, "returned_on"),
        ({"returned_on": TODAY, "return_note": "  "}, "return_note"),
        ({"returned_on": "soon", "return_note": "好了"}, "returned_on"),
    ]:
        with pytest.raises(ValidationError) as err:
            services.illness_follow_up_close(
                actor=teacher, follow_up_id=follow_up.pk, now=NOW, **kwargs
            )
        assert field in err.value.message_dict
    services.illness_follow_up_close(
        actor=klass.world.users["health"],  # the health centre may record it too
        follow_up_id=follow_up.pk,
        returned_on=TODAY,
        return_note="体温正常，已返校",
        now=NOW,
    )
    follow_up.refresh_from_db()
    assert follow_up.returned_on == TODAY and follow_up.closed_by.username == "health"
    with pytest.raises(ValidationError):
        services.illness_follow_up_close(
            actor=teacher, follow_up_id=follow_up.pk, returned_on=TODAY, return_note="x", now=NOW
        )
    assert sel.open_follow_ups(klass.world.school.pk) == []
    # A new illness opens a new follow-up.
    attend(klass, [{"child_id": child.pk, "cause": "illness", "symptoms": ["cough"]}], day=TODAY)
    assert IllnessFollowUp.objects.filter(returned_on__isnull=True).count() == 1


def test_the_15_oclock_reminder_goes_to_the_class_reporter_once(klass):
    w = klass.world
    attend(klass, [{"child_id": klass.children[0].pk, "cause": "unknown"}])
    second = SchoolClassFactory(school=w.school, name="中一班")
    lonely = ChildFactory(school_class=second, name="周周")
    services.attendance_record(
        actor=w.users["principal"],
        school_class_id=second.pk,
        date=TODAY,
        absences=[{"child_id": lonely.pk, "cause": "unknown"}],
        now=NOW,
    )
    told = services.absences_unknown_remind(now=at(15, 0))
    assert sorted(told) == sorted([klass.school_class.pk, second.pk])
    assert inbox(services.UNKNOWN_ABSENCE_EVENT) == ["nurse", "teacher"]
    for note in Notification.objects.filter(event_type=services.UNKNOWN_ABSENCE_EVENT):
        # No child named (the school's channels get it too); the attendance page lists them.
        assert klass.children[0].name not in note.title + note.body
        assert lonely.name not in note.title + note.body
        assert note.payload["url"] == (
            reverse("health:attendance", args=[note.payload["class_id"]])
            + f"?date={TODAY.isoformat()}"
        )
    assert services.absences_unknown_remind(now=at(15, 5)) == []
    assert Notification.objects.filter(event_type=services.UNKNOWN_ABSENCE_EVENT).count() == 2
    # Nothing to chase on another day.
    assert services.absences_unknown_remind(now=at(15, 0, day=TODAY + dt.timedelta(days=1))) == []


# ------------------------------------------------------------------ dining, dorms, staff


def test_dining_seats_record_and_copy(klass):
    teacher = klass.world.users["teacher"]
    a, b, c, d = klass.children
    yesterday = TODAY - dt.timedelta(days=1)
    count = services.dining_seats_record(
        actor=teacher,
        school_class_id=klass.school_class.pk,
        date=yesterday,
        seats={a.pk: "1桌", b.pk: "1桌", c.pk: "2桌", d.pk: ""},
        now=NOW,
    )
    assert count == 3
    attend(klass, [{"child_id": b.pk, "cause": "personal"}])
    with pytest.raises(ValidationError) as err:
        services.dining_seats_record(
            actor=teacher,
            school_class_id=klass.school_class.pk,
            date=TODAY,
            seats={b.pk: "1桌"},
            now=NOW,
        )
    assert f"seats.{b.pk}.table" in err.value.message_dict
    source, count = services.dining_seats_copy(
        actor=teacher, school_class_id=klass.school_class.pk, date=TODAY, now=NOW
    )
    assert source == yesterday and count == 2  # the absent child is left out
    assert sel.dining_seats(klass.school_class.pk, TODAY) == {a.pk: "1桌", c.pk: "2桌"}
    services.dining_seats_record(
        actor=teacher,
        school_class_id=klass.school_class.pk,
        date=TODAY,
        seats={a.pk: "", c.pk: "3桌"},
        now=NOW,
    )
    assert sel.dining_seats(klass.school_class.pk, TODAY) == {c.pk: "3桌"}
    assert AuditEvent.objects.filter(object_type="health.diningseat", action="delete").exists()


def test_dining_copy_needs_an_earlier_day(klass):
    with pytest.raises(ValidationError) as err:
        services.dining_seats_copy(
            actor=klass.world.users["teacher"],
            school_class_id=klass.school_class.pk,
            date=TODAY,
            now=NOW,
        )
    assert "date" in err.value.message_dict


def test_dorm_rooms(klass):
    w = klass.world
    principal = w.users["principal"]
    child = klass.children[0]
    with pytest.raises(ValidationError) as err:
        services.dorm_assign(
            actor=principal, school_id=w.school.pk, child_id=child.pk, room="101", starts_on=TODAY
        )
    assert "room" in err.value.message_dict  # not a boarding school
    w.school.is_boarding = True
    w.school.save()
    first = services.dorm_assign(
        actor=principal,
        school_id=w.school.pk,
        child_id=child.pk,
        room="101",
        starts_on=TODAY - dt.timedelta(days=30),
    )
    second = services.dorm_assign(
        actor=principal, school_id=w.school.pk, child_id=child.pk, room="203", starts_on=TODAY
    )
    first.refresh_from_db()
    assert first.ends_on == TODAY - dt.timedelta(days=1) and second.ends_on is None
    assert [a.room for a in sel.dorm_current(w.school.pk, TODAY)] == ["203"]
    with pytest.raises(ValidationError) as err:
        services.dorm_assign(
            actor=principal,
            school_id=w.school.pk,
            child_id=child.pk,
            room="105",
            starts_on=TODAY - dt.timedelta(days=3),
        )
    assert "starts_on" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.dorm_assign(
            actor=principal,
            school_id=w.school.pk,
            child_id=w.other_child.pk,
            room="105",
            starts_on=TODAY,
        )
    assert "child" in err.value.message_dict
    assert (
        services.dorm_assign(
            actor=principal,
            school_id=w.school.pk,
            child_id=child.pk,
            room="",
            starts_on=TODAY + dt.timedelta(days=7),
        )
        is None
    )
    second.refresh_from_db()
    assert second.ends_on == TODAY + dt.timedelta(days=6)
    with pytest.raises(Http404):
        services.dorm_assign(
            actor=w.users["principal2"],
            school_id=w.school.pk,
            child_id=child.pk,
            room="1",
            starts_on=TODAY,
        )


def test_class_staff(klass):
    w = klass.world
    carer = StaffFactory(school=w.school, name="王阿姨", role="childcare")
    row = services.class_staff_add(
        actor=w.users["nurse"],
        school_class_id=klass.school_class.pk,
        staff_id=carer.pk,
        duty="保育员",
    )
    assert [r.staff.name for r in sel.class_staff(klass.school_class.pk)] == ["王阿姨"]
    with pytest.raises(ValidationError) as err:
        services.class_staff_add(
            actor=w.users["nurse"], school_class_id=klass.school_class.pk, staff_id=carer.pk
        )
    assert "staff" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.class_staff_add(
            actor=w.users["nurse"],
            school_class_id=klass.school_class.pk,
            staff_id=w.other_staff.pk,
        )
    assert "staff" in err.value.message_dict
    with pytest.raises(Http404):
        services.class_staff_remove(actor=w.users["principal2"], class_staff_id=row.pk)
    assert services.class_staff_remove(actor=w.users["teacher"], class_staff_id=row.pk) == (
        klass.school_class.pk
    )
    assert not ClassStaff.objects.exists()
    assert AuditEvent.objects.filter(object_type="health.classstaff", action="delete").exists()


def test_teacher_classes(klass):
    w = klass.world
    other = SchoolClassFactory(school=w.school, name="大一班")
    assert [c.pk for c in sel.teacher_classes(w.users["teacher"])] == [klass.school_class.pk]
    ClassStaff.objects.create(school_class=other, staff=klass.head)
    assert {c.pk for c in sel.teacher_classes(w.users["teacher"])} == {
        klass.school_class.pk,
        other.pk,
    }
    assert sel.teacher_classes(w.users["police"]) == []


# ------------------------------------------------------------------ double taps


def _twice(monkeypatch, manager, method: str, call) -> list:
    """Run `call` in two threads as a double tap: the second starts once the first has
    read what is there and is about to write (it then waits a second before writing).
    Returns what each raised (None for success), first then second."""
    ready = threading.Event()
    real = getattr(manager, method)

    def slow(*args, **kwargs):
        if threading.current_thread().name == "first":
            ready.set()
            time.sleep(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(manager, method, slow)
    outcome: dict[str, object] = {}

    def run():
        try:
            call()
            outcome[threading.current_thread().name] = None
        except Exception as exc:  # noqa: BLE001 - the test reports what each tap met
            outcome[threading.current_thread().name] = exc
        finally:
            connection.close()

    first = threading.Thread(target=run, name="first")
    first.start()
    assert ready.wait(10)
    second = threading.Thread(target=run, name="second")
    second.start()
    first.join(20)
    second.join(20)
    return [outcome.get("first"), outcome.get("second")]


@pytest.mark.django_db(transaction=True)
def test_double_tapped_saves_of_seats_rooms_and_staff_wait_for_the_first(klass, monkeypatch):
    # Two saves at once were two inserts: a unique-constraint error (a 500) for the seats
    # and the class staff, a second stay in the same room for the dormitory.
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite serialises every write)")
    w = klass.world
    w.school.is_boarding = True
    w.school.save()
    teacher = w.users["teacher"]
    a, b = klass.children[:2]
    seats = _twice(
        monkeypatch,
        DiningSeat.objects,
        "bulk_create",
        lambda: services.dining_seats_record(
            actor=teacher,
            school_class_id=klass.school_class.pk,
            date=TODAY,
            seats={a.pk: "1号桌", b.pk: "1号桌"},
            now=NOW,
        ),
    )
    assert seats == [None, None]
    assert DiningSeat.objects.count() == 2
    rooms = _twice(
        monkeypatch,
        DormAssignment.objects,
        "create",
        lambda: services.dorm_assign(
            actor=teacher, school_id=w.school.pk, child_id=a.pk, room="301", starts_on=TODAY
        ),
    )
    assert rooms == [None, None]
    assert DormAssignment.objects.filter(child=a).count() == 1
    carer = StaffFactory(school=w.school, name="保育员甲")
    staff = _twice(
        monkeypatch,
        ClassStaff.objects,
        "create",
        lambda: services.class_staff_add(
            actor=teacher, school_class_id=klass.school_class.pk, staff_id=carer.pk
        ),
    )
    assert staff[0] is None and isinstance(staff[1], ValidationError), staff
    assert ClassStaff.objects.filter(staff=carer).count() == 1
