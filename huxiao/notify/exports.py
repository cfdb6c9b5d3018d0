"""Excel export of the inbox (issue 10 item 5; ADR 0033): the user's own messages, all or
only the unread ones as on the page, every page of them."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.notify import selectors
from huxiao.notify.views import item_link, unread_filter
from huxiao.reports.exports import Table, register_export

CHUNK = 500


def inbox_table(actor, query) -> Table:
    unread_only = unread_filter(query)
    items = selectors.inbox_list(user=actor, unread_only=unread_only)
    return Table(
        columns=[_("ID"), _("Received at"), _("Title"), _("Text"), _("Read at"), _("Link")],
        rows=(
            (
                item.pk,
                item.created_at,
                item.notification.title,
                item.notification.body,
                item.read_at,
                item_link(item.notification),
            )
            for item in items.iterator(chunk_size=CHUNK)
        ),
        heading=[_("Unread messages only")] if unread_only else [],
    )


register_export("notify.inbox", title=gettext_lazy("Inbox"), table=inbox_table)
