# ruff: noqa: F811 - pytest fixtures imported from activity_fixtures are arguments here
"""Services of safety activities (ADR 0030): create, edit, cancel, confirm presence, files;
school and police recorders; every bad input is a field error and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import Role
from huxiao.drills import activity_services as services
from huxiao.drills.choices import ActivityKind, ActivityStatus, DrillKind
from huxiao.drills.models import Activity, ActivityAttachment, DrillRecord
from huxiao.drills.tests.activity_fixtures import (
    ENROLMENT,
    PDF,
    local,
    make_activity,
    payload,
    school,  # noqa: F401 - fixture
    upload,
)
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.people.tests.factories import SchoolClassFactory

pytestmark = pytest.mark.django_db


def inbox(event_type: str) -> list[str]:
    from huxiao.notify.models import Delivery

    return sorted(
        Delivery.objects.filter(notification__event_type=event_type, channel="inbox").values_list(
            "recipient__username", flat=True
        )
    )


def create(world, user="teacher", school_obj=None, **overrides):
    return services.activity_create(
        actor=world.users[user],
        school_id=(school_obj or world.school).pk,
        **payload(**overrides),
    )


def errors_of(exc) -> dict:
    return exc.value.message_dict


# ------------------------------------------------------------------ create


def test_teacher_records_a_held_drill(world, school):
    cls = world.school_class
    activity = create(world, whole_school=False, classes=[cls.pk], headcount=25)
    assert activity.status == ActivityStatus.HELD
    assert activity.date == timezone.localtime(activity.starts_at).date()
    assert list(activity.classes.all()) == [cls]
    assert activity.title  # named after its scenario
    assert activity.organiser == world.users["teacher"]
    audit = AuditEvent.objects.get(object_type="drills.activity", object_id=str(activity.pk))
    assert audit.changes["after"]["classes"] == [cls.pk]
    assert audit.school_id == school.pk


def test_plan_next_week(world, school):
    activity = create(
        world,
        status=ActivityStatus.PLANNED,
        kind=ActivityKind.SAFETY_EDUCATION,
        drill_kind="",
        starts_at=local(days=7, hour=14),
        headcount=None,
    )
    assert activity.status == ActivityStatus.PLANNED
    assert activity.date == timezone.localdate() + dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "party"}, "kind"),
        ({"drill_kind": ""}, "drill_kind"),
        ({"kind": ActivityKind.PARENT_MEETING, "drill_kind": DrillKind.FIRE}, "drill_kind"),
        ({"headcount": ENROLMENT + 1}, "headcount"),
        ({"headcount": -1}, "headcount"),
        ({"headcount": "many"}, "headcount"),
        ({"headcount": 10**30}, "headcount"),
        ({"starts_at": None}, "starts_at"),
        ({"starts_at": "not a time"}, "starts_at"),
        ({"starts_at": dt.datetime(1979, 12, 31, 10, 0)}, "starts_at"),
        ({"starts_at": dt.datetime(9999, 12, 31, 23, 59)}, "starts_at"),
        ({"starts_at": dt.datetime(1, 1, 1, 0, 0)}, "starts_at"),
        ({"status": ActivityStatus.PLANNED, "starts_at": local(days=400)}, "starts_at"),
        ({"starts_at": local(days=1)}, "starts_at"),  # held in the future
        ({"status": "cancelled"}, "status"),
        ({"ends_at": local(days=-1, hour=8)}, "ends_at"),
        ({"ends_at": local(days=20)}, "ends_at"),
        ({"whole_school": True, "classes": [1]}, "classes"),
        ({"whole_school": False, "classes": [10**30]}, "classes"),
        ({"whole_school": False, "classes": ["x"]}, "classes"),
        ({"title": "x" * 201}, "title"),
        ({"content": "bad\x00text"}, "content"),
        ({"police_officer": 10**30}, "police_officer"),
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(world, school, overrides, field):
    with pytest.raises(ValidationError) as exc:
        create(world, **overrides)
    assert field in errors_of(exc), errors_of(exc)
    assert not Activity.objects.exists()
    assert not AuditEvent.objects.filter(object_type="drills.activity").exists()


def test_all_errors_at_once(world, school):
    with pytest.raises(ValidationError) as exc:
        create(world, kind="x", headcount=-5, title="x" * 300, starts_at=None)
    assert {"kind", "headcount", "title", "starts_at"} <= set(errors_of(exc))


def test_classes_of_another_school_are_refused(world, school):
    with pytest.raises(ValidationError) as exc:
        create(world, whole_school=False, classes=[world.school_class.pk, world.other_class.pk])
    assert "classes" in errors_of(exc)
    assert not Activity.objects.exists()


def test_headcount_limit_falls_back_to_enrolled_children(world, school):
    school.enrolment = 0
    school.save(update_fields=["enrolment"])
    with pytest.raises(ValidationError) as exc:
        create(world, headcount=2)  # one enrolled child
    assert "headcount" in errors_of(exc)
    assert create(world, headcount=1).headcount == 1


def test_parent_meetings_count_two_guardians_a_child(world, school):
    meeting = create(
        world, kind=ActivityKind.PARENT_MEETING, drill_kind="", headcount=2 * ENROLMENT
    )
    assert meeting.headcount == 2 * ENROLMENT
    with pytest.raises(ValidationError):
        create(world, kind=ActivityKind.PARENT_MEETING, drill_kind="", headcount=181)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("principal2", Http404),
        ("farpolice", Http404),
        ("nobody", Http404),
        ("guard", PermissionDenied),
        ("edu", PermissionDenied),
        ("county", PermissionDenied),
    ],
)
def test_who_may_not_record(world, school, name, error):
    with pytest.raises(error):
        create(world, user=name)
    assert not Activity.objects.exists()


# ------------------------------------------------------------------ the officer present


def test_school_names_an_officer_of_its_station_or_post(world, school):
    activity = create(
        world,
        kind=ActivityKind.PARENT_MEETING,
        drill_kind="",
        police_officer=world.users["postofficer"].pk,
    )
    assert activity.police_officer == world.users["postofficer"]
    assert activity.police_confirmed_at is None
    assert inbox(services.OFFICER_NAMED_EVENT) == ["postofficer"]


@pytest.mark.parametrize("name", ["farpolice", "principal", "teacher"])
def test_school_may_not_name_others(world, school, name):
    with pytest.raises(ValidationError) as exc:
        create(world, police_officer=world.users[name].pk)
    assert "police_officer" in errors_of(exc)
    assert not Activity.objects.exists()


def test_a_bare_legal_vice_principal_membership_is_not_an_officer(world, school):
    lvp = UserFactory(username="lvp")
    MembershipFactory(user=lvp, organization=world.station, role=Role.LEGAL_VICE_PRINCIPAL)
    with pytest.raises(ValidationError):
        create(world, police_officer=lvp.pk)


def test_officer_records_the_lecture_they_gave(world, school):
    lecture = create(
        world, user="officer", kind=ActivityKind.LEGAL_LECTURE, drill_kind="", headcount=60
    )
    assert lecture.police_officer == world.users["officer"]
    assert lecture.police_confirmed_at is not None
    assert inbox(services.OFFICER_NAMED_EVENT) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": ActivityKind.DRILL}, "kind"),
        ({"kind": ActivityKind.PARENT_MEETING, "drill_kind": ""}, "kind"),
        ({"kind": ActivityKind.LEGAL_LECTURE, "drill_kind": "", "police_officer": None}, None),
    ],
)
def test_police_record_legal_lectures_only(world, school, overrides, field):
    overrides.setdefault("drill_kind", DrillKind.FIRE)
    if field is None:
        lecture = create(world, user="officer", **overrides)
        assert lecture.police_officer == world.users["officer"]
        return
    with pytest.raises(ValidationError) as exc:
        create(world, user="officer", **overrides)
    assert field in errors_of(exc)
    assert not Activity.objects.exists()


def test_officer_may_not_record_for_a_colleague(world, school):
    with pytest.raises(ValidationError) as exc:
        create(
            world,
            user="officer",
            kind=ActivityKind.LEGAL_LECTURE,
            drill_kind="",
            police_officer=world.users["police"].pk,
        )
    assert "police_officer" in errors_of(exc)


def test_confirm_presence(world, school):
    meeting = make_activity(
        school,
        kind=ActivityKind.PARENT_MEETING,
        police_officer=world.users["officer"],
        starts_at=local(days=-1),
    )
    with pytest.raises(PermissionDenied):
        services.activity_confirm_presence(actor=world.users["police"], activity_id=meeting.pk)
    with pytest.raises(PermissionDenied):
        services.activity_confirm_presence(actor=world.users["principal"], activity_id=meeting.pk)
    with pytest.raises(Http404):
        services.activity_confirm_presence(actor=world.users["farpolice"], activity_id=meeting.pk)
    done = services.activity_confirm_presence(actor=world.users["officer"], activity_id=meeting.pk)
    assert done.police_confirmed_at is not None
    again = services.activity_confirm_presence(actor=world.users["officer"], activity_id=meeting.pk)
    assert again.police_confirmed_at == done.police_confirmed_at


def test_presence_is_confirmed_after_the_activity(world, school):
    planned = make_activity(
        school,
        kind=ActivityKind.PARENT_MEETING,
        status=ActivityStatus.PLANNED,
        police_officer=world.users["officer"],
        starts_at=local(days=3),
    )
    with pytest.raises(services.ActivityRefused):
        services.activity_confirm_presence(actor=world.users["officer"], activity_id=planned.pk)


# ------------------------------------------------------------------ edit and cancel


def update(world, activity, user="teacher", **overrides):
    data = payload(
        status=activity.status,
        kind=activity.kind,
        drill_kind=activity.drill_kind,
        starts_at=activity.starts_at,
        whole_school=activity.whole_school,
        headcount=activity.headcount,
    )
    data.update(overrides)
    return services.activity_update(actor=world.users[user], activity_id=activity.pk, **data)


def test_hold_a_planned_activity(world, school):
    planned = make_activity(school, status=ActivityStatus.PLANNED, starts_at=local(days=-1))
    held = update(world, planned, status=ActivityStatus.HELD, headcount=70, outcome="秩序良好")
    assert held.status == ActivityStatus.HELD and held.outcome == "秩序良好"
    event = AuditEvent.objects.get(object_type="drills.activity", action="update")
    assert event.changes["fields"]["status"] == ["planned", "held"]


def test_a_future_plan_cannot_be_held(world, school):
    planned = make_activity(school, status=ActivityStatus.PLANNED, starts_at=local(days=2))
    with pytest.raises(ValidationError) as exc:
        update(world, planned, status=ActivityStatus.HELD)
    assert "starts_at" in errors_of(exc)
    planned.refresh_from_db()
    assert planned.status == ActivityStatus.PLANNED


def test_held_does_not_go_back_to_planned(world, school):
    held = make_activity(school, starts_at=local(days=-1))
    with pytest.raises(ValidationError) as exc:
        update(world, held, status=ActivityStatus.PLANNED)
    assert "status" in errors_of(exc)


def test_changing_the_officer_resets_the_confirmation(world, school):
    meeting = make_activity(
        school,
        kind=ActivityKind.PARENT_MEETING,
        drill_kind="",
        police_officer=world.users["officer"],
        police_confirmed_at=timezone.now(),
        starts_at=local(days=-1),
    )
    changed = update(world, meeting, police_officer=world.users["postofficer"].pk)
    assert changed.police_confirmed_at is None
    kept = update(world, changed, outcome="补充总结", police_officer=world.users["postofficer"].pk)
    assert kept.police_officer == world.users["postofficer"]


def test_a_drill_with_a_record_stays_a_drill_on_its_day(world, school):
    drill = make_activity(school, starts_at=local(days=-1, hour=9))
    DrillRecord.objects.create(activity=drill, signal_at=local(days=-1, hour=9, minute=5))
    with pytest.raises(ValidationError) as exc:
        update(world, drill, kind=ActivityKind.SAFETY_EDUCATION, drill_kind="")
    assert "kind" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        update(world, drill, starts_at=local(days=-2, hour=9))
    assert "starts_at" in errors_of(exc)


def test_police_edit_their_own_lectures_only(world, school):
    lecture = make_activity(
        school,
        kind=ActivityKind.LEGAL_LECTURE,
        drill_kind="",
        police_officer=world.users["officer"],
        starts_at=local(days=-1),
    )
    changed = update(world, lecture, user="officer", outcome="讲授防欺凌")
    assert changed.outcome == "讲授防欺凌"
    with pytest.raises(PermissionDenied):
        update(world, lecture, user="police", outcome="x")
    drill = make_activity(school, starts_at=local(days=-1))
    with pytest.raises(PermissionDenied):
        update(world, drill, user="officer", outcome="x")


def test_cancel_a_plan_with_a_reason(world, school):
    planned = make_activity(school, status=ActivityStatus.PLANNED, starts_at=local(days=3))
    with pytest.raises(ValidationError) as exc:
        services.activity_cancel(actor=world.users["teacher"], activity_id=planned.pk, reason=" ")
    assert "reason" in errors_of(exc)
    cancelled = services.activity_cancel(
        actor=world.users["teacher"], activity_id=planned.pk, reason="雨天改期"
    )
    assert cancelled.status == ActivityStatus.CANCELLED
    with pytest.raises(services.ActivityRefused):
        services.activity_cancel(
            actor=world.users["teacher"], activity_id=planned.pk, reason="again"
        )
    with pytest.raises(services.ActivityRefused):
        update(world, cancelled, status=ActivityStatus.PLANNED, starts_at=local(days=4))


def test_a_held_activity_is_not_cancelled(world, school):
    held = make_activity(school, starts_at=local(days=-1))
    with pytest.raises(services.ActivityRefused):
        services.activity_cancel(actor=world.users["teacher"], activity_id=held.pk, reason="错录")


def test_huge_ids_are_not_found(world, school):
    for bad in (10**30, 2**63, 0, -1, "x"):
        with pytest.raises(Http404):
            services.activity_cancel(actor=world.users["teacher"], activity_id=bad, reason="x")


# ------------------------------------------------------------------ files


def test_attach_and_delete_files(world, school):
    activity = make_activity(school, starts_at=local(days=-1))
    rows = services.activity_attach(
        actor=world.users["teacher"],
        activity_id=activity.pk,
        files=[upload(), upload("plan.pdf", PDF, "application/pdf")],
    )
    assert [r.content_type for r in rows] == ["image/jpeg", "application/pdf"]
    assert rows[0].file.name.endswith(".jpg") and "photo" not in rows[0].file.name
    services.activity_attachment_delete(
        actor=world.users["principal"], activity_id=activity.pk, attachment_id=rows[0].pk
    )
    assert list(ActivityAttachment.objects.values_list("pk", flat=True)) == [rows[1].pk]


@pytest.mark.parametrize(
    "files",
    [
        [],
        [upload("x.exe", b"MZ" + b"0" * 40, "application/octet-stream")],
        [upload("empty.jpg", b"")],
        [upload(f"{i}.jpg") for i in range(6)],
    ],
)
def test_bad_files_are_refused(world, school, files):
    activity = make_activity(school, starts_at=local(days=-1))
    with pytest.raises(ValidationError) as exc:
        services.activity_attach(actor=world.users["teacher"], activity_id=activity.pk, files=files)
    assert "attachments" in errors_of(exc)
    assert not ActivityAttachment.objects.exists()


def test_create_with_a_bad_file_writes_nothing(world, school):
    with pytest.raises(ValidationError) as exc:
        create(world, files=[upload("x.txt", b"hello", "text/plain")], headcount=-1)
    assert {"attachments", "headcount"} <= set(errors_of(exc))
    assert not Activity.objects.exists()
    assert not ActivityAttachment.objects.exists()


def test_files_of_police_and_other_schools(world, school):
    activity = make_activity(school, starts_at=local(days=-1))
    with pytest.raises(PermissionDenied):
        services.activity_attach(
            actor=world.users["police"], activity_id=activity.pk, files=[upload()]
        )
    with pytest.raises(Http404):
        services.activity_attach(
            actor=world.users["principal2"], activity_id=activity.pk, files=[upload()]
        )
    assert not ActivityAttachment.objects.exists()


def test_classes_field_accepts_a_class_of_the_school(world, school):
    extra = SchoolClassFactory(school=school, name="中一班")
    activity = create(
        world,
        kind=ActivityKind.SAFETY_EDUCATION,
        drill_kind="",
        whole_school=False,
        classes=[str(extra.pk), world.school_class.pk],
    )
    assert set(activity.classes.all()) == {extra, world.school_class}
