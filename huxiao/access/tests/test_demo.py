"""The demo gate of 大杨树实验幼儿园: demo mode only, idempotent, scoped to the kindergarten,
and its documented credentials (test visitors, PINs) do what the demo says.

Loading the township takes a couple of seconds, so it is loaded once per test that needs it
(django_db rolls back after each test)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from huxiao.access import pickup_services, visitor_services
from huxiao.access.choices import Screening, VisitStatus
from huxiao.access.demo import (
    CLEAR_VISITOR_ID,
    CLEAR_VISITOR_NAME,
    CLEAR_VISITOR_PHONE,
    HELD_VISITOR_ID,
    HELD_VISITOR_NAME,
    SCHOOL_NAME,
    demo_pin,
    last_school_day,
    load_demo_gate,
)
from huxiao.access.models import (
    BlockedVisitor,
    GatePass,
    GateSettings,
    Interception,
    PickupCode,
    PickupDelegate,
    PickupRefusal,
    Release,
    Visit,
)
from huxiao.audit.models import AuditEvent
from huxiao.core.roles import Action
from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.intel.demo import load_demo_register
from huxiao.orgs.models import Organization
from huxiao.people.models import Guardian, SchoolClass, Staff

pytestmark = pytest.mark.django_db

GATE_MODELS = (
    GateSettings,
    Visit,
    GatePass,
    BlockedVisitor,
    PickupCode,
    PickupDelegate,
    Release,
    Interception,
    PickupRefusal,
)


def _counts() -> dict:
    return {model.__name__: model.objects.count() for model in GATE_MODELS}


def _user(username):
    return get_user_model().objects.get(username=username)  # fresh: no cached scope


@pytest.fixture
def township(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    load_demo_register()
    return Organization.objects.get(name=SCHOOL_NAME)


def test_refused_outside_demo_mode(township):
    before = {**_counts(), "AuditEvent": AuditEvent.objects.count()}
    with override_settings(DEMO_MODE=False), pytest.raises(DemoModeOff):
        load_demo_gate()
    assert {**_counts(), "AuditEvent": AuditEvent.objects.count()} == before
    assert not PickupCode.objects.exists()


@override_settings(DEMO_MODE=True)
def test_nothing_without_the_township():
    assert load_demo_gate()["created"] == {}
    assert all(count == 0 for count in _counts().values())


def test_loads_once_and_again_adds_nothing(township):
    today = timezone.localdate()
    first = load_demo_gate()
    guardians = Guardian.objects.filter(
        child__school=township, child__is_active=True, can_pick_up=True
    ).count()
    assert first["created"] == {
        "settings": 1,
        "expected": 3,
        "visits": 2,
        "passes": 2,
        "blocklist": 1,
        "codes": guardians,
        "delegates": 1,
        "releases": 5,
        "interceptions": 1,
    }
    counts = _counts()
    second = load_demo_gate()
    assert second["created"] == {}
    assert _counts() == counts
    assert second["pins"] == first["pins"] and second["delegate_pin"] == first["delegate_pin"]

    # Today's expected visitors with an invitation; the last school day's came and left.
    expected = Visit.objects.filter(school=township, expected_on=today)
    assert expected.count() == 3
    assert all(v.invitation_code and v.status == VisitStatus.EXPECTED for v in expected)
    last_day = last_school_day(today)
    gone = Visit.objects.filter(school=township, status=VisitStatus.LEFT)
    assert gone.count() == 2
    assert {timezone.localtime(v.checked_in_at).date() for v in gone} == {last_day}
    assert set(Release.objects.values_list("on_date", flat=True)) == {last_day}
    assert PickupDelegate.objects.get().on_date == today
    assert {p.kind for p in GatePass.objects.all()} == {"staff", "vehicle"}
    assert Interception.objects.get().police_notified_at is not None
    assert not PickupRefusal.objects.exists()
    # One import row for the bulk of the codes; the rest went through the audited services.
    assert AuditEvent.objects.filter(object_type="access.pickupcode", action="import").count() == 1
    assert AuditEvent.objects.filter(object_type="access.visit").exists()


def test_the_next_school_day_gets_its_own_day_and_keeps_the_pins(township):
    today = timezone.localdate()
    first = load_demo_gate(today=today)
    codes = PickupCode.objects.filter(guardian__isnull=False).count()
    next_day = today + dt.timedelta(days=1)
    while next_day.weekday() >= 5:
        next_day += dt.timedelta(days=1)
    second = load_demo_gate(today=next_day)
    assert second["created"]["expected"] == 3 and second["created"]["delegates"] == 1
    assert "codes" not in second["created"]
    assert PickupCode.objects.filter(guardian__isnull=False).count() == codes
    # The delegate's demo PIN moves to that day's delegate (the old one's day is over).
    assert second["delegate_pin"] == first["delegate_pin"] == "110299"
    live = PickupCode.objects.filter(delegate__isnull=False, revoked_at__isnull=True)
    assert [c.delegate.on_date for c in live] == [next_day]
    assert second["pins"] == first["pins"]


def test_scoped_to_the_kindergarten(township):
    load_demo_gate()
    for model in GATE_MODELS:
        assert set(model.objects.values_list("school_id", flat=True)) <= {township.pk}, model
    guard, stranger = _user("guard"), _user("principal2")
    assert Visit.objects.visible_to(guard, Action.REGISTER_VISITOR).count() == 5
    assert not Visit.objects.visible_to(stranger, Action.REGISTER_VISITOR).exists()
    assert not PickupCode.objects.visible_to(stranger, Action.VIEW).exists()
    # A staff pass belongs to a staff member of the school; every code to its adult there.
    assert GatePass.objects.get(kind="staff").staff.school_id == township.pk
    assert (
        not PickupCode.objects.exclude(guardian__child__school=township)
        .exclude(guardian=None)
        .exists()
    )


def test_documented_pins_and_test_visitors_work(township):
    result = load_demo_gate()
    guard = _user("guard")
    small_one = SchoolClass.objects.get(school=township, name="小一班")
    children = list(small_one.children.filter(is_active=True).order_by("name", "id"))
    first_child = children[0]
    child, adult, _relationship, pin = result["pins"][0]
    assert (child, pin) == (first_child.name, "110101") == (child, demo_pin(small_one, 1, 1))
    assert (
        adult
        == first_child.guardians.filter(can_pick_up=True).order_by("-is_primary", "id").first().name
    )

    match = pickup_services.pickup_lookup(actor=guard, school=township, text="110101")
    assert match.child == first_child and match.adult_name == adult
    delegate = pickup_services.pickup_lookup(
        actor=guard, school=township, text=result["delegate_pin"]
    )
    assert delegate.is_delegate and delegate.child == children[1]
    assert delegate.adult_name == "周玉兰"

    host = Staff.objects.filter(school=township, role="teacher").first()
    common = {"actor": guard, "school": township, "purpose": "parent", "host": host.pk}
    held = visitor_services.visit_check_in(
        name=HELD_VISITOR_NAME, id_number=HELD_VISITOR_ID, phone="13800000001", **common
    )
    clear = visitor_services.visit_check_in(
        name=CLEAR_VISITOR_NAME, id_number=CLEAR_VISITOR_ID, phone=CLEAR_VISITOR_PHONE, **common
    )
    assert held.screening == Screening.HOLD and clear.screening == Screening.CLEAR


def test_demo_command_prints_the_gate_credentials(settings):
    settings.DEMO_MODE = True
    out = io.StringIO()
    call_command("demo", verbosity=2, stdout=out)
    text = out.getvalue()
    assert HELD_VISITOR_ID in text and CLEAR_VISITOR_ID in text
    assert "110101" in text and "110299" in text
    quiet = io.StringIO()
    call_command("demo", verbosity=1, stdout=quiet)
    assert "110101" not in quiet.getvalue()


def test_last_school_day_skips_the_weekend():
    monday = dt.date(2026, 11, 30)
    assert last_school_day(monday) == dt.date(2026, 11, 27)
    assert last_school_day(dt.date(2026, 12, 1)) == monday
