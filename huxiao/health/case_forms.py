"""Page forms of the suspected-case procedure: the report, each step's form, a response
group member, the contact window and closing. They parse the fields; the services
(case_services) hold the rules and their errors are put back on these forms by the views."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.widgets import IsoDateInput, IsoDateTimeInput
from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.health.case_services import (
    CASE_NOTE_MAX,
    NOTE_MAX,
    PLACE_MAX,
    WINDOW_DEFAULT,
    WINDOW_MAX,
)
from huxiao.health.choices import CaseStatus, ResponseGroupKind, Step, Symptom

NOBODY = ""


def _note(label=None, max_length=NOTE_MAX):
    return forms.CharField(
        label=label or _("Note"),
        required=False,
        max_length=max_length,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class ReportForm(ServiceErrorsMixin, forms.Form):
    """A class teacher reports a suspected case of a child of the class."""

    child = forms.TypedChoiceField(label=_("Child"), coerce=int)
    symptoms = forms.MultipleChoiceField(
        label=_("Symptoms"),
        choices=Symptom.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    temperature = forms.CharField(
        label=_("Temperature (°C)"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    onset_date = forms.DateField(label=_("Symptoms began on"), widget=IsoDateInput())
    suspected_disease = forms.CharField(
        label=_("Suspected disease"), required=False, max_length=100
    )
    notifiable = forms.BooleanField(label=_("Suspected notifiable disease"), required=False)
    contact_window_days = forms.IntegerField(
        label=_("Days before onset to trace contacts"),
        min_value=0,
        max_value=WINDOW_MAX,
        initial=WINDOW_DEFAULT,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    note = forms.CharField(
        label=_("Remarks"),
        required=False,
        max_length=CASE_NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    check = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, children=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].choices = [("", "—")] + [(c.pk, c.name) for c in children]


class NoteForm(ServiceErrorsMixin, forms.Form):
    note = _note()


class IsolateForm(ServiceErrorsMixin, forms.Form):
    isolation_place = forms.CharField(
        label=_("Isolation room"), max_length=PLACE_MAX, initial=_("Observation room")
    )
    isolated_at = forms.DateTimeField(
        label=_("Isolated at"),
        required=False,
        widget=IsoDateTimeInput(),
        help_text=_("Leave empty for now."),
    )
    note = _note()


class MoveForm(ServiceErrorsMixin, forms.Form):
    standby_classroom = forms.CharField(label=_("Standby classroom"), max_length=PLACE_MAX)
    note = _note()


class TransferForm(ServiceErrorsMixin, forms.Form):
    destination = forms.CharField(label=_("Taken to"), max_length=PLACE_MAX)
    escort = forms.CharField(label=_("Taken by"), max_length=50)
    note = _note()


class OutcomeForm(ServiceErrorsMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (CaseStatus.CLEARED, _("Cleared: not the suspected disease")),
            (CaseStatus.CONFIRMED, _("Confirmed")),
        ],
        widget=forms.RadioSelect,
    )
    diagnosis = forms.CharField(label=_("Diagnosis"), required=False, max_length=200)
    note = _note()


STEP_FORMS = {
    Step.VERIFIED: NoteForm,
    Step.STARTED: NoteForm,
    Step.ISOLATED: IsolateForm,
    Step.CLASS_MOVED: MoveForm,
    Step.PARENTS_NOTIFIED: NoteForm,
    Step.CENTRAL_SCHOOL_REPORTED: NoteForm,
    Step.HEALTH_CENTRE_REPORTED: NoteForm,
    Step.TRANSFERRED: TransferForm,
    Step.OUTCOME: OutcomeForm,
}


class MemberForm(ServiceErrorsMixin, forms.Form):
    """A member of a response group: a login of the school, or a name (and phone)."""

    group = forms.ChoiceField(label=_("Group"), choices=ResponseGroupKind.choices)
    user_id = forms.TypedChoiceField(
        label=_("Member of staff"), coerce=int, required=False, empty_value=None
    )
    name = forms.CharField(
        label=_("Or a name"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    is_leader = forms.BooleanField(label=_("Leader of the group"), required=False)

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user_id"].choices = [(NOBODY, "—")] + [
            (pk, f"{name} {phone}".strip()) for pk, name, phone in staff
        ]


class WindowForm(ServiceErrorsMixin, forms.Form):
    onset_date = forms.DateField(label=_("Symptoms began on"), widget=IsoDateInput())
    contact_window_days = forms.IntegerField(
        label=_("Days before onset to trace contacts"),
        min_value=0,
        max_value=WINDOW_MAX,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class CloseForm(ServiceErrorsMixin, forms.Form):
    note = _note(_("Closing remarks"), CASE_NOTE_MAX)
