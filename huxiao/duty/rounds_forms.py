"""Page forms of patrol rounds: the code field of the manual entry (a keyboard-wedge
scanner types the plate's whole URL, or a guard types the code)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.people.forms import ServiceForm


class ScanCodeForm(ServiceForm):
    code = forms.CharField(
        label=_("Checkpoint code"),
        max_length=500,
        help_text=_("Scan the plate with the scanner, or type the code printed under the QR."),
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "data-testid": "scan-code",
            }
        ),
    )
