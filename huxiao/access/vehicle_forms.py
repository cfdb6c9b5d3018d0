"""Page form of a vehicle entry (issue 5, ADR 0024); the rules live in `vehicle_services`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.access.choices import VehiclePurpose
from huxiao.people.forms import ServiceForm, _phone_field


class VehicleEntryForm(ServiceForm):
    plate = forms.CharField(
        label=_("Plate"),
        max_length=40,
        help_text=_("E.g. 京A12345; new-energy 京AD12345."),
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocapitalize": "characters", "autocomplete": "off"}
        ),
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=VehiclePurpose.choices)
    driver_name = forms.CharField(label=_("Driver"), max_length=50, required=False)
    driver_phone = _phone_field(required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    pass_code = forms.CharField(
        label=_("Vehicle pass (scan, optional)"),
        max_length=1000,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
