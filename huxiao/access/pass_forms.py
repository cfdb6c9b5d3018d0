"""Page forms of passes (issue 5, ADR 0024). They check the shape of the input; the rules
live in `pass_services`."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.access.choices import Direction, PassKind
from huxiao.patrols.forms import _datetime_field
from huxiao.people.forms import ServiceForm, StaffChoiceField


class PassForm(ServiceForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=PassKind.choices)
    staff = StaffChoiceField(
        label=_("Staff member"),
        queryset=None,
        required=False,
        empty_label="—",
        help_text=_("Required for a staff pass; optional for a vehicle pass."),
    )
    holder_name = forms.CharField(
        label=_("Holder"),
        max_length=50,
        required=False,
        help_text=_("Name of the person or company; a staff pass takes the staff member's name."),
    )
    plate = forms.CharField(
        label=_("Plate"),
        max_length=20,
        required=False,
        help_text=_("Required for a vehicle pass, e.g. 京A12345 or 京AD12345."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    valid_from = _datetime_field(_("Valid from"))
    valid_until = _datetime_field(_("Valid until"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff
        if not self.is_bound:
            now = timezone.localtime().replace(second=0, microsecond=0)
            self.initial.setdefault("valid_from", now)
            self.initial.setdefault("valid_until", now + dt.timedelta(days=180))


class RevokeForm(ServiceForm):
    reason = forms.CharField(label=_("Reason for revoking"), max_length=200)


class ScanForm(forms.Form):
    # Long enough for a code with scanner noise; the service finds the code inside.
    code = forms.CharField(
        label=_("Pass code"),
        max_length=1000,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "enterkeyhint": "go",
            }
        ),
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=Direction.choices,
        initial=Direction.IN,
        required=False,
        widget=forms.RadioSelect,
    )
