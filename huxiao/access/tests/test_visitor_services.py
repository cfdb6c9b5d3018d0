"""Visitor check-in, screening, invitations, badges, the overstay flag and the purge."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from huxiao.access import codes
from huxiao.access import visitor_services as services
from huxiao.access.models import BlockedVisitor, GateSettings, Visit
from huxiao.access.tests.conftest import (
    BLOCKED_ID,
    CLEAR_ID,
    MONDAY,
    REGISTER_ID,
    REGISTER_NAME,
    at,
    visitor,
)
from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.intel.models import ScreeningHit
from huxiao.notify.models import Delivery

pytestmark = pytest.mark.django_db


def inbox(user):
    return [
        d.notification
        for d in Delivery.objects.filter(recipient=user, channel="inbox")
        .select_related("notification")
        .order_by("id")
    ]


def check_in(gate, now=None, actor="guard", **overrides):
    return services.visit_check_in(
        actor=gate.users[actor] if isinstance(actor, str) else actor,
        school=gate.school,
        now=now or at(MONDAY, "09:00"),
        **visitor(gate, **overrides),
    )


def state():
    return (Visit.objects.count(), ScreeningHit.objects.count(), Delivery.objects.count())


# ------------------------------------------------------------------ clear


def test_clear_visitor_is_inside_with_a_badge_until_closing(gate):
    visit = check_in(gate)
    assert visit.status == "inside" and visit.screening == "clear"
    assert visit.badge_expires_at == at(MONDAY, "18:00")
    assert visit.id_number_masked == CLEAR_ID[:4] + "*" * 10 + CLEAR_ID[-4:]
    assert CLEAR_ID not in str(Visit.objects.filter(pk=visit.pk).values().first())
    code = codes.verify(
        services.badge_text(visit),
        kinds={codes.BADGE},
        school_id=gate.school.pk,
        now=at(MONDAY, "17:59"),
    )
    assert code.ident == visit.badge_code
    # The audit row of the check-in, without the ID number.
    row = AuditEvent.objects.get(object_type="access.visit", object_id=str(visit.pk))
    assert row.action == AuditAction.CREATE and CLEAR_ID not in str(row.changes)
    assert inbox(gate.users["duty"]) == []


def test_after_closing_the_badge_lasts_to_the_end_of_the_day(gate):
    GateSettings.objects.create(school=gate.school, closing_time=dt.time(17, 0))
    visit = check_in(gate, now=at(MONDAY, "17:30"))
    assert services.local_now(visit.badge_expires_at).strftime("%H:%M:%S") == "23:59:59"


def test_a_device_checks_in_at_its_school(gate):
    from huxiao.accounts.services import device_principal

    device = device_principal(gate.device_token)
    visit = check_in(gate, actor=device)
    assert visit.checked_in_by is None and visit.checked_in_by_label == "device:门岗终端"


# ------------------------------------------------------------------ hold


def test_register_hit_holds_and_alerts_quietly(gate):
    visit = check_in(gate, id_number=REGISTER_ID, name=REGISTER_NAME)
    assert (visit.status, visit.screening, visit.badge_code) == ("expected", "hold", None)
    assert ScreeningHit.objects.filter(school=gate.school).count() == 1
    # The duty leader: a neutral alert; the station: the register's alert and the details.
    (leader,) = inbox(gate.users["duty"])
    assert leader.event_type == "access.visit_hold"
    assert REGISTER_ID[:4] + "*" in leader.body and REGISTER_ID not in leader.body
    for text in ("高危", "登记", "派出所", "警"):
        assert text not in leader.title + leader.body
    police = {n.event_type for n in inbox(gate.users["officer"])}
    assert police == {"intel.screening_hold", "access.visit_hold_details"}
    details = next(n for n in inbox(gate.users["officer"]) if n.event_type.startswith("access"))
    assert REGISTER_NAME in details.body and "13800138000" in details.body
    assert REGISTER_ID not in details.body and REGISTER_ID[:4] in details.body
    assert details.payload["url"] == f"/gate/visitors/{visit.pk}/"
    assert inbox(gate.users["guard"]) == [] and inbox(gate.users["teacher"]) == []


def test_blocklist_hit_holds_and_tells_only_the_duty_leader(gate):
    visit = check_in(gate, id_number=BLOCKED_ID)
    assert (visit.status, visit.screening) == ("expected", "hold")
    assert ScreeningHit.objects.count() == 0
    (leader,) = inbox(gate.users["duty"])
    assert leader.event_type == "access.visit_hold"
    assert inbox(gate.users["officer"]) == [] and inbox(gate.users["police"]) == []


def test_the_duty_leader_reads_the_same_for_both_lists(gate):
    check_in(gate, id_number=REGISTER_ID, name="同名", now=at(MONDAY, "09:00"))
    check_in(gate, id_number=BLOCKED_ID, name="同名", now=at(MONDAY, "09:00"))
    first, second = inbox(gate.users["duty"])
    assert first.title == second.title
    assert first.body.replace(REGISTER_ID[:4], "####").replace(REGISTER_ID[-4:], "####") == (
        second.body.replace(BLOCKED_ID[:4], "####").replace(BLOCKED_ID[-4:], "####")
    )


def test_without_a_duty_leader_the_principal_is_told(gate):
    gate.users["duty"].memberships.update(is_active=False)
    check_in(gate, id_number=BLOCKED_ID)
    assert [n.event_type for n in inbox(gate.users["principal"])] == ["access.visit_hold"]


def test_an_inactive_blocklist_entry_does_not_hold(gate):
    services.blocked_visitor_remove(actor=gate.users["principal"], entry=gate.blocked)
    assert check_in(gate, id_number=BLOCKED_ID).screening == "clear"


def test_the_hold_survives_a_failing_check_in(gate):
    """The police's record of the hit is written before, and apart from, the check-in."""
    with (
        # The audit row's insert (the visit's own comes first, in the same transaction).
        mock.patch.object(services.gate_sql, "insert", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        check_in(gate, id_number=REGISTER_ID)
    assert Visit.objects.count() == 0
    assert ScreeningHit.objects.filter(school=gate.school).count() == 1
    assert {n.event_type for n in inbox(gate.users["officer"])} == {"intel.screening_hold"}


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"id_number": CLEAR_ID[:-1] + ("0" if CLEAR_ID[-1] != "0" else "1")},
            "id_number",
            "校验位",
        ),
        ({"id_number": "1234"}, "id_number", "18"),
        ({"id_number": ""}, "id_number", "必填"),
        ({"name": ""}, "name", "必填"),
        ({"phone": "12"}, "phone", "手机"),
        ({"purpose": "party"}, "purpose", "来访事由"),
        ({"host": 999999}, "host", "接待人"),
        ({"host": "abc"}, "host", "接待人"),
        ({"host": None}, "host", "接待人"),
    ],
)
def test_bad_input_writes_nothing(gate, overrides, field, message):
    before = state()
    with pytest.raises(ValidationError) as exc:
        check_in(gate, **{"id_number": REGISTER_ID, **overrides})
    assert field in exc.value.message_dict
    assert message in " ".join(exc.value.message_dict[field])
    assert state() == before


