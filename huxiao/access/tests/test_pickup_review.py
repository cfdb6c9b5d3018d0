# ruff: noqa: F811 - pytest fixtures imported from pickup_fixtures are arguments here
"""Pick-up after the security review (issue 5, ADR 0025 addendum): a delegate holds only
their namer's right, delegates are capped, the PIN counters are atomic and per school, the
SMS never carries the PIN, the guardian forwards the delegate's link when no SMS goes out,
a double tap does not page anyone, gate devices get photos, and the gate's query counts."""

from __future__ import annotations

import re
import threading

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from huxiao.access import pickup_services as services
from huxiao.access.choices import RefusalReason
from huxiao.access.models import PickupCode, PickupDelegate, PickupRefusal, Release
from huxiao.access.tests.pickup_fixtures import MONDAY, at, member, pickup  # noqa: F401
from huxiao.accounts.services import device_token_issue
from huxiao.core.roles import Role
from huxiao.notify.models import Delivery, Notification

pytestmark = pytest.mark.django_db

MORNING = at(MONDAY, "09:00")
PICKUP = at(MONDAY, "16:36")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def alerts(reason=None) -> int:
    notes = Notification.objects.filter(event_type="pickup.refused")
    return sum(1 for n in notes if reason is None or n.payload.get("reason") == reason)


def name_delegate(w, *, now=MORNING, named_by=None, actor=None, name="王奶奶", phone="13700137000"):
    return services.delegate_add(
        actor=actor,
        named_by=named_by if actor is not None else (named_by or w.guardian),
        child=w.child,
        name=name,
        phone=phone,
        relationship="奶奶",
        now=now,
    )


def lookup(w, text, now=PICKUP, user="guard"):
    return services.pickup_lookup(actor=w.users[user], school=w.school, text=text, now=now)


def release(w, match, now=PICKUP, user="guard"):
    return services.pickup_release(actor=w.users[user], school=w.school, token=match.token, now=now)


# ------------------------------------------------ 1. the delegate holds the namer's right


def test_a_delegate_is_refused_once_the_naming_guardian_loses_the_right(pickup):
    w = pickup
    _delegate, issued = name_delegate(w)
    # 10:00: the school withdraws the mother's right (whatever path changed the row).
    type(w.guardian).objects.filter(pk=w.guardian.pk).update(can_pick_up=False)
    for text in (issued.card_text, issued.pin):
        with pytest.raises(services.PickupRefused) as refused:
            lookup(w, text)
        assert refused.value.reason == RefusalReason.NOT_AUTHORISED
    assert not Release.objects.exists()
    assert PickupRefusal.objects.filter(reason=RefusalReason.NOT_AUTHORISED).count() == 2
    assert alerts(RefusalReason.NOT_AUTHORISED) == 2
    duty = w.users["duty"].pk
    assert Delivery.objects.filter(recipient_id=duty, notification__event_type="pickup.refused")


def test_a_confirmation_taken_before_the_withdrawal_is_refused_at_release(pickup):
    w = pickup
    _delegate, issued = name_delegate(w)
    match = lookup(w, issued.card_text)
    type(w.guardian).objects.filter(pk=w.guardian.pk).update(can_pick_up=False)
    with pytest.raises(services.PickupRefused) as refused:
        release(w, match)
    assert refused.value.reason == RefusalReason.NOT_AUTHORISED
    assert not Release.objects.exists()


def test_a_delegate_is_refused_when_the_namer_no_longer_belongs_to_the_child(pickup):
    w = pickup
    _delegate, issued = name_delegate(w)
    type(w.guardian).objects.filter(pk=w.guardian.pk).update(child=w.child2)
    with pytest.raises(services.PickupRefused) as refused:
        lookup(w, issued.card_text)
    assert refused.value.reason == RefusalReason.NOT_AUTHORISED
    # The namer's row deleted (named_by nulled): the right it came from is gone too.
    PickupDelegate.objects.update(named_by=None)
    with pytest.raises(services.PickupRefused):
        lookup(w, issued.card_text)


