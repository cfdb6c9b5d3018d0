"""Page forms of the security personnel. They parse; the services hold the rules
(certificate number format, dates, the company name, hours) and their errors are put back
on these forms by the views."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.widgets import IsoDateInput
from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.people.choices import BackgroundCheck, StaffRole
from huxiao.security.choices import Employer, Employment
from huxiao.security.personnel_services import PROFILE_FIELDS

POST_CHOICES = [
    (role.value, role.label)
    for role in (StaffRole.GUARD, StaffRole.SECURITY_OFFICER, StaffRole.DORMITORY_MANAGER)
]
_STAFF_EDIT_FIELDS = ("name", "role", "phone", "background_check", "background_checked_on")


def _date(label, **kwargs):
    return forms.DateField(label=label, required=False, widget=IsoDateInput(), **kwargs)


class GuardForm(ServiceErrorsMixin, forms.Form):
    """Add a member of the security staff (`staff=None`) or edit one with their record."""

    name = forms.CharField(label=_("Name"), max_length=50)
    role = forms.ChoiceField(label=_("Post"), choices=POST_CHOICES, initial=StaffRole.GUARD)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )
    id_number = forms.CharField(
        label=_("Resident ID number"),
        max_length=24,
        required=False,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        help_text=_("Kept encrypted by the staff records; shown masked."),
    )
    employment = forms.ChoiceField(
        label=_("Employment"),
        choices=Employment.choices,
        initial=Employment.FULL_TIME,
        widget=forms.RadioSelect,
    )
    employer = forms.ChoiceField(
        label=_("Employer"),
        choices=Employer.choices,
        initial=Employer.SCHOOL,
        widget=forms.RadioSelect,
    )
    security_company = forms.CharField(
        label=_("Security company"),
        max_length=200,
        required=False,
        help_text=_("Required when a security company employs the guard."),
    )
    hired_on = _date(_("Hired on"))
    certificate_number = forms.CharField(
        label=_("Guard certificate number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
        help_text=_("E.g. 冀公保12345678: province, 公保, then 8–18 digits or capital letters."),
    )
    certificate_issued_on = _date(_("Certificate issued on"))
    certificate_expires_on = _date(_("Certificate expires on"))
    filed_with_police = forms.BooleanField(label=_("Filed with the police"), required=False)
    filed_on = _date(_("Filed on"), help_text=_("Required when filed."))
    background_check = forms.ChoiceField(
        label=_("Background check"),
        choices=BackgroundCheck.choices,
        initial=BackgroundCheck.NOT_DONE,
    )
    background_checked_on = _date(_("Background check date"))
    notes = forms.CharField(
        label=_("Remarks"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, staff=None, profile=None, **kwargs):
        if staff is not None and "initial" not in kwargs:
            initial = {name: getattr(staff, name) for name in _STAFF_EDIT_FIELDS}
            if profile is not None:
                initial.update({name: getattr(profile, name) for name in PROFILE_FIELDS})
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.staff = staff
        if staff is not None:
            # The ID number is the staff records' (people app); it is not edited here.
            del self.fields["id_number"]

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        for name in ("phone", "security_company", "certificate_number", "notes"):
            data[name] = data.get(name) or ""
        return data


class TrainingForm(ServiceErrorsMixin, forms.Form):
    held_on = forms.DateField(label=_("Date"), widget=IsoDateInput())
    topic = forms.CharField(label=_("Topic"), max_length=200)
    # No max_digits/decimal_places: Django's own "no more than 6 digits" would answer a
    # huge number; every value out of 0–99.9 gets the range message, and the service
    # checks the one decimal place.
    hours = forms.DecimalField(
        label=_("Hours"),
        min_value=0,
        max_value=Decimal("99.9"),
        error_messages={
            "invalid": _("Enter a number of hours."),
            "min_value": _("Enter between 0 and 99.9 hours."),
            "max_value": _("Enter between 0 and 99.9 hours."),
        },
        widget=forms.NumberInput(
            attrs={"step": "0.5", "min": "0", "max": "99.9", "inputmode": "decimal"}
        ),
    )
    provider = forms.CharField(label=_("Training given by"), max_length=200, required=False)
    passed = forms.BooleanField(label=_("Passed"), required=False, initial=True)