def test_a_host_of_another_school_is_unknown(gate):
    with pytest.raises(ValidationError) as exc:
        check_in(gate, host=gate.other_staff.pk)
    assert "host" in exc.value.message_dict


def test_a_person_already_inside_is_refused_before_screening(gate):
    first = check_in(gate)
    before = state()
    with pytest.raises(ValidationError) as exc:
        check_in(gate, now=at(MONDAY, "10:00"))
    assert "已在校内" in exc.value.message_dict["id_number"][0]
    assert "09:00" in exc.value.message_dict["id_number"][0]
    assert state() == before
    services.visit_check_out(actor=gate.users["guard"], visit=first, now=at(MONDAY, "10:30"))
    assert check_in(gate, now=at(MONDAY, "11:00")).status == "inside"


def test_roles_without_the_gate_are_refused(gate):
    for who in ("teacher", "police", "principal2", "nobody"):
        with pytest.raises(PermissionDenied):
            check_in(gate, actor=who)
    assert Visit.objects.count() == 0 and ScreeningHit.objects.count() == 0


# ------------------------------------------------------------------ check-out, badges


def test_check_out_by_badge_once(gate):
    visit = check_in(gate)
    text = "\x02]Q1" + services.badge_text(visit).lower() + "\r\n"  # scanner noise
    left = services.visit_check_out_by_badge(
        actor=gate.users["guard"], school=gate.school, text=text, now=at(MONDAY, "19:00")
    )
    assert left.status == "left" and left.checked_out_at == at(MONDAY, "19:00")
    with pytest.raises(services.VisitRefused) as exc:
        services.visit_check_out_by_badge(actor=gate.users["guard"], school=gate.school, text=text)
    assert exc.value.reason == "该访客已离校。"


