"""Security review of the visitors (issue 5): hold alerts reach the people named and never a
school's channels; an invitation is used once even when two guards scan it at once; the
audit trail keeps no phone or QR serial; the purge takes the gate's notifications along; an
inviter reads the status only and only while at the school; probing the register with
made-up ID numbers pauses the screener and tells the police."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from huxiao.access import visitor_services as services
from huxiao.access.models import Visit
from huxiao.access.tests.conftest import (
    BLOCKED_ID,
    CLEAR_ID,
    MONDAY,
    REGISTER_ID,
    at,
    visitor,
)
from huxiao.audit.models import AuditEvent
from huxiao.core.idcard import make_id_number
from huxiao.notify.models import Delivery, Notification
from huxiao.notify.services import channel_config_create

pytestmark = pytest.mark.django_db

CHECK_IN = "/api/v1/visitors/check-in"


def check_in(gate, actor="guard", now=None, **overrides) -> Visit:
    return services.visit_check_in(
        actor=gate.users[actor] if isinstance(actor, str) else actor,
        school=gate.school,
        now=now or at(MONDAY, "09:00"),
        **visitor(gate, **overrides),
    )


def other_id(n: int) -> str:
    return make_id_number("110105", dt.date(1970, 5, 5), 100 + n)


def school_channel_deliveries(gate):
    return Delivery.objects.filter(channel_config__organization=gate.school)


def inbox(user, event_type):
    return [
        d.notification
        for d in Delivery.objects.filter(recipient=user, channel="inbox").select_related(
            "notification"
        )
        if d.notification.event_type == event_type
    ]


# ------------------------------------------------------------------ 1. silent alerts


@pytest.fixture
def channels(gate):
    """A WeCom robot of all teachers and a webhook at the school; a robot at the station."""
    channel_config_create(
        actor=None,
        organization=gate.school,
        kind="wecom",
        name="全体教师群",
        target="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=teachers",
    )
    channel_config_create(
        actor=None,
        organization=gate.school,
        kind="webhook",
        name="校园平台",
        target="https://school.example/hook",
        secret="webhook-signing-secret",
    )
    channel_config_create(
        actor=None,
        organization=gate.station,
        kind="wecom",
        name="值班室",
        target="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=station",
    )
    return gate


def test_hold_overstay_and_decision_never_reach_the_schools_channels(
    channels, django_capture_on_commit_callbacks
):
    gate = channels
    with django_capture_on_commit_callbacks(execute=False):
        register_hold = check_in(gate, id_number=REGISTER_ID, name="某甲")
        check_in(gate, id_number=BLOCKED_ID, name="某乙")
        services.visit_hold_resolve(
            actor=gate.users["duty"],
            visit=register_hold,
            decision="turn_away",
            note="派出所要求劝离",
            now=at(MONDAY, "09:10"),
        )
        check_in(gate, now=at(MONDAY, "09:00"))
        assert services.visits_flag_overstays(now=at(MONDAY, "18:05"))
    assert not school_channel_deliveries(gate).exists()
    # The people named still get them, in their inbox.
    for event in ("access.visit_hold", "access.visit_overstay"):
        assert inbox(gate.users["duty"], event)
        note = Notification.objects.filter(event_type=event).first()
        assert note.organization_id is None
    assert inbox(gate.users["officer"], "access.visit_hold_details")
    # The police alert goes to the station's own channels: the police are its readers.
    station = Delivery.objects.filter(channel_config__organization=gate.station)
    assert set(station.values_list("notification__event_type", flat=True)) >= {
        "access.visit_hold_details"
    }


def test_a_hold_through_the_api_sends_nothing_to_the_schools_robot(
    api, channels, django_capture_on_commit_callbacks
):
    gate = channels
    with django_capture_on_commit_callbacks(execute=False):
        response = api(
            "post",
            CHECK_IN,
            gate.users["guard"],
            json={
                "name": "某乙",
                "id_number": BLOCKED_ID,
                "phone": "13800138000",
                "purpose": "parent",
                "host_id": gate.staff.pk,
            },
        )
    assert response.status_code == 201 and response.json()["screening"] == "hold"
    assert not school_channel_deliveries(gate).exists()
    bodies = " ".join(Notification.objects.values_list("body", flat=True))
    assert "某乙" in bodies  # the duty leader's inbox still names the visitor


def test_the_police_alert_names_the_screener(gate):
    check_in(gate, actor="principal", id_number=REGISTER_ID)
    (alert,) = inbox(gate.users["officer"], "access.visit_hold_details")
    label = gate.users["principal"].get_full_name() or gate.users["principal"].get_username()
    assert label in alert.body


# ------------------------------------------------------------------ 2. one-time invitation


def test_an_invitation_scanned_by_two_guards_at_once_is_used_once(gate):
    invited = services.visit_pre_register(
        actor=gate.users["teacher"],
        school=gate.school,
        name="被邀请人",
        phone="13800138001",
        purpose="parent",
        expected_on=services.local_now().date(),
    )
    invitation = services.invitation_text(invited)
    guard = gate.users["guard"]
    from huxiao.intel import services as intel

    real = intel.screen_person
    second = {}

    def racing(**kwargs):
        # While the first check-in is being screened, a second guard uses the same QR.
        if not second:
            second["started"] = True
            second["visit"] = services.visit_check_in(
                actor=guard,
                school=gate.school,
                name="乙",
                id_number=other_id(1),
                phone="13800138002",
                purpose="parent",
                host=gate.staff.pk,
                invitation=invitation,
            )
        return real(**kwargs)

    with (
        mock.patch.object(intel, "screen_person", racing),
        pytest.raises(ValidationError) as refused,
    ):
        services.visit_check_in(
            actor=guard,
            school=gate.school,
            name="甲",
            id_number=CLEAR_ID,
            phone="13800138000",
            purpose="parent",
            host=gate.staff.pk,
            invitation=invitation,
        )
    assert refused.value.message_dict == {"invitation": ["已使用过"]}
    # The first to save keeps the invitation; nothing of the refused one was written.
    visit = Visit.objects.get()
    assert visit.pk == invited.pk == second["visit"].pk
    assert visit.name == "乙" and visit.badge_code == second["visit"].badge_code
    assert not AuditEvent.objects.filter(
        object_type="access.visit", changes__icontains="甲"
    ).exists()


# ------------------------------------------------------------------ 3. audit and retention


def test_the_audit_trail_keeps_no_phone_badge_or_invitation_serial(gate):
    invited = services.visit_pre_register(
        actor=gate.users["teacher"],
        school=gate.school,
        name="被邀请人",
        phone="13800138001",
        purpose="parent",
        expected_on=services.local_now().date(),
    )
    visit = services.visit_check_in(
        actor=gate.users["guard"],
        school=gate.school,
        invitation=services.invitation_text(invited),
        **visitor(gate, phone="13900139009"),
    )
    services.visit_check_out(actor=gate.users["guard"], visit=visit)
    rows = AuditEvent.objects.filter(object_type="access.visit", object_id=str(visit.pk))
    assert rows.count() == 3
    trail = json.dumps([row.changes for row in rows], ensure_ascii=False)
    for secret in ("13800138001", "13900139009", visit.badge_code, invited.invitation_code):
        assert secret not in trail
    # That a badge was issued is still on record.
    assert "badge_expires_at" in trail


def test_the_purge_takes_the_gates_notifications_along(channels):
    gate = channels
    old_hold = check_in(gate, id_number=BLOCKED_ID, name="旧访客")
    Visit.objects.filter(pk=old_hold.pk).update(created_at=at(MONDAY, "09:00"))
    old_notes = Notification.objects.filter(event_type__startswith="access.")
    old_ids = set(old_notes.values_list("pk", flat=True))
    assert old_ids and Delivery.objects.filter(notification__in=old_ids).exists()
    old_notes.update(created_at=at(MONDAY, "09:00"))

    def note(event_type, school, day=MONDAY):
        return Notification.objects.create(
            event_type=event_type,
            title="t",
            body="某人",
            payload={"school_id": school.pk},
            created_at=at(day, "09:00"),
        ).pk

    old_ids.add(note("pickup.refused", gate.school))
    other_school = note("access.visit_hold", gate.other_school)
    unrelated = note("alarm.raised", gate.school)
    recent = note("access.visit_overstay", gate.school, MONDAY + dt.timedelta(days=100))

    now = at(MONDAY + dt.timedelta(days=181), "09:30")
    assert services.gate_records_purge(now=now) == {gate.school.pk: 1}
    assert set(Notification.objects.values_list("pk", flat=True)) == {unrelated, recent}
    assert not Delivery.objects.filter(notification__in=old_ids).exists()
    row = AuditEvent.objects.get(object_type="access.purge", school=gate.school)
    assert row.changes["count"] == 1 and row.changes["notifications"] == len(old_ids)
    # The other school's old notification went in its own purge, audited there.
    assert other_school not in set(Notification.objects.values_list("pk", flat=True))
    other_row = AuditEvent.objects.get(object_type="access.purge", school=gate.other_school)
    assert other_row.changes == {**other_row.changes, "count": 0, "notifications": 1}


# ------------------------------------------------------------------ 4. the inviter


def held_invitation(gate) -> Visit:
    invited = services.visit_pre_register(
        actor=gate.users["teacher"],
        school=gate.school,
        name="被邀请人",
        phone="13800138001",
        purpose="parent",
        expected_on=services.local_now().date(),
    )
    return services.visit_check_in(
        actor=gate.users["guard"],
        school=gate.school,
        invitation=services.invitation_text(invited),
        **visitor(gate, id_number=REGISTER_ID, name="被邀请人"),
    )


def test_the_inviter_reads_the_status_but_never_the_hold(api, gate):
    visit = held_invitation(gate)
    assert visit.screening == "hold"
    data = api("get", f"/api/v1/visitors/{visit.pk}", gate.users["teacher"]).json()
    assert data["status"] == "expected" and data["name"] == "被邀请人"
    assert data["screening"] == "" and data["hold_resolution"] == ""
    assert data["checked_in_at"] is None
    assert '"hold"' not in json.dumps(data)
    # The gate still reads it.
    gate_data = api("get", f"/api/v1/visitors/{visit.pk}", gate.users["guard"]).json()
    assert gate_data["screening"] == "hold" and gate_data["checked_in_at"]
    # The page: no arrival time, no "not admitted" once turned away.
    services.visit_hold_resolve(
        actor=gate.users["duty"], visit=visit, decision="turn_away", note="劝离"
    )
    client = Client()
    client.force_login(gate.users["teacher"])
    page = client.get(f"/gate/visitors/{visit.pk}/").content.decode()
    assert 'data-state="cancelled"' in page
    assert "劝离" not in page and 'data-state="turned_away"' not in page
    assert "到达" not in page and "Arrived" not in page


def test_the_inviter_is_not_shown_what_the_gate_took_down_of_a_held_visitor(api, gate):
    """A pre-registration has no ID number or items: on a held visit they would tell the
    host what the gate took down. The gate still reads them."""
    visit = held_invitation(gate)
    assert visit.id_number_masked and visit.items
    data = api("get", f"/api/v1/visitors/{visit.pk}", gate.users["teacher"]).json()
    assert data["id_number_masked"] == "" and data["items"] == ""
    client = Client()
    client.force_login(gate.users["teacher"])
    page = client.get(f"/gate/visitors/{visit.pk}/").content.decode()
    assert visit.id_number_masked not in page and visit.items not in page
    gate_data = api("get", f"/api/v1/visitors/{visit.pk}", gate.users["guard"]).json()
    assert gate_data["id_number_masked"] == visit.id_number_masked
    assert gate_data["items"] == visit.items
    # Once admitted, the visit is an ordinary one for the host too.
    services.visit_hold_resolve(actor=gate.users["duty"], visit=visit, decision="admit", note="")
    data = api("get", f"/api/v1/visitors/{visit.pk}", gate.users["teacher"]).json()
    assert data["status"] == "inside" and data["id_number_masked"] == visit.id_number_masked


def test_an_inviter_who_left_the_school_reads_nothing(api, gate):
    visit = held_invitation(gate)
    teacher = gate.users["teacher"]
    teacher.memberships.filter(organization=gate.school).update(is_active=False)
    assert api("get", f"/api/v1/visitors/{visit.pk}", teacher).status_code == 404
    client = Client()
    client.force_login(teacher)
    assert client.get(f"/gate/visitors/{visit.pk}/").status_code == 404


# ------------------------------------------------------------------ 5. probing the register


def test_too_many_holds_pause_the_screener_and_tell_the_station_once(gate):
    principal = gate.users["principal"]
    for n in range(services.HOLD_BURST_LIMIT):
        number = REGISTER_ID if n % 2 else BLOCKED_ID
        assert check_in(gate, actor="principal", id_number=number).screening == "hold"
    assert not Notification.objects.filter(event_type=services.SCREENING_UNUSUAL_EVENT).exists()
    # One more hold: the limit is passed; the station learns who, once.
    check_in(gate, actor="principal", id_number=REGISTER_ID)
    (alert,) = Notification.objects.filter(event_type=services.SCREENING_UNUSUAL_EVENT)
    assert alert.organization_id == gate.station.pk
    assert principal.get_username() in alert.body or principal.get_full_name() in alert.body
    assert inbox(gate.users["officer"], services.SCREENING_UNUSUAL_EVENT)
    assert not inbox(gate.users["duty"], services.SCREENING_UNUSUAL_EVENT)
    # Further check-ins by the same screener are refused before screening, writing nothing.
    before = (Visit.objects.count(), Notification.objects.count(), AuditEvent.objects.count())
    with pytest.raises(services.VisitRefused) as refused:
        check_in(gate, actor="principal", id_number=other_id(2))
    assert refused.value.reason_code == "screening_paused"
    assert refused.value.reason == services.SCREENING_PAUSED
    assert (Visit.objects.count(), Notification.objects.count(), AuditEvent.objects.count()) == (
        before
    )
    # Another screener at the same gate carries on.
    assert check_in(gate, actor="guard", id_number=other_id(3)).screening == "clear"


def test_the_pause_is_a_400_with_the_message_through_the_api(api, gate):
    from django.core.cache import cache

    cache.set(services._screener_key(gate.users["guard"], gate.school) + ":paused", 1, 60)
    response = api(
        "post",
        CHECK_IN,
        gate.users["guard"],
        json={
            "name": "访客",
            "id_number": CLEAR_ID,
            "phone": "13800138000",
            "purpose": "parent",
            "host_id": gate.staff.pk,
        },
    )
    assert response.status_code == 400
    assert str(services.SCREENING_PAUSED) in json.dumps(response.json(), ensure_ascii=False)
    assert not Visit.objects.exists()


def test_clear_check_ins_do_not_count(gate):
    for n in range(services.HOLD_BURST_LIMIT + 3):
        visit = check_in(gate, id_number=other_id(10 + n), name=f"访客{n}")
        assert visit.screening == "clear"
    assert check_in(gate, id_number=REGISTER_ID).screening == "hold"


# ------------------------------------------------------------------ 6. the cost of a check-in


def test_a_check_in_through_the_api_takes_a_fixed_number_of_queries(
    api, gate, django_assert_num_queries
):
    """Device token, school (with its gate rules), host + already inside + blocklist (one
    statement), the register (two), then the visit and its audit row in one transaction."""

    def send(n):
        fields = visitor(gate, id_number=other_id(50 + n), name=f"访客{n}")
        fields["host_id"] = fields.pop("host")
        return api(
            "post",
            CHECK_IN,
            json=fields,
            HTTP_AUTHORIZATION=f"Bearer {gate.device_token}",
        )

    assert send(0).status_code == 201  # the token's last use is recorded once a minute
    with django_assert_num_queries(9):  # 7 + the transaction's savepoint and release
        response = send(1)
    assert response.status_code == 201 and response.json()["screening"] == "clear"


def test_the_inside_lookup_uses_the_one_inside_index(gate):
    """No ORDER BY and the partial index's own condition: a search, not a scan of every
    visitor inside."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    id_hash = check_in(gate).id_number_hash
    with CaptureQueriesContext(connection) as queries:
        assert services._inside_since(gate.school, id_hash) == at(MONDAY, "09:00")
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert "ORDER BY" not in sql and "NOT (" in sql
    assert '"checked_in_at"' in sql and '"photo_encrypted"' not in sql
