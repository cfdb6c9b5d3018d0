"""Page forms of duty gaps."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.hazards.hazard_forms import ServiceErrorsMixin


class ResolveForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(label=_("How it was resolved"), max_length=500)
