"""Page forms for classes, children, guardians, staff and certificates.

They check the shape of the input only: present, of the right type, one of the offered
choices, not longer than the column. The rules (ID number checksum and uniqueness, birth
date against the ID number, phone format, head teacher at the same school, expiry after
issue) live in `people.services`, which raise `ValidationError` keyed by field;
`add_service_errors` puts those messages next to the fields they name.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from huxiao.people.choices import BackgroundCheck, Gender, Relationship, StaffRole

_KEEP_ID_NUMBER = _("Leave blank to keep the current number.")


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _id_number_field(*, required: bool) -> forms.CharField:
    # 18 characters; a few more so that a number typed with spaces reaches the service,
    # which normalizes it and explains what is wrong.
    return forms.CharField(
        label=_("Resident ID number"),
        max_length=24,
        required=required,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


def _phone_field(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=required,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )


class ServiceForm(forms.Form):
    """A form whose cleaned data is handed to a service as keyword arguments."""

    # Service error key → form field, where the service names a field differently.
    service_error_fields: dict[str, str] = {}

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)

    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's ValidationError next to the fields it names.

        Keys that are not fields of this form (e.g. "class" for a class that still has
        children) become errors of the whole form.
        """
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for key, errors in exc.error_dict.items():
            field = self.service_error_fields.get(key, key)
            self.add_error(field if field in self.fields else None, errors)


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} · {obj.get_role_display()}"


class ClassForm(ServiceForm):
    name = forms.CharField(label=_("Class name"), max_length=50)
    grade = forms.CharField(label=_("Grade"), max_length=20, required=False)
    head_teacher = StaffChoiceField(
        label=_("Head teacher"), queryset=None, required=False, empty_label="—"
    )

    service_error_fields = {"head_teacher_id": "head_teacher"}

    def __init__(self, *args, staff, school_class=None, **kwargs):
        """`staff`: the school's staff, already scoped by the caller."""
        if school_class is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": school_class.name,
                    "grade": school_class.grade,
                    "head_teacher": school_class.head_teacher_id,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["head_teacher"].queryset = staff


class ChildForm(ServiceForm):
    """Enrol a child (`child=None`) or edit one."""

    name = forms.CharField(label=_("Name"), max_length=50)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, widget=forms.RadioSelect)
    id_number = _id_number_field(required=True)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=_date_input(),
        help_text=_("Taken from the resident ID number when left blank."),
    )
    is_active = forms.BooleanField(label=_("Enrolled"), required=False)

    def __init__(self, *args, child=None, **kwargs):
        if child is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": child.name,
                    "gender": child.gender,
                    "birth_date": child.birth_date,
                    "is_active": child.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        self.child = child
        if child is None:
            del self.fields["is_active"]
            return
        self.fields["id_number"].required = False
        self.fields["id_number"].help_text = _KEEP_ID_NUMBER
        if child.id_number_masked:
            # The stored number decides the birth date; it changes with a new number only.
            del self.fields["birth_date"]

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        if self.child is not None and not data.get("id_number"):
            data.pop("id_number", None)
        return data


class ChildMoveForm(ServiceForm):
    school_class = forms.ModelChoiceField(label=_("Move to class"), queryset=None)

    service_error_fields = {"class_id": "school_class"}

    def __init__(self, *args, classes, **kwargs):
        """`classes`: the classes the child may move to, already scoped by the caller."""
        super().__init__(*args, **kwargs)
        self.fields["school_class"].queryset = classes


class GuardianForm(ServiceForm):
    """Add a guardian / authorised pick-up person (`guardian=None`) or edit one."""

    name = forms.CharField(label=_("Name"), max_length=50)
    relationship = forms.ChoiceField(label=_("Relationship"), choices=Relationship.choices)
    phone = _phone_field(required=True)
    can_pick_up = forms.BooleanField(label=_("Authorised to pick up"), required=False, initial=True)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)
    id_number = _id_number_field(required=False)

    def __init__(self, *args, guardian=None, **kwargs):
        if guardian is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": guardian.name,
                    "relationship": guardian.relationship,
                    "phone": guardian.phone,
                    "can_pick_up": guardian.can_pick_up,
                    "is_primary": guardian.is_primary,
                },
            )
        super().__init__(*args, **kwargs)
        self.guardian = guardian
        if guardian is not None and guardian.id_number_masked:
            self.fields["id_number"].help_text = _KEEP_ID_NUMBER

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        if self.guardian is not None and not data.get("id_number"):
            data.pop("id_number", None)
        return data


class StaffForm(ServiceForm):
    """Add a staff member (`staff=None`) or edit one."""

    name = forms.CharField(label=_("Name"), max_length=50)
    role = forms.ChoiceField(label=_("Post"), choices=StaffRole.choices)
    phone = _phone_field(required=False)
    background_check = forms.ChoiceField(
        label=_("Background check"),
        choices=BackgroundCheck.choices,
        initial=BackgroundCheck.NOT_DONE,
    )
    background_checked_on = forms.DateField(
        label=_("Background check date"), required=False, widget=_date_input()
    )
    id_number = _id_number_field(required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args, staff=None, **kwargs):
        if staff is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": staff.name,
                    "role": staff.role,
                    "phone": staff.phone,
                    "background_check": staff.background_check,
                    "background_checked_on": staff.background_checked_on,
                    "is_active": staff.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        self.staff = staff
        if staff is None:
            del self.fields["is_active"]
        elif staff.id_number_masked:
            self.fields["id_number"].help_text = _KEEP_ID_NUMBER

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        if self.staff is not None and not data.get("id_number"):
            data.pop("id_number", None)
        return data


class CertificateForm(ServiceForm):
    kind = forms.CharField(
        label=_("Certificate"),
        max_length=100,
        help_text=_("e.g. security guard licence, teacher's certificate, health certificate"),
    )
    number = forms.CharField(label=_("Number"), max_length=64, required=False)
    issued_on = forms.DateField(label=_("Issued on"), required=False, widget=_date_input())
    expires_on = forms.DateField(label=_("Expires on"), required=False, widget=_date_input())
