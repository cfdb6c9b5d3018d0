"""Page forms of the register. They check the shape of the input; the rules (ID number,
birth date against it, officers and schools of the station, dates) live in
`intel.services`, whose field errors `add_service_errors` puts next to the fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.names import person_name
from huxiao.intel.choices import (
    Assessment,
    CloseReason,
    FollowUpMethod,
    MeasureKind,
    RiskCategory,
    RiskLevel,
)
from huxiao.people.choices import Gender
from huxiao.people.forms import ServiceForm


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class OfficerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_name(obj)


class PersonForm(ServiceForm):
    """Register a person (`stations` to choose from when there are several) or edit one."""

    station = forms.TypedChoiceField(label=_("Police station"), coerce=int)
    name = forms.CharField(label=_("Name"), max_length=50)
    id_number = forms.CharField(
        label=_("Resident ID number"),
        max_length=24,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        help_text=_("The birth date and gender are taken from it."),
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=_date_input(),
        help_text=_("Needed when the ID number is not known."),
    )
    gender = forms.ChoiceField(
        label=_("Gender"), choices=[("", "—"), *Gender.choices], required=False
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=RiskCategory.choices)
    risk_level = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices)
    related_schools = forms.ModelMultipleChoiceField(
        label=_("Related schools"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    responsible_officer = OfficerChoiceField(
        label=_("Responsible officer"), queryset=None, required=False, empty_label="—"
    )
    next_review_on = forms.DateField(
        label=_("Next review"),
        required=False,
        widget=_date_input(),
        help_text=_("Left blank: 7, 30 or 90 days from now by risk level."),
    )
    notes = forms.CharField(
        label=_("Remarks"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png"}),
        help_text=_("JPEG or PNG, up to 2 MB."),
    )

    service_error_fields = {
        "station_id": "station",
        "related_school_ids": "related_schools",
        "responsible_officer_id": "responsible_officer",
    }

    def __init__(self, *args, stations, schools, officers, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].choices = [(s.pk, s.name) for s in stations]
        if editing or len(stations) == 1:
            self.fields["station"].widget = forms.HiddenInput()
            self.fields["station"].required = False
        self.fields["related_schools"].queryset = schools
        self.fields["responsible_officer"].queryset = officers

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("photo", None)
        data["related_schools"] = list(data.get("related_schools") or [])
        return data


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Name or resident ID number"),
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "off", "type": "search"}),
    )


class CloseForm(ServiceForm):
    reason = forms.ChoiceField(label=_("Reason for closing"), choices=CloseReason.choices)
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class MeasureForm(ServiceForm):
    kind = forms.ChoiceField(label=_("Measure"), choices=MeasureKind.choices)
    started_on = forms.DateField(label=_("From"), widget=_date_input())
    ended_on = forms.DateField(label=_("Until"), required=False, widget=_date_input())
    responsible = OfficerChoiceField(
        label=_("Responsible officer"), queryset=None, required=False, empty_label="—"
    )
    notes = forms.CharField(
        label=_("Remarks"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    service_error_fields = {"responsible_id": "responsible"}

    def __init__(self, *args, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = officers


class FollowUpForm(ServiceForm):
    on = forms.DateField(label=_("Date"), widget=_date_input())
    method = forms.ChoiceField(label=_("Method"), choices=FollowUpMethod.choices)
    assessment = forms.ChoiceField(label=_("Assessment"), choices=Assessment.choices)
    finding = forms.CharField(
        label=_("Finding"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    next_review_on = forms.DateField(
        label=_("Next review"),
        required=False,
        widget=_date_input(),
        help_text=_("Left blank: 7, 30 or 90 days from now by risk level."),
    )
