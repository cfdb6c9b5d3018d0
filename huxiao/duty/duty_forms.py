"""Page forms of duty: the plan, the week's roster, people on a shift, the duty log, the
handover and closing an open item. They parse the fields; the services hold the rules and
their errors are put back on these forms by the views."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.names import person_name
from huxiao.core.widgets import IsoDateInput
from huxiao.duty.choices import DutyRole, LogKind
from huxiao.hazards.hazard_forms import ServiceErrorsMixin


def _time_input():
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class PlanForm(ServiceErrorsMixin, forms.Form):
    day_starts = forms.TimeField(label=_("Day shift starts"), widget=_time_input())
    night_starts = forms.TimeField(label=_("Night shift starts"), widget=_time_input())
    check_in_grace_minutes = forms.IntegerField(
        label=_("Minutes before an empty shift is flagged"), min_value=0, max_value=240
    )
    monitoring_max_gap_minutes = forms.IntegerField(
        label=_("Longest stretch without a monitoring-room entry (minutes)"),
        min_value=15,
        max_value=1440,
    )
    night_round_from = forms.TimeField(label=_("Night rounds from"), widget=_time_input())
    night_round_until = forms.TimeField(label=_("Night rounds until"), widget=_time_input())


class WeekForm(ServiceErrorsMixin, forms.Form):
    week_start = forms.DateField(label=_("Week of"), widget=IsoDateInput())


class AssignForm(ServiceErrorsMixin, forms.Form):
    user = forms.TypedChoiceField(label=_("Person"), coerce=int)
    role = forms.ChoiceField(label=_("Duty role"), choices=DutyRole.choices)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "—")] + [(u.pk, person_name(u)) for u in members]


class LogForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=LogKind.choices, initial=LogKind.ROUTINE)
    text = forms.CharField(
        label=_("Entry"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class HandoverForm(ServiceErrorsMixin, forms.Form):
    notes = forms.CharField(
        label=_("Handover notes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    open_items = forms.CharField(
        label=_("Open items (one per line)"),
        required=False,
        max_length=20 * 510,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the next shift must follow up; carried over until closed."),
    )


class CloseItemForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(label=_("How it was closed"), max_length=500)
