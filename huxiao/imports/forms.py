from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.imports.choices import ImportKind
from huxiao.orgs.models import Organization


class UploadForm(forms.Form):
    """Page form for an upload; size and format rules live in services.import_job_create."""

    school = forms.ModelChoiceField(queryset=Organization.objects.none(), label=_("School"))
    kind = forms.ChoiceField(choices=ImportKind.choices, label=_("Roster"))
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
        help_text=_("Use the template of the chosen roster; the first worksheet is read."),
    )

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        # Only schools where the user may import: any other id is "not a valid choice".
        self.fields["school"].queryset = schools
