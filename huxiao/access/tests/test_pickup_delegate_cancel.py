# ruff: noqa: F811 - pytest fixtures imported from pickup_fixtures are arguments here
"""Cancelling a one-day pick-up delegate (ADR 0025, addendum): by the guardian who named
them (their signed page) or by MANAGE_PICKUP staff; the delegate's code dies at once and
the gate refuses it as not authorised."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from huxiao.access import pickup_services as services
from huxiao.access.choices import RefusalReason
from huxiao.access.models import PickupCode, PickupDelegate, PickupRefusal, Release
from huxiao.access.tests.pickup_fixtures import MONDAY, at, pickup  # noqa: F401
from huxiao.audit.models import AuditEvent
from huxiao.notify.models import Delivery, Notification

pytestmark = pytest.mark.django_db

MORNING = at(MONDAY, "09:00")
NOON = at(MONDAY, "12:00")
PICKUP = at(MONDAY, "16:35")


def name_delegate(w, now=MORNING, guardian=None, actor=None):
    return services.delegate_add(
        actor=actor,
        named_by=None if actor is not None else (guardian or w.guardian),
        child=(guardian or w.guardian).child,
        name="王奶奶",
        phone="13700137000",
        relationship="奶奶",
        now=now,
    )


def lookup(w, text, now=PICKUP):
    return services.pickup_lookup(actor=w.users["guard"], school=w.school, text=text, now=now)


def refused_reason(w, text, now=PICKUP) -> str:
    with pytest.raises(services.PickupRefused) as refused:
        lookup(w, text, now=now)
    return refused.value.reason


def live_codes(delegate) -> int:
    return PickupCode.objects.filter(delegate=delegate, revoked_at__isnull=True).count()


# ------------------------------------------------------------------ the service


def test_staff_cancel_revokes_the_code_and_the_gate_refuses_it(pickup):
    w = pickup
    delegate, issued = name_delegate(w)
    rotating = services.rotating_text(issued.code, now=PICKUP)
    cancelled = services.delegate_cancel(actor=w.users["teacher"], delegate=delegate, now=NOON)
    assert cancelled.cancelled_at == NOON and live_codes(delegate) == 0
    # Audited: the delegate and its code.
    assert (
        AuditEvent.objects.filter(
            object_type="access.pickupdelegate", object_id=str(delegate.pk)
        ).count()
        == 2
    )
    assert (
        AuditEvent.objects.filter(
            object_type="access.pickupcode", object_id=str(issued.code.pk)
        ).count()
        == 2
    )
    # The audit trail outlives the delegate (retention purge): no phone number in it.
    trail = [row.changes for row in AuditEvent.objects.filter(object_type="access.pickupdelegate")]
    assert "13700137000" not in repr(trail) and "王奶奶" in repr(trail)
    # The delegate's link dies with the code.
    assert services.code_from_link(services.guardian_link_token(issued.code)) is None
    # Card, rotating QR and PIN: "not authorised", logged, the teacher and duty leader told.
    for text in (issued.card_text, rotating, issued.pin):
        assert refused_reason(w, text) == RefusalReason.NOT_AUTHORISED
    assert (
        PickupRefusal.objects.filter(
            reason=RefusalReason.NOT_AUTHORISED, code=issued.code, child=w.child
        ).count()
        == 3
    )
    alerted = set(
        Delivery.objects.filter(
            notification__in=Notification.objects.filter(event_type="pickup.refused")
        ).values_list("recipient_id", flat=True)
    )
    assert {w.users["teacher"].pk, w.users["duty"].pk} <= alerted
    assert not Release.objects.exists()


def test_a_confirmation_taken_before_the_cancel_is_refused_at_release(pickup):
    w = pickup
    delegate, issued = name_delegate(w)
    match = lookup(w, issued.pin, now=at(MONDAY, "13:00"))
    services.delegate_cancel(actor=w.users["principal"], delegate=delegate, now=at(MONDAY, "13:01"))
    with pytest.raises(services.PickupRefused) as refused:
        services.pickup_release(
            actor=w.users["guard"], school=w.school, token=match.token, now=at(MONDAY, "13:02")
        )
    assert refused.value.reason == RefusalReason.NOT_AUTHORISED
    assert not Release.objects.exists()


def test_the_guardian_cancels_their_own_delegate_even_after_the_cutoff(pickup):
    w = pickup
    delegate, issued = name_delegate(w)
    after_cutoff = at(MONDAY, "15:00")
    services.delegate_cancel(
        actor=None, delegate=delegate, cancelled_by=w.guardian, now=after_cutoff
    )
    assert PickupDelegate.objects.get(pk=delegate.pk).cancelled_at == after_cutoff
    assert refused_reason(w, issued.card_text) == RefusalReason.NOT_AUTHORISED
    # The guardian's own code still works.
    assert lookup(w, w.issued.pin).adult_name == w.guardian.name


@pytest.mark.parametrize("who", ["guard", "duty", "health", "principal2", "police", "nobody"])
def test_staff_without_manage_pickup_cannot_cancel(pickup, who):
    w = pickup
    delegate, issued = name_delegate(w)
    with pytest.raises(PermissionDenied):
        services.delegate_cancel(actor=w.users[who], delegate=delegate, now=NOON)
    assert PickupDelegate.objects.get(pk=delegate.pk).cancelled_at is None
    assert live_codes(delegate) == 1
    assert lookup(w, issued.pin).adult_name == "王奶奶"


def test_a_guardian_cancels_only_the_delegates_they_named(pickup):
    w = pickup
    from huxiao.people.tests.factories import GuardianFactory

    father = GuardianFactory(child=w.child, name="王爸爸", relationship="father")
    delegate, _issued = name_delegate(w)
    with pytest.raises(PermissionDenied):
        services.delegate_cancel(actor=None, delegate=delegate, cancelled_by=father, now=NOON)
    staff_named, _issued = name_delegate(w, actor=w.users["teacher"])
    with pytest.raises(PermissionDenied):
        services.delegate_cancel(
            actor=None, delegate=staff_named, cancelled_by=w.guardian, now=NOON
        )
    # A guardian whose right was withdrawn cannot act on it either.
    w.guardian.can_pick_up = False
    w.guardian.save(update_fields=["can_pick_up"])
    with pytest.raises(PermissionDenied):
        services.delegate_cancel(actor=None, delegate=delegate, cancelled_by=w.guardian, now=NOON)
    assert PickupDelegate.objects.filter(cancelled_at__isnull=False).count() == 0


def test_cancelling_twice_or_after_the_day_is_a_message(pickup):
    w = pickup
    delegate, _issued = name_delegate(w)
    services.delegate_cancel(actor=w.users["teacher"], delegate=delegate, now=NOON)
    with pytest.raises(ValidationError) as twice:
        services.delegate_cancel(actor=w.users["teacher"], delegate=delegate, now=NOON)
    assert twice.value.messages == ["该代接人已被取消。"]
    old, _issued = name_delegate(w)
    with pytest.raises(ValidationError) as late:
        services.delegate_cancel(
            actor=w.users["teacher"], delegate=old, now=NOON + dt.timedelta(days=1)
        )
    assert late.value.messages == ["该代接人的代接日期已过，无需取消。"]
    assert PickupDelegate.objects.get(pk=old.pk).cancelled_at is None


def test_a_guardian_without_the_right_cannot_name_a_delegate(pickup):
    w = pickup
    w.guardian.can_pick_up = False
    w.guardian.save(update_fields=["can_pick_up"])
    with pytest.raises(PermissionDenied):
        name_delegate(w)
    assert not PickupDelegate.objects.exists()


# ------------------------------------------------------------------ the pages


def today_delegate(w, **kwargs):
    """A delegate named this morning (the pages run on the real clock)."""
    morning = timezone.localtime().replace(hour=8, minute=0, second=0, microsecond=0)
    return name_delegate(w, now=morning, **kwargs)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("teacher", 302),
        ("principal", 302),
        ("security", 302),
        ("guard", 403),
        ("duty", 403),
        ("principal2", 404),
        ("police", 403),
        ("nobody", 404),
    ],
)
def test_staff_cancel_page_matrix(client, pickup, who, status):
    w = pickup
    delegate, _issued = today_delegate(w)
    client.force_login(w.users[who])
    response = client.post(reverse("access:pickup_delegate_cancel", args=[delegate.pk]))
    assert response.status_code == status
    cancelled = PickupDelegate.objects.get(pk=delegate.pk).cancelled_at is not None
    assert cancelled is (status == 302)
    assert live_codes(delegate) == (0 if status == 302 else 1)


def test_staff_cancel_page_flow(client, pickup):
    w = pickup
    delegate, _issued = today_delegate(w)
    anonymous = client.post(reverse("access:pickup_delegate_cancel", args=[delegate.pk]))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert client.get(reverse("access:pickup_class", args=[w.school_class.pk])).status_code == 302
    client.force_login(w.users["teacher"])
    page = client.get(reverse("access:pickup_class", args=[w.school_class.pk])).content.decode()
    assert f'data-testid="cancel-delegate-{delegate.pk}"' in page
    url = reverse("access:pickup_delegate_cancel", args=[delegate.pk])
    response = client.post(url, follow=True)
    html = response.content.decode()
    assert "王奶奶 今天不能再代接，其接送码已作废。" in html
    assert f'data-testid="cancel-delegate-{delegate.pk}"' not in html
    again = client.post(url, follow=True).content.decode()
    assert "该代接人已被取消。" in again
    assert client.post(f"/gate/pickup/delegates/{2**70}/cancel/").status_code == 404
    assert client.get(url).status_code == 405


def test_the_guardian_page_lists_and_cancels_their_delegate(client, pickup):
    w = pickup
    delegate, issued = today_delegate(w)
    page_url = reverse("access:pickup_guardian", args=[services.guardian_link_token(w.issued.code)])
    page = client.get(page_url).content.decode()
    assert f'data-testid="cancel-delegate-{delegate.pk}"' in page
    cancel_url = reverse(
        "access:pickup_guardian_delegate_cancel",
        args=[services.guardian_link_token(w.issued.code), delegate.pk],
    )
    delegate_link = reverse(
        "access:pickup_guardian", args=[services.guardian_link_token(issued.code)]
    )
    assert client.get(delegate_link).status_code == 200
    response = client.post(cancel_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "王奶奶 今天不能再代接，其接送码已作废。" in html
    assert f'data-testid="cancel-delegate-{delegate.pk}"' not in html
    assert PickupDelegate.objects.get(pk=delegate.pk).cancelled_at is not None
    # The delegate's own page is gone at once.
    assert client.get(delegate_link).status_code == 404
    again = client.post(cancel_url)
    assert again.status_code == 400 and "该代接人已被取消。" in again.content.decode()


def test_the_guardian_page_refuses_what_is_not_theirs(client, pickup):
    w = pickup
    from huxiao.people.tests.factories import GuardianFactory

    token = services.guardian_link_token(w.issued.code)
    staff_named, staff_issued = today_delegate(w, actor=w.users["teacher"])
    response = client.post(
        reverse("access:pickup_guardian_delegate_cancel", args=[token, staff_named.pk])
    )
    assert response.status_code == 403
    assert "您只能取消自己指定的代接人。" in response.content.decode()
    # A delegate of another child: not found; a delegate's own link cannot cancel.
    other_guardian = GuardianFactory(child=w.child2, name="李妈妈")
    other, _issued = today_delegate(w, guardian=other_guardian)
    url = reverse("access:pickup_guardian_delegate_cancel", args=[token, other.pk])
    assert client.post(url).status_code == 404
    delegate_token = services.guardian_link_token(staff_issued.code)
    url = reverse("access:pickup_guardian_delegate_cancel", args=[delegate_token, staff_named.pk])
    assert client.post(url).status_code == 404
    bad = reverse("access:pickup_guardian_delegate_cancel", args=["forged", staff_named.pk])
    assert client.post(bad).status_code == 404
    assert not PickupDelegate.objects.filter(cancelled_at__isnull=False).exists()