def test_a_tampered_or_foreign_badge_is_refused(gate):
    visit = check_in(gate)
    text = services.badge_text(visit)
    forged = text[:-1] + ("A" if text[-1] != "A" else "B")
    guard = gate.users["guard"]
    with pytest.raises(services.VisitRefused) as exc:
        services.visit_check_out_by_badge(actor=guard, school=gate.school, text=forged)
    assert exc.value.reason_code == "forged"
    with pytest.raises(services.VisitRefused) as exc:
        services.visit_check_out_by_badge(actor=guard, school=gate.school, text=text[:30])
    assert exc.value.reason_code == "malformed"
    other = codes.make(codes.BADGE, gate.other_school.pk, visit.badge_code, 2_000_000_000)
    with pytest.raises(services.VisitRefused) as exc:
        services.visit_check_out_by_badge(actor=guard, school=gate.school, text=other)
    assert exc.value.reason_code == "other_school"
    assert Visit.objects.get(pk=visit.pk).status == "inside"


# ------------------------------------------------------------------ invitations


def invite(gate, actor="teacher", day=MONDAY, **extra):
    fields = {"name": "家长乙", "phone": "13900139000", "purpose": "interview", "expected_on": day}
    fields.update(extra)
    return services.visit_pre_register(
        actor=gate.users[actor], school=gate.school, now=at(MONDAY, "08:00"), **fields
    )


def test_a_host_invites_and_the_invitation_works_once(gate):
    visit = invite(gate)
    assert visit.host == gate.staff and visit.status == "expected"
    text = services.invitation_text(visit)
    inside = check_in(gate, invitation=text, name="家长乙", now=at(MONDAY, "10:00"))
    assert inside.pk == visit.pk and inside.status == "inside"
    with pytest.raises(ValidationError) as exc:
        check_in(gate, invitation=text, id_number=BLOCKED_ID, now=at(MONDAY, "10:05"))
    assert exc.value.message_dict["invitation"] == ["已使用过"]
    with pytest.raises(services.VisitRefused) as exc:
        services.invitation_visit(actor=gate.users["guard"], school=gate.school, text=text)
    assert exc.value.reason_code == "replayed"
    assert Visit.objects.count() == 1


def test_an_invitation_for_tomorrow_or_cancelled_is_refused(gate):
    tomorrow = invite(gate, day=MONDAY + dt.timedelta(days=1))
    with pytest.raises(services.VisitRefused) as exc:
        services.invitation_visit(
            actor=gate.users["guard"],
            school=gate.school,
            text=services.invitation_text(tomorrow),
            now=at(MONDAY, "10:00"),
        )
    assert exc.value.reason_code == "not_yet_valid"
    today = invite(gate)
    services.visit_cancel(actor=gate.users["teacher"], visit=today)
    with pytest.raises(services.VisitRefused) as exc:
        services.invitation_visit(
            actor=gate.users["guard"],
            school=gate.school,
            text=services.invitation_text(today),
            now=at(MONDAY, "10:00"),
        )
    assert exc.value.reason_code == "replayed"


def test_a_held_invitation_is_used_up(gate):
    visit = invite(gate)
    held = check_in(gate, invitation=services.invitation_text(visit), id_number=BLOCKED_ID)
    assert (held.pk, held.screening) == (visit.pk, "hold")
    with pytest.raises(services.VisitRefused):
        services.invitation_visit(
            actor=gate.users["guard"], school=gate.school, text=services.invitation_text(visit)
        )


