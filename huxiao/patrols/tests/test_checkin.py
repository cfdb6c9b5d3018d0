"""Plans, generated shifts and check-ins: the time window and its margin, scope, double
check-in, police car and lights, volunteers checked in by the guard, check-out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from huxiao.audit.models import AuditEvent
from huxiao.patrols import selectors, services
from huxiao.patrols.choices import Period, StaffKind
from huxiao.patrols.models import GatePost, PostCheckIn, PostShift
from huxiao.patrols.tests.conftest import MONDAY, at, plan, windows

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"0" * 200


def check_in(world, who, post, when, **kwargs):
    return services.post_check_in(actor=world.users[who], post=post, now=when, **kwargs)


def refusal(world, who, post, when, **kwargs) -> str:
    with pytest.raises(services.CheckInRefused) as exc:
        check_in(world, who, post, when, **kwargs)
    return exc.value.reason_code


# ------------------------------------------------------------------ plans and shifts


def test_plan_generates_the_coming_weekday_shifts_with_local_times(posts):
    shifts = list(PostShift.objects.filter(post=posts.afternoon).order_by("date"))
    # Monday to Friday and the next Monday (horizon 7 days), no weekend.
    assert [s.date for s in shifts] == [MONDAY + dt.timedelta(days=n) for n in (0, 1, 2, 3, 4, 7)]
    first = shifts[0]
    assert first.starts_at == at(MONDAY, "16:30") and first.ends_at == at(MONDAY, "17:10")
    assert first.week_start == MONDAY and first.school_id == posts.school.pk
    assert first.expects_police is True
    morning = PostShift.objects.filter(post=posts.morning).first()
    assert morning.expects_police is False  # a guard and a volunteer


def test_shifts_ensure_is_idempotent(posts):
    before = PostShift.objects.count()
    created = services.shifts_ensure(first_day=MONDAY, last_day=MONDAY + dt.timedelta(days=7))
    assert created == 0 and PostShift.objects.count() == before
    created = services.shifts_ensure(
        first_day=MONDAY + dt.timedelta(days=8), last_day=MONDAY + dt.timedelta(days=8)
    )
    assert created == 4  # Tuesday of next week, every post


@pytest.mark.parametrize(
    ("window", "message"),
    [
        # The messages are in the user's language (Chinese by default).
        ({"weekday": 0, "starts": "08:00", "ends": "07:30"}, "晚于开始时间"),
        ({"weekday": 0, "starts": "08:00", "ends": "08:05"}, "至少 10 分钟"),
        ({"weekday": 0, "starts": "06:00", "ends": "11:00"}, "最多 4 小时"),
        ({"weekday": 7, "starts": "07:00", "ends": "08:00"}, "星期"),
        ({"weekday": 0, "starts": "7点", "ends": "08:00"}, "HH:MM"),
    ],
)
def test_bad_windows_are_field_errors(posts, window, message):
    with pytest.raises(ValidationError) as exc:
        services.gate_post_create(
            actor=posts.users["principal"],
            school=posts.school,
            period=Period.NOON,
            location="正门",
            windows=[window],
        )
    assert message in " ".join(exc.value.message_dict["windows"])
    assert not GatePost.objects.filter(period=Period.NOON).exists()


def test_no_window_and_second_post_for_a_peak_are_refused(posts):
    with pytest.raises(ValidationError) as exc:
        services.gate_post_create(
            actor=posts.users["principal"],
            school=posts.school,
            period=Period.NOON,
            location="",
            windows=[],
        )
    assert set(exc.value.message_dict) == {"location", "windows"}
    with pytest.raises(ValidationError) as exc:
        plan(posts, posts.school, Period.MORNING, "07:00", "07:40")
    assert "period" in exc.value.message_dict


def test_only_planners_of_the_school_plan(posts):
    for who in ("guard", "officer", "edu", "teacher"):
        with pytest.raises(PermissionDenied):
            services.gate_post_create(
                actor=posts.users[who],
                school=posts.school,
                period=Period.NOON,
                location="正门",
                windows=windows("11:40", "12:20"),
            )


def test_plan_change_regenerates_coming_shifts_and_keeps_started_ones(posts):
    now = at(MONDAY, "16:45")
    check_in(posts, "officer", posts.afternoon, at(MONDAY, "16:35"))
    services.gate_post_update(
        actor=posts.users["police"],
        post=posts.afternoon,
        location="东门",
        windows=windows("16:00", "16:40", days=range(4)),  # no longer on Fridays
        now=now,
    )
    shifts = {s.date: s for s in PostShift.objects.filter(post=posts.afternoon)}
    assert shifts[MONDAY].starts_at == at(MONDAY, "16:30")  # started: kept as held
    tuesday = MONDAY + dt.timedelta(days=1)
    assert shifts[tuesday].starts_at == at(tuesday, "16:00")
    assert MONDAY + dt.timedelta(days=4) not in shifts


def test_staff_rules(posts):
    post, police = posts.afternoon, posts.users["police"]
    with pytest.raises(ValidationError) as exc:  # a guard cannot stand as police
        services.gate_post_staff_add(
            actor=police, post=post, kind=StaffKind.POLICE, user=posts.users["guard"]
        )
    assert "user_id" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # another station's officer
        services.gate_post_staff_add(
            actor=police, post=post, kind=StaffKind.POLICE, user=posts.users["farpolice"]
        )
    assert "user_id" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # volunteers have no account here
        services.gate_post_staff_add(
            actor=police, post=post, kind=StaffKind.MILITIA, user=posts.users["guard"]
        )
    assert "user_id" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:  # twice
        services.gate_post_staff_add(
            actor=police, post=post, kind=StaffKind.POLICE, user=posts.users["officer"]
        )
    assert "user_id" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.gate_post_staff_add(
            actor=police, post=post, kind=StaffKind.MILITIA, name="", phone="12"
        )
    assert {"name", "phone"} <= set(exc.value.message_dict)
    staff = services.gate_post_staff_add(
        actor=police,
        post=post,
        kind=StaffKind.MILITIA,
        name="民兵李四",
        phone="13800138000",
        weekdays=[4, 0],
    )
    assert staff.weekdays == "04" and staff.stands_on(4) and not staff.stands_on(2)


def test_staff_removal_updates_coming_shifts(posts):
    staff = posts.afternoon.staff.get(user=posts.users["officer"])
    services.gate_post_staff_remove(
        actor=posts.users["police"], staff=staff, now=at(MONDAY, "12:00")
    )
    assert not PostShift.objects.get(post=posts.afternoon, date=MONDAY).expects_police


# ------------------------------------------------------------------ the time window


@pytest.mark.parametrize(
    ("hhmm", "code"),
    [
        ("16:14", "too_early"),  # margin 15 minutes before 16:30
        ("17:11", "too_late"),
        ("23:00", "too_late"),
    ],
)
def test_outside_the_window_is_refused_with_a_reason(posts, hhmm, code):
    assert refusal(posts, "officer", posts.afternoon, at(MONDAY, hhmm)) == code
    assert not PostCheckIn.objects.exists()


@pytest.mark.parametrize("hhmm", ["16:15", "16:30", "17:10"])
def test_inside_the_window_and_margin_is_accepted(posts, hhmm):
    assert check_in(posts, "officer", posts.afternoon, at(MONDAY, hhmm)).pk


def test_margin_is_a_setting(posts):
    with override_settings(PATROL_CHECKIN_EARLY_MINUTES=30):
        assert check_in(posts, "officer", posts.afternoon, at(MONDAY, "16:01")).pk


def test_refusal_reasons_say_when(posts):
    with pytest.raises(services.CheckInRefused) as exc:
        check_in(posts, "officer", posts.afternoon, at(MONDAY, "15:00"))
    assert "16:15" in exc.value.messages[0] and "16:30" in exc.value.messages[0]
    with pytest.raises(services.CheckInRefused) as exc:
        check_in(posts, "officer", posts.afternoon, at(MONDAY, "18:00"))
    assert "17:10" in exc.value.messages[0]


def test_not_held_today_and_called_off_and_inactive(posts):
    saturday = MONDAY + dt.timedelta(days=5)
    assert refusal(posts, "officer", posts.afternoon, at(saturday, "16:40")) == "not_today"
    shift = PostShift.objects.get(post=posts.afternoon, date=MONDAY)
    services.shift_cancel(actor=posts.users["principal"], shift=shift, reason="清明节放假")
    assert refusal(posts, "officer", posts.afternoon, at(MONDAY, "16:40")) == "cancelled"
    services.gate_post_update(
        actor=posts.users["police"],
        post=posts.other_afternoon,
        location="正门",
        windows=windows("16:30", "17:10"),
        is_active=False,
        now=at(MONDAY, "06:00"),
    )
    posts.other_afternoon.refresh_from_db()
    assert refusal(posts, "police", posts.other_afternoon, at(MONDAY, "16:40")) == "inactive"


def test_double_check_in_is_refused(posts):
    first = check_in(posts, "officer", posts.afternoon, at(MONDAY, "16:25"))
    with pytest.raises(services.CheckInRefused) as exc:
        check_in(posts, "officer", posts.afternoon, at(MONDAY, "16:40"))
    assert exc.value.reason_code == "duplicate" and "16:25" in exc.value.messages[0]
    assert PostCheckIn.objects.get() == first
    # The next day is a new shift.
    assert check_in(posts, "officer", posts.afternoon, at(MONDAY + dt.timedelta(days=1), "16:25"))


def test_out_of_scope_posts_are_not_found(posts):
    """Through the scoped selector a far station's post does not exist for this officer; the
    service itself also refuses."""
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.post_get(
            actor=posts.users["officer"], post_id=posts.far_post.pk, action="staff_post"
        )
    with pytest.raises(PermissionDenied):
        check_in(posts, "officer", posts.far_post, at(MONDAY, "16:40"))
    with pytest.raises(PermissionDenied):
        check_in(posts, "principal2", posts.afternoon, at(MONDAY, "16:40"))
    with pytest.raises(PermissionDenied):
        check_in(posts, "teacher", posts.afternoon, at(MONDAY, "16:40"))
    assert not PostCheckIn.objects.exists()


# ------------------------------------------------------------------ 三见


def test_police_car_and_lights_make_the_three(posts):
    c = check_in(
        posts,
        "officer",
        posts.afternoon,
        at(MONDAY, "16:28"),
        vehicle_present=True,
        lights_on=True,
        latitude="39.123456",
        longitude="116.654321",
        accuracy_m=12.4,
    )
    shift = PostShift.objects.get(pk=c.shift_id)
    assert (shift.staffed, shift.police_present, shift.police_car, shift.police_lights) == (
        True,
        True,
        True,
        True,
    )
    assert shift.police_arrived_at == at(MONDAY, "16:28") and not shift.arrived_late
    assert str(c.latitude) == "39.123456" and c.accuracy_m == 12
    assert (
        AuditEvent.objects.filter(object_type="patrols.postcheckin", action="create").count() == 1
    )


def test_lights_need_the_car_and_only_police_record_a_car(posts):
    with pytest.raises(ValidationError) as exc:
        check_in(posts, "officer", posts.afternoon, at(MONDAY, "16:40"), lights_on=True)
    assert "lights_on" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        check_in(posts, "guard", posts.morning, at(MONDAY, "07:40"), vehicle_present=True)
    assert "vehicle_present" in exc.value.message_dict
    assert not PostCheckIn.objects.exists()


def test_the_car_that_comes_later(posts):
    c = check_in(posts, "officer", posts.afternoon, at(MONDAY, "16:31"))
    shift = PostShift.objects.get(pk=c.shift_id)
    assert shift.police_present and not shift.police_car
    services.post_check_in_update(
        actor=posts.users["officer"],
        check_in=c,
        vehicle_present=True,
        lights_on=True,
        now=at(MONDAY, "16:50"),
    )
    shift.refresh_from_db()
    assert shift.police_car and shift.police_lights
    with pytest.raises(PermissionDenied):
        services.post_check_in_update(
            actor=posts.users["police"], check_in=c, vehicle_present=False, lights_on=False
        )


def test_bad_location_is_a_field_error(posts):
    with pytest.raises(ValidationError) as exc:
        check_in(
            posts, "officer", posts.afternoon, at(MONDAY, "16:40"), latitude="91", longitude="x"
        )
    assert {"latitude", "longitude"} <= set(exc.value.message_dict)
    with pytest.raises(ValidationError) as exc:
        check_in(posts, "officer", posts.afternoon, at(MONDAY, "16:40"), latitude="39.1")
    assert "longitude" in exc.value.message_dict


def test_unplanned_officer_counts_as_police_and_guard_as_guard(posts):
    c = check_in(posts, "postofficer", posts.afternoon, at(MONDAY, "16:40"))
    assert c.kind == StaffKind.POLICE and c.staff is None
    g = check_in(posts, "guard", posts.afternoon, at(MONDAY, "16:40"))
    assert g.kind == StaffKind.GUARD
    p = check_in(posts, "principal", posts.afternoon, at(MONDAY, "16:40"))
    assert p.kind == StaffKind.SCHOOL_STAFF


def test_late_check_in(posts):
    c = check_in(posts, "officer", posts.afternoon, at(MONDAY, "16:36"))
    assert c.is_late
    assert PostShift.objects.get(pk=c.shift_id).arrived_late


def test_guard_checks_in_a_volunteer_without_an_account(posts):
    volunteer = posts.morning.staff.get(name="王妈妈")
    c = check_in(posts, "guard", posts.morning, at(MONDAY, "07:25"), staff=volunteer)
    assert c.on_behalf and c.person_name == "王妈妈" and c.kind == StaffKind.PARENT_VOLUNTEER
    assert c.user == posts.users["guard"]
    # The guard still checks in himself, and the volunteer only once.
    assert check_in(posts, "guard", posts.morning, at(MONDAY, "07:26")).kind == StaffKind.GUARD
    assert (
        refusal(posts, "principal", posts.morning, at(MONDAY, "07:27"), staff=volunteer)
        == "duplicate"
    )
    # A planned person with an account checks in on their own phone.
    guard_row = posts.morning.staff.get(user=posts.users["guard"])
    with pytest.raises(ValidationError) as exc:
        check_in(posts, "principal", posts.morning, at(MONDAY, "07:28"), staff=guard_row)
    assert "staff_id" in exc.value.message_dict


def test_check_out(posts):
    c = check_in(posts, "officer", posts.afternoon, at(MONDAY, "16:25"))
    with pytest.raises(PermissionDenied):
        services.post_check_out(actor=posts.users["police"], check_in=c, now=at(MONDAY, "17:00"))
    c = services.post_check_out(actor=posts.users["officer"], check_in=c, now=at(MONDAY, "17:12"))
    assert c.checked_out_at == at(MONDAY, "17:12")
    with pytest.raises(services.CheckInRefused) as exc:
        services.post_check_out(actor=posts.users["officer"], check_in=c, now=at(MONDAY, "17:13"))
    assert exc.value.reason_code == "duplicate"


def test_check_out_closes_an_hour_after_the_end(posts):
    c = check_in(posts, "officer", posts.afternoon, at(MONDAY, "16:25"))
    with pytest.raises(services.CheckInRefused) as exc:
        services.post_check_out(actor=posts.users["officer"], check_in=c, now=at(MONDAY, "18:11"))
    assert exc.value.reason_code == "closed"


def test_photo(posts, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = check_in(
        posts,
        "officer",
        posts.afternoon,
        at(MONDAY, "16:25"),
        photo=SimpleUploadedFile("a.jpg", JPEG, content_type="image/jpeg"),
    )
    assert c.photo.name.endswith(".jpg")
    with pytest.raises(ValidationError) as exc:
        check_in(
            posts,
            "guard",
            posts.afternoon,
            at(MONDAY, "16:25"),
            photo=SimpleUploadedFile("a.jpg", b"GIF89a....", content_type="image/jpeg"),
        )
    assert "photo" in exc.value.message_dict
    with override_settings(PATROL_PHOTO_MAX_BYTES=100), pytest.raises(ValidationError):
        check_in(
            posts,
            "guard",
            posts.afternoon,
            at(MONDAY, "16:25"),
            photo=SimpleUploadedFile("a.jpg", JPEG, content_type="image/jpeg"),
        )
