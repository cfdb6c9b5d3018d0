"""Excel export of the incident list (issue 10 item 5, ADR 0033): the page's scoped
selector and status filter, every incident rather than the page's latest 200."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.incidents import selectors
from huxiao.incidents.choices import IncidentStatus
from huxiao.incidents.views import list_filters
from huxiao.reports.export_filters import yes
from huxiao.reports.exports import Table, register_export


def incidents_table(actor, query) -> Table:
    status = list_filters(query)["status"]
    incidents = selectors.incident_list(actor=actor, status=status)
    rows = (
        (
            i.pk,
            i.opened_at,
            i.title,
            yes(i.is_drill),
            i.school.name,
            i.get_status_display(),
            i.open_task_count,
            i.closed_at,
        )
        for i in incidents.iterator(chunk_size=1000)
    )
    heading = [f"{_('Status')}: {IncidentStatus(status).label}"] if status else []
    return Table(
        columns=[
            _("Number"),
            _("Opened"),
            _("Incident"),
            _("Drill"),
            _("School"),
            _("Status"),
            _("Open tasks"),
            _("Closed"),
        ],
        rows=rows,
        heading=heading,
    )


register_export(
    "incidents.incidents", title=gettext_lazy("Emergency incidents"), table=incidents_table
)
