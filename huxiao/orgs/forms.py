from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.orgs.models import Organization
from huxiao.orgs.services import SCHOOL_DETAIL_FIELDS


class SchoolForm(forms.ModelForm):
    """Page form for school details; the rules live in orgs.services.school_update."""

    class Meta:
        model = Organization
        fields = list(SCHOOL_DETAIL_FIELDS)
        help_texts = {"landlord": _("Only where the premises are rented (§2 3).")}

    def _post_clean(self):
        # Model validation runs inside the service, which owns the rules.
        pass
