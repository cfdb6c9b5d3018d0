"""Chinese vehicle plates (GA 36): normalise what a guard types and refuse what cannot be a
plate, with a message that says what is wrong (issue 5, ADR 0024).

Accepted:
- ordinary plates, 7 characters: province abbreviation, issuing-authority letter, five
  letters or digits (never I or O: they read as 1 and 0), e.g. 京A12345;
- new-energy plates, 8 characters: small cars carry the energy letter third and four
  digits last (京AD12345, 京ADA1234 — D or F, and since 2022 A B C E G H J K), large
  vehicles five digits then D or F (京A12345D);
- special suffixes after four letters or digits: 学 (driving school), 警 (police),
  挂 (trailer), 领 (consulate); 港/澳 plates of cross-border vehicles read 粤Z1234港;
- embassy plates 使 + six digits (使014578).
Refused: military and armed-police plates (two letters then digits: indistinguishable from
an ordinary plate typed without its province, the commonest mistake) and temporary paper
plates (临), which change too often to match an entry to its exit.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
MAX_INPUT = 40
_LETTER = "A-HJ-NP-Z"  # no I, no O
_ALNUM = f"{_LETTER}0-9"
_P = f"[{PROVINCES}]"
_ORDINARY = re.compile(f"{_P}[{_LETTER}][{_ALNUM}]{{5}}")
_NEW_ENERGY_SMALL = re.compile(f"{_P}[{_LETTER}][DFABCEGHJK][{_ALNUM}][0-9]{{4}}")
_NEW_ENERGY_LARGE = re.compile(f"{_P}[{_LETTER}][0-9]{{5}}[DF]")
_SUFFIX_CHARS = "学警挂领"
_SUFFIXED = re.compile(f"{_P}[{_LETTER}][{_ALNUM}]{{4}}[{_SUFFIX_CHARS}]")
_CROSS_BORDER = re.compile(f"粤Z[{_ALNUM}]{{4}}[港澳]")
_EMBASSY = re.compile("使[0-9]{6}")
_MILITARY = re.compile("(WJ|[A-Z]{2})[0-9A-Z]{5,6}")
# Separators people and plate-recognition cameras put in: middle dots of several
# alphabets, hyphens, spaces (NFKC has already turned full-width forms into ASCII).
_SEPARATORS = re.compile(r"[\s·•・･‧∙⋅\-_.]+")


def normalise_plate(value) -> str:
    """Upper case, half-width, without spaces and middle dots: 'ｊｉｎ' forms and
    '京a·12345 ' both become '京A12345'."""
    text = unicodedata.normalize("NFKC", str(value or "")[:MAX_INPUT])
    # NUL is never part of a plate, and PostgreSQL refuses it even in a lookup (a 500 the
    # fuzz tests found); dropped, the rest is validated as usual.
    return _SEPARATORS.sub("", text).replace("\x00", "").upper()


def clean_plate(value, *, required: bool = True) -> str:
    """The normalised plate, or a ValidationError saying what is wrong with it."""
    plate = normalise_plate(value)
    if not plate:
        if required:
            raise ValidationError(_("Enter the plate number."), code="required")
        return ""
    if any(
        pattern.fullmatch(plate)
        for pattern in (
            _ORDINARY,
            _NEW_ENERGY_SMALL,
            _NEW_ENERGY_LARGE,
            _SUFFIXED,
            _CROSS_BORDER,
            _EMBASSY,
        )
    ):
        return plate
    raise ValidationError(_plate_problem(plate), code="plate")


def _plate_problem(plate: str):
    """The most useful explanation for a plate that matched no format."""
    if plate.startswith("临") or "临" in plate:
        return _("Temporary plates (临) are not accepted; record the vehicle's permanent plate.")
    if plate[0] not in PROVINCES and plate[0] != "使":
        if _MILITARY.fullmatch(plate):
            return _(
                "A plate starts with a province abbreviation (e.g. 京). Military and "
                "armed-police plates are not recorded here."
            )
        return _("A plate starts with a province abbreviation (e.g. 京), e.g. 京A12345.")
    if "I" in plate or "O" in plate:
        return _("Plates never use the letters I and O: type the digits 1 and 0 instead.")
    if plate.endswith(("港", "澳")):
        return _("Hong Kong and Macao plates read 粤Z, four letters or digits, then 港 or 澳.")
    if len(plate) < 2 or not re.fullmatch(f"[{_LETTER}]", plate[1]):
        return _("The second character of a plate is the letter of the issuing authority.")
    if len(plate) == 8:
        return _(
            "This is not a new-energy plate: small cars have D or F third and four digits "
            "last (京AD12345), large vehicles five digits then D or F (京A12345D)."
        )
    if re.search(r"[^0-9A-Z]", plate[2:-1]) or re.search(f"[^0-9A-Z{_SUFFIX_CHARS}]", plate[-1]):
        return _("A plate contains only letters and digits after the province abbreviation.")
    return _("A plate has 7 characters (京A12345), or 8 for new-energy vehicles (京AD12345).")
