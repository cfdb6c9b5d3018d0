"""Excel export of the audit trail page (issue 10 item 5, ADR 0033): the same scoped
selector and filters as the page, every row instead of a page of fifty."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.audit.selectors import audit_event_list
from huxiao.audit.views import event_filters
from huxiao.reports.exports import Table, register_export

CHUNK = 2000


def _changes(changes) -> str:
    if not isinstance(changes, dict):
        return str(changes or "")
    return "; ".join(f"{key}: {value}" for key, value in changes.items())


def audit_events_table(actor, query) -> Table:
    filters = event_filters(actor, query)
    events = audit_event_list(actor=actor, **filters)
    heading = [
        f"{label}: {filters[key]}"
        for key, label in (
            ("object_type", _("Object type")),
            ("object_id", _("Object id")),
            ("user_id", _("User id")),
            ("school_id", _("School")),
        )
        if filters[key]
    ]
    rows = (
        (
            e.at,
            e.actor_label,
            e.get_action_display(),
            e.object_type,
            e.object_id,
            e.object_repr,
            e.school.name if e.school else "",
            _changes(e.changes),
            e.request_id,
        )
        for e in events.iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[
            _("Time"),
            _("Who"),
            _("Action"),
            _("Object type"),
            _("Object id"),
            _("Object"),
            _("School"),
            _("Changes"),
            _("Request"),
        ],
        rows=rows,
        heading=heading,
    )


register_export("audit.events", title=gettext_lazy("Audit trail"), table=audit_events_table)
