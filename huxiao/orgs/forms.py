from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.orgs.models import Organization


class SchoolForm(forms.ModelForm):
    """Page form for school details; the rules live in orgs.services.school_update."""

    class Meta:
        model = Organization
        fields = [
            "name",
            "short_name",
            "address",
            "phone",
            "stage",
            "is_boarding",
            "ownership",
            "is_registered",
            "operator",
            "landlord",
            "enrolment",
        ]
        help_texts = {"landlord": _("Only where the premises are rented (§2 3).")}

    def _post_clean(self):
        # Model validation runs inside the service, which owns the rules.
        pass
