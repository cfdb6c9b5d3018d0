"""Pass pages: role × scope, the printable pass with its QR, revoke, and the scan page's
big green/red result."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from huxiao.access import pass_services
from huxiao.access.choices import PassKind
from huxiao.access.models import GatePass, PassScan
from huxiao.access.tests.pass_fixtures import (
    ELSEWHERE,
    GATE,
    MANAGERS,
    add_gate_users,
    expect,
    issue,
    now,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate(world):
    return add_gate_users(world)


def _login(client, world, who):
    if who != "anonymous":
        client.force_login(world.users[who])


def _status(who, status):
    return 302 if who == "anonymous" else status


@pytest.mark.parametrize(("who", "status"), expect({200: MANAGERS | {"principal2"}}).items())
def test_list_page_matrix(gate, client, who, status):
    gate_pass = issue(gate)
    _login(client, gate, who)
    r = client.get(reverse("access:pass_list"))
    assert r.status_code == _status(who, status)
    if r.status_code == 200:
        assert (gate_pass.holder_name in r.content.decode()) == (who in MANAGERS)


def test_list_page_of_another_school_is_404(gate, client):
    _login(client, gate, "principal2")
    assert client.get(reverse("access:pass_list") + f"?school={gate.school.pk}").status_code == 404
    assert client.get(reverse("access:pass_list") + "?school=abc").status_code == 404


@pytest.mark.parametrize(("who", "status"), expect({200: MANAGERS, 404: {"principal2"}}).items())
def test_detail_page_matrix(gate, client, who, status):
    gate_pass = issue(gate)
    _login(client, gate, who)
    r = client.get(reverse("access:pass_detail", args=[gate_pass.pk]))
    assert r.status_code == _status(who, status)
    if r.status_code == 200:
        html = r.content.decode()
        assert "<svg" in html and pass_services.pass_code(gate_pass) in html
        assert r["Cache-Control"] == "no-store"


def test_detail_page_huge_id_is_404(gate, client):
    _login(client, gate, "principal")
    assert client.get(f"/gate/passes/{2**64}/").status_code == 404


@pytest.mark.parametrize(("who", "status"), expect({302: MANAGERS | {"principal2"}}).items())
def test_issue_page_matrix(gate, client, who, status):
    _login(client, gate, who)
    r = client.post(
        reverse("access:pass_new"),
        {
            "kind": "one_time",
            "holder_name": "送货员",
            "valid_from": now().strftime("%Y-%m-%dT%H:%M"),
            "valid_until": (now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert r.status_code == _status(who, status)
    issued = GatePass.objects.values_list("school_id", flat=True)
    expected = {"principal2": [gate.other_school.pk]}.get(
        who, [gate.school.pk] if who in MANAGERS else []
    )
    assert list(issued) == expected


def test_issue_page_bad_input_is_400(gate, client):
    _login(client, gate, "principal")
    assert client.get(reverse("access:pass_new")).status_code == 200
    r = client.post(
        reverse("access:pass_new"),
        {"kind": "vehicle", "holder_name": "x", "plate": "京AO0000", "valid_from": "x"},
    )
    assert r.status_code == 400
    assert not GatePass.objects.exists()


@pytest.mark.parametrize(("who", "status"), expect({302: MANAGERS, 404: {"principal2"}}).items())
def test_revoke_page_matrix(gate, client, who, status):
    gate_pass = issue(gate)
    _login(client, gate, who)
    r = client.post(reverse("access:pass_revoke", args=[gate_pass.pk]), {"reason": "丢失"})
    assert r.status_code == _status(who, status)
    gate_pass.refresh_from_db()
    assert (gate_pass.revoked_at is not None) == (who in MANAGERS)


def test_revoke_without_reason_is_400(gate, client):
    gate_pass = issue(gate)
    _login(client, gate, "principal")
    assert client.post(reverse("access:pass_revoke", args=[gate_pass.pk]), {}).status_code == 400


@pytest.mark.parametrize(("who", "status"), expect({200: GATE, 404: ELSEWHERE}).items())
def test_scan_page_matrix(gate, client, who, status):
    code = pass_services.pass_code(issue(gate))
    _login(client, gate, who)
    r = client.post(
        reverse("access:pass_scan") + f"?school={gate.school.pk}", {"code": code, "direction": "in"}
    )
    assert r.status_code == _status(who, status)
    assert PassScan.objects.count() == (1 if status == 200 and who != "anonymous" else 0)


def test_scan_page_accepted_is_green_with_holder(gate, client):
    code = pass_services.pass_code(issue(gate))
    _login(client, gate, "guard")
    assert client.get(reverse("access:pass_scan")).status_code == 200
    r = client.post(reverse("access:pass_scan"), {"code": code, "direction": "in"})
    html = r.content.decode()
    assert 'data-result="accepted"' in html and gate.staff.name in html
    assert "通过" in html and "教职工通行证" in html


def test_scan_page_refused_is_red_with_reason_and_no_holder(gate, client):
    gate_pass = issue(gate, PassKind.ONE_TIME)
    code = pass_services.pass_code(gate_pass)
    _login(client, gate, "guard")
    client.post(reverse("access:pass_scan"), {"code": code})
    r = client.post(reverse("access:pass_scan"), {"code": code})
    html = r.content.decode()
    assert r.status_code == 200
    assert 'data-result="refused"' in html and 'data-reason="replayed"' in html
    assert "已使用过" in html and "拒绝" in html
    assert gate_pass.holder_name not in html


def test_scan_page_empty_code_is_400_and_nothing_logged(gate, client):
    _login(client, gate, "guard")
    r = client.post(reverse("access:pass_scan"), {"code": ""})
    assert r.status_code == 400
    assert not PassScan.objects.exists()


def test_scan_page_noise_is_refused_not_an_error(gate, client):
    _login(client, gate, "guard")
    r = client.post(reverse("access:pass_scan"), {"code": "HX1.P.12.ABC", "direction": "out"})
    assert r.status_code == 200
    assert 'data-reason="malformed"' in r.content.decode()


def test_list_shows_a_departed_holders_pass_as_stopped_and_filters_it(gate, client):
    """The gate refuses a staff pass once its holder leaves (HOLDER_LEFT); the list must not
    go on showing it as valid."""
    kept = issue(gate, PassKind.ONE_TIME)
    departed = issue(gate)
    type(gate.staff).objects.filter(pk=gate.staff.pk).update(is_active=False)
    _login(client, gate, "principal")
    url = reverse("access:pass_list") + f"?school={gate.school.pk}"
    page = client.get(url).content.decode()
    assert 'data-state="holder_left"' in page and "持证人已不在本校任职" in page
    assert page.count('data-state="valid"') == 1

    def shown(state):
        r = client.get(f"{url}&state={state}")
        return {p.pk for p in r.context["passes"]}

    assert shown("valid") == {kept.pk}
    assert shown("holder_left") == {departed.pk}
    assert shown("expired") == set()
    detail = client.get(reverse("access:pass_detail", args=[departed.pk])).content.decode()
    assert 'data-state="holder_left"' in detail
    # Revoked by hand later, it is "revoked" in every view.
    pass_services.pass_revoke(actor=gate.users["principal"], gate_pass=departed, reason="离职")
    assert shown("holder_left") == set() and shown("revoked") == {departed.pk}


def test_valid_filter_holds_only_what_shows_valid(gate, client):
    """The filter and the state column agree: a used one-time pass, a pass not valid yet
    and a staff pass whose holder's record was deleted are not "valid"."""
    from huxiao.people.services import staff_delete

    valid = issue(gate, PassKind.VEHICLE)
    used = issue(gate, PassKind.ONE_TIME)
    GatePass.objects.filter(pk=used.pk).update(used_at=now())
    later = issue(gate, PassKind.VEHICLE, valid_from=now() + dt.timedelta(days=2), plate="京B54321")
    orphan = issue(gate)
    staff_delete(actor=gate.users["principal"], staff=gate.staff)
    _login(client, gate, "principal")
    url = reverse("access:pass_list") + f"?school={gate.school.pk}"
    r = client.get(url + "&state=valid")
    assert {p.pk for p in r.context["passes"]} == {valid.pk}
    states = {p.pk: p.state for p in client.get(url).context["passes"]}
    assert states == {
        valid.pk: "valid",
        used.pk: "used",
        later.pk: "not_yet_valid",
        orphan.pk: "holder_left",
    }
    r = client.get(url + "&state=holder_left")
    assert {p.pk for p in r.context["passes"]} == {orphan.pk}
