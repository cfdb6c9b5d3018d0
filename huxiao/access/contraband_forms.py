"""Page form of a contraband interception (issue 5, ADR 0024); the rules live in
`contraband_services`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.access.choices import CarrierKind, ContrabandCategory, Handling
from huxiao.intel.validation import PHOTO_MAX_BYTES
from huxiao.people.forms import ServiceForm


class InterceptionForm(ServiceForm):
    category = forms.ChoiceField(
        label=_("Category"), choices=ContrabandCategory.choices, widget=forms.RadioSelect
    )
    item = forms.CharField(label=_("Item"), max_length=100)
    carrier_kind = forms.ChoiceField(label=_("Carried by"), choices=CarrierKind.choices)
    carrier_name = forms.CharField(label=_("Name of the person"), max_length=50, required=False)
    handling = forms.ChoiceField(label=_("Handling"), choices=Handling.choices)
    note = forms.CharField(
        label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png", "capture": "environment"}
        ),
    )
    visit = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**63 - 1
    )

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        upload = data.pop("photo", None)
        # Read one byte past the limit: the service then refuses it by size, not by memory.
        data["photo"] = upload.read(PHOTO_MAX_BYTES + 1) if upload else None
        return data


class HandlingForm(ServiceForm):
    handling = forms.ChoiceField(label=_("Handling"), choices=Handling.choices)
