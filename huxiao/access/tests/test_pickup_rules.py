# ruff: noqa: F811 - pytest fixtures imported from pickup_fixtures are arguments here
"""Pick-up rules at the service level (issue 5, ADR 0025)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from huxiao.access import codes
from huxiao.access import pickup_services as services
from huxiao.access.choices import RefusalReason
from huxiao.access.models import PickupCode, PickupDelegate, PickupRefusal, Release
from huxiao.access.tests.pickup_fixtures import MONDAY, at, pickup  # noqa: F401
from huxiao.core import crypto
from huxiao.notify.models import Delivery, Notification

pytestmark = pytest.mark.django_db

NOON = at(MONDAY, "12:00")
PICKUP = at(MONDAY, "16:35")


def lookup(w, text, now=PICKUP, user="guard", school=None):
    return services.pickup_lookup(
        actor=w.users[user], school=school or w.school, text=text, now=now
    )


def release(w, match, now=PICKUP, user="guard"):
    return services.pickup_release(actor=w.users[user], school=w.school, token=match.token, now=now)


def alerted(reason) -> set[int]:
    ids = set()
    for note in Notification.objects.filter(event_type="pickup.refused"):
        if note.payload.get("reason") == reason:
            ids |= set(
                Delivery.objects.filter(notification=note).values_list("recipient_id", flat=True)
            )
    return ids


def test_pin_is_six_digits_stored_only_as_school_bound_hash(pickup):
    w = pickup
    code = w.issued.code
    assert len(w.issued.pin) == 6 and w.issued.pin.isdigit()
    assert code.pin_hash == crypto.lookup_hash(f"pickup-pin:{w.school.pk}:{w.issued.pin}")
    assert w.issued.pin not in code.pin_hash
    assert (
        codes.verify(
            w.issued.card_text, kinds={codes.PICKUP_CARD}, school_id=w.school.pk, now=PICKUP
        ).ident
        == code.card_serial
    )


def test_authorised_guardian_by_pin_card_and_rotating_code(pickup):
    w = pickup
    code = w.issued.code
    for text in (
        w.issued.pin,
        f" {w.issued.pin}\n",
        w.issued.card_text,
        "]Q1" + w.issued.card_text.lower() + "\r\n",  # scanner prefix, lower case, newline
        services.rotating_text(code, now=PICKUP),
    ):
        match = lookup(w, text)
        assert match.child == w.child
        assert match.adult_name == "王妈妈"
    rel = release(w, match)
    assert rel.child == w.child and rel.released_by == w.users["guard"]
    assert rel.adult_name == "王妈妈" and rel.released_at == PICKUP
    assert not PickupRefusal.objects.exists()


def test_rotating_code_accepts_one_step_either_side_and_refuses_older(pickup):
    w = pickup
    code = w.issued.code
    for seconds in (-60, 0, 60):
        moment = PICKUP + __import__("datetime").timedelta(seconds=seconds)
        assert lookup(w, services.rotating_text(code, now=moment)).child == w.child
    old = services.rotating_text(code, now=at(MONDAY, "16:30"))
    with pytest.raises(services.PickupRefused) as refused:
        lookup(w, old)
    assert refused.value.reason == RefusalReason.EXPIRED
    assert not Release.objects.exists()


def test_tampered_qr_is_forged_and_alerts(pickup):
    w = pickup
    text = w.issued.card_text
    body, sig = text.rsplit(".", 1)
    tampered = body.replace(f".{w.school.pk}.", f".{w.school.pk}.", 1)
    tampered = tampered[:-1] + ("1" if tampered[-1] != "1" else "2") + "." + sig
    with pytest.raises(services.PickupRefused) as refused:
        lookup(w, tampered)
    assert refused.value.reason == RefusalReason.FORGED
    rotating = services.rotating_text(w.issued.code, now=PICKUP)
    forged = rotating[:-1] + ("A" if rotating[-1] != "A" else "B")
    with pytest.raises(services.PickupRefused) as refused:
        lookup(w, forged)
    assert refused.value.reason == RefusalReason.FORGED
    assert PickupRefusal.objects.filter(reason=RefusalReason.FORGED).count() == 2
    assert w.users["duty"].pk in alerted(RefusalReason.FORGED)


def test_noise_and_partial_reads_are_a_message_and_write_nothing(pickup):
    w = pickup
    for text in ("", "hello", "12345", "1234567", w.issued.card_text[:-5], "HX1.K.1"):
        with pytest.raises(ValidationError):
            lookup(w, text)
    assert not PickupRefusal.objects.exists() and not Release.objects.exists()


def test_code_of_another_school_is_refused_and_alerts(pickup):
    w = pickup
    for text in (
        w.other_issued.card_text,
        services.rotating_text(w.other_issued.code, now=PICKUP),
    ):
        with pytest.raises(services.PickupRefused) as refused:
            lookup(w, text)
        assert refused.value.reason == RefusalReason.OTHER_SCHOOL
    refusal = PickupRefusal.objects.filter(school=w.school).first()
    # The other school's child is not named at this gate.
    assert refusal.child is None and refusal.code is None
    assert w.users["duty"].pk in alerted(RefusalReason.OTHER_SCHOOL)
    # The other school's PIN means nothing here.
    with pytest.raises(services.PickupRefused) as refused:
        lookup(w, w.other_issued.pin if w.other_issued.pin != w.issued.pin else "000000")
    assert refused.value.reason == RefusalReason.UNKNOWN


def test_already_released_is_refused_and_alerts_teacher_and_duty_leader(pickup):
    w = pickup
    release(w, lookup(w, w.issued.pin))
    with pytest.raises(services.PickupRefused) as refused:
        lookup(w, w.issued.card_text, now=at(MONDAY, "16:50"))
    assert refused.value.reason == RefusalReason.ALREADY_RELEASED
    assert {w.users["teacher"].pk, w.users["duty"].pk} <= alerted(RefusalReason.ALREADY_RELEASED)
    assert Release.objects.count() == 1


def test_revoked_and_reissued_codes(pickup):
    w = pickup
    old = w.issued
    new = services.pickup_code_issue(actor=w.users["teacher"], guardian=w.guardian, now=NOON)
    assert PickupCode.objects.get(pk=old.code.pk).revoked_at is not None
    with pytest.raises(services.PickupRefused) as refused:
        lookup(w, old.card_text)
    assert refused.value.reason == RefusalReason.REVOKED
    assert lookup(w, new.pin).child == w.child
    services.pickup_code_revoke(actor=w.users["teacher"], code=new.code)
    with pytest.raises(services.PickupRefused) as refused:
        lookup(w, services.rotating_text(new.code, now=PICKUP))
    assert refused.value.reason == RefusalReason.REVOKED


def test_guardian_no_longer_authorised(pickup):
    w = pickup
    w.guardian.can_pick_up = False
    w.guardian.save()
    with pytest.raises(services.PickupRefused) as refused:
        lookup(w, w.issued.card_text)
    assert refused.value.reason == RefusalReason.NOT_AUTHORISED
    assert w.users["teacher"].pk in alerted(RefusalReason.NOT_AUTHORISED)
    with pytest.raises(ValidationError):
        services.pickup_code_issue(actor=w.users["teacher"], guardian=w.guardian)


def test_revoked_after_lookup_refuses_release(pickup):
    w = pickup
    match = lookup(w, w.issued.pin)
    services.pickup_code_revoke(actor=w.users["teacher"], code=w.issued.code)
    with pytest.raises(services.PickupRefused) as refused:
        release(w, match)
    assert refused.value.reason == RefusalReason.REVOKED
    assert not Release.objects.exists()


def test_confirmation_token_is_bound_to_caller_and_tamper_proof(pickup):
    w = pickup
    match = lookup(w, w.issued.pin)
    for token, user in ((match.token, "teacher"), (match.token + "x", "guard"), ("", "guard")):
        with pytest.raises(ValidationError) as exc:
            release(w, type(match)(**{**match.__dict__, "token": token}), user=user)
        assert "token" in exc.value.message_dict
    assert not Release.objects.exists()


def test_delegate_before_cutoff_gets_a_code_for_today_only(pickup):
    w = pickup
    delegate, issued = services.delegate_add(
        actor=None,
        named_by=w.guardian,
        child=w.child,
        name="王奶奶",
        phone="13700137000",
        relationship="奶奶",
        now=NOON,
    )
    assert delegate.on_date == MONDAY
    match = lookup(w, issued.pin)
    assert match.is_delegate and match.adult_name == "王奶奶"
    tuesday = at(MONDAY + __import__("datetime").timedelta(days=1), "16:35")
    for text in (issued.card_text, issued.pin):
        with pytest.raises(services.PickupRefused) as refused:
            lookup(w, text, now=tuesday)
        assert refused.value.reason == RefusalReason.NOT_AUTHORISED
    rel = release(w, match)
    assert rel.delegate == delegate and rel.guardian is None


def test_delegate_after_cutoff_is_refused_and_logged(pickup):
    w = pickup
    for actor, named_by in ((None, w.guardian), (w.users["teacher"], None)):
        with pytest.raises(services.PickupRefused) as refused:
            services.delegate_add(
                actor=actor,
                named_by=named_by,
                child=w.child,
                name="王奶奶",
                phone="13700137000",
                relationship="奶奶",
                now=at(MONDAY, "14:00"),
            )
        assert refused.value.reason == RefusalReason.DELEGATE_LATE
        assert str(refused.value.message) == (
            "已过截止时间：当天代接人须在 14:00 前指定。请联系班主任。"
        )
    assert not PickupDelegate.objects.exists()
    assert PickupRefusal.objects.filter(reason=RefusalReason.DELEGATE_LATE).count() == 2


def test_delegate_bad_input_is_field_errors_and_nothing_written(pickup):
    w = pickup
    with pytest.raises(ValidationError) as exc:
        services.delegate_add(
            actor=w.users["teacher"],
            child=w.child,
            name="",
            phone="12",
            relationship="奶奶",
            id_number="110101199003070000",
            photo=b"not an image",
            now=NOON,
        )
    assert {"name", "phone", "id_number", "photo"} <= set(exc.value.message_dict)
    assert not PickupDelegate.objects.exists()


def test_roles_outside_pickup_are_refused(pickup):
    w = pickup
    for name in ("health", "police", "principal2", "guard2"):
        with pytest.raises(PermissionDenied):
            lookup(w, w.issued.pin, user=name)
    for name in ("guard", "duty", "police", "principal2"):
        with pytest.raises(PermissionDenied):
            services.pickup_code_issue(actor=w.users[name], guardian=w.guardian)
    assert PickupCode.objects.filter(school=w.school).count() == 1


def test_wrong_pins_lock_entry_for_ten_minutes(pickup):
    w = pickup
    wrong = "000000" if w.issued.pin != "000000" else "111111"
    for i in range(4):
        with pytest.raises(services.PickupRefused):
            lookup(w, wrong, now=at(MONDAY, f"16:3{i}"))
    with pytest.raises(services.PinLocked) as locked:
        lookup(w, wrong, now=at(MONDAY, "16:35"))
    assert locked.value.until == at(MONDAY, "16:45")
    # Locked even for the right PIN; QR codes still work; other users are not locked.
    with pytest.raises(services.PinLocked):
        lookup(w, w.issued.pin, now=at(MONDAY, "16:40"))
    assert lookup(w, w.issued.card_text, now=at(MONDAY, "16:40")).child == w.child
    assert lookup(w, w.issued.pin, now=at(MONDAY, "16:40"), user="teacher").child == w.child
    assert lookup(w, w.issued.pin, now=at(MONDAY, "16:46")).child == w.child
    assert w.users["duty"].pk in alerted(RefusalReason.UNKNOWN)


def test_failures_spread_over_more_than_ten_minutes_do_not_lock(pickup):
    w = pickup
    wrong = "000000" if w.issued.pin != "000000" else "111111"
    for minute in ("16:00", "16:04", "16:08", "16:12", "16:16", "16:20"):
        with pytest.raises(services.PickupRefused):
            lookup(w, wrong, now=at(MONDAY, minute))


def test_code_sms_goes_to_the_adult_only(pickup, django_capture_on_commit_callbacks, monkeypatch):
    from huxiao.notify import channels
    from huxiao.notify.services import channel_config_create

    w = pickup
    sent = []
    monkeypatch.setattr(
        channels, "send", lambda *, kind, target, secret, message, now: sent.append(message)
    )
    channel_config_create(
        actor=None,
        organization=w.school,
        kind="sms",
        name="短信",
        target="http://127.0.0.1:9/sms",
        secret="k",
        phones=["13900000009"],
    )
    channel_config_create(
        actor=None,
        organization=w.school,
        kind="webhook",
        name="hook",
        target="http://127.0.0.1:9/h",
        secret="s",
    )
    with django_capture_on_commit_callbacks(execute=True):
        issued = services.pickup_code_issue(actor=w.users["teacher"], guardian=w.guardian)
    assert issued.sms_queued
    assert len(sent) == 1
    # The guardian's number only: the link is their key, not for the school's duty phones.
    assert sent[0].phones == ("13800138000",)
    # The link to the rotating code only, never the PIN (it would stay in the log).
    assert issued.link_path in sent[0].body
    assert issued.pin not in sent[0].body
    assert not Notification.objects.filter(body__contains=issued.pin).exists()


def test_no_sms_channel_means_no_sms(pickup):
    w = pickup
    assert w.issued.sms_queued is False
    assert not Delivery.objects.filter(channel="sms").exists()
