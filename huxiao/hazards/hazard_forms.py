"""Page forms of hazards. They parse text fields; the services hold the rules (deadline not
in the past, owner a member of the school, evidence photos), and their errors are put
back on these forms by the views."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from huxiao.core.names import person_name
from huxiao.core.widgets import IsoDateInput
from huxiao.hazards.choices import HazardCategory, HazardLevel, HazardStatus


class ServiceErrorsMixin:
    def add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                target = field if field in self.fields else None
                for message in errors:
                    self.add_error(target, message)
        else:
            for message in exc.messages:
                self.add_error(None, message)


_DateInput = IsoDateInput


def _blank(choices, label):
    return [("", label), *choices]


class HazardFilterForm(forms.Form):
    town = forms.TypedChoiceField(label=_("Town"), required=False, coerce=int, empty_value=None)
    school = forms.TypedChoiceField(label=_("School"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank(HazardStatus.choices, _("All"))
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=_blank(HazardCategory.choices, _("All"))
    )
    level = forms.ChoiceField(
        label=_("Level"), required=False, choices=_blank(HazardLevel.choices, _("All"))
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, schools=(), towns=(), school_help="", **kwargs):
        """`schools` and `towns` are (id, name) pairs (hazard_selectors.school_picker); no
        towns, no town filter."""
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = _blank(list(schools), _("All"))
        self.fields["school"].help_text = school_help
        if towns:
            self.fields["town"].choices = _blank(list(towns), _("All"))
        else:
            del self.fields["town"]


class HazardReportForm(ServiceErrorsMixin, forms.Form):
    school = forms.TypedChoiceField(label=_("School"), coerce=int)
    category = forms.ChoiceField(label=_("Category"), choices=HazardCategory.choices)
    level = forms.ChoiceField(label=_("Level"), choices=HazardLevel.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    deadline = forms.DateField(
        label=_("Rectification deadline"), required=False, widget=_DateInput()
    )

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [(s.pk, s.name) for s in schools]


class AssignForm(ServiceErrorsMixin, forms.Form):
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int)
    # Optional: left as it is, the current deadline is kept; the school may only bring it
    # forward (hazard_services.hazard_assign).
    deadline = forms.DateField(
        label=_("Rectification deadline"), required=False, widget=_DateInput()
    )
    plan = forms.CharField(
        label=_("Rectification plan"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {u.pk: u for u in candidates}
        self.fields["owner"].choices = _blank(
            [(u.pk, person_name(u)) for u in candidates], _("Choose…")
        )


class NoteForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class SubmitForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=_("What was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ReasonForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReopenForm(ReasonForm):
    deadline = forms.DateField(label=_("New rectification deadline"), widget=_DateInput())


class ExtendForm(ReasonForm):
    deadline = forms.DateField(label=_("New rectification deadline"), widget=_DateInput())
