"""Page forms of notices and accountability records. They parse; the services hold the
rules (scope, dates, states) and their errors are put back on these forms by the views."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.widgets import IsoDateInput as _DateInput
from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.supervision.choices import AccountabilityKind, NoticeKind, NoticeStatus

MAX_TOP = 50


def _blank(choices, label):
    return [("", label), *choices]


def org_label(org) -> str:
    """A school by its name; another organization with its kind, unless the name says it."""
    kind = str(org.get_kind_display())
    return org.name if org.is_school or kind in org.name else f"{org.name}（{kind}）"


# ------------------------------------------------------------------ notices


class NoticeFilterForm(forms.Form):
    box = forms.ChoiceField(label=_("Notices"), required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=_blank(NoticeKind.choices, _("All"))
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank(NoticeStatus.choices, _("All"))
    )

    def __init__(self, *args, can_issue=False, **kwargs):
        super().__init__(*args, **kwargs)
        boxes = [("", _("All")), ("received", _("Received"))]
        if can_issue:
            boxes.append(("issued", _("Issued by my office")))
        self.fields["box"].choices = boxes
        if not can_issue:
            del self.fields["status"]


class NoticeForm(ServiceErrorsMixin, forms.Form):
    issuer = forms.TypedChoiceField(label=_("Issued by"), coerce=int)
    kind = forms.ChoiceField(label=_("Kind"), choices=NoticeKind.choices, widget=forms.RadioSelect)
    reference = forms.CharField(
        label=_("Reference number"),
        required=False,
        max_length=60,
        help_text=_("E.g. 大杨树教〔2026〕12号; needed to publish."),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text of the notice"), max_length=10000, widget=forms.Textarea(attrs={"rows": 8})
    )
    improve_by = forms.DateField(
        label=_("To be put right by"),
        required=False,
        widget=_DateInput(),
        help_text=_("Public criticism only: a date after today."),
    )
    run = forms.TypedChoiceField(
        label=_("Assessment results"), required=False, coerce=int, empty_value=None
    )
    subjects = forms.TypedMultipleChoiceField(
        label=_("About (schools or organizations)"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    all_schools = forms.BooleanField(label=_("Publish to all schools in my scope"), required=False)
    recipients = forms.TypedMultipleChoiceField(
        label=_("Publish to"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The schools and organizations the notice is about always receive it."),
    )

    def __init__(self, *args, offices=(), organizations=(), runs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organizations = list(organizations)
        if len(offices) > 1:
            self.fields["issuer"].choices = [(o.pk, o.name) for o in offices]
        else:
            del self.fields["issuer"]
        choices = [(o.pk, org_label(o)) for o in self.organizations]
        self.fields["subjects"].choices = choices
        self.fields["recipients"].choices = choices
        self.fields["run"].choices = _blank(
            [
                (r.pk, f"{r.scheme.name} {r.period_start:%Y-%m-%d}–{r.period_end:%Y-%m-%d}")
                for r in runs
            ],
            _("None"),
        )

    def school_ids(self) -> list[int]:
        return [o.pk for o in self.organizations if o.is_school]

    def recipient_ids(self) -> list[int]:
        data = self.cleaned_data
        ids = set(data.get("recipients") or ())
        if data.get("all_schools"):
            ids.update(self.school_ids())
        return sorted(ids)


class PrefillForm(forms.Form):
    """Start a draft from a published assessment: commend the top N or criticise the
    bottom N."""

    run = forms.TypedChoiceField(label=_("Assessment results"), coerce=int)
    kind = forms.ChoiceField(
        label=_("Notice"),
        choices=[
            (NoticeKind.COMMENDATION, _("Commend the top")),
            (NoticeKind.CRITICISM, _("Criticise the bottom")),
        ],
    )
    n = forms.IntegerField(label=_("How many schools"), min_value=1, max_value=MAX_TOP, initial=3)

    def __init__(self, *args, runs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["run"].choices = [
            (r.pk, f"{r.scheme.name} {r.period_start:%Y-%m-%d}–{r.period_end:%Y-%m-%d}")
            for r in runs
        ]


class ResolveForm(ServiceErrorsMixin, forms.Form):
    resolution = forms.CharField(
        label=_("How things were put right"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# ------------------------------------------------------------------ accountability


class AccountabilityFilterForm(forms.Form):
    subject = forms.TypedChoiceField(
        label=_("School or organization"), required=False, coerce=int, empty_value=None
    )
    town = forms.TypedChoiceField(label=_("Town"), required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=_blank(AccountabilityKind.choices, _("All"))
    )

    def __init__(self, *args, subjects=(), towns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].choices = _blank([(o.pk, org_label(o)) for o in subjects], _("All"))
        self.fields["town"].choices = _blank([(t.pk, t.name) for t in towns], _("All"))


class AccountabilityForm(ServiceErrorsMixin, forms.Form):
    deciding_org = forms.TypedChoiceField(label=_("Decided by"), coerce=int)
    kind = forms.ChoiceField(label=_("Kind"), choices=AccountabilityKind.choices)
    subject = forms.TypedChoiceField(label=_("School or organization"), coerce=int)
    person_name = forms.CharField(label=_("Person"), required=False, max_length=100)
    person_position = forms.CharField(label=_("Position"), required=False, max_length=100)
    reason = forms.CharField(
        label=_("Reason"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    decided_on = forms.DateField(label=_("Date"), widget=_DateInput())
    hazard = forms.IntegerField(
        label=_("Hazard number (optional)"),
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=_("A hazard of the same school, by its number."),
    )
    notice = forms.TypedChoiceField(
        label=_("Notice (optional)"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, offices=(), organizations=(), notices=(), **kwargs):
        super().__init__(*args, **kwargs)
        if len(offices) > 1:
            self.fields["deciding_org"].choices = [(o.pk, o.name) for o in offices]
        else:
            del self.fields["deciding_org"]
        self.fields["subject"].choices = _blank(
            [(o.pk, org_label(o)) for o in organizations], _("Choose…")
        )
        self.fields["notice"].choices = _blank(
            [(n.pk, f"{n.reference} {n.title}".strip()) for n in notices], _("None")
        )


class FollowUpForm(ServiceErrorsMixin, forms.Form):
    follow_up = forms.CharField(
        label=_("Follow-up of the decision"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
