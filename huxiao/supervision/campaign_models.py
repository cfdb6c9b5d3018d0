"""Self-check campaigns (§2 二–三): self-check → district spot check → final acceptance by
fixed dates; each school's self-check gives its gap list (缺啥补啥)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from huxiao.core.scoping import ScopedQuerySet
from huxiao.supervision.choices import (
    CampaignResult,
    CampaignSchoolStatus,
    CampaignStatus,
    GapStatus,
)
from huxiao.supervision.model_fields import user_fk


class Campaign(models.Model):
    """A campaign of an education or governance office over some of its schools."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    owner = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("run by"),
    )
    template = models.ForeignKey(
        "hazards.ChecklistTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("items copied from checklist"),
    )
    self_check_due = models.DateField(_("self-check due"))
    spot_check_due = models.DateField(_("spot check due"))
    acceptance_due = models.DateField(_("final acceptance due"))
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    created_by = user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("self-check campaign")
        verbose_name_plural = _("self-check campaigns")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class CampaignItem(models.Model):
    """One item the campaign checks (copied from a checklist or written)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="items", verbose_name=_("campaign")
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    text = models.CharField(_("item"), max_length=500)
    reference = models.CharField(_("policy reference"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("campaign item")
        verbose_name_plural = _("campaign items")
        ordering = ["campaign", "order", "id"]

    def __str__(self) -> str:
        return self.text


class CampaignSchool(models.Model):
    """One school's progress through a campaign."""

    scope_school_field = "school"

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="schools", verbose_name=_("campaign")
    )
    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="campaign_entries",
        verbose_name=_("school"),
    )
    status = models.CharField(
        _("status"),
        max_length=15,
        choices=CampaignSchoolStatus.choices,
        default=CampaignSchoolStatus.SELF_CHECKING,
    )
    submitted_by = user_fk(_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_by = user_fk(_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True, max_length=2000)
    spot_check = models.ForeignKey(
        "hazards.Inspection",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("spot-check inspection"),
    )
    accepted_by = user_fk(_("accepted by"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign school")
        verbose_name_plural = _("campaign schools")
        ordering = ["campaign", "school__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "school"], name="campaign_school_once"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.school_id}"


class CampaignAnswer(models.Model):
    """A school's answer to one campaign item; a gap carries its owner and deadline (缺啥补啥)."""

    scope_school_field = "entry__school"

    entry = models.ForeignKey(
        CampaignSchool, on_delete=models.CASCADE, related_name="answers", verbose_name=_("school")
    )
    item = models.ForeignKey(
        CampaignItem, on_delete=models.CASCADE, related_name="+", verbose_name=_("item")
    )
    result = models.CharField(_("result"), max_length=10, choices=CampaignResult.choices)
    note = models.CharField(_("note"), max_length=1000, blank=True)
    gap_owner = user_fk(_("gap owner"))
    gap_deadline = models.DateField(_("gap deadline"), null=True, blank=True)
    gap_status = models.CharField(
        _("gap status"), max_length=10, choices=GapStatus.choices, blank=True
    )
    fixed_note = models.CharField(_("how it was fixed"), max_length=1000, blank=True)
    fixed_at = models.DateTimeField(_("fixed at"), null=True, blank=True)
    answered_by = user_fk(_("answered by"))
    answered_at = models.DateTimeField(_("answered at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign answer")
        verbose_name_plural = _("campaign answers")
        ordering = ["entry", "item__order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "item"], name="campaign_answer_once"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.result}"


class CampaignEvent(models.Model):
    """One step of a school's way through a campaign (its timeline): submitted, returned
    with the reason, spot-checked, accepted, a gap marked fixed. `review_note` on the entry
    keeps only the latest word; the timeline keeps them all."""

    scope_school_field = "entry__school"

    entry = models.ForeignKey(
        CampaignSchool, on_delete=models.CASCADE, related_name="events", verbose_name=_("school")
    )
    at = models.DateTimeField(_("at"))
    actor = user_fk(_("by"))
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    from_status = models.CharField(
        _("from"), max_length=15, choices=CampaignSchoolStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=15, choices=CampaignSchoolStatus.choices)
    note = models.TextField(_("note"), blank=True, max_length=2000)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign event")
        verbose_name_plural = _("campaign events")
        ordering = ["entry", "at", "id"]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.from_status}→{self.to_status}"
