"""Page forms of the surveillance: the county's rules, a rule for one symptom group, the
alerts filter, closing an alert, linking it to a case, the days of a school's overview.
They parse the fields; the services hold the rules and their errors are put back here by
the views (`add_service_errors`)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.health import surveillance_rules as R
from huxiao.health import surveillance_selectors as sel
from huxiao.health.choices import AlertStatus, RuleKind, SymptomGroup
from huxiao.health.surveillance_services import NOTE_MAX

_NUMBER = {"inputmode": "numeric"}


def _field_name(kind: str, group: str, name: str) -> str:
    return f"{kind}__{group}__{name}"


class RuleSetForm(forms.Form):
    """Every rule of the county in one form: children and days (not for the notifiable
    rule) and on/off. `changes()` gives the service's items."""

    def __init__(self, *args, rules, **kwargs):
        super().__init__(*args, **kwargs)
        self.rules = rules
        self.sections = []
        for rule in rules:
            names = []
            if rule.kind != RuleKind.NOTIFIABLE:
                name = _field_name(rule.kind, rule.symptom_group, "min_children")
                self.fields[name] = forms.IntegerField(
                    label=_("Children at least"),
                    min_value=R.MIN_CHILDREN[0],
                    max_value=R.MIN_CHILDREN[1],
                    initial=rule.min_children,
                    widget=forms.NumberInput(attrs=_NUMBER),
                )
                names.append(name)
                name = _field_name(rule.kind, rule.symptom_group, "window_days")
                self.fields[name] = forms.IntegerField(
                    label=_("Within days"),
                    min_value=R.WINDOW_DAYS[0],
                    max_value=R.WINDOW_DAYS[1],
                    initial=rule.window_days,
                    widget=forms.NumberInput(attrs=_NUMBER),
                )
                names.append(name)
            name = _field_name(rule.kind, rule.symptom_group, "is_active")
            self.fields[name] = forms.BooleanField(
                label=_("In force"), required=False, initial=rule.is_active
            )
            names.append(name)
            self.sections.append({"rule": rule, "fields": [self[n] for n in names]})

    def changes(self) -> list[dict]:
        items = []
        for rule in self.rules:
            item = {"kind": rule.kind, "symptom_group": rule.symptom_group}
            for name in ("min_children", "window_days", "is_active"):
                key = _field_name(rule.kind, rule.symptom_group, name)
                if key in self.cleaned_data:
                    item[name] = self.cleaned_data[key]
            items.append(item)
        return items

    def add_service_errors(self, exc: ValidationError) -> None:
        for key, messages in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
            target = key.replace(".", "__")
            for message in messages:
                self.add_error(target if target in self.fields else None, message)


class AddRuleForm(ServiceErrorsMixin, forms.Form):
    """A rule for one symptom group (replacing the similar-symptoms rule for it)."""

    kind = forms.ChoiceField(
        label=pgettext_lazy("cluster alert", "Rule"),
        choices=[(k, RuleKind(k).label) for k in R.CLUSTER_KINDS],
    )
    symptom_group = forms.ChoiceField(
        label=_("Symptoms"),
        choices=[(g, SymptomGroup(g).label) for g in R.COUNTED_GROUPS],
    )
    min_children = forms.IntegerField(
        label=_("Children at least"),
        min_value=R.MIN_CHILDREN[0],
        max_value=R.MIN_CHILDREN[1],
        widget=forms.NumberInput(attrs=_NUMBER),
    )
    window_days = forms.IntegerField(
        label=_("Within days"),
        min_value=R.WINDOW_DAYS[0],
        max_value=R.WINDOW_DAYS[1],
        widget=forms.NumberInput(attrs=_NUMBER),
    )

    def add_service_errors(self, exc: ValidationError) -> None:
        # The service keys errors "<kind>.<group>.<field>": the field is the last part.
        if hasattr(exc, "error_dict"):
            exc = ValidationError(
                {key.rsplit(".", 1)[-1]: msgs for key, msgs in exc.message_dict.items()}
            )
        super().add_service_errors(exc)


class AlertFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *AlertStatus.choices],
    )
    # A number, not a choice: a school out of scope is 404 (the view asks the scope).
    school = forms.IntegerField(
        label=_("School"), required=False, min_value=1, max_value=sel.MAX_ID, widget=forms.Select
    )

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].widget.choices = [("", _("All schools"))] + [
            (s.pk, s.name) for s in schools
        ]


class CloseAlertForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=_("How it was handled"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was checked and done, whom the health centre advised, the outcome."),
    )


class LinkCaseForm(ServiceErrorsMixin, forms.Form):
    case_id = forms.TypedChoiceField(
        label=_("Suspected case"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, cases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_id"].choices = [("", _("No case"))] + [
            (
                c.pk,
                f"{c.child.name} · {c.school_class.name} · {c.onset_date:%Y-%m-%d} · "
                f"{c.get_status_display()}",
            )
            for c in cases
        ]


class DaysForm(forms.Form):
    days = forms.IntegerField(
        label=pgettext_lazy("surveillance", "Days"),
        required=False,
        min_value=1,
        max_value=sel.DAYS_MAX,
    )

    def days_or_default(self) -> int:
        if self.is_bound and self.is_valid() and self.cleaned_data.get("days"):
            return self.cleaned_data["days"]
        return sel.DAYS_DEFAULT
