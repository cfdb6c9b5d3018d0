"""Page forms of the patrols app. They check the shape of the input; the rules (time windows,
who may staff a post, check-in windows, visit and patrol times) live in `patrols.services`.

`CoverageForm` and `WeekForm` are shared by the pages and the API."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.names import person_name
from huxiao.patrols.choices import (
    WEEKDAY_LABELS,
    WEEKDAY_SHORT,
    Dress,
    PatrolMode,
    Period,
    StaffKind,
)
from huxiao.people.forms import ServiceForm

EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2100, 12, 31)
# A year and a bit: the coverage of a whole school year in one request.
MAX_COVERAGE_DAYS = 400
# Default times of each peak, offered when a post is planned.
DEFAULT_WINDOWS = {
    Period.MORNING: (dt.time(7, 20), dt.time(8, 10)),
    Period.NOON: (dt.time(11, 40), dt.time(12, 20)),
    Period.AFTERNOON: (dt.time(16, 20), dt.time(17, 10)),
}
_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def _date_field(label, *, required=False) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD, e.g. 2025-03-01.")},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _datetime_field(label, *, required=True) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=_DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def _text(label, *, max_length, required=False, rows=3) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _in_range(form, name, day):
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        form.add_error(
            name,
            _("Choose a date between %(earliest)s and %(latest)s.")
            % {"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()},
        )
        return False
    return True


class CoverageForm(forms.Form):
    """Local dates, both included. Without dates: the current week, Monday to Sunday."""

    since = _date_field(_("From"))
    until = _date_field(_("To"))

    def __init__(self, *args, today: dt.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        first, last = data.get("since"), data.get("until")
        if not (_in_range(self, "since", first) and _in_range(self, "until", last)):
            return data
        monday = self.today - dt.timedelta(days=self.today.weekday())
        if first is None and last is None:
            first, last = monday, monday + dt.timedelta(days=6)
        elif first is None:
            first = last - dt.timedelta(days=6)
        elif last is None:
            last = max(first, self.today)
        if first > last:
            self.add_error("until", _("The last day must not be before the first day."))
            return data
        if (last - first).days + 1 > MAX_COVERAGE_DAYS:
            self.add_error(
                "until", _("At most %(days)s days at a time.") % {"days": MAX_COVERAGE_DAYS}
            )
            return data
        data["first_day"], data["last_day"] = first, last
        return data


class DayForm(forms.Form):
    date = _date_field(_("Date"), required=True)

    def clean_date(self):
        day = self.cleaned_data["date"]
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise forms.ValidationError(
                _("Choose a date between %(earliest)s and %(latest)s.")
                % {"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()}
            )
        return day


class WeekForm(forms.Form):
    """Any day of the week wanted (default: this week); cleaned to its Monday."""

    week = _date_field(_("Week"))

    def clean_week(self):
        day = self.cleaned_data.get("week") or timezone.localdate()
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise forms.ValidationError(
                _("Choose a date between %(earliest)s and %(latest)s.")
                % {"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()}
            )
        return day - dt.timedelta(days=day.weekday())


class PostForm(ServiceForm):
    """Where and when the post is held; one row of times per weekday."""

    school = forms.ModelChoiceField(label=_("School"), queryset=None, empty_label="—")
    period = forms.ChoiceField(label=_("Peak period"), choices=Period.choices)
    location = forms.CharField(
        label=_("Location"),
        max_length=200,
        help_text=_("E.g. main gate and the crossing in front of it."),
    )
    note = _text(_("Note"), max_length=2000)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    service_error_fields = {"school_id": "school"}

    def __init__(self, *args, schools=None, post=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.post = post
        if post is not None:
            del self.fields["school"]
            del self.fields["period"]
        else:
            del self.fields["is_active"]
            self.fields["school"].queryset = schools
        for day, label in enumerate(WEEKDAY_LABELS):
            self.fields[f"day{day}"] = forms.BooleanField(label=label, required=False)
            self.fields[f"day{day}_starts"] = forms.TimeField(
                label=_("Starts"),
                required=False,
                input_formats=["%H:%M", "%H:%M:%S"],
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )
            self.fields[f"day{day}_ends"] = forms.TimeField(
                label=_("Ends"),
                required=False,
                input_formats=["%H:%M", "%H:%M:%S"],
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            )
        if not self.is_bound:
            self._initial_windows()

    def _initial_windows(self):
        if self.post is not None:
            windows = {w.weekday: w for w in self.post.windows.all()}
            for day in range(7):
                window = windows.get(day)
                self.initial[f"day{day}"] = window is not None
                starts, ends = DEFAULT_WINDOWS[self.post.period]
                self.initial[f"day{day}_starts"] = window.starts if window else starts
                self.initial[f"day{day}_ends"] = window.ends if window else ends
            self.initial.setdefault("location", self.post.location)
            self.initial.setdefault("note", self.post.note)
            self.initial.setdefault("is_active", self.post.is_active)
            return
        period = self.initial.get("period") or Period.MORNING
        starts, ends = DEFAULT_WINDOWS.get(period, DEFAULT_WINDOWS[Period.MORNING])
        for day in range(7):
            self.initial.setdefault(f"day{day}", day < 5)
            self.initial.setdefault(f"day{day}_starts", starts)
            self.initial.setdefault(f"day{day}_ends", ends)

    def day_rows(self):
        """[(label, checkbox, starts, ends)] for the template's weekday table."""
        return [
            (
                WEEKDAY_LABELS[day],
                self[f"day{day}"],
                self[f"day{day}_starts"],
                self[f"day{day}_ends"],
            )
            for day in range(7)
        ]

    def clean(self):
        data = super().clean()
        for day in range(7):
            if data.get(f"day{day}") and (
                not data.get(f"day{day}_starts") or not data.get(f"day{day}_ends")
            ):
                self.add_error(f"day{day}_starts", _("Give the start and end of this day."))
        return data

    def windows(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {"weekday": day, "starts": data[f"day{day}_starts"], "ends": data[f"day{day}_ends"]}
            for day in range(7)
            if data.get(f"day{day}")
        ]

    def add_service_errors(self, exc):
        if hasattr(exc, "error_dict") and "windows" in exc.error_dict:
            errors = dict(exc.error_dict)
            for error in errors.pop("windows"):
                self.add_error(None, error)
            if not errors:
                return
            from django.core.exceptions import ValidationError

            exc = ValidationError(errors)
        super().add_service_errors(exc)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {"location": data["location"], "note": data["note"], "windows": self.windows()}
        if self.post is None:
            kwargs.update(school=data["school"], period=data["period"])
        else:
            kwargs["is_active"] = data["is_active"]
        return kwargs


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{person_name(obj.user)} · {obj.organization.name} · {obj.get_role_display()}"


