"""Page forms of inspections. They check the shape of the input; the rules (who plans which
kind, dates, scores, photos, sign-off) live in `inspection_services`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.hazards.choices import AnswerResult, HazardLevel, InspectionKind, InspectionStatus
from huxiao.people.forms import ServiceForm


class _NamedChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return str(obj)


class InspectionFilterForm(forms.Form):
    school = forms.ModelChoiceField(label=_("School"), queryset=None, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", "—"), *InspectionKind.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", "—"), *InspectionStatus.choices], required=False
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools


class InspectionPlanForm(ServiceForm):
    school = forms.ModelChoiceField(label=_("School"), queryset=None)
    kind = forms.ChoiceField(label=_("Kind"), choices=InspectionKind.choices)
    template = _NamedChoice(label=_("Checklist"), queryset=None)
    planned_on = forms.DateField(
        label=_("Planned date"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    unannounced = forms.BooleanField(
        label=_("Unannounced (the school does not see it until it starts)"), required=False
    )

    def __init__(self, *args, schools, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["template"].queryset = templates


class AnswerForm(ServiceForm):
    result = forms.ChoiceField(
        label=_("Result"), choices=AnswerResult.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    score = forms.CharField(label=_("Score (optional)"), max_length=10, required=False)
    photo = forms.FileField(
        label=_("Photo"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "result": data["result"],
            "note": data["note"],
            "score": data["score"] or None,
            "photos": [data["photo"]] if data.get("photo") else [],
        }

    service_error_fields = {"photos": "photo"}


class SignOffForm(ServiceForm):
    summary = forms.CharField(
        label=_("Inspection summary"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class FindingHazardForm(ServiceForm):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    level = forms.ChoiceField(label=_("Level"), choices=HazardLevel.choices)
    deadline = forms.DateField(
        label=_("Rectification deadline"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
