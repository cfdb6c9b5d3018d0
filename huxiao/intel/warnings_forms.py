"""Page forms of warnings both ways. They check the shape of the input; the rules (files,
order of states, jurisdiction, validity) live in `warnings_services`, whose field errors
`add_service_errors` puts next to the fields."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.intel.warnings_choices import SignCategory, SignStatus, TimeNode, WarningLevel
from huxiao.people.forms import ServiceForm

_DT = "%Y-%m-%dT%H:%M"


def _dt_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_DT)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; sizes and types are checked by the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/*,application/pdf,video/mp4"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class SignForm(ServiceForm):
    school = forms.TypedChoiceField(label=_("School"), coerce=int)
    category = forms.ChoiceField(label=_("Category"), choices=SignCategory.choices)
    description = forms.CharField(
        label=_("What was seen or heard"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )
    observed_at = forms.DateTimeField(
        label=_("When observed"), required=False, widget=_dt_input(), input_formats=[_DT]
    )
    observed_place = forms.CharField(label=_("Where observed"), max_length=200, required=False)
    time_node = forms.ChoiceField(
        label=_("Special time node"),
        choices=[("", _("None")), *TimeNode.choices],
        required=False,
        help_text=_("Mark reports made around the start of term, parent meetings or pick-up."),
    )
    attachments = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Photos, screenshots, PDF or short video; at most 5 files of 10 MB each."),
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [(s.pk, s.name) for s in schools]
        if len(schools) == 1:
            self.fields["school"].initial = schools[0].pk
            self.fields["school"].widget = forms.HiddenInput()

    service_error_fields = {"school_id": "school"}


class TransitionForm(ServiceForm):
    status = forms.ChoiceField(
        label=_("New state"),
        choices=[
            (s.value, s.label)
            for s in (SignStatus.ASSESSING, SignStatus.ACTION_TAKEN, SignStatus.NO_ACTION)
        ],
    )
    note = forms.CharField(
        label=_("Note (the school sees it as feedback)"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EarlyWarningForm(ServiceForm):
    title = forms.CharField(label=_("Title"), max_length=200)
    content = forms.CharField(
        label=_("Content"), max_length=8000, widget=forms.Textarea(attrs={"rows": 6})
    )
    level = forms.ChoiceField(label=_("Level"), choices=WarningLevel.choices)
    valid_from = forms.DateTimeField(label=_("Valid from"), widget=_dt_input(), input_formats=[_DT])
    valid_until = forms.DateTimeField(
        label=_("Valid until"), widget=_dt_input(), input_formats=[_DT]
    )
    all_schools = forms.BooleanField(label=_("All schools of the jurisdiction"), required=False)
    school_ids = forms.TypedMultipleChoiceField(
        label=_("Schools"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_ids"].choices = [(s.pk, s.name) for s in schools]
