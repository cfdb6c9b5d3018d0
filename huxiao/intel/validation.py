"""Field rules of the register, shared by the services, the page forms and the API."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from huxiao.core.idcard import validate_id_number
from huxiao.intel.phonetic import name_key
from huxiao.people.validation import FieldErrors, clean_date, clean_name, clean_text

__all__ = [
    "FieldErrors",
    "clean_birth_date",
    "clean_choice",
    "clean_date",
    "clean_id_number",
    "clean_person_name",
    "clean_text",
    "gender_of",
]

PHOTO_MAX_BYTES = 2 * 1024 * 1024
_PHOTO_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def clean_person_name(value) -> str:
    name = clean_name(value)
    if not name_key(name):
        raise ValidationError(
            _("Enter the name in Chinese characters (or letters for a foreign name)."),
            code="name",
        )
    return name


def clean_id_number(value) -> str:
    """ "" for none; otherwise a valid number (GB 11643) or a ValidationError in the user's
    language saying what is wrong."""
    text = str(value or "").strip()
    if not text:
        return ""
    return validate_id_number(text)


def gender_of(number: str) -> str:
    """GB 11643: the 17th digit is odd for men, even for women."""
    return "male" if int(number[16]) % 2 else "female"


def clean_birth_date(value, *, today: dt.date) -> dt.date | None:
    born = clean_date(value)
    if born is None:
        return None
    if born > today or born.year < 1900:
        raise ValidationError(_("The birth date is out of range."), code="birth_date")
    return born


def clean_choice(value, choices, *, required: bool = True) -> str:
    text = str(value or "").strip()
    if not text:
        if required:
            raise ValidationError(_("This field is required."), code="required")
        return ""
    if text not in choices.values:
        raise ValidationError(_("Choose one of the offered values."), code="choice")
    return text


def photo_content_type(data: bytes) -> str:
    """The image type from the file's first bytes (JPEG or PNG), or a ValidationError."""
    if len(data) > PHOTO_MAX_BYTES:
        raise ValidationError(_("The photo is larger than 2 MB."), code="photo_size")
    for signature, content_type in _PHOTO_SIGNATURES:
        if data.startswith(signature):
            return content_type
    raise ValidationError(_("The photo must be a JPEG or PNG image."), code="photo_type")
