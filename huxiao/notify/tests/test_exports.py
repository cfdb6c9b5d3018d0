"""Export of the inbox (issue 10 item 5): the user's own messages as the page lists them,
unread only when the page shows only those; nobody else's."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.notify.models import Delivery, Notification
from huxiao.orgs.tests.export_helpers import button_on, export_ids, page, round_trip

pytestmark = pytest.mark.django_db


@pytest.fixture
def messages(world):
    def deliver(user, title, read=False):
        note = Notification.objects.create(
            event_type="tests.export", title=title, body="正文", created_at=timezone.now()
        )
        return Delivery.objects.create(
            notification=note,
            channel="inbox",
            recipient=user,
            read_at=timezone.now() if read else None,
            created_at=timezone.now(),
        )

    w = world
    w.read = deliver(w.users["principal"], "已读消息", read=True)
    w.unread = deliver(w.users["principal"], "未读消息")
    w.others = deliver(w.users["principal2"], "别人的消息")
    return w


@pytest.mark.parametrize("query", ["", "unread=1"])
def test_inbox_export_is_the_pages_list(client, messages, query):
    user = messages.users["principal"]
    response = page(client, user, f"{reverse('notify:inbox')}?{query}")
    assert button_on(response, "notify.inbox")
    listed = [item.pk for item in response.context["page"].object_list]
    assert listed and export_ids(user, "notify.inbox", query) == listed
    assert messages.others.pk not in listed


def test_inbox_round_trip(client, messages, django_capture_on_commit_callbacks):
    values = round_trip(
        client,
        messages.users["principal"],
        "notify.inbox",
        "unread=1",
        django_capture_on_commit_callbacks,
    )
    assert "未读消息" in values and "已读消息" not in values and "别人的消息" not in values
