"""screen_person: "clear" or "hold" only; exact by ID number, fuzzy by name and birth date
(homophones, fuzzy sounds, slips); closed records never hold; a hold alerts the police and
leaves a hit and a sealed audit row; a clear writes nothing."""

import dataclasses
import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from huxiao.accounts.services import device_principal, device_token_issue
from huxiao.audit.models import AuditEvent
from huxiao.core.idcard import make_id_number
from huxiao.intel import services
from huxiao.intel.models import ScreeningHit
from huxiao.intel.services import screen_person
from huxiao.intel.tests.conftest import PERSON_ID_NUMBER, PERSON_NAME, register_state
from huxiao.notify.models import Delivery, Notification

pytestmark = pytest.mark.django_db

BORN = dt.date(1979, 3, 14)


def screen(reg, who="guard", school=None, **kwargs):
    return screen_person(actor=reg.users[who], school=school or reg.school, **kwargs)


def test_the_result_says_clear_or_hold_and_nothing_else():
    fields = {f.name for f in dataclasses.fields(services.ScreeningResult)}
    assert fields == {"outcome"}


def test_exact_by_id_number(reg, person):
    result = screen(reg, id_number=PERSON_ID_NUMBER)
    assert result.outcome == "hold" and result.is_hold
    hit = ScreeningHit.objects.get()
    assert hit.person == person and hit.match == "id_number" and hit.school == reg.school
    assert hit.screened_by == reg.users["guard"]


def test_id_number_with_spaces_and_lowercase_x_is_normalized(reg):
    number = make_id_number("130123", dt.date(1990, 5, 5), 2)
    services.person_register(
        actor=reg.users["police"],
        station=reg.station,
        name="王五",
        id_number=number,
        category="other",
        risk_level="low",
    )
    assert screen(reg, id_number=" " + number[:6] + " " + number[6:].lower()).is_hold


@pytest.mark.parametrize(
    "name",
    [
        "张三丰",  # the same
        "章三峰",  # homophones
        "张山风",  # homophones
        "张三奉",  # feng/feng
        "张山凤",
        "张三",  # a character missing
        "张三峰丰",  # one extra
        "臧三丰",  # zang/zhang: zh/z
        "张三分",  # feng/fen: -ng/-n
        "张三凤",
    ],
)
def test_fuzzy_by_name_and_birth_date(reg, person, name):
    assert screen(reg, name=name, birth_date=BORN).is_hold
    assert ScreeningHit.objects.get().match == "name_birth_date"


@pytest.mark.parametrize(
    ("name", "born"),
    [
        ("李四", BORN),  # another name
        ("张飞", BORN),  # two characters different
        ("赵三丰", BORN),  # another surname: a namesake, not a slip
        ("张三丰", BORN + dt.timedelta(days=1)),  # another birth date
    ],
)
def test_fuzzy_does_not_hold_other_people(reg, person, name, born):
    before = register_state()
    audit_before = AuditEvent.objects.count()
    assert screen(reg, name=name, birth_date=born).outcome == "clear"
    # A clear writes nothing and tells nobody.
    assert register_state() == before
    assert AuditEvent.objects.count() == audit_before
    assert not Notification.objects.exists()


def test_birth_date_is_taken_from_the_id_number_for_the_name_check(reg, person):
    # A person registered without a number is found by name when the visitor shows one.
    services.person_update(actor=reg.users["police"], person=person, id_number="")
    other_number = make_id_number("110101", BORN, 5)
    assert screen(reg, id_number=other_number, name="章三丰").is_hold


def test_a_visitor_with_another_id_number_is_not_a_namesakes_match(reg, person):
    # Same name, same birth date, another number: another person; the record has its own.
    other_number = make_id_number("110101", BORN, 5)
    assert screen(reg, id_number=other_number, name=PERSON_NAME).outcome == "clear"


def test_a_closed_record_never_holds(reg, person):
    services.person_close(actor=reg.users["police"], person=person, reason="deceased")
    assert screen(reg, id_number=PERSON_ID_NUMBER).outcome == "clear"
    assert screen(reg, name="张三丰", birth_date=BORN).outcome == "clear"


