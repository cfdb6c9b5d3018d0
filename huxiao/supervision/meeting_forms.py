"""Page forms of the leading group and its meetings. They parse the fields; the services hold
the rules (organization of the group's town, person a member of it, deadline from today to a
year ahead, minutes required), and their errors are put back on these forms by the views."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from huxiao.core.widgets import IsoDateInput as _DateInput
from huxiao.core.widgets import IsoDateTimeInput as _DateTimeInput
from huxiao.supervision.choices import ActionStatus, GroupPosition, MeetingKind

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class ServiceErrorsMixin:
    """Put a service's ValidationError back on the form (unknown fields as form errors)."""

    field_map: dict[str, str] = {}

    def add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                field = self.field_map.get(field, field)
                target = field if field in self.fields else None
                for message in errors:
                    self.add_error(target, message)
        else:
            for message in exc.messages:
                self.add_error(None, message)


def _blank(choices, label):
    return [("", label), *choices]


def _textarea(rows):
    return forms.Textarea(attrs={"rows": rows})


class GroupForm(ServiceErrorsMixin, forms.Form):
    owner = forms.TypedChoiceField(label=_("Kept by"), coerce=int, required=False)
    name = forms.CharField(label=_("Name"), max_length=200)
    established_on = forms.DateField(label=_("Established on"), required=False, widget=_DateInput())
    duties = forms.CharField(
        label=_("Duties of the group"), required=False, max_length=4000, widget=_textarea(4)
    )

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.places = {org.pk: org for org in places}
        if len(self.places) > 1:
            self.fields["owner"].choices = [(o.pk, o.name) for o in places]
            self.fields["owner"].required = True
        else:
            del self.fields["owner"]


class MemberForm(ServiceErrorsMixin, forms.Form):
    organization = forms.TypedChoiceField(label=_("Organization"), coerce=int)
    user = forms.TypedChoiceField(
        label=_("Platform user"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Leave empty for someone without a login, and write the name below."),
    )
    name = forms.CharField(
        label=_("Person's name"),
        required=False,
        max_length=100,
        help_text=_("Taken from the platform user when left empty."),
    )
    title = forms.CharField(label=_("Job title"), required=False, max_length=100)
    position = forms.ChoiceField(
        label=_("Position in the group"), choices=GroupPosition.choices, initial="member"
    )
    duties = forms.CharField(label=_("Duties"), required=False, max_length=500, widget=_textarea(2))
    order = forms.IntegerField(label=_("Order"), required=False, min_value=0, max_value=10000)

    def __init__(self, *args, organizations=(), people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = _blank(
            [(o.pk, o.name) for o in organizations], _("Choose…")
        )
        self.fields["user"].choices = _blank(list(people), _("No login (named person)"))


class MemberEditForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    title = forms.CharField(label=_("Job title"), required=False, max_length=100)
    position = forms.ChoiceField(label=_("Position in the group"), choices=GroupPosition.choices)
    duties = forms.CharField(label=_("Duties"), required=False, max_length=500, widget=_textarea(2))
    order = forms.IntegerField(label=_("Order"), required=False, min_value=0, max_value=10000)

    def __init__(self, *args, named=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not named:
            # A platform user's name follows their account.
            del self.fields["name"]


class MeetingForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=MeetingKind.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    starts_at = forms.DateTimeField(
        label=_("Date and time"),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        widget=_DateTimeInput(),
    )
    location = forms.CharField(label=_("Location"), required=False, max_length=200)
    chair = forms.CharField(label=_("Chaired by"), required=False, max_length=100)
    agenda = forms.CharField(
        label=_("Agenda"), required=False, max_length=4000, widget=_textarea(4)
    )
    invitees = forms.MultipleChoiceField(
        label=_("Invitees"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        if candidates is None:
            del self.fields["invitees"]
        else:
            self.fields["invitees"].choices = [(c.key, c.label) for c in candidates]


class RecordForm(ServiceErrorsMixin, forms.Form):
    """The minutes and the attendance (ticked: present) of a held meeting."""

    field_map = {"absent": "present"}

    present = forms.MultipleChoiceField(
        label=_("Present (untick those absent)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    minutes = forms.CharField(
        label=_("Minutes"), required=False, max_length=20000, widget=_textarea(10)
    )

    def __init__(self, *args, attendees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.attendee_ids = [a.pk for a in attendees]
        self.fields["present"].choices = [
            (str(a.pk), f"{a.name}（{a.organization.name}）") for a in attendees
        ]

    def absent_ids(self) -> list[int]:
        present = {int(pk) for pk in self.cleaned_data.get("present") or ()}
        return [pk for pk in self.attendee_ids if pk not in present]


class ActionRowForm(ServiceErrorsMixin, forms.Form):
    """One decision → action item. In the record form blank rows are skipped; the service
    requires the decision, the organization and the deadline of the others."""

    field_map = {"owner_org": "owner_org", "owner": "owner"}

    decision = forms.CharField(
        label=_("Decision"), required=False, max_length=2000, widget=_textarea(2)
    )
    owner_org = forms.TypedChoiceField(
        label=_("Responsible organization"), coerce=int, required=False, empty_value=None
    )
    owner = forms.TypedChoiceField(
        label=_("Responsible person"), coerce=int, required=False, empty_value=None
    )
    deadline = forms.DateField(label=_("Deadline"), required=False, widget=_DateInput())

    def __init__(self, *args, organizations=(), people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner_org"].choices = _blank(
            [(o.pk, o.name) for o in organizations], _("Choose…")
        )
        self.fields["owner"].choices = _blank(list(people), _("The organization's leaders"))

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("decision") or data.get("owner_org") or data.get("deadline"))

    def row(self) -> dict:
        data = self.cleaned_data
        return {
            "decision": data.get("decision") or "",
            "owner_org_id": data.get("owner_org"),
            "owner_id": data.get("owner"),
            "deadline": data.get("deadline"),
        }


class ActionFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=_blank(ActionStatus.choices, _("All"))
    )
    organization = forms.TypedChoiceField(
        label=_("Responsible organization"), required=False, coerce=int, empty_value=None
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    mine = forms.BooleanField(label=_("Mine and my organization's"), required=False)

    def __init__(self, *args, organizations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = _blank(
            [(o.pk, o.name) for o in organizations], _("All")
        )


class NoteForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=_textarea(2))


class ProgressForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(label=_("Progress"), max_length=2000, widget=_textarea(3))


class SubmitForm(ServiceErrorsMixin, forms.Form):
    note = forms.CharField(label=_("What was done"), max_length=2000, widget=_textarea(3))


class ReasonForm(ServiceErrorsMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=_textarea(2))


class ReportForm(ServiceErrorsMixin, forms.Form):
    period_start = forms.DateField(label=_("From"), widget=_DateInput())
    period_end = forms.DateField(label=_("To"), widget=_DateInput())
    summary = forms.CharField(
        label=_("Covering note"), required=False, max_length=4000, widget=_textarea(4)
    )
