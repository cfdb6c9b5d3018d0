"""Field rules for people records, shared by services, page forms and roster imports."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.idcard import birth_date_of, validate_id_number
from huxiao.people.choices import BackgroundCheck, Gender, Relationship, StaffRole

_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8})$")


class FieldErrors:
    """Collects field-level errors so a caller sees all of them at once."""

    def __init__(self):
        self.errors: dict[str, list] = {}

    def add(self, field: str, message) -> None:
        self.errors.setdefault(field, []).append(message)

    def run(self, field: str, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            for message in exc.messages:
                self.add(field, message)
            return None

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


def reject_control_characters(text: str) -> str:
    """Control characters break spreadsheets and PostgreSQL (NUL) and are never meant."""
    if any(unicodedata.category(char) == "Cc" and char != "\t" for char in text):
        raise ValidationError(_("Remove the invisible control characters."), code="control")
    return text


def clean_text(value, *, max_length: int, required: bool = False) -> str:
    """Free text, one line or several: what a textarea sends (line breaks normalised to
    "\n"); any other control character is refused."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    reject_control_characters(text.replace("\n", " "))
    if not text and required:
        raise ValidationError(_("This field is required."), code="required")
    if len(text) > max_length:
        raise ValidationError(
            _("At most %(limit)s characters.") % {"limit": max_length}, code="max_length"
        )
    return text


def clean_name(value) -> str:
    name = reject_control_characters(str(value or "").strip())
    if not name:
        raise ValidationError(_("This field is required."), code="required")
    if len(name) > 50:
        raise ValidationError(_("At most 50 characters."), code="max_length")
    return name


def clean_grade(value) -> str:
    return reject_control_characters(str(value or "").strip()[:20])


def clean_phone(value, *, required: bool = True) -> str:
    phone = re.sub(r"[\s]", "", str(value or ""))
    if phone.endswith(".0"):  # Excel stores phone numbers typed as numbers as floats
        phone = phone[:-2]
    if not phone:
        if required:
            raise ValidationError(_("This field is required."), code="required")
        return ""
    if not _PHONE.match(phone):
        raise ValidationError(
            _("Enter a mobile number (11 digits starting with 1) or a landline number."),
            code="phone",
        )
    return phone


def _choice(value, choices, message):
    text = str(value or "").strip()
    for code, label in choices.choices:
        if text in (code, str(label)) or text.lower() == code:
            return code
    raise ValidationError(message, code="choice")


# Chinese labels accepted in spreadsheets whatever the interface language is.
_GENDER_ALIASES = {"男": Gender.MALE, "女": Gender.FEMALE, "m": Gender.MALE, "f": Gender.FEMALE}
_RELATIONSHIP_ALIASES = {
    "父亲": Relationship.FATHER,
    "爸爸": Relationship.FATHER,
    "母亲": Relationship.MOTHER,
    "妈妈": Relationship.MOTHER,
    "爷爷": Relationship.GRANDFATHER,
    "外公": Relationship.GRANDFATHER,
    "祖父": Relationship.GRANDFATHER,
    "外祖父": Relationship.GRANDFATHER,
    "奶奶": Relationship.GRANDMOTHER,
    "外婆": Relationship.GRANDMOTHER,
    "祖母": Relationship.GRANDMOTHER,
    "外祖母": Relationship.GRANDMOTHER,
    "亲属": Relationship.RELATIVE,
    "其他亲属": Relationship.RELATIVE,
    "其他": Relationship.OTHER,
}
_STAFF_ROLE_ALIASES = {
    "园长": StaffRole.PRINCIPAL,
    "校长": StaffRole.PRINCIPAL,
    "副校长": StaffRole.VICE_PRINCIPAL,
    "副园长": StaffRole.VICE_PRINCIPAL,
    "教师": StaffRole.TEACHER,
    "班主任": StaffRole.TEACHER,
    "保育员": StaffRole.CHILDCARE,
    "安保干部": StaffRole.SECURITY_OFFICER,
    "保卫干部": StaffRole.SECURITY_OFFICER,
    "门卫": StaffRole.GUARD,
    "保安": StaffRole.GUARD,
    "保健医生": StaffRole.HEALTH_STAFF,
    "校医": StaffRole.HEALTH_STAFF,
    "厨师": StaffRole.COOK,
    "炊事员": StaffRole.COOK,
    "驾驶员": StaffRole.DRIVER,
    "司机": StaffRole.DRIVER,
    "宿管员": StaffRole.DORMITORY_MANAGER,
    "其他": StaffRole.OTHER,
}
_BACKGROUND_ALIASES = {
    "未审查": BackgroundCheck.NOT_DONE,
    "审查中": BackgroundCheck.PENDING,
    "通过": BackgroundCheck.PASSED,
    "已通过": BackgroundCheck.PASSED,
    "未通过": BackgroundCheck.FAILED,
}


def clean_gender(value) -> str:
    text = str(value or "").strip()
    if text.lower() in _GENDER_ALIASES or text in _GENDER_ALIASES:
        return _GENDER_ALIASES.get(text, _GENDER_ALIASES.get(text.lower()))
    return _choice(text, Gender, _("Gender must be male or female (男/女)."))


def clean_relationship(value) -> str:
    text = str(value or "").strip()
    if text in _RELATIONSHIP_ALIASES:
        return _RELATIONSHIP_ALIASES[text]
    return _choice(text, Relationship, _("Unknown relationship."))


def clean_staff_role(value) -> str:
    text = str(value or "").strip()
    if text in _STAFF_ROLE_ALIASES:
        return _STAFF_ROLE_ALIASES[text]
    return _choice(text, StaffRole, _("Unknown post."))


def clean_background_check(value) -> str:
    text = str(value or "").strip()
    if not text:
        return BackgroundCheck.NOT_DONE
    if text in _BACKGROUND_ALIASES:
        return _BACKGROUND_ALIASES[text]
    return _choice(text, BackgroundCheck, _("Unknown background check status."))


def clean_bool(value, *, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "是", "可", "允许", "√"}:
        return True
    if text in {"0", "false", "no", "n", "否", "不", "不允许", "×"}:
        return False
    raise ValidationError(_("Enter yes or no (是/否)."), code="bool")


def clean_required_bool(value) -> bool:
    """For API and page updates: an explicit null is not "no"."""
    if value is None:
        raise ValidationError(_("This field is required."), code="required")
    return clean_bool(value)


def clean_date(value, *, required: bool = False) -> dt.date | None:
    if value is None or value == "":
        if required:
            raise ValidationError(_("This field is required."), code="required")
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="date")


def clean_id_number(value, *, required: bool) -> str:
    text = str(value or "").strip()
    if not text:
        if required:
            raise ValidationError(_("This field is required."), code="required")
        return ""
    return validate_id_number(text)


def clean_child_birth_date(birth_date, id_number: str) -> dt.date:
    """The ID number decides the birth date; a different typed date is an error."""
    if id_number:
        from_id = birth_date_of(id_number)
        if birth_date and birth_date != from_id:
            raise ValidationError(
                _("The birth date does not match the resident ID number."), code="mismatch"
            )
        return from_id
    if not birth_date:
        raise ValidationError(_("This field is required."), code="required")
    if birth_date > timezone.localdate():
        raise ValidationError(_("The birth date is in the future."), code="future")
    return birth_date
