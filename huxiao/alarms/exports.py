"""Excel exports of the alarm pages (issue 10 item 5, ADR 0033): the console's alarms (the
open ones, then those closed in the last 24 hours — every one, where the page caps them)
and the response-time statistics, from the same selectors and period form as the pages."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.alarms import selectors, ui
from huxiao.alarms.events import alarm_payload
from huxiao.alarms.templatetags.alarm_tags import alarm_duration
from huxiao.alarms.views import require_alarm_viewer, stats_period
from huxiao.reports.export_filters import form_refusal, yes
from huxiao.reports.exports import Table, register_export

CHUNK = 500


def console_table(actor, query) -> Table:
    require_alarm_viewer(actor)
    open_alarms, closed = ui.console_alarms(actor)

    def rows():
        for qs in (open_alarms, closed):
            for alarm in qs.iterator(chunk_size=CHUNK):
                a = alarm_payload(alarm)
                yield (
                    a["id"],
                    a["school_name"],
                    a["kind_label"],
                    a["location"],
                    alarm.raised_at,
                    a["raised_by"] or "",
                    a["status_label"],
                    yes(a["is_drill"]),
                    a["acknowledged_by"] or "",
                    alarm_duration(a["ack_seconds"]),
                    alarm_duration(a["arrival_seconds"]),
                    a["outcome"],
                )

    return Table(
        columns=[
            _("Number"),
            _("School"),
            _("Kind"),
            _("Location"),
            _("Raised at"),
            _("Raised by"),
            _("Status"),
            _("Drill"),
            _("Acknowledged by"),
            _("Raise → acknowledgement"),
            _("Raise → arrival on scene"),
            _("Outcome"),
        ],
        rows=rows(),
        heading=[_("Open alarms, then those closed in the last 24 hours")],
    )


def _stats_cells(row) -> tuple:
    return (
        row.alarms,
        row.acknowledged,
        row.not_acknowledged,
        row.arrived,
        row.false_alarms,
        row.accidental_presses,
        *(
            alarm_duration(v)
            for v in (
                row.ack_seconds_avg,
                row.ack_seconds_median,
                row.ack_seconds_max,
                row.arrival_seconds_avg,
                row.arrival_seconds_median,
                row.arrival_seconds_max,
            )
        ),
    )


def stats_table(actor, query) -> Table:
    form = stats_period(actor, query)
    if not form.is_valid():
        raise form_refusal(form)
    period = form.selector_kwargs()
    data = form.cleaned_data
    groups = [
        (
            _("By police station"),
            selectors.response_stats(actor=actor, group_by="station", **period),
        ),
        (_("By school"), selectors.response_stats(actor=actor, group_by="school", **period)),
    ]

    def rows():
        for label, stats in groups:
            for row in stats.rows:
                yield (label, row.name, row.station_name, *_stats_cells(row))
            if len(stats.rows) > 1:  # the page's total row
                yield (label, stats.total.name, "", *_stats_cells(stats.total))

    heading = [
        _("Alarms raised from %(first)s to %(last)s (both days included).")
        % {"first": data["first_day"].isoformat(), "last": data["last_day"].isoformat()},
        _("Drills are counted.") if period["include_drills"] else _("Drills are not counted."),
    ]
    if not groups[1][1].medians_complete:
        heading.append(_("Too many alarms in this period to compute medians."))
    return Table(
        columns=[
            _("Grouped"),
            _("Name"),
            _("Police station"),
            _("Alarms"),
            _("Acknowledged"),
            _("Not acknowledged"),
            _("Police on scene"),
            _("False alarms"),
            _("Accidental presses"),
            _("Raise → acknowledgement (average)"),
            _("Raise → acknowledgement (median)"),
            _("Raise → acknowledgement (longest)"),
            _("Raise → arrival on scene (average)"),
            _("Raise → arrival on scene (median)"),
            _("Raise → arrival on scene (longest)"),
        ],
        rows=rows(),
        heading=heading,
    )


register_export("alarms.alarms", title=gettext_lazy("Alarm console"), table=console_table)
register_export("alarms.stats", title=gettext_lazy("Response times"), table=stats_table)
