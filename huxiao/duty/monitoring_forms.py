"""Page forms of the monitoring-room log."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.names import person_name
from huxiao.core.widgets import IsoDateInput, IsoDateTimeInput
from huxiao.hazards.hazard_forms import ServiceErrorsMixin


class MonitoringForm(ServiceErrorsMixin, forms.Form):
    watcher = forms.TypedChoiceField(
        label=_("Watched by"), coerce=int, required=False, empty_value=None
    )
    watcher_name = forms.CharField(label=_("or a name (no login)"), required=False, max_length=50)
    period_start = forms.DateTimeField(label=_("Watched from"), widget=IsoDateTimeInput())
    period_end = forms.DateTimeField(label=_("Watched until"), widget=IsoDateTimeInput())
    observations = forms.CharField(
        label=_("What was seen"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    actions = forms.CharField(
        label=_("Actions taken"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    anomaly = forms.BooleanField(label=_("Something abnormal"), required=False)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["watcher"].choices = [("", "—")] + [(u.pk, person_name(u)) for u in members]


class DayForm(forms.Form):
    date = forms.DateField(label=_("Day"), required=False, widget=IsoDateInput())
