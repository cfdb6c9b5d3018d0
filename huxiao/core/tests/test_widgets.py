"""Date inputs render ISO dates in every language: a browser drops 2026/01/02."""

import datetime as dt

from django import forms
from django.utils import translation

from huxiao.core.widgets import IsoDateInput, IsoDateTimeInput


class _Form(forms.Form):
    day = forms.DateField(widget=IsoDateInput())
    at = forms.DateTimeField(widget=IsoDateTimeInput())


def test_date_inputs_render_iso_in_chinese():
    with translation.override("zh-hans"):
        html = str(_Form(initial={"day": dt.date(2026, 1, 2), "at": dt.datetime(2026, 1, 2, 7, 5)}))
    assert 'type="date"' in html and 'value="2026-01-02"' in html
    assert 'type="datetime-local"' in html and 'value="2026-01-02T07:05"' in html