def test_pre_register_rules(gate):
    with pytest.raises(ValidationError) as exc:
        invite(gate, day=MONDAY - dt.timedelta(days=1))
    assert "expected_on" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        invite(gate, host=gate.other_staff.pk)
    assert "host" in exc.value.message_dict
    # The gate chooses any host of the school; a role with no staff record may not invite.
    assert invite(gate, actor="guard", host=gate.staff.pk).host == gate.staff
    with pytest.raises(PermissionDenied):
        invite(gate, actor="police")
    with pytest.raises(PermissionDenied):
        invite(gate, actor="principal2")


# ------------------------------------------------------------------ the blocklist


def test_blocklist_is_managed_by_manage_gate_only(gate):
    with pytest.raises(PermissionDenied):
        services.blocked_visitor_add(
            actor=gate.users["guard"], school=gate.school, name="某", id_number=CLEAR_ID, reason="r"
        )
    with pytest.raises(ValidationError) as exc:
        services.blocked_visitor_add(
            actor=gate.users["security"],
            school=gate.school,
            name="某",
            id_number=BLOCKED_ID,
            reason="再次",
        )
    assert "id_number" in exc.value.message_dict
    assert BlockedVisitor.objects.count() == 1


# ------------------------------------------------------------------ jobs


def test_visitors_inside_at_closing_are_flagged_once(gate):
    visit = check_in(gate, now=at(MONDAY, "09:00"))
    assert services.visits_flag_overstays(now=at(MONDAY, "17:59")) == []
    assert services.visits_flag_overstays(now=at(MONDAY, "18:05")) == [visit.pk]
    assert services.visits_flag_overstays(now=at(MONDAY, "18:15")) == []
    visit.refresh_from_db()
    assert visit.overstay_flagged_at == at(MONDAY, "18:05")
    (note,) = inbox(gate.users["duty"])
    assert note.event_type == "access.visit_overstay" and "访客甲" in note.body


def test_a_visitor_who_left_is_not_flagged(gate):
    visit = check_in(gate, now=at(MONDAY, "09:00"))
    services.visit_check_out(actor=gate.users["guard"], visit=visit, now=at(MONDAY, "17:00"))
    assert services.visits_flag_overstays(now=at(MONDAY, "18:05")) == []


def test_the_tasks_run(gate):
    from huxiao.access import tasks

    assert tasks.visitors_overstay_check.call_local() == 0
    assert tasks.gate_records_purge.call_local() == 0


def test_purge_after_the_retention_period_is_audited(gate):
    old = check_in(gate, now=at(MONDAY, "09:00"))
    services.visit_check_out(actor=gate.users["guard"], visit=old, now=at(MONDAY, "10:00"))
    Visit.objects.filter(pk=old.pk).update(created_at=at(MONDAY, "09:00"))
    still_inside = check_in(gate, name="未离开", id_number=make_other_id(), now=at(MONDAY, "09:00"))
    Visit.objects.filter(pk=still_inside.pk).update(created_at=at(MONDAY, "09:00"))
    services.blocked_visitor_remove(actor=gate.users["principal"], entry=gate.blocked)
    BlockedVisitor.objects.filter(pk=gate.blocked.pk).update(created_at=at(MONDAY, "09:00"))
    day_180 = at(MONDAY + dt.timedelta(days=180), "08:00")
    assert services.gate_records_purge(now=day_180) == {}
    day_181 = at(MONDAY + dt.timedelta(days=181), "09:30")
    assert services.gate_records_purge(now=day_181) == {gate.school.pk: 2}
    assert list(Visit.objects.values_list("pk", flat=True)) == [still_inside.pk]
    assert not BlockedVisitor.objects.exists()
    row = AuditEvent.objects.get(object_type="access.purge")
    assert row.school_id == gate.school.pk and row.changes["count"] == 2
    assert row.changes["cutoff"] == (day_181 - dt.timedelta(days=180)).isoformat()
    assert services.gate_records_purge(now=day_181) == {}


