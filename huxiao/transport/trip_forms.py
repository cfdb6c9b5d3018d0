"""Page forms of bus trips: the start, the scan box, resolving a flag and the bus-contacts
query. They parse the fields; the services (trip_services, trip_selectors) hold the rules
and their errors are put back on these forms by the views."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.access import codes
from huxiao.core.widgets import IsoDateInput
from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.transport.choices import Direction
from huxiao.transport.trip_services import RIDERS_MAX, TEXT_MAX

NOBODY = ""


class StartForm(ServiceErrorsMixin, forms.Form):
    """Starting a route's trip: the direction, the bus, driver and safety officer (the
    route's usual ones preselected), the riders at departure and the children ticked on
    board before the bus leaves."""

    direction = forms.ChoiceField(
        label=_("Direction"), choices=Direction.choices, widget=forms.RadioSelect
    )
    bus = forms.TypedChoiceField(label=_("Bus"), coerce=int)
    driver = forms.TypedChoiceField(label=_("Driver"), coerce=int)
    safety_officer = forms.TypedChoiceField(
        label=_("Safety officer on board"), coerce=int, required=False, empty_value=None
    )
    riders = forms.IntegerField(
        label=_("Riders on board at departure"),
        required=False,
        min_value=0,
        max_value=RIDERS_MAX,
        help_text=_(
            "Leave empty when the bus leaves empty and children are ticked on at their stops."
        ),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    children = forms.TypedMultipleChoiceField(
        label=_("Children already on board"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, route, buses=(), drivers=(), staff=(), riders=(), **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("bus", route.bus_id)
        initial.setdefault("driver", route.driver_id)
        initial.setdefault("safety_officer", route.safety_officer_id)
        super().__init__(*args, **kwargs)
        self.fields["bus"].choices = [("", "—")] + [
            (b.pk, _("%(plate)s (%(seats)s seats)") % {"plate": b.plate, "seats": b.seats})
            for b in buses
        ]
        self.fields["driver"].choices = [("", "—")] + [(d.pk, d.name) for d in drivers]
        self.fields["safety_officer"].choices = [(NOBODY, _("Nobody on board"))] + [
            (s.pk, s.name) for s in staff
        ]
        self.fields["children"].choices = [
            (r.child_id, f"{r.child.name} · {r.stop.name}") for r in riders
        ]


class ScanForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(
        label=_("Scan a pick-up card or type a name"),
        max_length=codes.MAX_INPUT,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autofocus": True, "enterkeyhint": "go"}
        ),
    )


class ResolveFlagForm(ServiceErrorsMixin, forms.Form):
    resolution = forms.CharField(
        label=_("How it was handled"),
        max_length=TEXT_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class ContactsForm(ServiceErrorsMixin, forms.Form):
    """The bus-contacts section of a trip: a child on board and a period."""

    contact_child = forms.TypedChoiceField(label=_("Child"), coerce=int)
    start = forms.DateField(label=_("From"), widget=IsoDateInput())
    end = forms.DateField(label=_("Until"), widget=IsoDateInput())

    def __init__(self, *args, children=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_child"].choices = [(c.pk, c.name) for c in children]
