"""Small helpers of the list exports (issue 10 item 5, ADR 0033): what an export's filters
were, as lines above its header, and the few cell texts every list writes alike.

`form_heading(form)` describes a list page's bound filter form — "Status: Open",
"Overdue: Yes" — with the labels and choice names the page shows, so a workbook says what
it holds without the reader knowing the URL it came from. `form_refusal(form)` is the
`ValidationError` an export raises where its page answers 400: the form's own messages."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _choice_label(field, value) -> str:
    for key, label in field.choices:
        if isinstance(label, list | tuple):  # an option group
            for sub_key, sub_label in label:
                if str(sub_key) == str(value):
                    return str(sub_label)
        elif str(key) == str(value):
            return str(label)
    return str(value)


def field_text(field, value) -> str:
    if isinstance(field, forms.BooleanField):
        return _("Yes")
    if isinstance(field, forms.ModelChoiceField):
        return str(value)
    if isinstance(field, forms.ChoiceField):
        return _choice_label(field, value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def form_heading(form) -> list[str]:
    """ "Label: value" of every filter the valid bound `form` sets; nothing otherwise."""
    if form is None or not form.is_bound or not form.is_valid():
        return []
    lines = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if value in (None, "", False) or value == [] or value == ():
            continue
        lines.append(f"{field.label}: {field_text(field, value)}")
    return lines


def form_refusal(form) -> ValidationError:
    return ValidationError([m for errors in form.errors.values() for m in errors])


def yes(flag) -> str:
    """A flag as a cell: 是 when set, blank otherwise (a column of ticks reads best)."""
    return _("Yes") if flag else ""


def school_line(school) -> str:
    return f"{_('School')}: {school.name}"


def id_param(raw) -> int | None:
    """A positive id from the query (as the pages' path converters accept), else None."""
    raw = raw or ""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None
