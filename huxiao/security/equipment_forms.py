"""Page forms of protective equipment. They parse; the services hold the rules (no negative
quantity, not more than in stock, dates not in the future, names unique in the county's
list) and their errors are put back on these forms by the views."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.widgets import IsoDateInput
from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.security.choices import Condition

_NUMBER = {"inputmode": "numeric", "min": "0"}


class StockForm(ServiceErrorsMixin, forms.Form):
    # No lower bound here: the service explains why a negative quantity is refused.
    quantity = forms.IntegerField(label=_("Quantity"), widget=forms.NumberInput(attrs=_NUMBER))
    condition = forms.ChoiceField(label=_("Condition"), choices=Condition.choices)
    last_checked_on = forms.DateField(
        label=_("Last checked on"), required=False, widget=IsoDateInput()
    )
    notes = forms.CharField(label=_("Remarks"), max_length=500, required=False)

    def __init__(self, *args, stock=None, **kwargs):
        if stock is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "quantity": stock.quantity,
                "condition": stock.condition,
                "last_checked_on": stock.last_checked_on,
                "notes": stock.notes,
            }
        super().__init__(*args, **kwargs)


class IssueForm(ServiceErrorsMixin, forms.Form):
    staff_id = forms.TypedChoiceField(label=_("Issued to"), coerce=int)
    quantity = forms.IntegerField(
        label=_("Quantity"), initial=1, widget=forms.NumberInput(attrs=_NUMBER)
    )
    # Not "Issued on": that shared msgid is a certificate's date (发证日期).
    issued_on = forms.DateField(label=_("Date issued"), required=False, widget=IsoDateInput())

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff_id"].choices = [
            ("", _("Choose…")),
            *((s.pk, f"{s.name} · {s.get_role_display()}") for s in candidates),
        ]


class ReturnForm(ServiceErrorsMixin, forms.Form):
    returned_on = forms.DateField(label=_("Returned on"), required=False, widget=IsoDateInput())


class EquipmentTypeForm(ServiceErrorsMixin, forms.Form):
    # Not "Name": that shared msgid is a person's name (姓名).
    name = forms.CharField(label=_("Item name"), max_length=50)
    min_quantity = forms.IntegerField(
        label=_("Minimum per school"), initial=1, widget=forms.NumberInput(attrs=_NUMBER)
    )
    per_guard = forms.BooleanField(
        label=_("Issued to each guard"),
        required=False,
        help_text=_(
            "Needed once per full-time guard only while the county's equipment rule counts "
            "per-guard items; otherwise the minimum per school applies."
        ),
    )
    is_required = forms.BooleanField(label=_("Required"), required=False, initial=True)
    key = forms.CharField(
        label=_("Key"),
        max_length=40,
        required=False,
        help_text=_("Optional; lower-case letters, digits, - and _. Made up when left empty."),
    )

    def __init__(self, *args, item=None, **kwargs):
        if item is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": item.name,
                "min_quantity": item.min_quantity,
                "per_guard": item.per_guard,
                "is_required": item.is_required,
            }
        super().__init__(*args, **kwargs)
        if item is not None:
            del self.fields["key"]
