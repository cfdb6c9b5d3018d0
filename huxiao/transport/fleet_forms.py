"""Page forms of the fleet: buses, drivers, violations, routes, stops and riders. They
parse; the services hold the rules (plates, seats, dates, documents that may run, one
route per child, stop times) and their errors are put back on these forms by the views."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.widgets import IsoDateInput
from huxiao.people.forms import ServiceForm
from huxiao.transport.choices import LicenceClass

_NUMBER = {"inputmode": "numeric"}
_CODE = {"autocapitalize": "characters", "spellcheck": "false", "autocomplete": "off"}


def _date(label, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, required=False, widget=IsoDateInput(), **kwargs)


def _time(label) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )


def _text(label, max_length, **kwargs) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, required=False, **kwargs)


class BusForm(ServiceForm):
    plate = forms.CharField(
        label=_("Number plate"),
        max_length=40,
        widget=forms.TextInput(attrs=_CODE),
        help_text=_("E.g. 冀A·X3712; spaces and dots are dropped."),
    )
    seats = forms.IntegerField(
        label=_("Approved seats"),
        widget=forms.NumberInput(attrs={"min": "1", "max": "80", **_NUMBER}),
        help_text=_("As on the school-bus permit, 1 to 80."),
    )
    operator = _text(_("Bus operator"), 200, help_text=_("The bus company, or the school itself."))
    model_name = _text(_("Make and model"), 100)
    permit_number = _text(_("School-bus permit number"), 50, widget=forms.TextInput(attrs=_CODE))
    permit_expires_on = _date(_("Permit expires on"))
    insurance_expires_on = _date(_("Insurance expires on"))
    inspection_expires_on = _date(_("Safety inspection valid until"))
    markings_compliant = forms.BooleanField(
        label=_("School-bus markings compliant (GB 24315)"), required=False
    )
    notes = _text(_("Remarks"), 500, widget=forms.Textarea(attrs={"rows": 2}))

    def service_kwargs(self) -> dict:
        return {k: ("" if v is None and k in _TEXTS else v) for k, v in self.cleaned_data.items()}


_TEXTS = {
    "operator",
    "model_name",
    "permit_number",
    "notes",
    "phone",
    "employer",
    "licence_number",
    "qualification_number",
}


class DriverForm(ServiceForm):
    name = forms.CharField(label=_("Driver's name"), max_length=50)
    phone = _text(_("Phone"), 20, widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}))
    employer = _text(_("Employer"), 200)
    licence_number = _text(_("Driving licence number"), 40, widget=forms.TextInput(attrs=_CODE))
    licence_class = forms.ChoiceField(label=_("Licence class"), choices=LicenceClass.choices)
    licence_expires_on = _date(_("Licence expires on"))
    qualification_number = _text(
        _("School-bus driver qualification number"), 50, widget=forms.TextInput(attrs=_CODE)
    )
    qualification_expires_on = _date(_("Qualification expires on"))
    health_checked_on = _date(_("Last health check"))
    health_check_expires_on = _date(
        _("Health check valid until"),
        help_text=_("Leave empty: one year after the check."),
    )

    service_kwargs = BusForm.service_kwargs


class ViolationForm(ServiceForm):
    occurred_on = forms.DateField(label=_("Date of the violation"), widget=IsoDateInput())
    description = forms.CharField(label=_("Violation"), max_length=300)
    points = forms.IntegerField(
        label=_("Penalty points"),
        initial=0,
        widget=forms.NumberInput(attrs={"min": "0", "max": "12", **_NUMBER}),
    )


def _choices(rows, label, empty) -> list[tuple]:
    return [("", empty), *[(row.pk, label(row)) for row in rows]]


class RouteForm(ServiceForm):
    """The route's name and usual bus, driver and safety officer (choices of the school;
    the service checks them again)."""

    name = forms.CharField(label=_("Route name"), max_length=100)
    bus = forms.TypedChoiceField(label=_("Usual bus"), required=False, coerce=int, empty_value=None)
    driver = forms.TypedChoiceField(
        label=_("Usual driver"), required=False, coerce=int, empty_value=None
    )
    safety_officer = forms.TypedChoiceField(
        label=_("Safety officer (照管员)"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Any staff member of the school who rides with the children."),
    )

    def __init__(self, *args, buses=(), drivers=(), staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bus"].choices = _choices(
            buses, lambda b: f"{b.plate} · {b.seats}", _("— none —")
        )
        self.fields["driver"].choices = _choices(drivers, lambda d: d.name, _("— none —"))
        self.fields["safety_officer"].choices = _choices(
            staff, lambda s: f"{s.name} · {s.get_role_display()}", _("— none —")
        )


class StopForm(forms.Form):
    """One stop of the stops editor (an empty extra row is ignored)."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    position = forms.IntegerField(
        label=_("Order"),
        required=False,
        widget=forms.NumberInput(attrs={"min": "1", "max": "50", **_NUMBER}),
    )
    name = _text(_("Stop name"), 100)
    morning_time = _time(_("Morning pick-up"))
    afternoon_time = _time(_("Afternoon drop-off"))
    remove = forms.BooleanField(label=_("Remove this stop"), required=False)

    def entry(self) -> dict | None:
        """The stop as the service takes it; None for a removed or empty row."""
        data = self.cleaned_data
        if data.get("remove"):
            return None
        if not data.get("id") and not any(
            data.get(k) for k in ("name", "morning_time", "afternoon_time")
        ):
            return None
        return {k: data.get(k) for k in ("id", "name", "morning_time", "afternoon_time")}


StopFormSet = forms.formset_factory(StopForm, extra=3, max_num=50, absolute_max=60)


class RidersAddForm(ServiceForm):
    stop = forms.TypedChoiceField(label=_("Stop"), coerce=int)
    children = forms.TypedMultipleChoiceField(
        label=_("Children"), coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, stops=(), children=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stop"].choices = [
            (s.pk, f"{s.order}. {s.name}{_stop_times(s)}") for s in stops
        ]
        self.fields["children"].choices = [(c.pk, _child_label(c)) for c in children]


def _stop_times(stop) -> str:
    times = [t.strftime("%H:%M") for t in (stop.morning_time, stop.afternoon_time) if t]
    return f"（{' / '.join(times)}）" if times else ""


def _child_label(child) -> str:
    label = f"{child.name} · {child.school_class.name}"
    if getattr(child, "riding_route", None):
        label += str(_(" (rides %(route)s)") % {"route": child.riding_route})
    return label


class RiderMoveForm(ServiceForm):
    """Move a rider to a stop of this route or of another route of the school."""

    stop = forms.TypedChoiceField(label=_("New stop"), coerce=int)

    def __init__(self, *args, stops=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stop"].choices = [
            (s.pk, f"{s.route.name} · {s.order}. {s.name}{_stop_times(s)}") for s in stops
        ]


class ClassPickForm(forms.Form):
    """The class whose children are offered (GET)."""

    school_class = forms.TypedChoiceField(
        label=_("Class"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, classes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school_class"].choices = _choices(classes, lambda c: c.name, _("All classes"))