def test_a_delegate_named_by_staff_still_works(pickup):
    w = pickup
    _delegate, issued = services.delegate_add(
        actor=w.users["teacher"],
        child=w.child,
        name="王奶奶",
        phone="13700137000",
        relationship="奶奶",
        now=MORNING,
    )
    assert release(w, lookup(w, issued.card_text)).delegate_id == _delegate.pk


def test_a_guardian_whose_right_was_withdrawn_is_refused_with_every_code(pickup):
    w = pickup
    type(w.guardian).objects.filter(pk=w.guardian.pk).update(can_pick_up=False)
    code = w.issued.code
    for text in (w.issued.card_text, w.issued.pin, services.rotating_text(code, now=PICKUP)):
        with pytest.raises(services.PickupRefused) as refused:
            lookup(w, text)
        assert refused.value.reason == RefusalReason.NOT_AUTHORISED
    assert alerts(RefusalReason.NOT_AUTHORISED) == 3
    assert not Release.objects.exists()


# ------------------------------------------------ 2. delegates capped and rate-limited


def test_live_delegates_are_capped_per_child_and_day(pickup):
    w = pickup
    first, _ = name_delegate(w, name="甲", phone="13700137001")
    name_delegate(w, name="乙", phone="13700137002")
    with pytest.raises(ValidationError) as capped:
        name_delegate(w, name="丙", phone="13700137003")
    assert "今天已有 2 位代接人" in " ".join(capped.value.messages)
    # Staff are bound by the same cap.
    with pytest.raises(ValidationError):
        name_delegate(w, actor=w.users["teacher"], name="丁", phone="13700137004")
    assert PickupDelegate.objects.count() == 2
    services.delegate_cancel(actor=None, delegate=first, cancelled_by=w.guardian, now=MORNING)
    name_delegate(w, name="丙", phone="13700137003")
    assert PickupDelegate.objects.filter(cancelled_at__isnull=True).count() == 2


def test_delegate_naming_from_a_guardian_page_is_rate_limited(pickup):
    w = pickup
    for i in range(services.DELEGATE_ADDS_PER_GUARDIAN_PER_DAY):
        delegate, _ = name_delegate(w, name=f"人{i}", phone=f"1370013700{i}")
        services.delegate_cancel(
            actor=None, delegate=delegate, cancelled_by=w.guardian, now=MORNING
        )
    with pytest.raises(ValidationError) as limited:
        name_delegate(w, name="又一人", phone="13700137099")
    assert "今天通过此页面指定的代接人过多" in " ".join(limited.value.messages)
    assert PickupDelegate.objects.count() == services.DELEGATE_ADDS_PER_GUARDIAN_PER_DAY


def test_the_guardian_page_shows_the_cap_message(pickup, client, monkeypatch):
    w = pickup
    noon = services.local_now().replace(hour=12, minute=0)
    monkeypatch.setattr(services, "local_now", lambda now=None: noon)
    url = reverse("access:pickup_guardian", args=[services.guardian_link_token(w.issued.code)])
    statuses = [
        client.post(url, {"name": f"人{i}", "phone": f"1390013900{i}", "relationship": "朋友"})
        for i in range(4)
    ]
    assert [r.status_code for r in statuses] == [200, 200, 400, 400]
    assert "请先取消一位" in statuses[2].content.decode()
    assert PickupDelegate.objects.filter(cancelled_at__isnull=True).count() == 2


# ------------------------------------------------ 3. atomic PIN counters, per school


def test_the_failure_counter_loses_no_increment_under_threads(pickup):
    key = "pickup:test-counter"
    results: list[int] = []
    start = threading.Barrier(16)

    def hit():
        start.wait()
        for _ in range(25):
            results.append(services._count(key, timeout=60))

    threads = [threading.Thread(target=hit) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(1, 401))
    assert cache.get(key) == 400