class StaffForm(ServiceForm):
    kind = forms.ChoiceField(label=_("Staffed by"), choices=StaffKind.choices)
    person = StaffChoiceField(
        label=_("Person with an account"), queryset=None, required=False, empty_label="—"
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=50,
        required=False,
        help_text=_("For volunteers, militia and others without an account."),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Days (none ticked: every day of the post)"),
        choices=list(enumerate(WEEKDAY_SHORT)),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    service_error_fields = {"user_id": "person"}

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = candidates

    def clean(self):
        data = super().clean()
        if not data.get("person") and not (data.get("name") or "").strip():
            self.add_error("name", _("Choose a person with an account or give a name."))
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        membership = data.get("person")
        return {
            "kind": data["kind"],
            "user": membership.user if membership else None,
            "name": "" if membership else data["name"],
            "phone": data["phone"],
            "weekdays": data["weekdays"],
        }


class CheckInForm(ServiceForm):
    """The phone page: everything optional but the press of the button."""

    staff = forms.ModelChoiceField(
        label=_("Checking in for"),
        queryset=None,
        required=False,
        empty_label=_("Myself"),
    )
    vehicle_present = forms.BooleanField(label=_("Police car at the post"), required=False)
    lights_on = forms.BooleanField(label=_("Lights on"), required=False)
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png", "capture": "environment"}
        ),
    )
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    latitude = forms.DecimalField(required=False, widget=forms.HiddenInput)
    longitude = forms.DecimalField(required=False, widget=forms.HiddenInput)
    accuracy_m = forms.FloatField(required=False, widget=forms.HiddenInput)

    service_error_fields = {"staff_id": "staff"}

    def __init__(self, *args, volunteers, police: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = volunteers
        self.fields["staff"].label_from_instance = lambda s: (
            f"{s.display_name} · {s.get_kind_display()}"
        )
        if not volunteers.exists():
            del self.fields["staff"]
        if not police:
            del self.fields["vehicle_present"]
            del self.fields["lights_on"]


class CancelShiftForm(ServiceForm):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("E.g. public holiday, classes suspended."),
    )


class VisitForm(ServiceForm):
    school = forms.ModelChoiceField(label=_("School"), queryset=None, empty_label="—")
    arrived_at = _datetime_field(_("Arrived at"))
    left_at = _datetime_field(_("Left at (empty: still at the school)"), required=False)
    information_collected = _text(_("Information collected"), max_length=4000)
    guidance_given = _text(_("Guidance given"), max_length=4000)
    problems_found = _text(_("Problems found"), max_length=4000)

    service_error_fields = {"school_id": "school"}

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        if not self.is_bound:
            self.initial.setdefault(
                "arrived_at", timezone.localtime().replace(second=0, microsecond=0)
            )


class VisitCompleteForm(ServiceForm):
    left_at = _datetime_field(_("Left at"))
    information_collected = _text(_("Information collected"), max_length=4000)
    guidance_given = _text(_("Guidance given"), max_length=4000)
    problems_found = _text(_("Problems found"), max_length=4000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault(
                "left_at", timezone.localtime().replace(second=0, microsecond=0)
            )


class PatrolLogForm(ServiceForm):
    started_at = _datetime_field(_("Started at"))
    ended_at = _datetime_field(_("Ended at"))
    mode = forms.ChoiceField(label=_("Mode"), choices=PatrolMode.choices)
    dress = forms.ChoiceField(label=_("Dress"), choices=Dress.choices)
    route = forms.CharField(label=_("Route"), max_length=500)
    schools = forms.ModelMultipleChoiceField(
        label=_("Schools passed"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    companions = forms.CharField(
        label=_("Patrolled with"),
        max_length=200,
        required=False,
        help_text=_("E.g. auxiliary police, militia, village security staff."),
    )
    findings = _text(_("Findings"), max_length=4000)
    suspicious_checked = forms.IntegerField(
        label=_("Suspicious persons checked"), min_value=0, max_value=9999, initial=0
    )
    suspicious_notes = _text(_("Suspicious persons: who and outcome"), max_length=4000)

    service_error_fields = {"school_ids": "schools"}

    def __init__(self, *args, schools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schools"].queryset = schools

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["school_ids"] = [s.pk for s in data.pop("schools")]
        return data
