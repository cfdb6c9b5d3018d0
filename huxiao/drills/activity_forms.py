"""Page forms of safety activities and drill records. They parse the fields; the rules live
in `activity_services` and `drill_services`, whose field errors the views put back next to
the fields (`add_service_errors`). Classes and the officer present are offered as choices,
but any value goes through to the service, the one judge of "of this school"."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.names import person_name
from huxiao.core.widgets import IsoDateInput, IsoDateTimeInput
from huxiao.drills import activity_selectors as sel
from huxiao.drills.choices import ActivityKind, ActivityStatus
from huxiao.hazards.choices import HazardCategory, HazardLevel
from huxiao.intel.warnings_forms import MultipleFileField
from huxiao.people.forms import ServiceForm

SECONDS = "%Y-%m-%dT%H:%M:%S"


def _blank(choices, label="—"):
    return [("", label), *choices]


class _AnyChoice(forms.MultipleChoiceField):
    """Offered choices, but every value reaches the service (which says what is wrong)."""

    def valid_value(self, value) -> bool:
        return True


class _AnyOneChoice(forms.ChoiceField):
    def valid_value(self, value) -> bool:
        return True


def _textarea(rows=4):
    return forms.Textarea(attrs={"rows": rows})


class ActivityForm(ServiceForm):
    status = forms.ChoiceField(
        label=_("This activity"),
        choices=[
            (ActivityStatus.PLANNED.value, _("is planned")),
            (ActivityStatus.HELD.value, _("has taken place")),
        ],
        widget=forms.RadioSelect,
        initial=ActivityStatus.PLANNED,
    )
    kind = forms.ChoiceField(label=_("Kind of activity"), choices=sel.kind_choices())
    drill_kind = forms.ChoiceField(
        label=_("Drill scenario"),
        required=False,
        choices=_blank(sel.drill_kind_choices()),
        help_text=_("For evacuation drills only."),
    )
    title = forms.CharField(
        label=_("Activity title"),
        required=False,
        max_length=200,
        help_text=_("Left empty, the activity is named after its kind."),
    )
    starts_at = forms.DateTimeField(label=_("Starts at"), widget=IsoDateTimeInput())
    ends_at = forms.DateTimeField(label=_("Ends at"), required=False, widget=IsoDateTimeInput())
    location = forms.CharField(label=_("Place of the activity"), required=False, max_length=200)
    organiser_name = forms.CharField(label=_("Organised by"), required=False, max_length=100)
    whole_school = forms.BooleanField(label=_("The whole school took part"), required=False)
    classes = _AnyChoice(
        label=_("Participating classes"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    headcount = forms.IntegerField(label=_("Number of participants"), required=False)
    police_officer = _AnyOneChoice(
        label=_("Police officer present"),
        required=False,
        help_text=_("An officer of the school's police station or campus police post."),
    )
    content = forms.CharField(
        label=_("Content of the activity"), required=False, max_length=4000, widget=_textarea()
    )
    outcome = forms.CharField(
        label=_("Summary of the activity"), required=False, max_length=4000, widget=_textarea()
    )
    attachments = MultipleFileField(
        label=_("Photos and files"),
        required=False,
        help_text=_("Photos, PDF or short video; at most 5 files of 10 MB each at a time."),
    )

    def __init__(self, *args, school, police: bool = False, with_files: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["classes"].choices = [(c.pk, c.name) for c in sel.school_classes(school.pk)]
        if police:
            # A police officer records the legal lectures they gave, as themselves.
            self.fields["kind"].choices = [
                (ActivityKind.LEGAL_LECTURE.value, sel.KIND_LABELS[ActivityKind.LEGAL_LECTURE])
            ]
            del self.fields["police_officer"]
            del self.fields["drill_kind"]
        else:
            self.fields["police_officer"].choices = _blank(
                [(u.pk, person_name(u)) for u in sel.police_officers(school)]
            )
        if not with_files:
            del self.fields["attachments"]

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("attachments", None)
        return data


class CancelForm(ServiceForm):
    reason = forms.CharField(label=_("Why it is cancelled"), max_length=300)


class AttachForm(ServiceForm):
    attachments = MultipleFileField(
        label=_("Add photos or files"),
        help_text=_("Photos, PDF or short video; at most 5 files of 10 MB each at a time."),
    )


class ActivityFilterForm(forms.Form):
    school = forms.TypedChoiceField(label=_("School"), required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(
        label=_("Kind of activity"), required=False, choices=_blank(sel.kind_choices(), _("All"))
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank(sel.status_choices(), _("All"))
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=IsoDateInput())
    date_to = forms.DateField(label=_("Until"), required=False, widget=IsoDateInput())

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        if len(schools) > 1:
            self.fields["school"].choices = _blank(list(schools), _("All"))
        else:
            del self.fields["school"]

    def clean(self):
        data = super().clean()
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day is not None and sel.parse_day(day.isoformat()) is None:
                self.add_error(
                    name,
                    _("Choose a date between %(first)s and %(last)s.")
                    % {"first": sel.EARLIEST.isoformat(), "last": sel.latest_day().isoformat()},
                )
        return data


# ------------------------------------------------------------------ drill records


def _seconds_input():
    return IsoDateTimeInput(attrs={"step": "1"}, format=SECONDS)


class DrillTimesForm(ServiceForm):
    signal_at = forms.DateTimeField(
        label=_("Signal given at"), required=False, widget=_seconds_input()
    )
    all_out_at = forms.DateTimeField(
        label=_("Everyone out at"), required=False, widget=_seconds_input()
    )


class DrillCountForm(ServiceForm):
    expected_headcount = forms.IntegerField(
        label=_("Expected at the assembly point"), required=False
    )
    counted_headcount = forms.IntegerField(label=_("Counted at the assembly point"), required=False)
    missing_resolved = forms.BooleanField(
        label=_("Everyone missing has been accounted for"), required=False
    )
    missing_note = forms.CharField(
        label=_("Who was missing and where they were"),
        required=False,
        max_length=500,
        widget=_textarea(2),
    )


class DrillStartForm(ServiceForm):
    school = forms.TypedChoiceField(label=_("School"), coerce=int)
    drill_kind = forms.ChoiceField(label=_("Drill scenario"), choices=sel.drill_kind_choices())
    location = forms.CharField(label=_("Place of the activity"), required=False, max_length=200)

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [(s.pk, s.name) for s in schools]
        if len(schools) == 1:
            self.fields["school"].initial = schools[0].pk
            self.fields["school"].widget = forms.HiddenInput()


class LinkAlarmForm(ServiceForm):
    alarm = forms.TypedChoiceField(label=_("Drill alarm of that day"), coerce=int)

    def __init__(self, *args, alarms=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alarm"].choices = [
            (a.pk, f"{timezone.localtime(a.raised_at):%H:%M:%S} · {a.get_kind_display()}")
            for a in alarms
        ]


class ProblemForm(ServiceForm):
    description = forms.CharField(label=_("Problem found"), max_length=500, widget=_textarea(2))


class HazardFromProblemForm(ServiceForm):
    category = forms.ChoiceField(
        label=_("Hazard category"), choices=HazardCategory.choices, initial=HazardCategory.OTHER
    )
    level = forms.ChoiceField(
        label=_("Hazard level"), choices=HazardLevel.choices, initial=HazardLevel.GENERAL
    )
    deadline = forms.DateField(label=_("Rectify by"), required=False, widget=IsoDateInput())
