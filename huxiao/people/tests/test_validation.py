"""Free-text validation shared by every app (people.validation.clean_text)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from huxiao.people import validation as v


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("北侧围墙有缺口", "北侧围墙有缺口"),
        ("第一行\r\n第二行", "第一行\n第二行"),  # what a browser's textarea sends
        ("第一行\r第二行\n第三行", "第一行\n第二行\n第三行"),
        ("  前后空白\n\n  ", "前后空白"),
        ("a\tb", "a\tb"),
    ],
)
def test_free_text_keeps_line_breaks(typed, kept):
    assert v.clean_text(typed, max_length=100) == kept


@pytest.mark.parametrize("typed", ["NUL\x00here", "bell\x07", "escape\x1b[31m", "a\n\x0bb"])
def test_other_control_characters_are_refused(typed):
    with pytest.raises(ValidationError) as caught:
        v.clean_text(typed, max_length=100)
    assert caught.value.code == "control"


def test_names_stay_on_one_line():
    with pytest.raises(ValidationError):
        v.clean_name("张\n三")
