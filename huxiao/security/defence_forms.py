"""Page forms of the defence page. They parse the fields; the rules (retention 0–3650 days,
a 24-hour monitoring room needs a room, dates not in the future and tested after
installed) live in `defence_services`, whose errors the views put back on these forms."""

from __future__ import annotations

import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.accounts.models import DeviceKind
from huxiao.core.widgets import IsoDateInput
from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.security.choices import Perimeter, SystemKind
from huxiao.security.defence_selectors import PROFILE_FIELDS

_NUMBER = {"inputmode": "numeric", "min": "0"}


class DefenceProfileForm(ServiceErrorsMixin, forms.Form):
    # Technical defence, school-wide.
    video_retention_days = forms.IntegerField(
        label=_("Video retention (days)"),
        required=False,
        help_text=_("How many days recordings are kept; leave empty if unknown."),
        widget=forms.NumberInput(attrs={**_NUMBER, "max": "3650"}),
    )
    monitoring_room = forms.BooleanField(label=_("Monitoring room"), required=False)
    monitoring_room_24h = forms.BooleanField(
        label=_("Monitoring room staffed 24 hours"), required=False
    )
    # Physical defence.
    perimeter = forms.ChoiceField(label=_("Perimeter enclosure"), choices=Perimeter.choices)
    bollards = forms.IntegerField(
        label=_("Anti-ram bollards"), widget=forms.NumberInput(attrs=_NUMBER)
    )
    vehicle_barrier = forms.BooleanField(label=_("Vehicle barrier at the gate"), required=False)
    speed_bumps = forms.BooleanField(label=_("Speed bumps"), required=False)
    parent_waiting_area = forms.BooleanField(label=_("Parent waiting area"), required=False)
    closed_management = forms.BooleanField(label=_("Closed management"), required=False)
    gatehouse_24h = forms.BooleanField(label=_("Gatehouse staffed 24 hours"), required=False)
    notes = forms.CharField(
        label=_("Remarks"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    TECHNICAL = ("video_retention_days", "monitoring_room", "monitoring_room_24h")
    PHYSICAL = (
        "perimeter",
        "bollards",
        "vehicle_barrier",
        "speed_bumps",
        "parent_waiting_area",
        "closed_management",
        "gatehouse_24h",
    )

    def __init__(self, *args, profile=None, **kwargs):
        if profile is not None:
            kwargs.setdefault(
                "initial",
                {name: getattr(profile, name) for name in (*PROFILE_FIELDS, "notes")},
            )
        super().__init__(*args, **kwargs)

    def technical_fields(self):
        return [self[name] for name in self.TECHNICAL]

    def physical_fields(self):
        return [self[name] for name in self.PHYSICAL]

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class TechnicalSystemForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=SystemKind.choices)
    # Not "Name": that shared msgid is a person's name (姓名).
    name = forms.CharField(label=_("System name"), max_length=100)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    networked_to_police = forms.BooleanField(label=_("Networked to the police"), required=False)
    installed_on = forms.DateField(label=_("Installed on"), required=False, widget=IsoDateInput())
    last_tested_on = forms.DateField(
        label=_("Last tested on"), required=False, widget=IsoDateInput()
    )

    def __init__(self, *args, system=None, **kwargs):
        if system is not None:
            kwargs.setdefault(
                "initial",
                {
                    "kind": system.kind,
                    "name": system.name,
                    "location": system.location,
                    "networked_to_police": system.networked_to_police,
                    "installed_on": system.installed_on,
                    "last_tested_on": system.last_tested_on,
                    "is_active": system.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        if system is not None:
            self.fields["is_active"] = forms.BooleanField(label=_("In service"), required=False)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class DeviceForm(ServiceErrorsMixin, forms.Form):
    """A new gate terminal or alarm box; its token is shown once after saving."""

    kind = forms.ChoiceField(label=_("Kind"), choices=DeviceKind.choices)
    name = forms.CharField(
        label=_("Device name"),
        max_length=100,
        help_text=_("Where it is, so that the console and the gate log name it: 南门报警箱."),
    )
    valid_until = forms.DateField(
        label=_("Last valid day"),
        required=False,
        widget=IsoDateInput(),
        help_text=_(
            "Leave empty for a device that stays (an alarm box must not fall silent because "
            "a date passed); set it for a terminal lent for a while."
        ),
    )
    # Random per form shown: the same form sent twice issues one token (services).
    issue_key = forms.RegexField(
        regex=r"^[A-Za-z0-9_-]{16,32}$",
        required=False,
        widget=forms.HiddenInput(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["issue_key"] = secrets.token_urlsafe(16)

    def clean_issue_key(self):
        return self.cleaned_data.get("issue_key") or None

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)