def test_one_schools_failing_purge_spares_none_of_the_others(gate, monkeypatch):
    """Each school is purged on its own: one that fails is logged and the task fails at the
    end, after every other school's purge (before, the first failure stopped the night's)."""
    from huxiao.core.roles import SCHOOL_KINDS
    from huxiao.orgs.models import Organization

    old = check_in(gate)
    services.visit_check_out(actor=gate.users["guard"], visit=old, now=at(MONDAY, "10:00"))
    Visit.objects.filter(pk=old.pk).update(created_at=at(MONDAY, "09:00"))
    others = list(Organization.objects.filter(kind__in=SCHOOL_KINDS).exclude(pk=gate.school.pk))
    assert others
    real = services.gate_notifications_purge
    called = []

    def failing_elsewhere(school, cutoff):
        called.append(school.pk)
        if school.pk != gate.school.pk:
            raise RuntimeError("disk full")
        return real(school, cutoff)

    monkeypatch.setattr(services, "gate_notifications_purge", failing_elsewhere)
    with pytest.raises(RuntimeError, match="purge failed for schools"):
        services.gate_records_purge(now=at(MONDAY + dt.timedelta(days=181), "03:00"))
    assert sorted(called) == sorted([gate.school.pk, *(o.pk for o in others)])
    assert not Visit.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(object_type="access.purge", school=gate.school).exists()


def test_retention_follows_the_schools_settings(gate):
    GateSettings.objects.create(school=gate.school, retention_days=30)
    old = check_in(gate)
    services.visit_check_out(actor=gate.users["guard"], visit=old, now=at(MONDAY, "10:00"))
    Visit.objects.filter(pk=old.pk).update(created_at=at(MONDAY, "09:00"))
    assert services.gate_records_purge(now=at(MONDAY + dt.timedelta(days=31), "09:00")) == {
        gate.school.pk: 1
    }


def test_retention_runs_from_the_visit_not_from_its_invitation(gate):
    """An invitation written weeks ahead and used yesterday is yesterday's record."""
    GateSettings.objects.create(school=gate.school, retention_days=30)
    visit = invite(gate)
    Visit.objects.filter(pk=visit.pk).update(created_at=at(MONDAY - dt.timedelta(days=29), "08:00"))
    check_in(
        gate, invitation=services.invitation_text(visit), name="家长乙", now=at(MONDAY, "10:00")
    )
    visit.refresh_from_db()
    services.visit_check_out(actor=gate.users["guard"], visit=visit, now=at(MONDAY, "11:00"))
    # Pre-registered for a day still ahead, never used: kept until that day is old.
    later = invite(gate, day=MONDAY + dt.timedelta(days=25), name="家长丙")
    Visit.objects.filter(pk=later.pk).update(created_at=at(MONDAY - dt.timedelta(days=29), "08:00"))
    assert services.gate_records_purge(now=at(MONDAY + dt.timedelta(days=2), "03:00")) == {}
    assert services.gate_records_purge(now=at(MONDAY + dt.timedelta(days=31), "03:00")) == {
        gate.school.pk: 1
    }
    assert list(Visit.objects.values_list("pk", flat=True)) == [later.pk]


def make_other_id():
    from huxiao.core.idcard import make_id_number

    return make_id_number("110105", dt.date(1970, 5, 5), 7)


# ------------------------------------------------------------------ the scan box


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (CLEAR_ID, "id_number"),
        (f"  {CLEAR_ID.lower()}\r\n", "id_number"),
        (f"]Q1{CLEAR_ID}", "id_number"),
        (CLEAR_ID[:17], "malformed"),
        ("123456", "pin"),
        (" 123456\n", "pin"),
        ("12345", "malformed"),
        ("", "malformed"),
        ("HX1.B.1.ABCD", "malformed"),
        ("x" * 5000, "malformed"),
    ],
)
def test_classify_scan(text, kind):
    assert services.classify_scan(text)[0] == kind


def test_classify_codes_with_noise(gate):
    for letter, kind in (
        ("P", "pass"),
        ("K", "pickup"),
        ("R", "pickup"),
        ("B", "badge"),
        ("I", "invitation"),
    ):
        text = codes.make(letter, gate.school.pk, "ABCDEF", 2_000_000_000)
        assert services.classify_scan(f"\x02{text.lower()} \r\n") == (kind, text)


def test_an_unused_invitation_expires_after_its_day(gate):
    visit = invite(gate)
    with pytest.raises(services.VisitRefused) as exc:
        services.invitation_visit(
            actor=gate.users["guard"],
            school=gate.school,
            text=services.invitation_text(visit),
            now=at(MONDAY + dt.timedelta(days=1), "08:00"),
        )
    assert exc.value.reason_code == "expired" and exc.value.reason == "已过期"