def test_concurrent_wrong_pins_lock_exactly_once(pickup):
    w = pickup
    now = at(MONDAY, "16:40")
    outcomes: list = []
    start = threading.Barrier(12)

    def wrong():
        start.wait()
        outcomes.append(services._pin_failed(actor=w.users["guard"], school=w.school, now=now))

    threads = [threading.Thread(target=wrong) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # No failure is lost (the limit is reached), and exactly one call sets the lock (and
    # alerts), however the threads interleave.
    assert len(outcomes) == 12
    assert sum(o.newly_locked for o in outcomes) == 1
    assert services.pin_lock_until(actor=w.users["guard"], school=w.school, now=now)


def test_wrong_pins_spread_over_devices_lock_the_school(pickup):
    w = pickup
    wrong = "000000" if w.issued.pin != "000000" else "111111"
    guards = []
    for i in range(8):
        guards.append(member(w, f"gate{i}", w.school, Role.GUARD))
    tries = 0
    for i, user in enumerate(guards):
        for _ in range(4):  # below the per-user limit
            if tries == services.SCHOOL_PIN_MAX_FAILURES - 1:
                break
            with pytest.raises(services.PickupRefused):
                services.pickup_lookup(
                    actor=user, school=w.school, text=wrong, now=at(MONDAY, f"16:3{i}")
                )
            tries += 1
    with pytest.raises(services.PinLocked) as locked:
        lookup(w, wrong, now=at(MONDAY, "16:38"), user="teacher")
    assert locked.value.until == at(MONDAY, "16:48")
    # Locked for everyone at the school, even the right PIN; QR codes still work.
    with pytest.raises(services.PinLocked):
        lookup(w, w.issued.pin, now=at(MONDAY, "16:40"), user="duty")
    assert lookup(w, w.issued.card_text, now=at(MONDAY, "16:40")).child == w.child
    # The other school's gate is not affected.
    assert (
        services.pin_lock_until(
            actor=w.users["guard2"], school=w.other_school, now=at(MONDAY, "16:40")
        )
        is None
    )
    # The duty leader is told once, with what happened.
    notes = [n for n in Notification.objects.filter(event_type="pickup.refused")]
    assert len(notes) == 1 and "本校 PIN 错误次数过多" in notes[0].body
    assert lookup(w, w.issued.pin, now=at(MONDAY, "16:49"), user="duty").child == w.child


# ------------------------------------------------ 4. the SMS never carries the PIN


def test_no_notification_carries_the_pin(pickup, django_capture_on_commit_callbacks):
    from huxiao.notify.services import channel_config_create

    w = pickup
    channel_config_create(
        actor=None,
        organization=w.school,
        kind="sms",
        name="短信",
        target="http://127.0.0.1:9/sms",
        secret="k",
    )
    issued = services.pickup_code_issue(actor=w.users["principal"], guardian=w.guardian2)
    _delegate, delegate_issued = name_delegate(w, now=MORNING)
    sms = Notification.objects.filter(event_type="pickup.code_issued")
    assert sms.count() == 2
    for pin in (issued.pin, delegate_issued.pin):
        assert not Notification.objects.filter(body__contains=pin).exists()
        assert not Notification.objects.filter(title__contains=pin).exists()
    assert any(issued.link_path in n.body for n in sms)


def test_the_issue_page_says_the_pin_is_shown_once_to_print(pickup, client):
    w = pickup
    client.force_login(w.users["teacher"])
    page = client.post(reverse("access:pickup_code_issue", args=[w.guardian2.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert "PIN 仅显示这一次，不会通过短信发送" in html


def test_a_delegate_link_dies_with_the_day(pickup, monkeypatch):
    w = pickup
    _delegate, issued = name_delegate(w, now=MORNING)
    monkeypatch.setattr(services, "local_now", lambda now=None: at(MONDAY, "20:00"))
    assert services.code_from_link(services.guardian_link_token(issued.code)) is not None
    monkeypatch.setattr(services, "local_now", lambda now=None: at(MONDAY, "20:00").replace(day=4))
    assert services.code_from_link(services.guardian_link_token(issued.code)) is None
    assert services.code_from_link(services.guardian_link_token(w.issued.code)) is not None


# ------------------------------------------------ 5. no SMS: the guardian forwards a link


def _guardian_names_delegate(w, client, monkeypatch):
    noon = services.local_now().replace(hour=12, minute=0)
    monkeypatch.setattr(services, "local_now", lambda now=None: noon)
    url = reverse("access:pickup_guardian", args=[services.guardian_link_token(w.issued.code)])
    return client.post(url, {"name": "王奶奶", "phone": "13700137000", "relationship": "奶奶"})


def test_without_sms_the_guardian_gets_the_delegate_link_to_forward(pickup, client, monkeypatch):
    w = pickup
    response = _guardian_names_delegate(w, client, monkeypatch)
    html = response.content.decode()
    assert response.status_code == 200
    assert "学校无法发送短信：请把此链接转发给 王奶奶" in html
    assert "其接送码将通过短信发送" not in html
    code = PickupCode.objects.get(delegate__isnull=False)
    # The token is signed with a timestamp (whole seconds): read the link the page gave, and
    # check it opens the delegate's own code.
    found = re.search(r'href="([^"]+)" data-testid="delegate-link"', html)
    assert found is not None
    link = found.group(1)
    prefix = reverse("access:pickup_guardian", args=["x"]).rsplit("x", 1)[0]
    assert prefix in link
    assert services.guardian_link_token(code).split(":", 1)[0] in link
    assert client.get(link).status_code == 200


def test_with_sms_the_guardian_is_told_the_delegate_gets_a_link(pickup, client, monkeypatch):
    from huxiao.notify.services import channel_config_create

    w = pickup
    channel_config_create(
        actor=None,
        organization=w.school,
        kind="sms",
        name="短信",
        target="http://127.0.0.1:9/sms",
        secret="k",
    )
    response = _guardian_names_delegate(w, client, monkeypatch)
    html = response.content.decode()
    assert response.status_code == 200
    assert "王奶奶 今天可以接孩子；其接送码页面的链接将通过短信发送。" in html
    assert 'data-testid="delegate-link"' not in html
    assert Delivery.objects.filter(channel="sms", phones=["13700137000"]).exists()


# ------------------------------------------------ 6. a double tap pages nobody


def test_a_double_tap_on_the_same_confirmation_is_refused_without_an_alert(pickup):
    w = pickup
    match = lookup(w, w.issued.pin)
    release(w, match)
    with pytest.raises(services.PickupRefused) as again:
        release(w, match)
    assert again.value.reason == RefusalReason.ALREADY_RELEASED
    assert str(again.value.message) == "这个孩子刚刚已凭此确认放行。"
    assert PickupRefusal.objects.filter(reason=RefusalReason.ALREADY_RELEASED).count() == 1
    assert alerts() == 0
    # A fresh scan of the code after the release is still a security event.
    with pytest.raises(services.PickupRefused):
        lookup(w, w.issued.card_text, now=at(MONDAY, "16:50"))
    assert alerts(RefusalReason.ALREADY_RELEASED) == 1


def test_another_users_stale_confirmation_still_alerts(pickup):
    w = pickup
    by_teacher = lookup(w, w.issued.card_text, user="teacher")
    by_guard = lookup(w, w.issued.pin)
    release(w, by_guard)
    with pytest.raises(services.PickupRefused):
        release(w, by_teacher, user="teacher")
    assert alerts(RefusalReason.ALREADY_RELEASED) == 1


# ------------------------------------------------ 7. photos for gate devices


def _device(w, school=None):
    _device, token = device_token_issue(
        actor=w.users["principal"] if school is None else w.users["principal2"],
        school=school or w.school,
        name="大门平板",
        kind="gate_terminal",
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_gate_device_gets_the_adults_photo(pickup, client):
    w = pickup
    services.guardian_photo_set(actor=w.users["teacher"], guardian=w.guardian, data=PNG)
    auth = _device(w)
    found = client.post(
        "/api/v1/pickup/lookup",
        data={"code": w.issued.pin},
        content_type="application/json",
        **auth,
    ).json()
    assert found["adult"]["has_photo"] is True
    url = found["adult"]["photo_url"]
    assert url == f"/api/v1/pickup/photos/guardian/{w.guardian.pk}"
    photo = client.get(url, **auth)
    assert photo.status_code == 200 and photo.content == PNG
    assert photo["Content-Type"] == "image/png" and photo["Cache-Control"] == "no-store"
    # Another school's device, no token, an unknown kind or adult: no photo.
    assert client.get(url, **_device(w, w.other_school)).status_code == 404
    assert client.get(url).status_code == 401
    assert client.get(f"/api/v1/pickup/photos/visitor/{w.guardian.pk}", **auth).status_code == 404
    assert client.get(f"/api/v1/pickup/photos/guardian/{2**62}", **auth).status_code == 404
    assert client.get(f"/api/v1/pickup/photos/guardian/{2**70}", **auth).status_code in (400, 404)


@pytest.mark.parametrize(
    ("name", "status"),
    [("guard", 200), ("teacher", 200), ("health", 403), ("police", 403), ("guard2", 404)],
)
def test_photo_api_matrix(pickup, api, name, status):
    w = pickup
    services.guardian_photo_set(actor=w.users["teacher"], guardian=w.guardian, data=PNG)
    response = api("get", f"/api/v1/pickup/photos/guardian/{w.guardian.pk}", w.users[name])
    assert response.status_code == status
    if status != 200:
        assert PNG not in response.content


def test_a_delegates_photo_for_the_device(pickup, client):
    w = pickup
    delegate, issued = name_delegate(w)
    delegate.photo_encrypted, delegate.photo_content_type = services.photos.seal(PNG)
    delegate.save()
    auth = _device(w)
    found = client.post(
        "/api/v1/pickup/lookup",
        data={"code": issued.card_text},
        content_type="application/json",
        **auth,
    )
    # The delegate's day is MONDAY (past on the real clock): refused, nothing shown.
    assert found.status_code == 409
    photo = client.get(f"/api/v1/pickup/photos/delegate/{delegate.pk}", **auth)
    assert photo.status_code == 200 and photo.content == PNG


# ------------------------------------------------ 8. the gate's query counts


def test_lookup_and_release_query_counts(pickup, client, django_assert_num_queries):
    w = pickup
    auth = _device(w)
    # Warm: the device's last use is recorded at most once a minute.
    client.post(
        "/api/v1/pickup/lookup", data={"code": "HX1"}, content_type="application/json", **auth
    )
    with django_assert_num_queries(2):  # the device token, the code (with its checks)
        found = client.post(
            "/api/v1/pickup/lookup",
            data={"code": w.issued.pin},
            content_type="application/json",
            **auth,
        )
    assert found.status_code == 200
    # The device token, the code; then the release and its audit row in one transaction
    # (with savepoints inside the test's transaction).
    with django_assert_num_queries(6):
        released = client.post(
            "/api/v1/pickup/release",
            data={"confirmation_token": found.json()["confirmation_token"]},
            content_type="application/json",
            **auth,
        )
    assert released.status_code == 201


def test_service_lookup_query_count_by_card(pickup, django_assert_num_queries):
    w = pickup
    guard = w.users["guard"]
    lookup(w, w.issued.card_text)  # warm the user's scope
    with django_assert_num_queries(1):
        services.pickup_lookup(actor=guard, school=w.school, text=w.issued.card_text, now=PICKUP)


def test_a_lock_that_ran_out_locks_again_and_alerts_again(pickup):
    w = pickup
    wrong = "000000" if w.issued.pin != "000000" else "111111"
    for minute in ("16:30", "16:31", "16:32", "16:33"):
        with pytest.raises(services.PickupRefused):
            lookup(w, wrong, now=at(MONDAY, minute))
    with pytest.raises(services.PinLocked):
        lookup(w, wrong, now=at(MONDAY, "16:34"))
    # 10 minutes later (the cache key outlives the lock by a minute): five more lock again.
    for minute in ("16:45", "16:46", "16:47", "16:48"):
        with pytest.raises(services.PickupRefused):
            lookup(w, wrong, now=at(MONDAY, minute))
    with pytest.raises(services.PinLocked) as again:
        lookup(w, wrong, now=at(MONDAY, "16:49"))
    assert again.value.until == at(MONDAY, "16:59")
    assert alerts(RefusalReason.UNKNOWN) == 2
