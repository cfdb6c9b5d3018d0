"""Page forms of patrol checkpoints: the shape of the input only; the rules (a unique name
among the school's checkpoints in use, at most MAX_ACTIVE in use) live in
checkpoint_services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.duty.checkpoint_services import MAX_ORDER
from huxiao.people.forms import ServiceForm


class CheckpointForm(ServiceForm):
    name = forms.CharField(
        label=_("Checkpoint name"),
        max_length=100,
        help_text=_("As written on the plate, e.g. 大门, 教学楼, 食堂."),
    )
    location = forms.CharField(
        label=_("Location"),
        max_length=200,
        required=False,
        help_text=_("Where the plate hangs, so that a new guard finds it."),
    )
    is_key_area = forms.BooleanField(label=_("Key area"), required=False, initial=True)
    for_night = forms.BooleanField(
        label=_("Night round only (dormitories)"),
        required=False,
        help_text=_(
            "Walked on the night round of a boarding school only; day rounds skip it. "
            "The night round walks every checkpoint in use."
        ),
    )
    order = forms.IntegerField(
        label=_("Order on the round"),
        min_value=0,
        max_value=MAX_ORDER,
        required=False,
        help_text=_("Leave blank to put it last."),
    )

    def __init__(self, *args, checkpoint=None, **kwargs):
        if checkpoint is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": checkpoint.name,
                    "location": checkpoint.location,
                    "is_key_area": checkpoint.is_key_area,
                    "for_night": checkpoint.for_night,
                    "order": checkpoint.order,
                },
            )
        super().__init__(*args, **kwargs)
        if checkpoint is not None:
            self.fields["is_active"] = forms.BooleanField(
                label=_("In use"),
                required=False,
                initial=checkpoint.is_active,
                help_text=_("A checkpoint no longer in use: its plate stops working."),
            )

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("order") is None:
            data.pop("order", None)
        return data
