"""Page form of a four-party contact. It parses; the services hold the rules (phone
numbers, one first-to-call per party, order, which organization) and the views put their
errors back on the form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.health import directory_selectors as sel
from huxiao.health import directory_services as services
from huxiao.health.choices import Party
from huxiao.people.forms import ServiceForm

DEFAULT_CHOICE = ""
NO_ORGANIZATION = "none"


class ContactForm(ServiceForm):
    party = forms.ChoiceField(label=_("Party"), choices=())
    name = forms.CharField(
        label=_("Name"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    title = forms.CharField(
        label=_("Role or title"),
        max_length=100,
        required=False,
        help_text=_("E.g. head of public health, deputy town head in charge, school doctor."),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("A mobile number, or a landline with its area code (0311-85213120)."),
    )
    is_primary = forms.BooleanField(
        label=_("First to call for this party"),
        required=False,
        help_text=_("Only one contact per party; marking this one takes the mark from the others."),
    )
    sort_order = forms.CharField(
        label=_("Order within the party"),
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("0 to 999, smaller first; empty puts the contact last."),
    )
    organization = forms.ChoiceField(label=_("Organization"), choices=(), required=False)

    service_error_fields = {"organization_id": "organization"}

    def __init__(self, *args, school, parties, **kwargs):
        """`parties`: the parties the user may edit (others are not offered)."""
        super().__init__(*args, **kwargs)
        self.fields["party"].choices = [(p, label) for p, label in Party.choices if p in parties]
        groups = [
            (DEFAULT_CHOICE, _("The party's own organization")),
            (NO_ORGANIZATION, _("None (a person outside the organizations)")),
        ]
        for party, label in Party.choices:
            if party not in parties:
                continue
            orgs = sel.organization_choices(school, party)
            if orgs:
                groups.append((label, [(str(o.pk), o.name) for o in orgs]))
        self.fields["organization"].choices = groups

    # The services' own field rules, so that every error shows at once.
    def clean_phone(self):
        return services.clean_directory_phone(self.cleaned_data.get("phone"))

    def clean_sort_order(self):
        return services.clean_order(self.cleaned_data.get("sort_order"))

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        organization = data.pop("organization", DEFAULT_CHOICE)
        if organization == NO_ORGANIZATION:
            data["organization_id"] = None
        elif organization == DEFAULT_CHOICE:
            data["organization_id"] = services.DEFAULT
        else:
            data["organization_id"] = organization
        data["title"] = data.get("title") or ""
        return data


def edit_initial(contact) -> dict:
    return {
        "party": contact.party,
        "name": contact.name,
        "title": contact.title,
        "phone": contact.phone,
        "is_primary": contact.is_primary,
        "sort_order": contact.sort_order,
        "organization": str(contact.organization_id) if contact.organization_id else "none",
    }
