"""Page forms of compliance. The rule form is built from the rule kinds (`rules.RULES`):
one "in force" box per rule and one number field per parameter, bounded by its ParamSpec;
the service checks the same bounds and the cross-parameter rules, and its errors are put
back on these fields by the view."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.security import rules as R
from huxiao.security.choices import Verdict


def field_name(key: str, param: str) -> str:
    return f"{key}__{param}"


class FlagInput(forms.CheckboxInput):
    """A box to tick that also reads the numbers a script may still post ("0"/"1")."""

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        if isinstance(value, str) and value.strip() in ("0", ""):
            return False
        return super().value_from_datadict(data, files, name)


def is_flag(spec) -> bool:
    """A yes/no parameter: an integer that is 0 or 1."""
    return spec.integer and spec.minimum == 0 and spec.maximum == 1


class RuleSetForm(ServiceErrorsMixin, forms.Form):
    """Every rule of the county: switched on or off, and its parameters."""

    def __init__(self, data=None, *, rules):
        super().__init__(data)
        self.rules = list(rules)
        for rule in self.rules:
            kind = R.RULES[rule.key]
            current = R.effective_params(rule.key, rule.params)
            self.fields[field_name(rule.key, "enabled")] = forms.BooleanField(
                label=_("Rule in force"), required=False, initial=rule.enabled
            )
            for name, spec in kind.params.items():
                if is_flag(spec):
                    # A yes/no parameter (0/1) is a box to tick, not a number to type.
                    self.fields[field_name(rule.key, name)] = forms.BooleanField(
                        label=spec.label,
                        required=False,
                        initial=bool(current[name]),
                        widget=FlagInput(),
                    )
                    continue
                cls = forms.IntegerField if spec.integer else forms.FloatField
                self.fields[field_name(rule.key, name)] = cls(
                    label=spec.label,
                    min_value=spec.minimum,
                    max_value=spec.maximum,
                    initial=current[name],
                    help_text=_("%(min)s–%(max)s, default %(default)s")
                    % {"min": spec.minimum, "max": spec.maximum, "default": spec.default},
                    widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                )

    def sections(self) -> list[dict]:
        """Per rule: its kind, the "in force" field and its parameter fields."""
        out = []
        for rule in self.rules:
            kind = R.RULES[rule.key]
            out.append(
                {
                    "rule": rule,
                    "kind": kind,
                    "enabled": self[field_name(rule.key, "enabled")],
                    "params": [self[field_name(rule.key, name)] for name in kind.params],
                }
            )
        return out

    def error_summary(self) -> list[dict]:
        """What to change, for the summary at the top of a refused form: each error with
        the rule and field it belongs to and the anchor of that field."""
        out = [{"anchor": "rule-form", "label": "", "message": m} for m in self.non_field_errors()]
        for rule in self.rules:
            kind = R.RULES[rule.key]
            for name in ("enabled", *kind.params):
                bound = self[field_name(rule.key, name)]
                for message in bound.errors:
                    out.append(
                        {
                            "anchor": bound.id_for_label,
                            "label": f"{kind.label} · {bound.label}",
                            "message": message,
                        }
                    )
        return out

    def changes(self) -> dict:
        """The service's input from the cleaned data."""
        data = self.cleaned_data
        out = {}
        for rule in self.rules:
            kind = R.RULES[rule.key]
            change = {"enabled": bool(data.get(field_name(rule.key, "enabled")))}
            if kind.params:
                change["params"] = {
                    name: (
                        int(bool(data.get(field_name(rule.key, name))))
                        if is_flag(spec)
                        else data[field_name(rule.key, name)]
                    )
                    for name, spec in kind.params.items()
                }
            out[rule.key] = change
        return out


def _blank(choices, label):
    return [("", label), *choices]


class OverviewFilterForm(forms.Form):
    """Drill-down of a schools table: the schools with a given verdict on a given rule."""

    rule = forms.ChoiceField(label=_("Compliance rule"), required=False)
    verdict = forms.ChoiceField(
        label=_("Verdict"), required=False, choices=_blank(Verdict.choices, _("Any"))
    )

    def __init__(self, data=None):
        super().__init__(data)
        self.fields["rule"].choices = _blank(
            [(key, kind.label) for key, kind in R.RULES.items()], _("Any rule")
        )

    def filters(self) -> tuple[str, str]:
        if not self.is_bound or not self.is_valid():
            return "", ""
        return self.cleaned_data["rule"], self.cleaned_data["verdict"]
