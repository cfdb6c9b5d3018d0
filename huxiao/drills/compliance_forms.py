"""Page forms of activity compliance, terms and the calendar. The forms parse; the services
check (bounds, dates, overlaps) and their errors are put back on these fields."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from huxiao.core.widgets import IsoDateInput
from huxiao.drills import rules as R
from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.security.compliance_forms import FlagInput, is_flag

MAX_ID = 2**63 - 1


def field_name(key: str, param: str) -> str:
    return f"{key}__{param}"


class RuleSetForm(ServiceErrorsMixin, forms.Form):
    """Every activity rule of the county: in force or not, and its parameters (a 0/1
    parameter is a box to tick)."""

    def __init__(self, data=None, *, rules):
        super().__init__(data)
        self.rules = list(rules)
        for rule in self.rules:
            current = R.effective_params(rule.key, rule.params)
            self.fields[field_name(rule.key, "enabled")] = forms.BooleanField(
                label=_("Rule in force"), required=False, initial=rule.enabled
            )
            for name, spec in R.RULES[rule.key].params.items():
                self.fields[field_name(rule.key, name)] = self._param_field(spec, current[name])

    @staticmethod
    def _param_field(spec, value):
        if is_flag(spec):
            return forms.BooleanField(
                label=spec.label, required=False, initial=bool(value), widget=FlagInput()
            )
        return forms.IntegerField(
            label=spec.label,
            min_value=spec.minimum,
            max_value=spec.maximum,
            initial=value,
            help_text=_("%(min)s–%(max)s, default %(default)s")
            % {"min": spec.minimum, "max": spec.maximum, "default": spec.default},
            widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        )

    def sections(self) -> list[dict]:
        return [
            {
                "rule": rule,
                "kind": R.RULES[rule.key],
                "enabled": self[field_name(rule.key, "enabled")],
                "params": [self[field_name(rule.key, n)] for n in R.RULES[rule.key].params],
            }
            for rule in self.rules
        ]

    def error_summary(self) -> list[dict]:
        """Each error with the rule and field it belongs to, for the summary at the top."""
        out = [{"anchor": "rule-form", "label": "", "message": m} for m in self.non_field_errors()]
        for section in self.sections():
            for bound in [section["enabled"], *section["params"]]:
                label = f"{section['kind'].label} · {bound.label}"
                out += [
                    {"anchor": bound.id_for_label, "label": label, "message": m}
                    for m in bound.errors
                ]
        return out

    def changes(self) -> dict:
        data = self.cleaned_data
        out = {}
        for rule in self.rules:
            params = R.RULES[rule.key].params
            out[rule.key] = {
                "enabled": bool(data.get(field_name(rule.key, "enabled"))),
                "params": {
                    name: int(data.get(field_name(rule.key, name)) or 0)
                    for name, spec in params.items()
                },
            }
        return out


def parse_breaks(text: str) -> list[list[str]]:
    """One holiday a line: first and last day ("2026-10-01 2026-10-07", "… 至 …")."""
    pairs = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        # ISO dates contain hyphens: split on white space or a dash between two dates.
        parts = line.replace("至", " ").replace("到", " ").replace("~", " ").split()
        if len(parts) == 1:
            found = re.fullmatch(r"(\d{4}-\d{1,2}-\d{1,2})[-–—](\d{4}-\d{1,2}-\d{1,2})", parts[0])
            parts = list(found.groups()) if found else parts
        parts = [p for p in parts if p not in ("-", "–", "—")]
        if len(parts) != 2:
            raise ValidationError(
                _("Line %(n)s: give the first and the last day, e.g. 2026-10-01 2026-10-07.")
                % {"n": n}
            )
        pairs.append(parts)
    return pairs


def format_breaks(breaks) -> str:
    return "\n".join(f"{a} {b}" for a, b in breaks or [] if a and b)


class TermForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Term name"), max_length=50)
    starts_on = forms.DateField(label=_("First day of the term"), widget=IsoDateInput())
    ends_on = forms.DateField(label=_("Last day of the term"), widget=IsoDateInput())
    breaks = forms.CharField(
        label=_("Holidays in the term"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "2026-10-01 2026-10-07"}),
        help_text=_(
            "One holiday a line: its first and last day. Weeks wholly in a holiday need no drill."
        ),
    )

    def clean_breaks(self):
        return parse_breaks(self.cleaned_data.get("breaks", ""))

    def values(self) -> dict:
        return dict(self.cleaned_data)


def _blank(choices, label):
    return [("", label), *choices]


class OverviewFilterForm(forms.Form):
    """Drill-down of the overviews: the schools with a verdict on a rule; `on` judges the
    term of another day."""

    rule = forms.ChoiceField(label=_("Activity rule"), required=False)
    verdict = forms.ChoiceField(
        label=_("Verdict"), required=False, choices=_blank(R.V.choices, _("Any"))
    )
    on = forms.DateField(label=_("Judged on"), required=False, widget=IsoDateInput())

    def __init__(self, data=None):
        super().__init__(data)
        self.fields["rule"].choices = _blank(
            [(k, kind.label) for k, kind in R.RULES.items()], _("Any rule")
        )

    def clean_on(self):
        return _sane_day(self.cleaned_data.get("on"))

    def filters(self) -> tuple[str, str, dt.date | None]:
        if not self.is_bound or not self.is_valid():
            return "", "", None
        data = self.cleaned_data
        return data["rule"], data["verdict"], data["on"]


def _sane_day(day: dt.date | None) -> dt.date | None:
    if day is not None and not dt.date(1980, 1, 1) <= day <= dt.date(2200, 12, 31):
        raise ValidationError(_("Choose a date from 1980 to 2200."))
    return day


class DayForm(forms.Form):
    """`?on=` of a school's compliance page."""

    on = forms.DateField(label=_("Judged on"), required=False, widget=IsoDateInput())

    def clean_on(self):
        return _sane_day(self.cleaned_data.get("on"))


class CalendarForm(forms.Form):
    """`?school=<id>&month=YYYY-MM` of the calendar; both optional."""

    school = forms.IntegerField(label=_("School"), required=False, min_value=1, max_value=MAX_ID)
    month = forms.RegexField(
        label=_("Month shown"),
        required=False,
        regex=r"^\d{4}-\d{2}$",
        error_messages={"invalid": _("Give the month as YYYY-MM, e.g. 2026-03.")},
    )

    def clean_month(self):
        text = self.cleaned_data.get("month")
        if not text:
            return None
        year, month = int(text[:4]), int(text[5:])
        if not (1 <= month <= 12 and 1980 <= year <= 2200):
            raise ValidationError(_("Give a month from 1980-01 to 2200-12."))
        return dt.date(year, month, 1)
