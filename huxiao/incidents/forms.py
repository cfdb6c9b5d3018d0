"""Page forms for incidents. They check the shape of the input; the rules (who may be a
member or owner, deadlines, a closed incident) live in `incidents.services`."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.names import person_name
from huxiao.incidents.choices import GroupKind
from huxiao.people.forms import ServiceForm


class ResponderChoiceField(forms.ModelChoiceField):
    """A person as one of their memberships: the school or the police of its jurisdiction."""

    def label_from_instance(self, obj) -> str:
        name = person_name(obj.user)
        return f"{name} · {obj.organization.name} · {obj.get_role_display()}"


def _text(label, *, max_length, required=False, rows=3):
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class MemberForm(ServiceForm):
    group = forms.ChoiceField(label=_("Group"), choices=GroupKind.choices)
    person = ResponderChoiceField(label=_("Person"), queryset=None, empty_label="—")
    role = forms.CharField(
        label=_("Role in the group"),
        max_length=100,
        required=False,
        help_text=_("E.g. first aid, east gate, contact with parents."),
    )
    leader = forms.BooleanField(label=_("Group leader"), required=False)

    service_error_fields = {"user_id": "person", "organization_id": "person"}

    def __init__(self, *args, responders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = responders

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "group_kind": data["group"],
            "user": data["person"].user,
            "organization": data["person"].organization,
            "role": data["role"],
            "leader": data["leader"],
        }


class CommanderForm(ServiceForm):
    person = ResponderChoiceField(label=_("Incident commander"), queryset=None, empty_label="—")

    service_error_fields = {"user_id": "person"}

    def __init__(self, *args, responders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = responders

    def service_kwargs(self) -> dict:
        return {"user": self.cleaned_data["person"].user}


class TaskForm(ServiceForm):
    title = forms.CharField(label=_("Task"), max_length=300)
    owner = ResponderChoiceField(label=_("Owner"), queryset=None, empty_label="—")
    group = forms.ChoiceField(
        label=_("Group"), choices=[("", "—"), *GroupKind.choices], required=False
    )
    due_at = forms.DateTimeField(
        label=_("Deadline"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    service_error_fields = {"owner_id": "owner"}

    def __init__(self, *args, responders, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = responders

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "owner": data["owner"].user,
            "due_at": data["due_at"],
            "group_kind": data["group"],
        }


class NoteForm(ServiceForm):
    text = _text(_("Note"), max_length=2000, required=True, rows=2)


class CloseForm(ServiceForm):
    summary = _text(_("Summary"), max_length=8000, required=True, rows=5)
    casualties = _text(_("Casualties"), max_length=4000)
    actions_taken = _text(_("Actions taken"), max_length=8000, rows=4)
    lessons = _text(_("Lessons learned"), max_length=8000)
