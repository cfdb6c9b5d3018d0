"""The date range of a gate report (issue 5, item 8): both days included, today by
default, at most `MAX_REPORT_DAYS` days. Every bad input is a message, never a 500."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.widgets import IsoDateInput

# A quarter and a day: any calendar quarter fits; a year's log goes out as several files.
MAX_REPORT_DAYS = 92
# Dates outside these are typos (and 9999-12-31 + 1 day would overflow).
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)

_BAD_DATE = _("Enter the date as YYYY-MM-DD, e.g. 2025-03-03.")


class ReportRangeForm(forms.Form):
    start = forms.DateField(
        label=_("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _BAD_DATE},
        widget=IsoDateInput(),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _BAD_DATE},
        widget=IsoDateInput(),
    )

    def __init__(self, data=None, *, today: dt.date | None = None, **kwargs):
        self.today = today or timezone.localdate()
        # Only the two fields are read: the school and anything else in the query are not ours.
        if data is not None:
            data = {key: data.get(key, "").strip() for key in ("start", "end")}
        super().__init__(data, **kwargs)

    def _clean_day(self, name: str):
        value = self.cleaned_data.get(name)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise forms.ValidationError(
                _("Choose a date between %(first)s and %(last)s."),
                params={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            )
        return value

    def clean_start(self):
        return self._clean_day("start")

    def clean_end(self):
        return self._clean_day("end")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        # One day given: a report of that day; none: today.
        start = start or end or self.today
        end = end or start
        if start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        if (end - start).days + 1 > MAX_REPORT_DAYS:
            raise forms.ValidationError(
                _("A report covers at most %(days)s days; choose a shorter range."),
                params={"days": MAX_REPORT_DAYS},
            )
        cleaned["start"], cleaned["end"] = start, end
        return cleaned

    @staticmethod
    def choose_school_message() -> str:
        return str(_("Choose the school."))

    def range(self) -> tuple[dt.date, dt.date]:
        return self.cleaned_data["start"], self.cleaned_data["end"]
