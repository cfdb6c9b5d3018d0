"""Page forms of the response to a case: disinfection, suspension, resumption, statements,
aftercare and monitoring plans. They parse the fields; the services (response_services)
hold the rules, and their errors are put back on these forms by the views."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.names import person_name
from huxiao.core.widgets import IsoDateInput, IsoDateTimeInput
from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.health.choices import AftercareKind, DisinfectionArea, SuspensionScope
from huxiao.health.response_services import (
    CHECKS_PER_DAY_MAX,
    MONITORING_CHECKS_PER_DAY,
    NOTE_MAX,
    REASON_MAX,
    STATEMENT_MAX,
    TASK_NOTE_MAX,
)


def _soft(field: forms.Field) -> forms.Field:
    """A field the service requires: marked required on the page (and for the browser),
    but judged by the service, so that a missing value is reported with every other error
    of the form at once."""
    field.required = False
    field.widget.attrs["required"] = True
    return field


def _text(label, max_length, *, required=True, rows=0, help_text=""):
    widget = (
        forms.Textarea(attrs={"rows": rows})
        if rows
        else forms.TextInput(attrs={"autocomplete": "off"})
    )
    field = forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        widget=widget,
        help_text=help_text,
    )
    return _soft(field) if required else field


def _case_choices(form, cases) -> None:
    """The open cases of the school to tie the record to; no field when there is none (and
    on a case's own page, where the case is given)."""
    if not cases:
        del form.fields["case"]
        return
    form.fields["case"].choices = [("", _("No case"))] + [
        (c.pk, f"{c.child.name} · {c.school_class.name} · {c.onset_date:%Y-%m-%d}") for c in cases
    ]


class DisinfectionForm(ServiceErrorsMixin, forms.Form):
    """A disinfection done: routine (the school's log) or emergency (from a case)."""

    area = forms.ChoiceField(label=_("Area disinfected"), choices=DisinfectionArea.choices)
    area_detail = _text(
        _("Place"),
        100,
        required=False,
        help_text=_("Which room, bus or part of the building."),
    )
    method = _text(_("Method"), 100, help_text=_("e.g. wiping, spraying, UV lamp 30 minutes."))
    agent = _text(_("Disinfectant"), 100, required=False)
    done_by_name = _text(_("Done by"), 50)
    done_at = _soft(forms.DateTimeField(label=_("Done at"), widget=IsoDateTimeInput()))

    def __init__(self, *args, emergency=False, **kwargs):
        super().__init__(*args, **kwargs)
        if emergency:
            self.fields["area"].initial = DisinfectionArea.ISOLATION


class SuspensionForm(ServiceErrorsMixin, forms.Form):
    """The suspension decision (§3 8): what is suspended, from–to, why, both assessments."""

    scope = forms.ChoiceField(
        label=_("Suspend"),
        choices=SuspensionScope.choices,
        widget=forms.RadioSelect,
        initial=SuspensionScope.CLASS,
    )
    school_class = forms.TypedChoiceField(
        label=_("Class"), coerce=int, required=False, empty_value=None
    )
    grade = forms.ChoiceField(label=_("Grade"), required=False)
    starts_on = _soft(forms.DateField(label=_("First day suspended"), widget=IsoDateInput()))
    ends_on = _soft(forms.DateField(label=_("Last day suspended"), widget=IsoDateInput()))
    reason = _text(_("Reason"), REASON_MAX, rows=2)
    health_centre_opinion = _text(
        _("Health centre's assessment"),
        NOTE_MAX,
        rows=2,
        help_text=_("The health centre's (disease control's) advice, as given."),
    )
    education_office_opinion = _text(
        _("Education office's assessment"),
        NOTE_MAX,
        rows=2,
        help_text=_("The central school's (education office's) guidance, as given."),
    )
    case = forms.TypedChoiceField(
        label=_("Suspected case"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, classes=(), grades=(), cases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].choices = [("", "—")] + [(c.pk, c.name) for c in classes]
        self.fields["grade"].choices = [("", "—")] + [(g, g) for g in grades]
        _case_choices(self, cases)


class NoSuspensionForm(ServiceErrorsMixin, forms.Form):
    note = _text(
        _("Assessment"),
        NOTE_MAX,
        rows=2,
        help_text=_(
            "Why no class is suspended, with the health centre's and education office's advice."
        ),
    )


class ResumeForm(ServiceErrorsMixin, forms.Form):
    resumed_on = _soft(forms.DateField(label=_("Classes resume on"), widget=IsoDateInput()))
    note = _text(_("Note"), REASON_MAX, required=False)


class StatementForm(ServiceErrorsMixin, forms.Form):
    """An official statement (§3 9)."""

    text = _text(_("Statement"), STATEMENT_MAX, rows=5)
    published_at = _soft(forms.DateTimeField(label=_("Published at"), widget=IsoDateTimeInput()))
    approved_by = _text(
        _("Approved by"), 100, help_text=_("The name and office of whoever approved it.")
    )
    case = forms.TypedChoiceField(
        label=_("Suspected case"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, cases=(), **kwargs):
        super().__init__(*args, **kwargs)
        _case_choices(self, cases)


class AftercareForm(ServiceErrorsMixin, forms.Form):
    """An aftercare task of a case (§3 10)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=AftercareKind.choices)
    description = _text(_("Task"), 300)
    assignee = forms.TypedChoiceField(
        label=_("Assigned to"), coerce=int, required=False, empty_value=None
    )
    due_on = forms.DateField(label=_("Due on"), required=False, widget=IsoDateInput())

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "—")] + [(u.pk, person_name(u)) for u in users]


class AftercareDoneForm(ServiceErrorsMixin, forms.Form):
    note = _text(
        _("Notes on the task"),
        TASK_NOTE_MAX,
        required=False,
        rows=3,
        help_text=_("For psychological support: what was done and how the child or family is."),
    )


class PlanForm(ServiceErrorsMixin, forms.Form):
    """More checks for a class (§3 10 "提高日常体温监测频次")."""

    school_class = forms.TypedChoiceField(label=_("Class"), coerce=int)
    starts_on = _soft(forms.DateField(label=_("From"), widget=IsoDateInput()))
    ends_on = _soft(forms.DateField(label=_("Last day"), widget=IsoDateInput()))
    checks_per_day = forms.IntegerField(
        required=False,
        label=_("Checks a day"),
        min_value=1,
        max_value=CHECKS_PER_DAY_MAX,
        initial=MONITORING_CHECKS_PER_DAY,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    case = forms.TypedChoiceField(
        label=_("Suspected case"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, classes=(), cases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].choices = [("", "—")] + [(c.pk, c.name) for c in classes]
        _case_choices(self, cases)


class PlanEndForm(ServiceErrorsMixin, forms.Form):
    ends_on = _soft(forms.DateField(label=_("Last day"), widget=IsoDateInput()))
