"""Page forms of self-check campaigns. They parse the fields; the services hold the rules
(dates in order and not past, schools within the office's scope, gap owners and deadlines),
and their errors are put back on these forms by the views."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.names import person_name
from huxiao.core.widgets import IsoDateInput as _DateInput
from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.supervision.choices import CampaignResult, CampaignStatus


def _blank(choices, label):
    return [("", label), *choices]


def parse_item_lines(text: str) -> list[dict]:
    """One item per line; a policy reference may close the line in square brackets:
    "门卫室配备防暴器械 [§2 6]". Blank lines are skipped."""
    items = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        reference = ""
        if line.endswith("]") and " [" in line:
            line, _sep, reference = line.rpartition(" [")
            reference = reference[:-1].strip()
            line = line.strip()
        items.append({"text": line, "reference": reference})
    return items


def item_lines(items) -> str:
    return "\n".join(f"{i.text} [{i.reference}]" if i.reference else i.text for i in items)


class CampaignForm(ServiceErrorsMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    owner = forms.TypedChoiceField(label=_("Run by"), coerce=int, required=False)
    self_check_due = forms.DateField(label=_("Self-check due"), widget=_DateInput())
    spot_check_due = forms.DateField(label=_("Spot check due"), widget=_DateInput())
    acceptance_due = forms.DateField(label=_("Final acceptance due"), widget=_DateInput())
    template = forms.TypedChoiceField(
        label=_("Add the items of a checklist"), coerce=int, required=False, empty_value=None
    )
    items = forms.CharField(
        label=_("Items to check"),
        required=False,
        max_length=200 * 620,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "One item per line; a policy reference may close the line in square brackets, "
            "e.g. “Guards on duty at the gate [§2 5]”."
        ),
    )
    all_schools = forms.BooleanField(label=_("All my schools"), required=False)
    towns = forms.TypedMultipleChoiceField(
        label=_("All schools of a town"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    schools = forms.TypedMultipleChoiceField(
        label=_("Schools"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, offices=(), templates=(), towns=(), schools=(), **kwargs):
        super().__init__(*args, **kwargs)
        if len(offices) > 1:
            self.fields["owner"].choices = [(o.pk, o.name) for o in offices]
            self.fields["owner"].required = True
        else:
            del self.fields["owner"]
        self.fields["template"].choices = _blank([(t.pk, str(t)) for t in templates], _("None"))
        self.fields["towns"].choices = [(t.pk, t.name) for t in towns]
        if len(towns) < 2:
            # One town: "all my schools" says it (all schools of my town, in one click).
            self.fields["all_schools"].label = _("All schools of my town")
            if not towns:
                del self.fields["towns"]
        several_towns = len(towns) > 1
        self.fields["schools"].choices = [
            (s.pk, f"{s.name} · {s.town.name}" if several_towns and s.town_id else s.name)
            for s in schools
        ]


class CampaignFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank(CampaignStatus.choices, _("All"))
    )


class AnswerForm(ServiceErrorsMixin, forms.Form):
    result = forms.ChoiceField(
        label=_("Result"), choices=CampaignResult.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Note (for a gap: what is missing)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    gap_owner = forms.TypedChoiceField(
        label=_("Who fixes the gap"), coerce=int, required=False, empty_value=None
    )
    gap_deadline = forms.DateField(label=_("Fix by"), required=False, widget=_DateInput())

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {u.pk: u for u in candidates}
        self.fields["gap_owner"].choices = _blank(
            [(u.pk, person_name(u)) for u in candidates], _("Choose…")
        )


class ReasonForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class SpotCheckForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=_("What the spot check found"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    inspection = forms.TypedChoiceField(
        label=_("Inspection that documents it"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args, inspections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inspection"].choices = _blank(
            [(i.pk, f"{i.planned_on:%Y-%m-%d} · {i.get_kind_display()}") for i in inspections],
            _("None"),
        )


class NoteForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class FixForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(
        label=_("How it was fixed"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
