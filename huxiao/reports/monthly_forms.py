"""Asking for a monthly report: the area and the month (issue 10 item 4, ADR 0033).

The page's form and the API share `parse_month` and `area_from_choice`, so both refuse the
same input with the same message (in the user's language), never a 500:

- a month is written YYYY-MM; a malformed one, one before 2000-01 or one that has not
  begun yet is a field error;
- the **running month** may be reported: its report covers the days up to the day it is
  asked for and says so ("so far") — offices brief their leaders mid-month too;
- an area is the county or one of its towns, among those the user may report on; a town
  outside them is a field error ("This town is outside your area.").
"""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.reports.areas import COUNTY, TOWN, Area, report_area, report_areas
from huxiao.reports.monthly_selectors import FIRST_MONTH, month_start, previous_month

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
BAD_MONTH = _("Enter the month as YYYY-MM, e.g. 2026-10.")
TOO_EARLY = _("Choose a month from 2000-01 on.")
FUTURE = _(
    "%(month)s has not begun yet. Choose the current month (reported so far) or an earlier one."
)
BAD_AREA = _("Choose the county or one of its towns from the list.")


def parse_month(value, *, today: dt.date | None = None) -> dt.date:
    """The first day of the month written `value` (YYYY-MM); ValidationError otherwise."""
    today = today or timezone.localdate()
    if not isinstance(value, str):
        raise ValidationError(BAD_MONTH, code="invalid")
    match = _MONTH.match(value.strip())
    if match is None:
        raise ValidationError(BAD_MONTH, code="invalid")
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or year < 1:
        raise ValidationError(BAD_MONTH, code="invalid")
    first = dt.date(year, month, 1)
    if first < FIRST_MONTH:
        raise ValidationError(TOO_EARLY, code="too_early")
    if first > month_start(today):
        raise ValidationError(FUTURE, code="future", params={"month": f"{year:04d}-{month:02d}"})
    return first


def area_choice(area: Area) -> str:
    return f"{area.kind}:{area.pk}"


def area_from_choice(user, value) -> Area:
    """The area a form value ("county:<id>" / "town:<id>") names, if the user may report
    on it. ValidationError with the reason otherwise; PermissionDenied without the role."""
    kind, _sep, pk = str(value or "").partition(":")
    if kind not in (COUNTY, TOWN) or not pk:
        raise ValidationError(BAD_AREA, code="invalid")
    try:
        return report_area(user, kind=kind, pk=pk)
    except Http404 as exc:
        raise ValidationError(str(exc) or BAD_AREA, code="out_of_scope") from None


class MonthInput(forms.TextInput):
    input_type = "month"


class MonthlyRequestForm(forms.Form):
    area = forms.CharField(label=_("Area"), max_length=60)
    month = forms.CharField(
        label=_("Month of the report"),
        max_length=20,
        widget=MonthInput(attrs={"min": "2000-01"}),
        help_text=_("The running month is reported up to today."),
    )

    def __init__(self, *args, user, today: dt.date | None = None, **kwargs):
        self.user = user
        self.today = today or timezone.localdate()
        self.areas = report_areas(user)
        if not self.areas:
            raise PermissionDenied
        kwargs.setdefault(
            "initial",
            {"area": area_choice(self.areas[0]), "month": f"{previous_month(self.today):%Y-%m}"},
        )
        super().__init__(*args, **kwargs)
        self.fields["area"].widget = forms.Select(
            choices=[(area_choice(a), _area_label(a)) for a in self.areas]
        )
        self.fields["month"].widget.attrs["max"] = f"{self.today:%Y-%m}"
        self.out_of_scope = False

    def clean_area(self) -> Area:
        try:
            return area_from_choice(self.user, self.cleaned_data["area"])
        except ValidationError as exc:
            self.out_of_scope = exc.code == "out_of_scope"
            raise

    def clean_month(self) -> dt.date:
        return parse_month(self.cleaned_data["month"], today=self.today)


def _area_label(area: Area) -> str:
    if area.kind == COUNTY:
        return str(_("%(name)s (whole county)") % {"name": area.name})
    return area.name
