"""The in-app inbox: delivery, the user's own items only, read marks, the pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.notify import selectors, services
from huxiao.notify.choices import ChannelKind, DeliveryStatus
from huxiao.notify.models import Delivery
from huxiao.orgs.tests.factories import UserFactory


@pytest.fixture
def items(world, send_now):
    """principal and police each get the alarm; guard gets a separate notice."""
    alarm = send_now(
        organizations=[world.school],
        event_type="alarm.raised",
        title="一键报警：本园",
        body="门口有可疑人员",
        payload={"url": "/alarms/7/"},
        recipients=[world.users["principal"], world.users["police"].pk, world.users["principal"]],
    )
    notice = send_now(
        organizations=[world.school],
        event_type="duty.reminder",
        title="值班提醒",
        body="",
        payload={"url": "//evil.example/phish"},
        recipients=[world.users["guard"]],
    )

    def item(notification, username):
        return Delivery.objects.get(notification=notification, recipient=world.users[username])

    return {
        "principal": item(alarm, "principal"),
        "police": item(alarm, "police"),
        "guard": item(notice, "guard"),
    }


def login(client, world, username):
    if username != "anonymous":
        client.force_login(world.users[username])
    return client


def test_inbox_delivery_is_sent_at_once(world, items):
    item = items["principal"]
    assert item.channel == ChannelKind.INBOX
    assert item.status == DeliveryStatus.SENT
    assert item.sent_at is not None and item.read_at is None
    # Duplicates in `recipients` give one item each.
    assert Delivery.objects.filter(notification=item.notification).count() == 2


def test_inactive_users_get_nothing(world, send_now):
    gone = UserFactory(username="gone", is_active=False)
    notification = send_now(organizations=[], event_type="e", title="t", recipients=[gone])
    assert not notification.deliveries.exists()


def test_inbox_push_to_the_user_group(world, django_capture_on_commit_callbacks, monkeypatch):
    published = []
    monkeypatch.setattr(
        services,
        "publish_on_commit",
        lambda groups, event, payload: published.append((groups, event, payload)),
    )
    notification = services.notify_send(
        organizations=[],
        event_type="alarm.raised",
        title="t",
        recipients=[world.users["police"], world.users["principal"]],
    )
    [(groups, event, payload)] = published
    assert sorted(groups) == sorted(
        [f"user.{world.users['police'].pk}", f"user.{world.users['principal'].pk}"]
    )
    assert event == "notify.inbox"
    assert payload == {
        "notification_id": notification.pk,
        "event_type": "alarm.raised",
        "title": "t",
    }


def test_selectors_are_per_user(world, items):
    principal = world.users["principal"]
    assert list(selectors.inbox_list(user=principal)) == [items["principal"]]
    assert selectors.inbox_unread_count(principal) == 1
    assert selectors.inbox_unread_count(world.users["teacher"]) == 0
    from django.contrib.auth.models import AnonymousUser

    assert selectors.inbox_unread_count(AnonymousUser()) == 0
    assert selectors.inbox_unread_count(None) == 0


def test_mark_read_is_audited_once(world, items):
    principal = world.users["principal"]
    item = services.inbox_mark_read(actor=principal, delivery_id=items["principal"].pk)
    assert item.read_at is not None
    services.inbox_mark_read(actor=principal, delivery_id=item.pk)
    events = AuditEvent.objects.filter(object_type="notify.delivery", object_id=str(item.pk))
    assert [e.action for e in events] == [AuditAction.UPDATE]
    assert list(events[0].changes["fields"]) == ["read_at"]
    assert selectors.inbox_unread_count(principal) == 0


# ---------------------------------------------------------------- pages


@pytest.mark.parametrize("username", ["principal", "guard", "police", "county", "nobody"])
def test_inbox_page_shows_only_own_items(client, world, items, username):
    response = login(client, world, username).get(reverse("notify:inbox"))
    assert response.status_code == 200
    page = response.content.decode()
    for owner, item in items.items():
        shown = reverse("notify:item", args=[item.pk]) in page
        assert shown == (owner == username), owner


def test_inbox_page_anonymous_goes_to_login(client):
    response = client.get(reverse("notify:inbox"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_inbox_page_content(client, world, items):
    page = login(client, world, "principal").get(reverse("notify:inbox")).content.decode()
    assert "一键报警：本园" in page and "门口有可疑人员" in page
    assert 'href="/alarms/7/"' in page
    assert 'data-unread="1"' in page
    page = login(client, world, "guard").get(reverse("notify:inbox")).content.decode()
    # A payload URL that leaves the site is not linked.
    assert "evil.example" not in page


def test_unread_filter(client, world, items):
    services.inbox_mark_read(actor=world.users["principal"], delivery_id=items["principal"].pk)
    client = login(client, world, "principal")
    page = client.get(reverse("notify:inbox") + "?unread=1").content.decode()
    assert reverse("notify:item", args=[items["principal"].pk]) not in page
    page = client.get(reverse("notify:inbox")).content.decode()
    assert reverse("notify:item", args=[items["principal"].pk]) in page


@pytest.mark.parametrize(
    "username, owner, status",
    [
        ("anonymous", "principal", 302),
        ("principal", "principal", 200),
        ("police", "police", 200),
        ("principal", "police", 404),
        ("police", "principal", 404),
        ("guard", "principal", 404),
        ("county", "principal", 404),
        ("nobody", "guard", 404),
    ],
)
def test_item_page_scope(client, world, items, username, owner, status):
    response = login(client, world, username).get(reverse("notify:item", args=[items[owner].pk]))
    assert response.status_code == status


@pytest.mark.parametrize(
    "username, owner, status",
    [
        ("anonymous", "principal", 302),
        ("principal", "principal", 302),
        ("police", "principal", 404),
        ("guard", "principal", 404),
        ("principal", "guard", 404),
    ],
)
def test_mark_read_scope(client, world, items, username, owner, status):
    item = items[owner]
    response = login(client, world, username).post(reverse("notify:item_read", args=[item.pk]))
    assert response.status_code == status
    item.refresh_from_db()
    assert (item.read_at is not None) == (status == 302 and username != "anonymous")
    if item.read_at is None:
        assert not AuditEvent.objects.filter(object_type="notify.delivery").exists()


def test_mark_read_requires_post(client, world, items):
    response = login(client, world, "principal").get(
        reverse("notify:item_read", args=[items["principal"].pk])
    )
    assert response.status_code == 405


def test_mark_read_redirects_only_to_this_site(client, world, items):
    client = login(client, world, "principal")
    url = reverse("notify:item_read", args=[items["principal"].pk])
    response = client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notify:inbox")
    response = client.post(url, {"next": reverse("notify:item", args=[items["principal"].pk])})
    assert response["Location"] == reverse("notify:item", args=[items["principal"].pk])


def test_mark_read_with_htmx_returns_the_item(client, world, items):
    response = login(client, world, "principal").post(
        reverse("notify:item_read", args=[items["principal"].pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="inbox-item-{items["principal"].pk}"' in page
    assert 'data-testid="inbox-mark-read"' not in page
    assert "<html" not in page


def test_read_all_touches_only_own_items(client, world, items, send_now):
    send_now(
        organizations=[], event_type="e", title="second", recipients=[world.users["principal"]]
    )
    assert selectors.inbox_unread_count(world.users["principal"]) == 2
    response = login(client, world, "principal").post(reverse("notify:read_all"))
    assert response.status_code == 302
    assert selectors.inbox_unread_count(world.users["principal"]) == 0
    assert selectors.inbox_unread_count(world.users["police"]) == 1
    assert selectors.inbox_unread_count(world.users["guard"]) == 1
    event = AuditEvent.objects.get(object_type="notify.delivery")
    assert event.changes == {"marked_read": 2}
    assert event.actor == world.users["principal"]


def test_unread_badge(client, world, items):
    response = login(client, world, "police").get(reverse("notify:unread_badge"))
    assert response.status_code == 200
    assert "(1)" in response.content.decode()
    client.logout()
    response = login(client, world, "teacher").get(reverse("notify:unread_badge"))
    assert "(" not in response.content.decode()


def test_absurd_ids_are_not_found(client, world):
    client = login(client, world, "principal")
    assert client.get("/notify/inbox/99999999999999999999999/").status_code == 404
    assert client.post("/notify/inbox/99999999999999999999999/read/").status_code == 404


def test_pages_render_in_chinese_by_default(client, world, items):
    response = login(client, world, "principal").get(reverse("notify:inbox"))
    assert '<html lang="zh-hans"' in response.content.decode()


def test_inbox_page_query_count(client, world, send_now, django_assert_max_num_queries):
    for number in range(30):
        send_now(
            organizations=[world.school],
            event_type="e",
            title=f"通知 {number}",
            recipients=[world.users["principal"]],
        )
    client = login(client, world, "principal")
    client.get(reverse("notify:inbox"))  # warm the session and scope caches
    with django_assert_max_num_queries(8):
        response = client.get(reverse("notify:inbox"))
    assert response.content.decode().count('data-testid="inbox-item"') == 30
