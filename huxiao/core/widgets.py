"""Form widgets shared by every app.

A browser's `<input type="date">` accepts only ISO dates (2026-01-02); Django renders a
date in the active locale's format (2026/01/02 in Chinese), which the browser drops, so the
field shows empty. These widgets always render ISO.
"""

from __future__ import annotations

from django import forms

ISO_DATE = "%Y-%m-%d"
ISO_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class IsoDateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None, format=None):  # noqa: A002 (Django's own argument name)
        super().__init__(attrs=attrs, format=format or ISO_DATE)


class IsoDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None, format=None):  # noqa: A002
        super().__init__(attrs=attrs, format=format or ISO_DATETIME_LOCAL)
