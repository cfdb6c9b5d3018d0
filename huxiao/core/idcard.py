"""Resident identity card numbers (GB 11643-1999): validation and masking."""

from __future__ import annotations

import datetime as dt
import time

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize_id_number(value: str) -> str:
    return (value or "").strip().replace(" ", "").upper()


def birth_date_of(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def _today() -> dt.date:
    # One clock read per second is plenty for a birth-date bound; a 10,000-row import
    # otherwise spends a noticeable share of its time asking for the date.
    now = time.monotonic()
    if now - _TODAY_CACHE[0] > 1.0:
        _TODAY_CACHE[:] = [now, timezone.localdate()]
    return _TODAY_CACHE[1]


_TODAY_CACHE: list = [float("-inf"), None]


def validate_id_number(value: str) -> str:
    """Return the normalized number or raise ValidationError with a user-facing message."""
    number = normalize_id_number(value)
    if len(number) != 18:
        raise ValidationError(_("A resident ID number has 18 characters."), code="id_length")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(
            _("A resident ID number has 17 digits followed by a digit or X."),
            code="id_format",
        )
    try:
        born = birth_date_of(number)
    except ValueError as exc:
        raise ValidationError(
            _("The birth date inside the resident ID number is not a real date."),
            code="id_birth_date",
        ) from exc
    if born > _today() or born.year < 1900:
        raise ValidationError(
            _("The birth date inside the resident ID number is out of range."),
            code="id_birth_date",
        )
    if check_char(number[:17]) != number[17]:
        raise ValidationError(
            _("The resident ID number's check digit is wrong; please re-check the number."),
            code="id_checksum",
        )
    return number


def mask_id_number(number: str) -> str:
    """1101**********1234: region prefix and last four only."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def make_id_number(region: str, born: dt.date, sequence: int) -> str:
    """Build a valid number (for demo data and tests): region(6) + yyyymmdd + seq(3) + check."""
    first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_char(first17)
