"""The duty leader's decision on a held visitor (ADR 0023, addendum): who may decide (not
the guard), admit → inside with a badge, turn away → closed with a note, the police station
that was alerted learns the outcome, and the resolver's page and JSON never show the
register's data."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from huxiao.access import visitor_services as services
from huxiao.access.models import Visit
from huxiao.access.tests.conftest import BLOCKED_ID, CLEAR_ID, MONDAY, REGISTER_ID, at, visitor
from huxiao.audit.models import AuditEvent
from huxiao.notify.models import Delivery, Notification

pytestmark = pytest.mark.django_db

HELD_AT = at(MONDAY, "09:00")
LATER = at(MONDAY, "09:20")


def inbox(user, event_type=None):
    rows = Delivery.objects.filter(recipient=user, channel="inbox").select_related("notification")
    notes = [d.notification for d in rows.order_by("id")]
    return [n for n in notes if event_type is None or n.event_type == event_type]


def hold(gate, id_number=REGISTER_ID, now=HELD_AT, **overrides) -> Visit:
    visit = services.visit_check_in(
        actor=gate.users["guard"],
        school=gate.school,
        now=now,
        **visitor(gate, id_number=id_number, **overrides),
    )
    assert visit.screening == "hold" and visit.status == "expected"
    return visit


def hold_now(gate, id_number=REGISTER_ID) -> Visit:
    """A hold at the real clock (the pages decide with timezone.now())."""
    return hold(gate, id_number=id_number, now=timezone.now())


def resolve(gate, visit, decision, note="", who="duty", now=LATER):
    return services.visit_hold_resolve(
        actor=gate.users[who] if isinstance(who, str) else who,
        visit=visit,
        decision=decision,
        note=note,
        now=now,
    )


def register_secrets(gate) -> list[str]:
    """What the register knows and a school role must never read."""
    person = gate.register_person
    return [
        person.reference,
        "张三丰",
        "大杨树镇幸福路12号",
        "曾在校门口扬言报复",
        "revenge_threat",
        str(person.get_category_display()),
        "高危",
        "登记",
        # The visitor's own ID number is shown masked (as in the duty leader's alert),
        # never in full.
        REGISTER_ID,
    ]


# ------------------------------------------------------------------ who decides


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("duty", True),
        ("principal", True),
        ("security", True),
        ("guard", False),
        ("teacher", False),
        ("officer", False),
        ("police", False),
        ("principal2", False),
        ("edu", False),
        ("nobody", False),
    ],
)
def test_service_role_matrix(gate, who, allowed):
    visit = hold(gate)
    if allowed:
        assert resolve(gate, visit, "admit", who=who).status == "inside"
        return
    with pytest.raises(PermissionDenied):
        resolve(gate, visit, "admit", who=who)
    visit.refresh_from_db()
    assert (visit.status, visit.hold_resolution, visit.badge_code) == ("expected", "", None)
    assert inbox(gate.users["officer"], "access.visit_hold_resolved") == []


def test_a_gate_device_cannot_decide(gate):
    from huxiao.accounts.services import device_principal

    visit = hold(gate)
    with pytest.raises(PermissionDenied):
        resolve(gate, visit, "admit", who=device_principal(gate.device_token))
    assert Visit.objects.get(pk=visit.pk).status == "expected"


def test_a_guard_who_is_also_duty_leader_elsewhere_cannot_decide_here(gate):
    from huxiao.core.roles import Role
    from huxiao.orgs.tests.factories import MembershipFactory

    MembershipFactory(user=gate.users["guard"], organization=gate.other_school, role="duty_leader")
    assert Role.DUTY_LEADER in services.HOLD_RESOLVER_ROLES
    with pytest.raises(PermissionDenied):
        resolve(gate, hold(gate), "admit", who="guard")


# ------------------------------------------------------------------ admit


def test_admit_makes_the_visit_inside_with_a_badge_and_tells_the_police(gate):
    visit = hold(gate)
    admitted = resolve(gate, visit, "admit", note="已与派出所核实")
    assert admitted.status == "inside" and admitted.screening == "hold"
    assert admitted.hold_resolution == "admitted" and admitted.badge_code
    assert admitted.hold_resolved_by == gate.users["duty"] and admitted.hold_resolved_at == LATER
    assert admitted.badge_expires_at > LATER
    # Audited, without the ID number.
    row = AuditEvent.objects.filter(object_type="access.visit", object_id=str(visit.pk)).latest(
        "id"
    )
    assert row.changes["fields"]["hold_resolution"] == ["", "admitted"]
    assert REGISTER_ID not in json.dumps(row.changes, ensure_ascii=False)
    # The station that got the visitor's details learns the outcome; the school does not
    # get a copy.
    (told,) = inbox(gate.users["officer"], "access.visit_hold_resolved")
    assert told.organization_id == gate.station.pk
    assert "准许" in told.title and "已与派出所核实" in told.body and "访客甲" in told.body
    assert told.payload["url"] == reverse("access:visit_detail", args=[visit.pk])
    assert inbox(gate.users["police"], "access.visit_hold_resolved")
    assert inbox(gate.users["farpolice"]) == []
    assert inbox(gate.users["duty"], "access.visit_hold_resolved") == []
    assert inbox(gate.users["guard"]) == []


def test_an_admitted_visitor_looks_like_a_normal_check_in_at_the_gate(client, gate):
    visit = hold_now(gate)
    client.force_login(gate.users["duty"])
    response = client.post(reverse("access:visit_hold", args=[visit.pk]), {"decision": "admit"})
    assert response.status_code == 302
    assert Visit.objects.get(pk=visit.pk).status == "inside"
    client.force_login(gate.users["guard"])
    kiosk = client.get(reverse("access:kiosk", args=[gate.school.pk])).content.decode()
    assert f'data-testid="inside-{visit.pk}"' in kiosk
    assert f'data-testid="waiting-{visit.pk}"' not in kiosk
    page = client.get(reverse("access:visit_detail", args=[visit.pk])).content.decode()
    assert 'data-state="inside"' in page and 'data-testid="badge-qr"' in page
    assert "请稍候，联系值班领导" not in page
    assert client.get(reverse("access:visit_badge", args=[visit.pk])).status_code == 200
    # The guard can check the admitted visitor out as any other.
    checked_out = client.post(reverse("access:visit_check_out", args=[visit.pk]))
    assert checked_out.status_code == 302 and Visit.objects.get(pk=visit.pk).status == "left"


def test_admitting_a_hold_of_an_earlier_day_is_refused(gate):
    visit = hold(gate)
    with pytest.raises(services.VisitRefused) as refused:
        resolve(gate, visit, "admit", now=at(MONDAY.replace(day=4), "08:00"))
    assert refused.value.reason_code == "stale_hold"
    assert Visit.objects.get(pk=visit.pk).status == "expected"
    # Turning it away closes it.
    closed = resolve(
        gate, visit, "turn_away", note="次日处理", now=at(MONDAY.replace(day=4), "8:00")
    )
    assert closed.status == "cancelled"


def test_admit_while_the_same_person_is_inside_is_refused(gate):
    visit = hold(gate, id_number=BLOCKED_ID)
    services.blocked_visitor_remove(actor=gate.users["principal"], entry=gate.blocked)
    inside = services.visit_check_in(
        actor=gate.users["guard"],
        school=gate.school,
        now=at(MONDAY, "09:10"),
        **visitor(gate, id_number=BLOCKED_ID),
    )
    assert inside.status == "inside"
    with pytest.raises(services.VisitRefused) as refused:
        resolve(gate, visit, "admit")
    assert "此人已在校内" in refused.value.reason
    assert Visit.objects.get(pk=visit.pk).hold_resolution == ""


# ------------------------------------------------------------------ turn away


def test_turning_away_needs_a_note_and_closes_the_visit(gate):
    visit = hold(gate)
    with pytest.raises(ValidationError) as missing:
        resolve(gate, visit, "turn_away", note="   ")
    assert missing.value.message_dict["note"] == ["请简要说明劝离的原因。"]
    with pytest.raises(ValidationError) as bad:
        resolve(gate, visit, "let him in", note="x")
    assert bad.value.message_dict["decision"] == ["请选择：准许入校或劝离。"]
    with pytest.raises(ValidationError):
        resolve(gate, visit, "turn_away", note="长" * 501)
    assert Visit.objects.get(pk=visit.pk).hold_resolution == ""
    assert inbox(gate.users["officer"], "access.visit_hold_resolved") == []

    closed = resolve(gate, visit, "turn_away", note="派出所民警已到场带离")
    assert (closed.status, closed.hold_resolution, closed.badge_code) == (
        "cancelled",
        "turned_away",
        None,
    )
    (told,) = inbox(gate.users["officer"], "access.visit_hold_resolved")
    assert "劝离" in told.title and "派出所民警已到场带离" in told.body
    # Decided once: a second decision is refused.
    with pytest.raises(services.VisitRefused) as again:
        resolve(gate, closed, "admit", who="principal")
    assert again.value.reason_code == "not_waiting"


def test_the_guard_sees_not_admitted_without_the_reason(client, gate):
    visit = hold_now(gate)
    resolve(gate, visit, "turn_away", note="秘密原因甲", now=timezone.now())
    client.force_login(gate.users["guard"])
    kiosk = client.get(reverse("access:kiosk", args=[gate.school.pk])).content.decode()
    assert f'data-testid="turned-away-{visit.pk}"' in kiosk and "不准入校" in kiosk
    assert "秘密原因甲" not in kiosk
    page = client.get(reverse("access:visit_detail", args=[visit.pk])).content.decode()
    assert 'data-state="turned_away"' in page and "秘密原因甲" not in page
    assert "请勿让该访客入校" in page
    # The deciders and the station's police read the note.
    client.force_login(gate.users["duty"])
    assert (
        "秘密原因甲" in client.get(reverse("access:visit_detail", args=[visit.pk])).content.decode()
    )
    client.force_login(gate.users["officer"])
    assert (
        "秘密原因甲" in client.get(reverse("access:visit_detail", args=[visit.pk])).content.decode()
    )


def test_a_blocklist_hold_tells_no_police_station(gate):
    visit = hold(gate, id_number=BLOCKED_ID)
    resolve(gate, visit, "turn_away", note="法院禁止令在效")
    assert not Notification.objects.filter(event_type="access.visit_hold_resolved").exists()


# ------------------------------------------------------------------ the pages


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("duty", 200),
        ("principal", 200),
        ("security", 200),
        ("guard", 403),
        ("officer", 403),
        ("teacher", 404),
        ("principal2", 404),
        ("farpolice", 404),
        ("edu", 404),
        ("nobody", 404),
    ],
)
def test_page_role_matrix(client, gate, who, status):
    visit = hold_now(gate)
    client.force_login(gate.users[who])
    url = reverse("access:visit_hold", args=[visit.pk])
    assert client.get(url).status_code == status
    response = client.post(url, {"decision": "turn_away", "note": "试"})
    assert response.status_code == (302 if status == 200 else status)
    expected = "cancelled" if status == 200 else "expected"
    assert Visit.objects.get(pk=visit.pk).status == expected


def test_anonymous_goes_to_the_login(client, gate):
    visit = hold_now(gate)
    url = reverse("access:visit_hold", args=[visit.pk])
    assert "login" in client.get(url)["Location"]
    assert "login" in client.post(url, {"decision": "admit"})["Location"]
    assert Visit.objects.get(pk=visit.pk).status == "expected"


def test_page_bad_input_is_a_message(client, gate):
    visit = hold_now(gate)
    client.force_login(gate.users["duty"])
    url = reverse("access:visit_hold", args=[visit.pk])
    response = client.post(url, {"decision": "turn_away", "note": ""})
    assert response.status_code == 400 and "请简要说明劝离的原因。" in response.content.decode()
    response = client.post(url, {"decision": "x" * 5000})
    assert response.status_code == 400 and "请选择：准许入校或劝离。" in response.content.decode()
    assert Visit.objects.get(pk=visit.pk).status == "expected"
    assert client.post(url, {"decision": "admit"}).status_code == 302
    again = client.post(url, {"decision": "admit"})
    assert again.status_code == 409 and "已有人作出处理决定" in again.content.decode()
    assert client.get(f"/gate/visitors/{2**70}/hold/").status_code == 404


@pytest.mark.parametrize("who", ["duty", "principal", "security"])
def test_the_resolver_page_shows_no_register_data(client, gate, who):
    visit = hold_now(gate)
    client.force_login(gate.users[who])
    url = reverse("access:visit_hold", args=[visit.pk])
    html = client.get(url).content.decode()
    assert "访客甲" in html and visit.id_number_masked in html
    assert "请先与派出所核实" in html and 'data-testid="hold-form"' in html
    for secret in register_secrets(gate):
        assert secret not in html, secret
    # Not on the blocklist either: nothing about it.
    assert "法院禁止令" not in html and 'data-testid="hold-blocklist"' not in html
    client.post(url, {"decision": "admit"})
    html = client.get(url).content.decode()
    for secret in register_secrets(gate):
        assert secret not in html, secret


def test_the_blocklist_reason_is_for_those_who_keep_the_list(client, gate):
    visit = hold_now(gate, id_number=BLOCKED_ID)
    url = reverse("access:visit_hold", args=[visit.pk])
    for who in ("principal", "security"):
        client.force_login(gate.users[who])
        html = client.get(url).content.decode()
        assert "在本校禁入名单上：法院禁止令" in html
    client.force_login(gate.users["duty"])
    html = client.get(url).content.decode()
    assert "法院禁止令" not in html and 'data-testid="hold-blocklist"' not in html


def test_the_duty_leaders_page_reads_the_same_for_both_lists(client, gate):
    client.force_login(gate.users["duty"])
    pages = []
    for number in (REGISTER_ID, BLOCKED_ID):
        visit = hold_now(gate, id_number=number)
        html = client.get(reverse("access:visit_hold", args=[visit.pk])).content.decode()
        html = html.replace(visit.id_number_masked, "MASKED").replace(f"/{visit.pk}/", "/N/")
        import re

        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
        html = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "TIME", html)
        pages.append(html)
        Visit.objects.filter(pk=visit.pk).delete()
    assert pages[0] == pages[1]


def test_the_kiosk_shows_a_hold_as_waiting_for_the_duty_leader(client, gate):
    visit = hold_now(gate)
    client.force_login(gate.users["guard"])
    kiosk = client.get(reverse("access:kiosk", args=[gate.school.pk])).content.decode()
    assert f'data-testid="waiting-{visit.pk}"' in kiosk and "等待值班领导处理" in kiosk
    assert f'data-testid="decide-{visit.pk}"' not in kiosk
    assert reverse("access:visit_hold", args=[visit.pk]) not in kiosk
    client.force_login(gate.users["duty"])
    kiosk = client.get(reverse("access:kiosk", args=[gate.school.pk])).content.decode()
    assert f'data-testid="decide-{visit.pk}"' in kiosk
    detail = client.get(reverse("access:visit_detail", args=[visit.pk])).content.decode()
    assert 'data-testid="decide-hold"' in detail


def test_the_duty_leaders_alert_links_to_the_decision(gate):
    visit = hold(gate)
    (alert,) = inbox(gate.users["duty"], "access.visit_hold")
    assert alert.payload["url"] == reverse("access:visit_hold", args=[visit.pk])
    (details,) = inbox(gate.users["officer"], "access.visit_hold_details")
    assert details.payload["url"] == reverse("access:visit_detail", args=[visit.pk])


# ------------------------------------------------------------------ the API


def decide_url(visit):
    return f"/api/v1/visitors/{visit.pk}/hold-decision"


def test_api_role_matrix_and_device(api, gate):
    visit = hold_now(gate)
    for who, status in (
        ("guard", 403),
        ("officer", 403),
        ("teacher", 404),
        ("principal2", 404),
    ):
        response = api("post", decide_url(visit), gate.users[who], json={"decision": "admit"})
        assert response.status_code == status, who
    device = api(
        "post",
        decide_url(visit),
        json={"decision": "admit"},
        HTTP_AUTHORIZATION=f"Bearer {gate.device_token}",
    )
    assert device.status_code == 403
    assert api("post", decide_url(visit), json={"decision": "admit"}).status_code == 401
    assert Visit.objects.get(pk=visit.pk).status == "expected"
    assert inbox(gate.users["officer"], "access.visit_hold_resolved") == []


def test_api_decision_and_its_json_tell_nothing_of_the_register(api, gate):
    visit = hold_now(gate)
    duty = gate.users["duty"]
    bad = api("post", decide_url(visit), duty, json={"decision": "turn_away"})
    assert bad.status_code == 400 and bad.json()["errors"]["note"] == ["请简要说明劝离的原因。"]
    response = api("post", decide_url(visit), duty, json={"decision": "admit", "note": "核实"})
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "inside" and data["hold_resolution"] == "admitted"
    assert data["badge"]["code"].startswith("HX1.B.")
    text = json.dumps(data, ensure_ascii=False)
    for secret in register_secrets(gate):
        assert secret not in text, secret
    got = json.dumps(api("get", f"/api/v1/visitors/{visit.pk}", duty).json(), ensure_ascii=False)
    for secret in register_secrets(gate):
        assert secret not in got, secret
    again = api("post", decide_url(visit), duty, json={"decision": "admit"})
    assert again.status_code == 409 and again.json()["code"] == "not_waiting"
    # The guard's device now sees a normal visitor inside with a badge.
    seen = api(
        "get",
        f"/api/v1/visitors/{visit.pk}",
        HTTP_AUTHORIZATION=f"Bearer {gate.device_token}",
    ).json()
    assert seen["status"] == "inside" and seen["badge"] is not None


def test_a_clear_visit_cannot_be_decided(gate):
    visit = services.visit_check_in(
        actor=gate.users["guard"],
        school=gate.school,
        now=HELD_AT,
        **visitor(gate, id_number=CLEAR_ID),
    )
    with pytest.raises(services.VisitRefused):
        resolve(gate, visit, "turn_away", note="x")
