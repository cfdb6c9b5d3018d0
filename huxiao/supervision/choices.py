"""Choices of the supervision app (issue 6, items 4–6; ADR 0027)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


# --- Self-check campaigns (§2 二–三) ---------------------------------------------------------
class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    RUNNING = "running", _("Running")
    CLOSED = "closed", _("Closed")


class CampaignSchoolStatus(models.TextChoices):
    """A school's way through a campaign: self-check → submitted → (returned → submitted)
    → spot-checked → accepted."""

    SELF_CHECKING = "self_checking", _("Self-checking")
    SUBMITTED = "submitted", _("Self-check submitted")
    RETURNED = "returned", _("Returned for more work")
    SPOT_CHECKED = "spot_checked", _("Spot-checked")
    ACCEPTED = "accepted", _("Accepted")


class CampaignResult(models.TextChoices):
    MEETS = "meets", _("Meets the requirement")
    GAP = "gap", _("Gap (缺)")
    NOT_APPLICABLE = "na", _("Not applicable")


class GapStatus(models.TextChoices):
    OPEN = "open", _("To fix")
    FIXED = "fixed", _("Fixed")


# --- Assessment and ranking ------------------------------------------------------------------
class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class RunStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Rating(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")


class NoticeKind(models.TextChoices):
    COMMENDATION = "commendation", _("Commendation (通报表扬)")
    CRITICISM = "criticism", _("Public criticism (通报批评)")


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class AccountabilityKind(models.TextChoices):
    INTERVIEW = "interview", _("Interview (约谈)")
    WRITTEN_WARNING = "written_warning", _("Written warning")
    REFERRAL = "referral", _("Referral for accountability")


# --- Leading group and joint meetings --------------------------------------------------------
class GroupPosition(models.TextChoices):
    LEADER = "leader", _("Group leader (组长)")
    DEPUTY = "deputy", _("Deputy leader (副组长)")
    MEMBER = "member", _("Member")
    OFFICE_HEAD = "office_head", _("Head of the group's office")


class MeetingKind(models.TextChoices):
    LEADING_GROUP = "leading_group", _("Leading group meeting")
    JOINT = "joint", _("Joint meeting (联席会议)")


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", pgettext_lazy("meeting status", "Held")


class ActionStatus(models.TextChoices):
    """Action items from a meeting's decisions, tracked like hazards."""

    OPEN = "open", _("To do")
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Reported done")
    CLOSED = "closed", _("Closed")


OPEN_ACTION_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.SUBMITTED)