def test_a_hold_alerts_the_owning_station_and_leaves_a_sealed_audit_row(reg, person):
    screen(reg, id_number=PERSON_ID_NUMBER)
    inbox = Delivery.objects.filter(channel="inbox")
    assert set(inbox.values_list("recipient__username", flat=True)) == {
        "police",
        "officer",
        "postofficer",
    }  # not the legal vice-principal, not the school
    notification = Notification.objects.get()
    assert notification.event_type == "intel.screening_hold"
    assert notification.organization_id == reg.station.pk
    assert person.reference in notification.body and "张三丰" not in notification.body
    assert PERSON_ID_NUMBER not in notification.body
    row = AuditEvent.objects.get(object_type="intel.screeninghit")
    assert row.school_id is None and row.actor == reg.users["guard"]
    assert row.changes == {
        "person_id": person.pk,
        "school_id": reg.school.pk,
        "match": "id_number",
    }


def test_a_repeated_check_of_the_same_visitor_pages_the_police_once(reg, person):
    # Across a ten-minute mark on the clock: the window counts from the last hit.
    now = timezone.now().replace(minute=9, second=50, microsecond=0)
    screen(reg, id_number=PERSON_ID_NUMBER, now=now)
    screen(reg, id_number=PERSON_ID_NUMBER, now=now + dt.timedelta(seconds=30))
    assert ScreeningHit.objects.count() == 2  # both visits are part of the movements
    assert Notification.objects.count() == 1
    # Eleven minutes after the last hit the police are paged again.
    screen(reg, id_number=PERSON_ID_NUMBER, now=now + dt.timedelta(seconds=30 + 660))
    assert Notification.objects.count() == 2


def test_a_hold_at_another_stations_school_tells_both_stations(reg, person):
    screen(reg, who="farpolice", school=reg.far_school, id_number=PERSON_ID_NUMBER)
    by_user = {
        d.recipient.username: d.notification
        for d in Delivery.objects.filter(channel="inbox").select_related(
            "notification", "recipient"
        )
    }
    assert set(by_user) == {"police", "officer", "postofficer", "farpolice"}
    # The local station learns that a register matched, not whose entry it is.
    assert person.reference not in by_user["farpolice"].body
    assert "url" not in by_user["farpolice"].payload


def test_who_may_screen(reg, person):
    # The gate (guard, principal, terminal) and the police of the school's station may.
    for who in ("guard", "principal", "police", "officer", "postofficer"):
        assert screen(reg, who=who, name="李四", birth_date=BORN).outcome == "clear"
    _device, token = device_token_issue(
        actor=None, school=reg.school, name="东门终端", kind="gate_terminal"
    )
    terminal = device_principal(token)
    assert screen_person(actor=terminal, school=reg.school, id_number=PERSON_ID_NUMBER).is_hold
    assert ScreeningHit.objects.get().screened_by_label == "device:东门终端"
    # Not another school's guard, a teacher, an office, or police of another station.
    for who in ("teacher", "principal2", "edu", "county", "health", "lvp", "farpolice"):
        with pytest.raises(PermissionDenied):
            screen(reg, who=who, id_number=PERSON_ID_NUMBER)
    assert ScreeningHit.objects.count() == 1


def test_bad_input(reg, person):
    with pytest.raises(ValidationError) as exc:
        screen(reg, id_number="12345")
    assert "id_number" in exc.value.message_dict
    with pytest.raises(ValidationError):
        screen(reg, name="张三丰")  # a name alone is not enough
    with pytest.raises(ValidationError):
        screen(reg)
    with pytest.raises(ValidationError):
        screen(reg, name="张三丰", birth_date="not a date")
    assert not ScreeningHit.objects.exists()


def test_screening_is_a_couple_of_queries(reg, person):
    with CaptureQueriesContext(connection) as queries:
        screen(reg, id_number=make_id_number("130123", BORN, 8), name="李四")
    # Membership scope (one, cached) + exact lookup + birth-date bucket.
    assert len(queries) <= 3
