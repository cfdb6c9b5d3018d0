"""Page forms of assessment and ranking. They parse text fields; the services hold the
rules (weights summing to 100, known sources, parameters within bounds, dates not in the
future, a reason for a veto), and their errors are put back on these forms by the views."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.widgets import IsoDateInput
from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.supervision import indicators as registry
from huxiao.supervision.choices import PeriodKind

_DateInput = IsoDateInput


def source_choices() -> list[tuple[str, str]]:
    choices = []
    for source in registry.sources():
        label = str(source.label)
        if not source.available:
            label = _("%(label)s (no data yet)") % {"label": label}
        choices.append((source.key, label))
    return choices


class SchemeForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    owner = forms.TypedChoiceField(label=_("Assessing office"), coerce=int)
    period_kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    excellent_from = forms.DecimalField(
        label=_("Excellent from"), min_value=0, max_value=100, decimal_places=1
    )
    good_from = forms.DecimalField(
        label=_("Good from"), min_value=0, max_value=100, decimal_places=1
    )
    pass_from = forms.DecimalField(
        label=_("Pass from"), min_value=0, max_value=100, decimal_places=1
    )
    is_active = forms.BooleanField(label=_("In use"), required=False)

    def __init__(self, *args, offices=(), frozen=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(o.pk, o.name) for o in offices]
        if frozen:
            # Published rankings point at the period and the indicators (ADR 0027).
            self.fields["period_kind"].disabled = True
            self.fields["owner"].disabled = True


class IndicatorForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    name = forms.CharField(label=_("Indicator"), max_length=200, required=False)
    source = forms.ChoiceField(label=_("Computed from"), required=False)
    weight = forms.CharField(label=_("Weight (points)"), max_length=10, required=False)
    params = forms.CharField(
        label=_("Rule parameters (JSON)"),
        max_length=500,
        required=False,
        help_text=_('Leave empty for the defaults, e.g. {"per_hazard": 20}.'),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "—"), *source_choices()]

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("source") or data.get("weight") or data.get("name"))


IndicatorFormSet = forms.formset_factory(
    IndicatorForm, extra=2, can_delete=True, max_num=30, validate_max=True
)


def indicator_initial(indicators) -> list[dict]:
    return [
        {
            "id": ind.pk,
            "name": ind.name,
            "source": ind.source,
            "weight": f"{ind.weight.normalize():f}",
            "params": json.dumps(ind.params, ensure_ascii=False) if ind.params else "",
        }
        for ind in indicators
    ]


def indicator_rows(formset) -> list[dict]:
    """The filled, not deleted rows of the formset, as the service takes them."""
    rows = []
    for form in formset.forms:
        if not form.is_valid() or form.is_blank():
            continue
        if formset.can_delete and form.cleaned_data.get("DELETE"):
            continue
        data = form.cleaned_data
        rows.append(
            {
                "id": data.get("id"),
                "name": data.get("name", ""),
                "source": data.get("source", ""),
                "weight": data.get("weight", ""),
                "params": data.get("params", ""),
            }
        )
    return rows


class ComputeForm(ServiceErrorsMixin, forms.Form):
    date = forms.DateField(label=_("A date in the period"), widget=_DateInput())


class RankingFilterForm(forms.Form):
    town = forms.TypedChoiceField(label=_("Town"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, towns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["town"].choices = [("", _("All towns")), *[(t.pk, t.name) for t in towns]]


class CopyForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name of the copy"), max_length=200, required=False)


class VetoForm(ServiceErrorsMixin, forms.Form):
    school = forms.TypedChoiceField(label=_("School"), coerce=int)
    period_kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices)
    date = forms.DateField(label=_("A date in the period"), widget=_DateInput())
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [(s.pk, s.name) for s in schools]


class RevokeForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for revoking"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
