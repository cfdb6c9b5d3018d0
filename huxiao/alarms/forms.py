"""The period filter of the response-time statistics, shared by the page and the API.

Periods are whole local days, both ends included: the selector gets the half-open range
[first day 00:00, day after the last day 00:00) in the server's time zone.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Dates outside this range are typing mistakes, and a year near 1 or 9999 would overflow
# when turned into a time-zone-aware range.
EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2100, 12, 31)
DEFAULT_DAYS = 30


class StatsPeriod(models.TextChoices):
    LAST_30_DAYS = "30d", _("Last 30 days")
    LAST_90_DAYS = "90d", _("Last 90 days")
    THIS_YEAR = "year", _("This year")
    CUSTOM = "custom", _("Custom dates")


def _date_field(label) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD, e.g. 2025-03-01.")},
        widget=forms.DateInput(
            # Picking a date switches the period to "custom" (huxiao/behaviours.js; no inline
            # handler under the Content-Security-Policy).
            attrs={"type": "date", "data-set-on-change": "period=custom"},
            format="%Y-%m-%d",
        ),
    )


class ResponseStatsForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=StatsPeriod.choices, required=False)
    since = _date_field(_("From"))
    until = _date_field(_("To"))
    drills = forms.BooleanField(label=_("Include drills"), required=False)

    def __init__(self, *args, today: dt.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        period = data.get("period") or StatsPeriod.LAST_30_DAYS
        if period == StatsPeriod.CUSTOM:
            first_day, last_day = data.get("since"), data.get("until")
            if first_day is None and last_day is None:
                self.add_error("since", _("Choose the first day of the period."))
                return data
            for name, day in (("since", first_day), ("until", last_day)):
                if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
                    self.add_error(
                        name,
                        _("Choose a date between %(earliest)s and %(latest)s.")
                        % {"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()},
                    )
            if self.errors:
                return data
            # One end given: up to today, or the 30 days up to the last day.
            if last_day is None:
                last_day = self.today
            if first_day is None:
                first_day = max(EARLIEST_DAY, last_day - dt.timedelta(days=DEFAULT_DAYS - 1))
            if first_day > last_day:
                self.add_error("until", _("The last day must not be before the first day."))
                return data
        else:
            last_day = self.today
            if period == StatsPeriod.THIS_YEAR:
                first_day = last_day.replace(month=1, day=1)
            else:
                days = 90 if period == StatsPeriod.LAST_90_DAYS else DEFAULT_DAYS
                first_day = last_day - dt.timedelta(days=days - 1)
        data.update(period=period, first_day=first_day, last_day=last_day)
        return data

    def selector_kwargs(self) -> dict:
        """The arguments of `selectors.response_stats` for the cleaned period."""
        data = self.cleaned_data
        return {
            "since": _start_of(data["first_day"]),
            "until": _start_of(data["last_day"] + dt.timedelta(days=1)),
            "include_drills": bool(data.get("drills")),
        }


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
