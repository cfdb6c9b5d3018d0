"""Plate validation: formats accepted, normalisation, and the message for each mistake."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from huxiao.access.plates import clean_plate, normalise_plate


@pytest.mark.parametrize(
    ("typed", "plate"),
    [
        ("京A12345", "京A12345"),
        ("京a12345", "京A12345"),
        (" 京A·12345 ", "京A12345"),
        ("京A・1234５", "京A12345"),
        ("京Ａ１２３４５", "京A12345"),  # full-width
        ("沪B-C1D2E", "沪BC1D2E"),
        ("京AD12345", "京AD12345"),  # new energy, small: D third
        ("粤BF12345", "粤BF12345"),
        ("京ADA1234", "京ADA1234"),  # second serial character may be a letter
        ("京A12345D", "京A12345D"),  # new energy, large: D/F last
        ("苏E12345F", "苏E12345F"),
        ("京A1234学", "京A1234学"),
        ("京A1234警", "京A1234警"),
        ("冀B1234挂", "冀B1234挂"),
        ("粤Z1234港", "粤Z1234港"),
        ("粤Z·A123澳", "粤ZA123澳"),
        ("沪A1234领", "沪A1234领"),
        ("使014578", "使014578"),
        ("琼A88888", "琼A88888"),
        ("藏AZ9999", "藏AZ9999"),
    ],
)
def test_accepted(typed, plate):
    assert clean_plate(typed) == plate


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the plate number."),
        ("A12345", "A plate starts with a province abbreviation (e.g. 京), e.g. 京A12345."),
        ("VA12345", "Military and armed-police plates are not recorded here."),
        ("京AI2345", "Plates never use the letters I and O"),
        ("京AO2345", "Plates never use the letters I and O"),
        ("京A1234", "A plate has 7 characters"),
        ("京A1234567", "A plate has 7 characters"),
        ("京1A2345", "the letter of the issuing authority"),
        ("京AX12345", "This is not a new-energy plate"),
        ("京AD1234X", "This is not a new-energy plate"),
        ("京A12345X", "This is not a new-energy plate"),
        ("京A1234港", "Hong Kong and Macao plates read 粤Z"),
        ("京A1234临", "Temporary plates (临) are not accepted"),
        ("京A12#45", "only letters and digits"),
        ("HX1.P.1.ABCD.1.X", "province abbreviation"),
    ],
)
def test_refused_with_a_message(typed, message, settings):
    settings.LANGUAGE_CODE = "en"
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        clean_plate(typed)
    assert message in " ".join(refused.value.messages)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "请输入车牌号。"),
        ("京AI2345", "车牌号不使用字母I和O，请输入数字1和0。"),
        ("A12345", "车牌号以省份简称开头"),
        ("京A1234", "车牌号为7位"),
        ("京AX12345", "不是有效的新能源车牌"),
    ],
)
def test_refusal_is_in_chinese_by_default(typed, message):
    with pytest.raises(ValidationError) as refused:
        clean_plate(typed)
    assert message in refused.value.messages[0]


def test_optional_plate_may_be_empty():
    assert clean_plate("  ", required=False) == ""


def test_normalise_never_fails_on_noise():
    assert normalise_plate(None) == ""
    assert len(normalise_plate("x" * 10_000)) <= 40
