"""Page forms of the camera registry, video patrols and legal vice-principal assignments.
They check the shape of the input; the rules live in the services."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.names import person_name
from huxiao.patrols.forms import _date_field, _datetime_field, _text
from huxiao.patrols.video_choices import CameraKind
from huxiao.people.forms import ServiceForm


class CameraForm(ServiceForm):
    school = forms.ModelChoiceField(label=_("School"), queryset=None, empty_label=None)
    device_id = forms.CharField(
        label=_("Device ID (GB/T 28181)"),
        max_length=40,
        help_text=_("20 digits; the first 8 are the administrative division code."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=CameraKind.choices)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    is_online = forms.BooleanField(label=_("Online"), required=False)
    is_networked = forms.BooleanField(label=_("Networked to the police"), required=False)

    def __init__(self, *args, schools, camera=None, **kwargs):
        if camera is not None:
            kwargs.setdefault(
                "initial",
                {
                    "school": camera.school_id,
                    "device_id": camera.device_id,
                    "name": camera.name,
                    "kind": camera.kind,
                    "location": camera.location,
                    "is_online": camera.is_online,
                    "is_networked": camera.is_networked,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        if camera is not None:
            # A camera stays with its school; register a new one instead.
            del self.fields["school"]
            self.fields["is_active"] = forms.BooleanField(
                label=_("In service"), required=False, initial=camera.is_active
            )


class VideoPatrolForm(ServiceForm):
    """Times, schools and one row per camera of the jurisdiction: looked at, what was seen,
    follow-up."""

    started_at = _datetime_field(_("Started at"))
    ended_at = _datetime_field(_("Ended at"))
    schools = forms.ModelMultipleChoiceField(
        label=_("Schools looked at"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Schools of the cameras you mark below are added anyway."),
    )
    findings = _text(_("Findings"), max_length=4000)

    service_error_fields = {"school_ids": "schools", "observations": "schools"}

    def __init__(self, *args, schools, cameras, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["schools"].queryset = schools
        self.cameras = list(cameras)
        for camera in self.cameras:
            prefix = f"cam_{camera.pk}_"
            self.fields[prefix + "looked"] = forms.BooleanField(
                label=_("Looked at"), required=False
            )
            self.fields[prefix + "seen"] = forms.CharField(
                label=_("What was seen"), max_length=2000, required=False
            )
            self.fields[prefix + "follow"] = forms.BooleanField(
                label=_("Needs follow-up"), required=False
            )
            self.fields[prefix + "note"] = forms.CharField(
                label=_("Follow-up"), max_length=2000, required=False
            )
        if not self.is_bound:
            now = timezone.localtime().replace(second=0, microsecond=0)
            self.initial.setdefault("started_at", now - dt.timedelta(minutes=30))
            self.initial.setdefault("ended_at", now)

    def camera_rows(self):
        for camera in self.cameras:
            prefix = f"cam_{camera.pk}_"
            yield {
                "camera": camera,
                "looked": self[prefix + "looked"],
                "seen": self[prefix + "seen"],
                "follow": self[prefix + "follow"],
                "note": self[prefix + "note"],
            }

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        observations = []
        for camera in self.cameras:
            prefix = f"cam_{camera.pk}_"
            looked = data.get(prefix + "looked")
            seen, note = data.get(prefix + "seen", ""), data.get(prefix + "note", "")
            follow = data.get(prefix + "follow")
            if looked or seen or follow or note:
                observations.append(
                    {
                        "camera_id": camera.pk,
                        "seen": seen,
                        "needs_follow_up": bool(follow),
                        "follow_up_note": note,
                    }
                )
        return {
            "started_at": data["started_at"],
            "ended_at": data["ended_at"],
            "school_ids": [s.pk for s in data.get("schools") or ()],
            "observations": observations,
            "findings": data.get("findings", ""),
        }


class OfficerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_name(obj)


class LvpForm(ServiceForm):
    school = forms.ModelChoiceField(label=_("School"), queryset=None, empty_label=None)
    officer = OfficerChoiceField(label=_("Officer"), queryset=None, empty_label=None)
    term_start = _date_field(_("Term starts"), required=True)
    term_end = _date_field(_("Term ends"))
    appointment_no = forms.CharField(
        label=_("Appointment document number"),
        max_length=60,
        help_text=_("E.g. 示公字〔2025〕12号."),
    )

    service_error_fields = {"school_id": "school", "officer_id": "officer"}

    def __init__(self, *args, schools, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].queryset = schools
        self.fields["officer"].queryset = officers


class LvpEndForm(ServiceForm):
    reason = forms.CharField(label=_("Reason for ending"), max_length=200, required=False)
