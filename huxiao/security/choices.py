"""Choices of the security app (issue 7; ADR 0028)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Employment(models.TextChoices):
    FULL_TIME = "full_time", _("Full-time")
    PART_TIME = "part_time", _("Part-time")


class Employer(models.TextChoices):
    """Who employs the guard: the school itself or a licensed security company (派驻)."""

    SCHOOL = "school", _("The school")
    SECURITY_COMPANY = "security_company", _("Security company")


class Condition(models.TextChoices):
    GOOD = "good", _("Good")
    WORN = "worn", _("Worn, usable")
    BROKEN = "broken", _("Broken")


class SystemKind(models.TextChoices):
    """Technical defence systems other than the cameras of the video registry (patrols.Camera)
    and HuXiao's own alarm boxes (accounts.DeviceToken), which count by themselves."""

    ONE_CLICK_ALARM = "one_click_alarm", _("One-click alarm")
    INTRUSION_ALARM = "intrusion_alarm", _("Intrusion alarm")
    PERIMETER_ALARM = "perimeter_alarm", _("Perimeter alarm")
    VIDEO_RECORDER = "video_recorder", _("Video recorder (NVR)")
    OTHER = "other", _("Other")


class Perimeter(models.TextChoices):
    WALL = "wall", _("Wall")
    FENCE = "fence", _("Fence")
    PARTIAL = "partial", _("Partial (gaps)")
    NONE = "none", _("None")


class Verdict(models.TextChoices):
    PASS = "pass", _("Meets the rule")
    FAIL = "fail", _("Does not meet the rule")
    NOT_APPLICABLE = "na", _("Not applicable")
    NO_DATA = "no_data", _("No data")
