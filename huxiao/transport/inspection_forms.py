"""Page forms of police bus inspections. They render and parse for the browser; the services
hold the rules (riders, speeds and minutes in range, the check's time, the plate among the
schools the officer inspects, the driver of the bus's school) and their errors are put back
on these forms by the views."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.widgets import IsoDateInput, IsoDateTimeInput
from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.transport.choices import InspectionKind

YES_NO = (("yes", _("Yes")), ("no", _("No")))
_NUMBER = {"inputmode": "numeric", "min": "0", "pattern": "[0-9]*"}


def _yes_no(label):
    return forms.ChoiceField(
        label=label, choices=YES_NO, initial="yes", widget=forms.RadioSelect(attrs={})
    )


def _number(label, testid: str):
    return forms.IntegerField(
        label=label,
        required=False,
        widget=forms.NumberInput(attrs={**_NUMBER, "data-testid": testid}),
    )


class InspectionForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of check"),
        choices=InspectionKind.choices,
        initial=InspectionKind.RANDOM,
        widget=forms.RadioSelect,
    )
    plate = forms.CharField(
        # Not "Plate": that shared msgid reads 车牌号 on the gate's vehicle pages.
        label=_("School bus number plate"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocapitalize": "characters",
                "autocomplete": "off",
                "placeholder": "冀A·X3712",
                "data-testid": "plate",
            }
        ),
    )
    inspected_at = forms.DateTimeField(
        label=_("Time of the check"),
        required=False,
        widget=IsoDateTimeInput(),
        help_text=_("Leave as it is for a check made now."),
    )
    location = forms.CharField(label=_("Where the bus was checked"), max_length=200, required=False)
    riders_counted = _number(_("Riders counted on board"), "riders")
    speed_kmh = _number(_("Measured speed (km/h)"), "speed")
    speed_limit_kmh = _number(_("Speed limit there (km/h)"), "speed-limit")
    driving_minutes = _number(_("Continuous driving (minutes)"), "driving-minutes")
    safety_officer_present = _yes_no(_("Safety officer on board"))
    markings_present = _yes_no(_("School-bus markings present"))
    documents_ok = _yes_no(_("Documents shown and valid"))
    other_findings = forms.CharField(
        label=_("Other problems found"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One problem a line."),
    )
    notes = forms.CharField(
        label=_("Remarks on the check"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    deadline = forms.DateField(
        label=_("Correct by"),
        required=False,
        widget=IsoDateInput(),
        help_text=_("Seven days from today when left empty."),
    )


class DriverForm(ServiceErrorsMixin, forms.Form):
    """The driver of the check, among the bus's school's drivers (shown once the bus is
    known); `driver_for` remembers which bus the choice was made for."""

    driver_id = forms.ChoiceField(label=_("Driver at the wheel"), required=False)
    driver_for = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, drivers=(), blank=True, **kwargs):
        """`blank`: offer "—" (no driver known), when the bus has no trip or route driver."""
        super().__init__(*args, **kwargs)
        choices = [(str(d.pk), f"{d.name} · {d.licence_class}") for d in drivers]
        self.fields["driver_id"].choices = [("", "—"), *choices] if blank else choices


class FollowUpForm(ServiceErrorsMixin, forms.Form):
    text = forms.CharField(
        label=_("What the school did"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class ResolveForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=_("Note on the resolution"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SendBackForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why it is sent back"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    deadline = forms.DateField(label=_("New deadline"), required=False, widget=IsoDateInput())
