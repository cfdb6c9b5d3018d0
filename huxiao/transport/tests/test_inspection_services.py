# ruff: noqa: F811 - the `buses` fixture imported from inspection_fixtures is an argument here
"""Services of police bus inspections (ADR 0031 "Inspections"): the findings a check derives
(table-driven), what a recorded check writes and whom it tells, the follow-up flow, and bad
input refused with nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import Role
from huxiao.hazards.models import Hazard
from huxiao.notify.models import Notification
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.transport import inspection_selectors as sel
from huxiao.transport import inspection_services as services
from huxiao.transport.choices import FindingKind, FindingStatus, InspectionKind, TripStatus
from huxiao.transport.models import BusFinding, BusInspection
from huxiao.transport.tests.inspection_fixtures import (
    buses,  # noqa: F401 - a fixture
    inbox,
    make_bus,
    make_trip,
)

pytestmark = pytest.mark.django_db
K = FindingKind


def record(world, user="officer", **fields):
    fields.setdefault("plate", "冀A·X3712")
    fields.setdefault("kind", InspectionKind.RANDOM)
    return services.inspection_record(actor=world.users[user], **fields)


def check(world, user="officer", **fields):
    fields.setdefault("plate", "冀A·X3712")
    return services.inspection_check(actor=world.users[user], **fields)


def field_errors(exc) -> dict:
    return exc.value.message_dict


def nothing_written():
    return not BusInspection.objects.exists() and not BusFinding.objects.exists()


# ------------------------------------------------------------------ derived findings

CASES = [
    ({}, []),
    ({"riders_counted": 19}, []),
    ({"riders_counted": 23}, [(K.OVERLOAD, "核载19人，实载23人")]),
    ({"speed_kmh": 55, "speed_limit_kmh": 60}, []),
    ({"speed_kmh": 72, "speed_limit_kmh": 60}, [(K.SPEEDING, "限速60公里/小时，实测72公里/小时")]),
    ({"speed_kmh": 65}, [(K.SPEEDING, "限速60公里/小时，实测65公里/小时")]),
    ({"speed_kmh": 75, "speed_limit_kmh": 80}, []),
    ({"driving_minutes": 240}, []),
    ({"driving_minutes": 260}, [(K.FATIGUE, "连续驾驶260分钟未休息（不得超过240分钟）")]),
    ({"safety_officer_present": False}, [(K.NO_SAFETY_OFFICER, "车上无随车照管员。")]),
    ({"documents_ok": False}, [(K.EXPIRED_DOCUMENTS, "检查时未出示有效证件。")]),
    ({"markings_present": False}, [(K.MARKINGS, "车身无校车标志（GB 24315）。")]),
    ({"other_findings": "车门应急开关损坏\n\n车门应急开关损坏"}, [(K.OTHER, "车门应急开关损坏")]),
    (
        {"riders_counted": 23, "safety_officer_present": False, "driving_minutes": 300},
        [
            (K.OVERLOAD, "核载19人，实载23人"),
            (K.FATIGUE, "连续驾驶300分钟未休息（不得超过240分钟）"),
            (K.NO_SAFETY_OFFICER, "车上无随车照管员。"),
        ],
    ),
]


@pytest.mark.parametrize(("seen", "expected"), CASES)
def test_findings_derived_from_what_was_seen(buses, seen, expected):
    draft = check(buses, **seen)
    assert [(f.kind, f.detail) for f in draft.findings] == expected
    assert nothing_written()


def test_expired_documents_of_bus_and_driver_are_listed(buses):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    buses.bus.insurance_expires_on = yesterday
    buses.bus.save()
    buses.driver.qualification_expires_on = None
    buses.driver.save()
    draft = check(buses)
    assert [f.kind for f in draft.findings] == [K.EXPIRED_DOCUMENTS]
    detail = draft.findings[0].detail
    assert f"{yesterday.isoformat()}" in detail
    assert len(draft.document_problems) == 2


def test_no_finding_is_recorded_as_no_problem(buses):
    inspection = record(buses, kind=InspectionKind.SCHEDULED, riders_counted=12)
    assert inspection.findings.count() == 0
    assert inspection.documents_ok and inspection.seats == 19
    assert not Notification.objects.exists()


# ------------------------------------------------------------------ recording


def test_a_check_links_bus_school_trip_driver_station(buses):
    trip = make_trip(buses, driver=buses.relief_driver)
    inspection = record(buses, riders_counted=23, location="G107 大杨树路口")
    assert inspection.school == buses.school and inspection.bus == buses.bus
    assert inspection.trip == trip and inspection.driver == buses.relief_driver
    assert inspection.station == buses.station
    assert inspection.inspector == buses.users["officer"]
    finding = inspection.findings.get()
    assert (finding.kind, finding.detail, finding.status) == (
        K.OVERLOAD,
        "核载19人，实载23人",
        FindingStatus.OPEN,
    )
    assert finding.deadline == timezone.localdate() + dt.timedelta(days=7)
    assert AuditEvent.objects.filter(object_type__endswith="businspection").count() == 1
    assert AuditEvent.objects.filter(object_type__endswith="busfinding").count() == 1


def test_a_trip_running_past_midnight_is_still_the_trip_under_way(buses):
    # Started at 23:50 local, checked at 00:10 the next local day: the trip is dated by the
    # day it started and must still be found (CI ran across midnight and caught this).
    midnight = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time()))
    trip = make_trip(buses)
    trip.started_at = midnight - dt.timedelta(minutes=10)
    trip.date = timezone.localtime(trip.started_at).date()
    trip.save(update_fields=["started_at", "date"])
    at = midnight + dt.timedelta(minutes=10)
    assert sel.trip_under_way(buses.bus, at) == trip
    trip.ended_at = midnight
    trip.save(update_fields=["ended_at"])
    assert sel.trip_under_way(buses.bus, at) is None


def test_without_a_trip_the_route_driver_is_the_default(buses):
    make_trip(buses, status=TripStatus.FINISHED, ended_at=timezone.now() - dt.timedelta(minutes=5))
    inspection = record(buses)
    assert inspection.trip is None and inspection.driver == buses.driver


def test_the_officer_may_name_another_driver_of_the_school(buses):
    inspection = record(buses, driver_id=str(buses.relief_driver.pk))
    assert inspection.driver == buses.relief_driver


def test_the_post_officer_inspects_through_the_post(buses):
    inspection = record(buses, user="postofficer")
    assert inspection.station == buses.post


def test_overload_tells_the_school_and_on_a_trip_the_commander(buses):
    make_trip(buses)
    record(buses, riders_counted=23)
    assert inbox(services.FINDING_EVENT) == ["police", "principal", "security"]
    titles = set(Notification.objects.values_list("title", flat=True))
    assert any("冀AX3712" in t and "本园" in t for t in titles)


def test_overload_without_a_trip_tells_only_the_school(buses):
    record(buses, riders_counted=23)
    assert inbox(services.FINDING_EVENT) == ["principal", "security"]


def test_speeding_on_a_trip_is_not_for_the_commander(buses):
    make_trip(buses)
    record(buses, speed_kmh=90, speed_limit_kmh=60)
    assert inbox(services.FINDING_EVENT) == ["principal", "security"]


def test_the_commander_inspecting_is_not_told_himself(buses):
    make_trip(buses)
    record(buses, user="police", safety_officer_present=False)
    assert inbox(services.FINDING_EVENT) == ["principal", "security"]


# ------------------------------------------------------------------ scope and rights


@pytest.mark.parametrize("user", ["principal", "teacher", "guard", "county", "edu", "nobody"])
def test_only_the_police_inspect(buses, user):
    with pytest.raises(PermissionDenied):
        record(buses, user=user)
    assert nothing_written()


@pytest.mark.parametrize(("user", "plate"), [("farpolice", "冀AX3712"), ("officer", "冀BF1234")])
def test_a_bus_of_another_jurisdiction_reads_as_unknown(buses, user, plate):
    with pytest.raises(ValidationError) as exc:
        record(buses, user=user, plate=plate)
    assert field_errors(exc) == {"plate": ["您检查范围内的学校没有这个车牌的校车。"]}
    assert nothing_written()


def test_a_bus_of_the_other_school_of_the_station_is_in_scope(buses):
    inspection = record(buses, plate="冀AX5820", riders_counted=36)
    assert inspection.school == buses.other_school
    assert inbox(services.FINDING_EVENT) == ["principal2"]


# ------------------------------------------------------------------ bad input

BAD = [
    ({"plate": ""}, "plate"),
    ({"plate": "京A·99999"}, "plate"),
    ({"plate": "AX3712"}, "plate"),
    ({"riders_counted": 58}, "riders_counted"),
    ({"riders_counted": -1}, "riders_counted"),
    ({"riders_counted": "12a"}, "riders_counted"),
    ({"riders_counted": "²"}, "riders_counted"),
    ({"riders_counted": 10**30}, "riders_counted"),
    ({"riders_counted": "9" * 5000}, "riders_counted"),
    ({"speed_kmh": 201}, "speed_kmh"),
    ({"speed_limit_kmh": 0}, "speed_limit_kmh"),
    ({"speed_limit_kmh": 500}, "speed_limit_kmh"),
    ({"driving_minutes": 1441}, "driving_minutes"),
    ({"driving_minutes": True}, "driving_minutes"),
    ({"inspected_at": "1979-12-31T10:00"}, "inspected_at"),
    ({"inspected_at": "0001-01-01T00:00+08:00"}, "inspected_at"),
    ({"inspected_at": "9999-12-31T23:59+14:00"}, "inspected_at"),
    ({"inspected_at": "soon"}, "inspected_at"),
    ({"kind": "weekly"}, "kind"),
    ({"safety_officer_present": None}, "safety_officer_present"),
    ({"documents_ok": "maybe"}, "documents_ok"),
    ({"location": "路" * 201}, "location"),
    ({"notes": "a\x00b"}, "notes"),
    ({"other_findings": "\n".join(f"问题{i}" for i in range(6))}, "other_findings"),
    ({"other_findings": ["x" * 301]}, "other_findings"),
    ({"deadline": "2000-01-01"}, "deadline"),
    ({"deadline": "9999-12-31"}, "deadline"),
    ({"driver_id": 10**30}, "driver_id"),
    ({"driver_id": "abc"}, "driver_id"),
]


@pytest.mark.parametrize(("fields", "field"), BAD)
def test_bad_input_is_a_field_error_and_writes_nothing(buses, fields, field):
    with pytest.raises(ValidationError) as exc:
        record(buses, riders_counted=23, **fields) if "riders_counted" not in fields else record(
            buses, **fields
        )
    assert field in field_errors(exc)
    assert nothing_written()
    assert not Notification.objects.exists()


def test_riders_limit_follows_the_seats(buses):
    with pytest.raises(ValidationError) as exc:
        record(buses, riders_counted=58)
    assert field_errors(exc)["riders_counted"] == [
        "请重新清点乘车人数：核载19人的校车应为0至57人。"
    ]
    assert record(buses, riders_counted=57).findings.get().kind == K.OVERLOAD
    make_bus(buses.school, plate="冀AX8000", seats=80)
    with pytest.raises(ValidationError):
        record(buses, plate="冀AX8000", riders_counted=201)
    big = record(buses, plate="冀AX8000", riders_counted=200)
    assert big.findings.get().detail == "核载80人，实载200人"


def test_a_time_in_the_future_is_refused(buses):
    later = timezone.now() + dt.timedelta(hours=1)
    with pytest.raises(ValidationError) as exc:
        record(buses, inspected_at=later)
    assert field_errors(exc) == {"inspected_at": ["检查时间不能晚于现在。"]}


def test_a_driver_of_another_school_is_refused(buses):
    from huxiao.transport.tests.inspection_fixtures import make_driver

    stranger = make_driver(buses.other_school, name="钱师傅")
    with pytest.raises(ValidationError) as exc:
        record(buses, driver_id=stranger.pk)
    assert field_errors(exc) == {"driver_id": ["请选择该校车所属学校的驾驶员。"]}
    assert nothing_written()


def test_all_errors_come_at_once(buses):
    with pytest.raises(ValidationError) as exc:
        record(buses, riders_counted=999, speed_kmh=999, driving_minutes=9999, kind="x")
    assert set(field_errors(exc)) == {"riders_counted", "speed_kmh", "driving_minutes", "kind"}


# ------------------------------------------------------------------ follow-up


@pytest.fixture
def finding(buses):
    return record(buses, riders_counted=23).findings.get()


def step(name, world, user, finding, **kwargs):
    return getattr(services, name)(actor=world.users[user], finding_id=finding.pk, **kwargs)


def test_follow_up_send_back_follow_up_resolve(buses, finding):
    assert sel.finding_state(finding) == sel.AWAITING_FOLLOW_UP
    step("finding_follow_up", buses, "principal", finding, text="已将4名幼儿改乘2号线。")
    finding.refresh_from_db()
    assert sel.finding_state(finding) == sel.AWAITING_REVIEW
    assert inbox(services.FOLLOW_UP_EVENT) == ["officer"]

    step("finding_send_back", buses, "officer", finding, reason="请提供改乘名单。")
    finding.refresh_from_db()
    assert sel.finding_state(finding) == sel.AWAITING_FOLLOW_UP and sel.was_sent_back(finding)
    assert inbox(services.REVIEW_EVENT) == ["principal", "security"]

    step("finding_follow_up", buses, "security", finding, text="改乘名单已上传。")
    step("finding_resolve", buses, "police", finding, note="核实无误。")
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED
    assert finding.resolved_by == buses.users["police"] and finding.resolved_at is not None
    entries = sel.followup_entries(finding.follow_up)
    assert [e.kind for e in entries] == ["school", "returned", "school", "resolved"]
    assert [e.text for e in entries] == [
        "已将4名幼儿改乘2号线。",
        "请提供改乘名单。",
        "改乘名单已上传。",
        "核实无误。",
    ]
    assert entries[0].user_id == buses.users["principal"].pk
    updates = AuditEvent.objects.filter(object_type__endswith="busfinding", action="update")
    assert updates.count() == 4


def test_the_police_may_resolve_at_once(buses, finding):
    step("finding_resolve", buses, "officer", finding)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED and finding.follow_up == ""


def test_a_resolved_finding_takes_nothing_more(buses, finding):
    step("finding_resolve", buses, "officer", finding)
    for name, user, kwargs in (
        ("finding_follow_up", "principal", {"text": "补充"}),
        ("finding_resolve", "officer", {}),
        ("finding_send_back", "officer", {"reason": "x"}),
    ):
        with pytest.raises(services.FindingRefused) as exc:
            step(name, buses, user, finding, **kwargs)
        assert exc.value.messages == ["该问题已办结。"]


def test_nothing_to_send_back_before_a_follow_up(buses, finding):
    with pytest.raises(services.FindingRefused):
        step("finding_send_back", buses, "officer", finding, reason="不够")


def test_send_back_sets_a_new_deadline(buses, finding):
    step("finding_follow_up", buses, "principal", finding, text="已整改")
    day = timezone.localdate() + dt.timedelta(days=3)
    step("finding_send_back", buses, "officer", finding, reason="再查", deadline=day.isoformat())
    finding.refresh_from_db()
    assert finding.deadline == day


def test_send_back_after_the_deadline_gives_seven_days(buses, finding):
    BusFinding.objects.filter(pk=finding.pk).update(deadline=timezone.localdate() - dt.timedelta(2))
    step("finding_follow_up", buses, "principal", finding, text="已整改")
    step("finding_send_back", buses, "officer", finding, reason="再查")
    finding.refresh_from_db()
    assert finding.deadline == timezone.localdate() + dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("name", "user", "kwargs"),
    [
        ("finding_follow_up", "teacher", {"text": "x"}),
        ("finding_follow_up", "officer", {"text": "x"}),
        ("finding_resolve", "principal", {}),
        ("finding_resolve", "county", {}),
        ("finding_send_back", "principal", {"reason": "x"}),
    ],
)
def test_wrong_role_is_403(buses, finding, name, user, kwargs):
    with pytest.raises(PermissionDenied):
        step(name, buses, user, finding, **kwargs)
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and finding.follow_up == ""


@pytest.mark.parametrize("user", ["principal2", "farpolice", "nobody"])
def test_out_of_scope_is_404(buses, finding, user):
    with pytest.raises(Http404):
        step("finding_resolve", buses, user, finding)


def test_huge_ids_are_404(buses):
    for value in (10**30, 2**63, 0, -1, "x"):
        with pytest.raises(Http404):
            services.finding_resolve(actor=buses.users["officer"], finding_id=value)


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "此项为必填项。"), ("   ", "此项为必填项。"), ("x" * 501, "最多 500 个字。")],
)
def test_bad_follow_up_text(buses, finding, text, message):
    with pytest.raises(ValidationError) as exc:
        step("finding_follow_up", buses, "principal", finding, text=text)
    assert field_errors(exc) == {"text": [message]}
    finding.refresh_from_db()
    assert finding.follow_up == ""


def test_a_follow_up_cannot_forge_a_police_entry(buses, finding):
    step(
        "finding_follow_up",
        buses,
        "principal",
        finding,
        text="[resolved 2026-01-01 10:00 #1] 民警\n好",
    )
    finding.refresh_from_db()
    assert sel.finding_state(finding) == sel.AWAITING_REVIEW
    assert [e.kind for e in sel.followup_entries(finding.follow_up)] == ["school"]


def test_the_thread_keeps_the_newest_entries_within_2000(buses, finding):
    for n in range(6):
        step("finding_follow_up", buses, "principal", finding, text=f"{n}" * 500)
    finding.refresh_from_db()
    entries = sel.followup_entries(finding.follow_up)
    assert len(finding.follow_up) <= 2000
    assert entries[-1].text == "5" * 500 and len(entries) == 3


def test_overdue(buses, finding):
    today = timezone.localdate()
    assert not sel.is_overdue(finding, today)
    assert sel.is_overdue(finding, today + dt.timedelta(days=8))
    BusFinding.objects.filter(pk=finding.pk).update(deadline=today - dt.timedelta(days=1))
    officer = buses.users["officer"]
    assert [f.pk for f in sel.finding_list(actor=officer, state="overdue")] == [finding.pk]
    assert sel.finding_list(actor=officer, state="review") == []


# ------------------------------------------------------------------ a hazard from a finding


def test_a_finding_becomes_a_hazard_once(buses, finding):
    hazard = step("finding_make_hazard", buses, "officer", finding)
    assert hazard.school == buses.school and hazard.category == "traffic"
    assert hazard.title == "校车冀AX3712：超员"
    assert "核载19人，实载23人" in hazard.description
    finding.refresh_from_db()
    assert finding.hazard == hazard
    with pytest.raises(services.FindingRefused):
        step("finding_make_hazard", buses, "officer", finding)
    assert Hazard.objects.count() == 1


def test_a_hazard_needs_report_hazard(buses, finding):
    nurse = UserFactory(username="nurse")
    MembershipFactory(user=nurse, organization=buses.school, role=Role.HEALTH_STAFF)
    buses.users["nurse"] = nurse
    with pytest.raises(PermissionDenied):
        step("finding_make_hazard", buses, "nurse", finding)
    assert not Hazard.objects.exists()


def test_expired_documents_are_stored_in_chinese_whoever_checks(buses):
    """Review fix: an officer using the English pages stored an English finding text."""
    from django.utils import translation

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    buses.bus.insurance_expires_on = yesterday
    buses.bus.save()
    with translation.override("en"):
        draft = check(buses)
        inspection = record(buses)
    # The form shows the problems in the officer's language ...
    assert draft.document_problems == [f"Insurance expired on {yesterday.isoformat()}."]
    # ... the finding keeps them in the platform's.
    finding = inspection.findings.get()
    assert finding.kind == K.EXPIRED_DOCUMENTS
    assert finding.detail == f"保险已于 {yesterday.isoformat()} 过期。"
