"""The kiosk and the visitor pages: role × scope, the scan box's dispatch and its noise,
the result pages (a hold reads the same whichever list matched), the blocklist page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.access import codes
from huxiao.access import visitor_services as services
from huxiao.access.models import BlockedVisitor, Visit
from huxiao.access.tests.conftest import BLOCKED_ID, CLEAR_ID, REGISTER_ID, REGISTER_NAME, visitor
from huxiao.intel.models import ScreeningHit

pytestmark = pytest.mark.django_db
WRONG_CHECK = CLEAR_ID[:-1] + ("0" if CLEAR_ID[-1] != "0" else "1")


def as_user(client, gate, who):
    if who is not None:
        client.force_login(gate.users[who])
    return client


def kiosk_url(gate, school=None):
    return reverse("access:kiosk", args=[(school or gate.school).pk])


def scan_url(gate):
    return reverse("access:kiosk_scan", args=[gate.school.pk])


def check_in_url(gate):
    return reverse("access:visit_check_in", args=[gate.school.pk])


def form(gate, **overrides):
    return visitor(gate, **overrides)


def state():
    return (Visit.objects.count(), ScreeningHit.objects.count())


# ------------------------------------------------------------------ role × scope


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("guard", 200),
        ("duty", 200),
        ("principal", 200),
        ("security", 200),
        ("teacher", 403),
        ("police", 403),
        ("edu", 403),
        ("principal2", 404),
        ("nobody", 403),
    ],
)
def test_kiosk_matrix(client, gate, who, status):
    response = as_user(client, gate, who).get(kiosk_url(gate))
    assert response.status_code == status


def test_anonymous_goes_to_the_login(client, gate):
    for url in (reverse("access:kiosk_home"), kiosk_url(gate), check_in_url(gate)):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
    assert client.post(scan_url(gate), {"code": CLEAR_ID}).status_code == 302
    assert Visit.objects.count() == 0


def test_gate_home_leads_to_the_users_school(client, gate):
    response = as_user(client, gate, "guard").get(reverse("access:kiosk_home"))
    assert response.status_code == 302 and response["Location"] == kiosk_url(gate)
    assert as_user(client, gate, "teacher").get(reverse("access:kiosk_home")).status_code == 403


def test_kiosk_for_a_huge_or_unknown_school_is_404(client, gate):
    client = as_user(client, gate, "guard")
    assert client.get(f"/gate/{2**70}/").status_code == 404
    assert client.get(kiosk_url(gate, gate.far_school)).status_code == 404


def test_the_kiosk_shows_warnings_expected_inside_and_pickup(client, gate):
    from huxiao.intel import warnings_services

    now = timezone.now()
    warnings_services.early_warning_issue(
        actor=gate.users["police"],
        school_ids=[gate.school.pk],
        title="在逃人员预警",
        content="一名在逃人员可能在辖区出现",
        level="orange",
        valid_from=now - dt.timedelta(hours=1),
        valid_until=now + dt.timedelta(days=1),
        now=now - dt.timedelta(hours=1),
    )
    inside = services.visit_check_in(actor=gate.users["guard"], school=gate.school, **form(gate))
    expected = services.visit_pre_register(
        actor=gate.users["teacher"],
        school=gate.school,
        name="家长乙",
        phone="13900139000",
        purpose="interview",
        expected_on=services.local_now().date(),
    )
    response = as_user(client, gate, "guard").get(kiosk_url(gate))
    html = response.content.decode()
    assert "在逃人员预警" in html
    assert f'data-testid="inside-{inside.pk}"' in html
    assert f'data-testid="expected-{expected.pk}"' in html
    assert 'id="pickup-panel"' in html
    assert 'name="code" autofocus' in html
    # One page for the guard: the scan box posts to the kiosk's dispatcher.
    assert scan_url(gate) in html
    assert "扫码、刷身份证或输入接送码" in html


# ------------------------------------------------------------------ the scan box


def test_scan_an_id_number_opens_the_check_in_form(client, gate):
    client = as_user(client, gate, "guard")
    for noisy in (CLEAR_ID, f"  {CLEAR_ID.lower()}\r\n", f"]Q1{CLEAR_ID}"):
        response = client.post(scan_url(gate), {"code": noisy})
        assert response.status_code == 200
        assert f'value="{CLEAR_ID}"' in response.content.decode()
    assert Visit.objects.count() == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CLEAR_ID[:16], "未识别到护校二维码或身份证号"),
        ("hello", "未识别到护校二维码或身份证号"),
        ("", "未识别到护校二维码或身份证号"),
        ("HX1.B.1.ABCDEF.20000", "未识别到护校二维码或身份证号"),
        (WRONG_CHECK, "校验位"),
        (f"ID:{WRONG_CHECK}\r\n", "校验位"),
        ("x" * 10_000, "未识别到护校二维码或身份证号"),
    ],
)
def test_scanner_noise_is_a_message_and_writes_nothing(client, gate, text, message):
    response = as_user(client, gate, "guard").post(scan_url(gate), {"code": text})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'data-testid="scan-error"' in response.content.decode()
    assert state() == (0, 0)


def test_scan_a_badge_checks_out(client, gate):
    visit = services.visit_check_in(actor=gate.users["guard"], school=gate.school, **form(gate))
    client = as_user(client, gate, "guard")
    response = client.post(scan_url(gate), {"code": "\x02" + services.badge_text(visit) + "\r\n"})
    assert response.status_code == 302 and response["Location"] == kiosk_url(gate)
    assert Visit.objects.get(pk=visit.pk).status == "left"
    again = client.post(scan_url(gate), {"code": services.badge_text(visit)})
    assert again.status_code == 409 and "该访客已离校。" in again.content.decode()


def test_scan_a_forged_badge_is_refused(client, gate):
    visit = services.visit_check_in(actor=gate.users["guard"], school=gate.school, **form(gate))
    text = services.badge_text(visit)
    forged = text[:-2] + ("AA" if not text.endswith("AA") else "BB")
    response = as_user(client, gate, "guard").post(scan_url(gate), {"code": forged})
    assert response.status_code == 409 and "签名不符" in response.content.decode()
    assert Visit.objects.get(pk=visit.pk).status == "inside"


def test_scan_an_invitation_then_check_in_once(client, gate):
    visit = services.visit_pre_register(
        actor=gate.users["teacher"],
        school=gate.school,
        name="家长乙",
        phone="13900139000",
        purpose="interview",
        expected_on=services.local_now().date(),
    )
    text = services.invitation_text(visit)
    client = as_user(client, gate, "guard")
    response = client.post(scan_url(gate), {"code": text.lower() + "\n"})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'value="家长乙"' in page.content.decode()
    done = client.post(check_in_url(gate), {**form(gate, name="家长乙"), "invitation": text})
    assert done.status_code == 302
    assert Visit.objects.get(pk=visit.pk).status == "inside"
    replay = client.post(scan_url(gate), {"code": text})
    assert replay.status_code == 409 and "已使用过" in replay.content.decode()
    replay = client.post(
        check_in_url(gate), {**form(gate, id_number=BLOCKED_ID), "invitation": text}
    )
    assert replay.status_code == 409 and "已使用过" in replay.content.decode()
    assert Visit.objects.count() == 1


def test_scan_a_pass_or_pickup_code_is_forwarded(client, gate):
    client = as_user(client, gate, "guard")
    pass_code = codes.make(codes.PASS, gate.school.pk, "ABCDEFGH", 2_000_000_000)
    response = client.post(scan_url(gate), {"code": pass_code})
    assert response.status_code == 307
    assert response["Location"] == f"{reverse('access:pass_scan')}?school={gate.school.pk}"
    for text in ("123456", codes.make(codes.PICKUP_CARD, gate.school.pk, "ABCDEFGH", 1)):
        response = client.post(scan_url(gate), {"code": text})
        assert response.status_code == 307
        assert response["Location"].startswith(reverse("access:pickup_scan"))


def test_scan_needs_the_gate(client, gate):
    for who, status in (("teacher", 403), ("principal2", 404), ("police", 403)):
        response = as_user(client, gate, who).post(scan_url(gate), {"code": CLEAR_ID})
        assert response.status_code == status


# ------------------------------------------------------------------ check-in pages


def test_check_in_clear_shows_the_badge(client, gate):
    client = as_user(client, gate, "guard")
    response = client.post(check_in_url(gate), form(gate))
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("access:visit_detail", args=[visit.pk])
    page = client.get(response["Location"]).content.decode()
    assert 'data-state="inside"' in page and 'data-testid="badge-qr"' in page and "<svg" in page
    badge = client.get(reverse("access:visit_badge", args=[visit.pk]))
    assert badge.status_code == 200 and "访客证" in badge.content.decode()


def test_check_in_with_a_photo(client, gate):
    from django.core.files.uploadedfile import SimpleUploadedFile

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    client = as_user(client, gate, "guard")
    photo = SimpleUploadedFile("p.png", png, content_type="image/png")
    assert client.post(check_in_url(gate), {**form(gate), "photo": photo}).status_code == 302
    visit = Visit.objects.get()
    response = client.get(reverse("access:visit_photo", args=[visit.pk]))
    assert response.content == png and response["Cache-Control"] == "no-store"
    bad = SimpleUploadedFile("p.txt", b"hello", content_type="text/plain")
    response = client.post(check_in_url(gate), {**form(gate, id_number=BLOCKED_ID), "photo": bad})
    assert response.status_code == 400 and "JPEG" in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id_number": "1234"}, "身份证号应为 18 位。"),
        ({"host": str(2**70)}, "请选择本校的教职工作为接待人。"),
        ({"host": ""}, "请选择本校的教职工作为接待人。"),
        ({"name": ""}, "必填"),
    ],
)
def test_check_in_bad_input_is_400_with_the_message(client, gate, overrides, message):
    response = as_user(client, gate, "guard").post(check_in_url(gate), form(gate, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert state() == (0, 0)


def test_duplicate_check_in_page(client, gate):
    client = as_user(client, gate, "guard")
    client.post(check_in_url(gate), form(gate))
    response = client.post(check_in_url(gate), form(gate))
    assert response.status_code == 400 and "此人已在校内" in response.content.decode()
    assert Visit.objects.count() == 1


def _page_of_hold(client, gate, id_number) -> tuple[str, Visit]:
    response = client.post(check_in_url(gate), form(gate, id_number=id_number))
    visit = Visit.objects.order_by("-pk").first()
    assert response.status_code == 302
    assert response["Location"] == reverse("access:visit_detail", args=[visit.pk])
    return client.get(response["Location"]).content.decode(), visit


def _normalise(html: str, visit: Visit) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return html.replace(f"/visitors/{visit.pk}/", "/visitors/N/")


def test_a_hold_page_is_the_same_for_both_lists_and_tells_nothing(client, gate):
    client = as_user(client, gate, "guard")
    register_html, register_visit = _page_of_hold(client, gate, REGISTER_ID)
    blocked_html, blocked_visit = _page_of_hold(client, gate, BLOCKED_ID)
    assert _normalise(register_html, register_visit) == _normalise(blocked_html, blocked_visit)
    assert "请稍候，联系值班领导" in register_html
    assert 'data-state="wait"' in register_html
    person = gate.register_person
    for secret in (
        person.reference,
        REGISTER_NAME,
        gate.station.name,
        "高危",
        "禁入",
        "法院",
        "register",
        "blocklist",
        "hold",
        REGISTER_ID,
        REGISTER_ID[-4:],
        "badge-qr",
    ):
        assert secret not in register_html
    # The kiosk lists both as waiting for the duty leader, in the same neutral words.
    kiosk = client.get(kiosk_url(gate)).content.decode()
    assert 'data-testid="waiting"' in kiosk and kiosk.count("等待值班领导处理") == 2
    clear = client.post(check_in_url(gate), form(gate)).status_code
    assert clear == 302


def test_the_stations_police_read_the_held_visit_others_do_not(client, gate):
    visit = services.visit_check_in(
        actor=gate.users["guard"], school=gate.school, **form(gate, id_number=REGISTER_ID)
    )
    url = reverse("access:visit_detail", args=[visit.pk])
    for who, status in (
        ("officer", 200),
        ("police", 200),
        ("postofficer", 200),
        ("farpolice", 404),
        ("teacher", 404),
        ("principal2", 404),
        ("edu", 404),
    ):
        assert as_user(client, gate, who).get(url).status_code == status, who
    page = as_user(client, gate, "officer").get(url).content.decode()
    assert "13800138000" in page and visit.id_number_masked in page


def test_check_out_page(client, gate):
    visit = services.visit_check_in(actor=gate.users["guard"], school=gate.school, **form(gate))
    url = reverse("access:visit_check_out", args=[visit.pk])
    assert as_user(client, gate, "principal2").post(url).status_code == 404
    assert as_user(client, gate, "officer").post(url).status_code == 403
    assert Visit.objects.get(pk=visit.pk).status == "inside"
    response = as_user(client, gate, "guard").post(url)
    assert response.status_code == 302 and Visit.objects.get(pk=visit.pk).status == "left"


def test_pre_register_page_for_a_host(client, gate):
    client = as_user(client, gate, "teacher")
    url = reverse("access:visit_pre_register", args=[gate.school.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"name": "家长乙", "phone": "1", "purpose": "interview"})
    assert bad.status_code == 400 and Visit.objects.count() == 0
    response = client.post(
        url,
        {
            "name": "家长乙",
            "phone": "13900139000",
            "purpose": "interview",
            "expected_on": services.local_now().date().isoformat(),
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="invitation-qr"' in page
    assert as_user(client, gate, "police").get(url).status_code == 403


# ------------------------------------------------------------------ the blocklist page


def test_blocklist_page_for_manage_gate_only(client, gate):
    url = reverse("access:blocklist", args=[gate.school.pk])
    for who, status in (("guard", 403), ("duty", 403), ("principal2", 404), ("police", 403)):
        assert as_user(client, gate, who).get(url).status_code == status, who
    client = as_user(client, gate, "security")
    page = client.get(url)
    assert page.status_code == 200 and "禁入者" in page.content.decode()
    assert BLOCKED_ID not in page.content.decode()
    bad = client.post(url, {"name": "某人", "id_number": "123", "reason": "x"})
    assert bad.status_code == 400 and BlockedVisitor.objects.count() == 1
    added = client.post(url, {"name": "某人", "id_number": CLEAR_ID, "reason": "骚扰"})
    assert added.status_code == 302 and BlockedVisitor.objects.filter(is_active=True).count() == 2
    remove = reverse("access:blocklist_remove", args=[gate.blocked.pk])
    assert as_user(client, gate, "guard").post(remove).status_code == 403
    assert as_user(client, gate, "principal2").post(remove).status_code == 404
    assert as_user(client, gate, "security").post(remove).status_code == 302
    assert not BlockedVisitor.objects.get(pk=gate.blocked.pk).is_active
