# ruff: noqa: F811 - pytest fixtures imported from activity_fixtures are arguments here
"""Pages of activities and drill records (ADR 0030): who gets 200, 302, 403 and 404
(anonymous, wrong role, another school, own school, police station, town office, county);
the forms answer 400 with the errors in place and write nothing; refused steps 409."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.alarms.models import Alarm
from huxiao.drills.choices import ActivityKind, ActivityStatus
from huxiao.drills.models import Activity, ActivityAttachment, DrillProblem, DrillRecord
from huxiao.drills.tests.activity_fixtures import (
    ENROLMENT,
    JPEG,
    drill_alarm,
    local,
    make_activity,
    school,  # noqa: F401 - fixture
    upload,
)
from huxiao.hazards.models import Hazard

pytestmark = pytest.mark.django_db
LIST = reverse("drills:activity_list")
NEW = reverse("drills:activity_new")
START = reverse("drills:drill_start")


def login(client, user):
    client.force_login(user)
    return client


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def drill(school):
    now = timezone.localtime()
    starts = now - dt.timedelta(minutes=20) if now.hour >= 1 else now
    return make_activity(school, starts_at=starts.replace(microsecond=0), whole_school=True)


@pytest.fixture
def typed_drill(school):
    """A drill that started 30 minutes ago, on whichever local day that was: typed times
    must lie between its start and now and on its day (a "today" drill has no such window
    in the first minutes after midnight)."""
    starts = timezone.localtime() - dt.timedelta(minutes=30)
    return make_activity(school, starts_at=starts.replace(microsecond=0), whole_school=True)


def form_data(**overrides) -> dict:
    data = {
        "status": "held",
        "kind": "drill",
        "drill_kind": "fire",
        "starts_at": local(days=-1, hour=9).strftime("%Y-%m-%dT%H:%M"),
        "whole_school": "on",
        "headcount": "80",
        "organiser_name": "李静",
    }
    data.update(overrides)
    return data


# ------------------------------------------------------------------ scope matrix

READERS = [
    ("principal", 200),
    ("teacher", 200),
    ("guard", 200),
    ("principal2", 404),
    ("police", 200),
    ("postofficer", 200),
    ("farpolice", 404),
    ("edu", 200),
    ("gov", 200),
    ("county", 200),
    ("nobody", 404),
]


@pytest.mark.parametrize(("name", "status"), READERS)
def test_activity_pages_scope(client, world, drill, name, status):
    c = login(client, world.users[name])
    for url in (
        reverse("drills:activity_detail", args=[drill.pk]),
        reverse("drills:drill_record", args=[drill.pk]),
        f"{LIST}?school={world.school.pk}",
    ):
        expected = 403 if name == "nobody" and url.startswith(f"{LIST}?") else status
        assert c.get(url).status_code == expected, url


def test_anonymous_goes_to_login(client, world, drill):
    for url in (
        LIST,
        NEW,
        START,
        reverse("drills:activity_detail", args=[drill.pk]),
        reverse("drills:drill_record", args=[drill.pk]),
    ):
        assert client.get(url).status_code == 302
    assert client.post(reverse("drills:drill_signal", args=[drill.pk])).status_code == 302
    assert not DrillRecord.objects.exists()


@pytest.mark.parametrize(
    ("name", "rows"),
    [("principal", 1), ("police", 2), ("edu", 2), ("county", 3), ("farpolice", 1)],
)
def test_list_rows_by_scope(client, world, drill, name, rows):
    make_activity(world.other_school)
    make_activity(world.far_school)
    response = login(client, world.users[name]).get(LIST)
    assert response.status_code == 200
    assert page(response).count('data-testid="activity-row"') == rows


def test_list_filters(client, world, school, drill):
    make_activity(
        school,
        kind=ActivityKind.SAFETY_EDUCATION,
        drill_kind="",
        status=ActivityStatus.PLANNED,
        starts_at=local(days=4),
    )
    c = login(client, world.users["principal"])
    assert page(c.get(f"{LIST}?kind=drill")).count('data-kind="drill"') == 1
    assert 'data-kind="safety_education"' not in page(c.get(f"{LIST}?kind=drill"))
    assert page(c.get(f"{LIST}?status=planned")).count('data-testid="activity-row"') == 1
    response = c.get(f"{LIST}?date_from=0001-01-01")
    assert response.status_code == 200 and 'data-testid="error-date_from"' in page(response)
    assert c.get(f"{LIST}?school={10**30}").status_code == 200  # not an id: ignored
    assert c.get(f"{LIST}?school=999999999999").status_code == 404
    assert c.get(f"{LIST}?page=99999").status_code == 200


def test_officer_sees_what_to_confirm_and_confirms(client, world, school):
    meeting = make_activity(
        school,
        kind=ActivityKind.PARENT_MEETING,
        drill_kind="",
        police_officer=world.users["officer"],
        starts_at=local(days=-1),
    )
    c = login(client, world.users["officer"])
    assert f'data-testid="confirm-row-{meeting.pk}"' in page(c.get(LIST))
    detail = page(c.get(reverse("drills:activity_detail", args=[meeting.pk])))
    assert 'data-testid="confirm-presence"' in detail
    response = c.post(reverse("drills:activity_confirm", args=[meeting.pk]))
    assert response.status_code == 302
    detail = page(c.get(reverse("drills:activity_detail", args=[meeting.pk])))
    assert 'data-testid="officer-confirmed"' in detail
    assert 'data-testid="confirm-presence"' not in detail
    other = login(client, world.users["police"])
    assert other.post(reverse("drills:activity_confirm", args=[meeting.pk])).status_code == 403


# ------------------------------------------------------------------ new


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("principal", 200),
        ("teacher", 200),
        ("officer", 200),
        ("guard", 403),
        ("edu", 403),
        ("county", 403),
        ("nobody", 403),
    ],
)
def test_new_page_scope(client, world, school, name, status):
    response = login(client, world.users[name]).get(f"{NEW}?school={school.pk}")
    assert response.status_code == status


def test_new_page_for_another_school_is_404(client, world, school):
    response = login(client, world.users["principal2"]).get(f"{NEW}?school={school.pk}")
    assert response.status_code == 404
    response = login(client, world.users["farpolice"]).get(f"{NEW}?school={school.pk}")
    assert response.status_code == 404


def test_new_page_prefills_from_the_calendar(client, world, school):
    day = local(days=3).date().isoformat()
    c = login(client, world.users["teacher"])
    html = page(c.get(f"{NEW}?school={school.pk}&date={day}&kind=safety_education"))
    assert f'value="{day}T09:00"' in html
    assert '<option value="safety_education" selected>' in html


def test_police_page_offers_legal_lectures_only(client, world, school):
    html = page(login(client, world.users["officer"]).get(f"{NEW}?school={school.pk}"))
    assert 'data-testid="police-note"' in html
    assert 'value="legal_lecture"' in html and 'value="drill"' not in html
    assert 'name="police_officer"' not in html


def test_police_choose_among_their_schools(client, world, school):
    html = page(login(client, world.users["officer"]).get(NEW))
    assert 'data-testid="choose-school"' in html
    assert f'data-testid="school-{world.other_school.pk}"' in html


def test_record_a_drill_goes_on_to_its_record(client, world, school):
    c = login(client, world.users["teacher"])
    response = c.post(f"{NEW}?school={school.pk}", form_data())
    activity = Activity.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("drills:drill_record", args=[activity.pk])
    assert activity.whole_school and activity.headcount == 80


def test_record_a_lecture_with_photos(client, world, school):
    c = login(client, world.users["officer"])
    response = c.post(
        f"{NEW}?school={school.pk}",
        form_data(kind="legal_lecture", drill_kind="", attachments=[upload()]),
    )
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert activity.police_officer == world.users["officer"]
    assert activity.attachments.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"headcount": str(ENROLMENT + 1)}, "headcount"),
        ({"starts_at": "9999-12-31T23:59"}, "starts_at"),
        ({"starts_at": "0001-01-01T00:00"}, "starts_at"),
        ({"starts_at": ""}, "starts_at"),
        ({"ends_at": local(days=-2).strftime("%Y-%m-%dT%H:%M")}, "ends_at"),
        ({"whole_school": "", "classes": ["999999999999999999999"]}, "classes"),
        ({"police_officer": str(10**30)}, "police_officer"),
        ({"drill_kind": ""}, "drill_kind"),
        ({"attachments": [upload("a.txt", b"hello", "text/plain")]}, "attachments"),
    ],
)
def test_new_bad_input_is_400_in_place(client, world, school, overrides, field):
    c = login(client, world.users["teacher"])
    response = c.post(f"{NEW}?school={school.pk}", form_data(**overrides))
    assert response.status_code == 400
    assert f'data-testid="error-{field}"' in page(response)
    assert not Activity.objects.exists() and not ActivityAttachment.objects.exists()


def test_new_with_a_class_of_another_school(client, world, school):
    c = login(client, world.users["teacher"])
    response = c.post(
        f"{NEW}?school={school.pk}", form_data(whole_school="", classes=[world.other_class.pk])
    )
    assert response.status_code == 400 and 'data-testid="error-classes"' in page(response)


# ------------------------------------------------------------------ edit, cancel, files


def test_edit_and_hold_a_plan(client, world, school):
    planned = make_activity(
        school,
        kind=ActivityKind.SAFETY_EDUCATION,
        drill_kind="",
        status=ActivityStatus.PLANNED,
        starts_at=local(days=-1, hour=14),
    )
    c = login(client, world.users["teacher"])
    url = reverse("drills:activity_edit", args=[planned.pk])
    html = page(c.get(f"{url}?status=held"))
    assert re.search(r'<input[^>]*value="held"[^>]*checked', html)
    data = form_data(
        kind="safety_education",
        drill_kind="",
        starts_at=local(days=-1, hour=14).strftime("%Y-%m-%dT%H:%M"),
        outcome="讲解防溺水知识",
    )
    assert c.post(url, data).status_code == 302
    planned.refresh_from_db()
    assert planned.status == ActivityStatus.HELD and planned.outcome == "讲解防溺水知识"
    assert login(client, world.users["police"]).get(url).status_code == 403
    assert login(client, world.users["principal2"]).get(url).status_code == 404


def test_cancel_from_the_page(client, world, school, drill):
    planned = make_activity(school, status=ActivityStatus.PLANNED, starts_at=local(days=3))
    c = login(client, world.users["teacher"])
    url = reverse("drills:activity_cancel", args=[planned.pk])
    response = c.post(url, {"reason": ""})
    assert response.status_code == 400 and 'data-testid="error-reason"' in page(response)
    assert c.post(url, {"reason": "上级检查改期"}).status_code == 302
    planned.refresh_from_db()
    assert planned.status == ActivityStatus.CANCELLED
    response = c.post(reverse("drills:activity_cancel", args=[drill.pk]), {"reason": "错录"})
    assert response.status_code == 409 and 'data-testid="refusal"' in page(response)


def test_files_on_the_page(client, world, school, drill):
    c = login(client, world.users["teacher"])
    url = reverse("drills:activity_attach", args=[drill.pk])
    assert c.post(url, {"attachments": [upload()]}).status_code == 302
    attachment = ActivityAttachment.objects.get()
    file_url = reverse("drills:activity_attachment", args=[drill.pk, attachment.pk])
    response = c.get(file_url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == JPEG
    assert login(client, world.users["principal2"]).get(file_url).status_code == 404
    assert login(client, world.users["county"]).get(file_url).status_code == 200
    c = login(client, world.users["teacher"])
    response = c.post(url, {"attachments": [upload("x.exe", b"MZ00", "application/x")]})
    assert response.status_code == 400 and 'data-testid="error-attachments"' in page(response)
    delete = reverse("drills:activity_attachment_delete", args=[drill.pk, attachment.pk])
    assert login(client, world.users["police"]).post(delete).status_code == 403
    assert login(client, world.users["teacher"]).post(delete).status_code == 302
    assert not ActivityAttachment.objects.exists()


# ------------------------------------------------------------------ the drill page


def test_teacher_times_a_drill_on_the_phone_page(client, world, drill):
    c = login(client, world.users["teacher"])
    url = reverse("drills:drill_record", args=[drill.pk])
    html = page(c.get(url))
    assert 'data-testid="signal-now"' in html and 'data-testid="signal-with-alarm"' in html
    assert f'value="{ENROLMENT}"' in html  # expected headcount prefilled
    assert c.post(reverse("drills:drill_signal", args=[drill.pk])).status_code == 302
    html = page(c.get(url))
    assert 'data-testid="drill-elapsed"' in html and 'data-testid="all-out-now"' in html
    assert c.post(reverse("drills:drill_all_out", args=[drill.pk])).status_code == 302
    html = page(c.get(url))
    assert 'data-testid="drill-duration"' in html and 'data-testid="all-out-now"' not in html
    counts = reverse("drills:drill_counts", args=[drill.pk])
    response = c.post(counts, {"expected_headcount": "90", "counted_headcount": "91"})
    assert response.status_code == 400
    assert 'data-testid="error-counted_headcount"' in page(response)
    response = c.post(
        counts,
        {"expected_headcount": "90", "counted_headcount": "89", "missing_resolved": "on"},
    )
    assert response.status_code == 400 and 'data-testid="error-missing_note"' in page(response)
    response = c.post(
        counts,
        {
            "expected_headcount": "90",
            "counted_headcount": "89",
            "missing_resolved": "on",
            "missing_note": "1人请假",
        },
    )
    assert response.status_code == 302
    record = DrillRecord.objects.get()
    assert record.counted_headcount == 89 and record.missing_resolved
    assert c.post(reverse("drills:drill_all_out", args=[drill.pk])).status_code == 409


def test_police_read_the_drill_page_without_buttons(client, world, drill):
    html = page(
        login(client, world.users["police"]).get(reverse("drills:drill_record", args=[drill.pk]))
    )
    assert 'data-testid="signal-now"' not in html and 'data-testid="counts-form"' not in html
    response = client.post(reverse("drills:drill_signal", args=[drill.pk]))
    assert response.status_code == 403
    assert not DrillRecord.objects.exists()


def test_typed_times_on_the_page(client, world, typed_drill):
    drill = typed_drill
    c = login(client, world.users["teacher"])
    url = reverse("drills:drill_times", args=[drill.pk])
    signal = drill.starts_at + dt.timedelta(minutes=1)
    fmt = "%Y-%m-%dT%H:%M:%S"
    response = c.post(
        url,
        {
            "signal_at": timezone.localtime(signal).strftime(fmt),
            "all_out_at": timezone.localtime(signal - dt.timedelta(seconds=5)).strftime(fmt),
        },
    )
    assert response.status_code == 400 and 'data-testid="error-all_out_at"' in page(response)
    assert not DrillRecord.objects.exists()
    response = c.post(
        url,
        {
            "signal_at": timezone.localtime(signal).strftime(fmt),
            "all_out_at": timezone.localtime(signal + dt.timedelta(seconds=95)).strftime(fmt),
        },
    )
    assert response.status_code == 302
    assert DrillRecord.objects.get().duration_seconds == 95


def test_signal_with_the_drill_alarm_and_link_another(client, world, school, drill):
    c = login(client, world.users["teacher"])
    response = c.post(reverse("drills:drill_signal", args=[drill.pk]), {"with_alarm": "1"})
    assert response.status_code == 302
    alarm = Alarm.objects.get()
    assert alarm.is_drill and DrillRecord.objects.get().alarm == alarm
    html = page(c.get(reverse("drills:drill_record", args=[drill.pk])))
    assert 'data-testid="drill-alarm"' in html
    second = make_activity(school, starts_at=drill.starts_at)
    other = drill_alarm(school, world.users["principal"])
    html = page(c.get(reverse("drills:drill_record", args=[second.pk])))
    assert 'data-testid="link-alarm"' in html
    link = reverse("drills:drill_link_alarm", args=[second.pk])
    assert c.post(link, {"alarm": str(alarm.pk)}).status_code == 400
    assert c.post(link, {"alarm": str(other.pk)}).status_code == 302
    assert DrillRecord.objects.get(activity=second).alarm == other


def test_problem_to_hazard_on_the_page(client, world, drill):
    c = login(client, world.users["teacher"])
    add = reverse("drills:drill_problem_add", args=[drill.pk])
    response = c.post(add, {"description": ""})
    assert response.status_code == 400 and 'data-testid="error-description"' in page(response)
    assert c.post(add, {"description": "三楼楼梯口应急灯不亮"}).status_code == 302
    problem = DrillProblem.objects.get()
    html = page(c.get(reverse("drills:drill_record", args=[drill.pk])))
    assert 'data-testid="make-hazard"' in html
    url = reverse("drills:drill_problem_hazard", args=[problem.pk])
    prefix = f"hazard-{problem.pk}"
    response = c.post(url, {f"{prefix}-category": "equipment", f"{prefix}-level": "general"})
    hazard = Hazard.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("hazards:hazard_detail", args=[hazard.pk])
    html = page(c.get(reverse("drills:drill_record", args=[drill.pk])))
    assert 'data-testid="problem-hazard"' in html
    assert (
        c.post(url, {f"{prefix}-category": "other", f"{prefix}-level": "general"}).status_code
        == 409
    )


def test_a_non_drill_has_no_drill_page(client, world, school):
    talk = make_activity(school, kind=ActivityKind.SAFETY_EDUCATION, drill_kind="")
    response = login(client, world.users["teacher"]).get(
        reverse("drills:drill_record", args=[talk.pk])
    )
    assert response.status_code == 404


# ------------------------------------------------------------------ start a drill now


@pytest.mark.parametrize(
    ("name", "status"),
    [("teacher", 200), ("principal", 200), ("guard", 403), ("police", 403), ("county", 403)],
)
def test_start_page_scope(client, world, school, name, status):
    assert login(client, world.users[name]).get(START).status_code == status


def test_start_with_the_alarm_from_the_page(client, world, school):
    c = login(client, world.users["principal"])
    response = c.post(START, {"school": str(school.pk), "drill_kind": "fire", "with_alarm": "1"})
    activity = Activity.objects.get()
    assert response["Location"] == reverse("drills:drill_record", args=[activity.pk])
    assert DrillRecord.objects.get().alarm.is_drill
    response = c.post(START, {"school": str(world.other_school.pk), "drill_kind": "fire"})
    assert response.status_code == 400 and Activity.objects.count() == 1
    response = c.post(START, {"school": str(school.pk), "drill_kind": "volcano"})
    assert response.status_code == 400 and 'data-testid="error-drill_kind"' in page(response)
