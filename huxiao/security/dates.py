"""The one rule for the dates recorded in the security app (ADR 0028): a date that happened
is not in the future and not before 1980-01-01 — an earlier one is a typing mistake (a
year typed as 0202 or 1902), like on the defence pages. Hire, background-check,
certificate and filing dates, trainings, stock checks, issues and returns, technical
systems: all of them go through `clean_past_date` or `not_too_early`.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from huxiao.people import validation as v

EARLIEST_DATE = dt.date(1980, 1, 1)


def not_too_early(date: dt.date | None) -> dt.date | None:
    """The date (or None), refused when before EARLIEST_DATE."""
    if date is not None and date < EARLIEST_DATE:
        raise ValidationError(
            _("The date cannot be before %(date)s.") % {"date": EARLIEST_DATE.isoformat()},
            code="too_early",
        )
    return date


def clean_past_date(
    value, *, today: dt.date | None, future_message=None, required: bool = False
) -> dt.date | None:
    """Parse a date (None when empty and not required); refuse one after `today` (with
    `future_message`, or the general sentence) and one before EARLIEST_DATE. With `today`
    None only the lower bound is checked (e.g. a certificate's expiry)."""
    date = v.clean_date(value, required=required)
    if date is None:
        return None
    if today is not None and date > today:
        raise ValidationError(
            future_message or _("The date cannot be in the future."), code="future"
        )
    return not_too_early(date)
