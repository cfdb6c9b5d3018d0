"""Page forms of checks and attendance (issue 9 items 2–3).

The class sheets (a check, the attendance, the dining seats) post one set of fields per
child, named by the child's id, so a class of 40 is one plain form that works without
JavaScript: `check_results_from_post`, `absences_from_post` and `seats_from_post` turn
them into what the services take. The services are the one judge of the input; their
errors are put back on the rows (by the error keys `results.<child id>.<field>`) or on the
small forms below (`ServiceErrorsMixin`).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huxiao.core.widgets import IsoDateInput
from huxiao.hazards.hazard_forms import ServiceErrorsMixin
from huxiao.health.check_services import (
    DIAGNOSIS_MAX,
    DUTY_MAX,
    NOTE_MAX,
    RESULTS_MAX,
    ROOM_MAX,
)
from huxiao.health.choices import AbsenceCause, Symptom

# Per-child field names of the class sheets.
TEMPERATURE, SYMPTOMS, OTHER, ACTION, NOTE, AT = "t", "s", "o", "a", "n", "at"
ABSENT, CAUSE, DIAGNOSIS = "absent", "cause", "d"
TABLE = "table"


def posted_children(post) -> list[str]:
    """The child ids the page listed (as posted, at most RESULTS_MAX)."""
    return [raw.strip() for raw in post.getlist("child")[:RESULTS_MAX]]


def _child_id(raw: str):
    # ASCII digits only: "²" is a digit to str.isdigit() but not to int().
    return int(raw) if raw.isascii() and raw.isdigit() else raw


def check_results_from_post(post) -> list[dict]:
    """Every child of the page with what was entered for them (empty for the well ones,
    with the time they were ticked when the page's script recorded it)."""
    results = []
    for raw in posted_children(post):
        results.append(
            {
                "child_id": _child_id(raw),
                "temperature": post.get(f"{TEMPERATURE}-{raw}", ""),
                "symptoms": post.getlist(f"{SYMPTOMS}-{raw}"),
                "symptom_note": post.get(f"{OTHER}-{raw}", ""),
                "action": post.get(f"{ACTION}-{raw}") or "none",
                "note": post.get(f"{NOTE}-{raw}", ""),
                "checked_at": post.get(f"{AT}-{raw}") or None,
            }
        )
    return results


def absences_from_post(post) -> list[dict]:
    """The children ticked absent, each with the cause given."""
    absences = []
    for raw in posted_children(post):
        if post.get(f"{ABSENT}-{raw}") != "1":
            continue
        absences.append(
            {
                "child_id": _child_id(raw),
                "cause": post.get(f"{CAUSE}-{raw}") or AbsenceCause.UNKNOWN,
                "symptoms": post.getlist(f"{SYMPTOMS}-{raw}"),
                "diagnosis": post.get(f"{DIAGNOSIS}-{raw}", ""),
                "note": post.get(f"{NOTE}-{raw}", ""),
            }
        )
    return absences


def seats_from_post(post) -> dict:
    return {_child_id(raw): post.get(f"{TABLE}-{raw}", "") for raw in posted_children(post)}


def row_errors(exc_dict: dict, prefix: str) -> tuple[dict[str, list[str]], list[str]]:
    """Split a service's errors into the rows' (by child id, as text) and the rest."""
    rows: dict[str, list[str]] = {}
    rest: list[str] = []
    for key, messages in exc_dict.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == prefix:
            rows.setdefault(parts[1], []).extend(messages)
        else:
            rest.extend(messages)
    return rows, rest


class EstablishForm(ServiceErrorsMixin, forms.Form):
    """The cause of an absence of unknown cause, found by calling the family."""

    cause = forms.ChoiceField(
        label=_("Cause found"),
        choices=[
            (AbsenceCause.ILLNESS, AbsenceCause.ILLNESS.label),
            (AbsenceCause.PERSONAL, AbsenceCause.PERSONAL.label),
        ],
        widget=forms.RadioSelect,
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Symptoms"),
        choices=Symptom.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    diagnosis = forms.CharField(label=_("Diagnosis"), max_length=DIAGNOSIS_MAX, required=False)
    note = forms.CharField(label=_("Remarks"), max_length=NOTE_MAX, required=False)


class FollowUpCloseForm(ServiceErrorsMixin, forms.Form):
    returned_on = forms.DateField(label=_("Back at school on"), widget=IsoDateInput())
    return_note = forms.CharField(
        label=_("Return note"),
        max_length=NOTE_MAX,
        help_text=_("How the child is, and any doctor's certificate."),
    )


class DormForm(ServiceErrorsMixin, forms.Form):
    child = forms.TypedChoiceField(label=_("Child"), coerce=int)
    room = forms.CharField(
        label=_("Dormitory room"),
        max_length=ROOM_MAX,
        required=False,
        help_text=_("Leave empty when the child leaves the dormitory."),
    )
    starts_on = forms.DateField(label=_("From"), widget=IsoDateInput())

    def __init__(self, *args, children=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].choices = [("", "—")] + [
            (c.pk, f"{c.name} · {c.school_class.name}") for c in children
        ]


class ClassStaffForm(ServiceErrorsMixin, forms.Form):
    staff = forms.TypedChoiceField(label=_("Staff member"), coerce=int)
    duty = forms.CharField(
        label=_("Duty"),
        max_length=DUTY_MAX,
        required=False,
        help_text=_("For example: childcare worker, music teacher."),
    )

    def __init__(self, *args, staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].choices = [("", "—")] + [
            (s.pk, f"{s.name} · {s.get_role_display()}") for s in staff
        ]
