"""Inspection checklists, inspections and hazards with their rectification (issue 6).

A checklist template is versioned: editing a published template makes a new version, and an
inspection keeps the exact version it was filled against, so its score never changes after
the fact. Templates are shared by the county (shipped ones have no owner); copies belong to
the education or governance office that made them. An inspection is of one school, filled
item by item, scored from the template and signed off, after which it is read-only. A
failed item becomes a hazard in one step; a hazard moves reported → assigned → rectifying →
submitted → closed, or back to rectifying with a reason; every move is a `HazardEvent`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huxiao.core.scoping import ScopedQuerySet
from huxiao.hazards.choices import (
    AnswerResult,
    DepartmentKind,
    HazardCategory,
    HazardLevel,
    HazardStatus,
    InspectionKind,
    InspectionStatus,
    ListingStatus,
    PhotoKind,
    TaskStatus,
    TemplateKind,
)


def _user_fk(verbose_name, related_name="+", **kwargs):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name=related_name,
        verbose_name=verbose_name,
        **kwargs,
    )


class ChecklistTemplate(models.Model):
    """One version of a checklist. `code` names the checklist across its versions."""

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=30, choices=TemplateKind.choices)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    owner = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checklist_templates",
        verbose_name=_("owner"),
        help_text=_("Empty for the templates shipped with the platform."),
    )
    based_on = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("copied from"),
    )
    is_published = models.BooleanField(_("published"), default=False)
    is_current = models.BooleanField(
        _("current version"),
        default=False,
        help_text=_("The version new inspections use."),
    )
    created_by = _user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="template_code_version"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(is_current=True), name="template_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def max_score(self) -> Decimal:
        return sum(
            (item.max_score for section in self.sections.all() for item in section.items.all()),
            Decimal(0),
        )


class TemplateSection(models.Model):
    template = models.ForeignKey(
        ChecklistTemplate,
        on_delete=models.CASCADE,
        related_name="sections",
        verbose_name=_("template"),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("title"), max_length=200)

    class Meta:
        verbose_name = _("checklist section")
        verbose_name_plural = _("checklist sections")
        ordering = ["template", "order", "id"]

    def __str__(self) -> str:
        return self.title


class TemplateItem(models.Model):
    section = models.ForeignKey(
        TemplateSection,
        on_delete=models.CASCADE,
        related_name="items",
        verbose_name=_("section"),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("item"), max_length=500)
    guidance = models.TextField(_("how to check"), blank=True, max_length=2000)
    reference = models.CharField(
        _("policy reference"), max_length=100, blank=True, help_text=_("E.g. §2 5.")
    )
    max_score = models.DecimalField(
        _("score"),
        max_digits=6,
        decimal_places=1,
        default=Decimal("1.0"),
        validators=[MinValueValidator(Decimal(0))],
    )
    photo_required = models.BooleanField(_("photo required"), default=False)
    category = models.CharField(
        _("hazard category"),
        max_length=20,
        choices=HazardCategory.choices,
        default=HazardCategory.OTHER,
        help_text=_("The category of a hazard raised from this item."),
    )

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["section", "order", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class Inspection(models.Model):
    """An inspection of one school against one template version."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="inspections",
        verbose_name=_("school"),
    )
    template = models.ForeignKey(
        ChecklistTemplate,
        on_delete=models.PROTECT,
        related_name="inspections",
        verbose_name=_("checklist"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=InspectionKind.choices)
    unannounced = models.BooleanField(_("unannounced"), default=False)
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="inspections_made",
        verbose_name=_("inspecting organization"),
    )
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="inspections", verbose_name=_("inspectors")
    )
    planned_on = models.DateField(_("planned date"))
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=InspectionStatus.choices,
        default=InspectionStatus.PLANNED,
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    signed_off_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    signed_off_by = _user_fk(_("signed off by"))
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=1, null=True, blank=True)
    max_score = models.DecimalField(
        _("maximum score"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    summary = models.TextField(_("summary"), blank=True, max_length=4000)
    created_by = _user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-planned_on", "-id"]
        indexes = [
            models.Index(fields=["school", "planned_on"]),
            models.Index(fields=["status", "planned_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.planned_on}"

    @property
    def is_signed_off(self) -> bool:
        return self.status == InspectionStatus.SIGNED_OFF


class InspectionAnswer(models.Model):
    scope_school_field = "inspection__school"

    inspection = models.ForeignKey(
        Inspection, on_delete=models.CASCADE, related_name="answers", verbose_name=_("inspection")
    )
    item = models.ForeignKey(
        TemplateItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("item")
    )
    result = models.CharField(_("result"), max_length=10, choices=AnswerResult.choices)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=1, default=Decimal(0))
    note = models.CharField(_("note"), max_length=1000, blank=True)
    answered_by = _user_fk(_("answered by"))
    answered_at = models.DateTimeField(_("answered at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection answer")
        verbose_name_plural = _("inspection answers")
        ordering = ["inspection", "item__section__order", "item__order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"], name="answer_once_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.result}"


class Hazard(models.Model):
    """A hazard (隐患) of one school and its rectification (整改)."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="hazards",
        verbose_name=_("school"),
    )
    category = models.CharField(_("category"), max_length=20, choices=HazardCategory.choices)
    level = models.CharField(
        _("level"), max_length=10, choices=HazardLevel.choices, default=HazardLevel.GENERAL
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=4000)
    inspection = models.ForeignKey(
        Inspection,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hazards",
        verbose_name=_("found in inspection"),
    )
    answer = models.OneToOneField(
        InspectionAnswer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hazard",
        verbose_name=_("found at item"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=HazardStatus.choices, default=HazardStatus.REPORTED
    )
    owner = _user_fk(_("owner"), related_name="hazards_owned")
    rectification_plan = models.TextField(_("rectification plan"), blank=True, max_length=4000)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    reported_by = _user_fk(_("reported by"))
    reported_at = models.DateTimeField(_("reported at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    verified_by = _user_fk(_("verified by"))
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"),
        default=0,
        help_text=_("0 owner, 1 principal, 2 supervising office."),
    )
    escalated_at = models.DateTimeField(_("last escalated at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("hazard")
        verbose_name_plural = _("hazards")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["school", "status"]),
            # The daily overdue scan, and the count of the list's overdue filter read from
            # the index alone (school included).
            models.Index(fields=["status", "deadline", "school"], name="hazard_overdue"),
            models.Index(fields=["school", "reported_at"]),
            # The count of the list's category (and level) filter.
            models.Index(fields=["category", "level", "school"], name="hazard_category"),
            # The list's order (newest first) holding every column the list filters on: a
            # page need not sort a county's hazards, and the rows a deep page skips are
            # read from the index alone (hazard_selectors.HazardRows; bench/supervision).
            models.Index(
                fields=["-reported_at", "-id", "school", "status", "category", "level", "deadline"],
                name="hazard_list_cover",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class HazardEvent(models.Model):
    """One step of a hazard's history: who moved it, from what to what, and why."""

    scope_school_field = "hazard__school"

    hazard = models.ForeignKey(
        Hazard, on_delete=models.CASCADE, related_name="events", verbose_name=_("hazard")
    )
    at = models.DateTimeField(_("at"))
    actor = _user_fk(_("by"))
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    from_status = models.CharField(
        _("from"), max_length=20, choices=HazardStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=20, choices=HazardStatus.choices)
    note = models.TextField(_("note"), blank=True, max_length=2000)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("hazard event")
        verbose_name_plural = _("hazard events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class HazardPhoto(models.Model):
    """A photo of a finding or of the rectification's evidence (an inspection item's photo
    is a finding photo of the answer, with or without a hazard)."""

    scope_school_field = "school"
    audit_exclude = ("file",)

    school = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="+", verbose_name=_("school")
    )
    hazard = models.ForeignKey(
        Hazard,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="photos",
        verbose_name=_("hazard"),
    )
    answer = models.ForeignKey(
        InspectionAnswer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="photos",
        verbose_name=_("answer"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=PhotoKind.choices)
    file = models.FileField(_("photo"), upload_to="hazards/%Y/%m/")
    uploaded_by = _user_fk(_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("hazard photo")
        verbose_name_plural = _("hazard photos")
        ordering = ["uploaded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hazard__isnull=False) | Q(answer__isnull=False),
                name="hazardphoto_belongs_somewhere",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} photo {self.pk}"


class ListedSupervision(models.Model):
    """挂牌督办: a major hazard (or a prominent problem the governance office picks) put
    under the supervision of an organization, with a deadline counted down in public at
    town and county level until the listing is lifted (摘牌)."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="listed_supervisions",
        verbose_name=_("school"),
    )
    # A foreign key, not one-to-one: a hazard reopened after its listing was lifted may
    # be listed again; at most one listing of a hazard is active (the constraint below).
    hazard = models.ForeignKey(
        Hazard,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="listings",
        verbose_name=_("hazard"),
        help_text=_("Empty for a prominent problem that is not a single hazard."),
    )
    reference = models.CharField(
        _("reference number"), max_length=60, blank=True, help_text=_("E.g. 挂督〔2026〕3号")
    )
    title = models.CharField(_("title"), max_length=200)
    reason = models.TextField(_("reason"), max_length=4000)
    requirements = models.TextField(_("requirements"), blank=True, max_length=4000)
    supervising_org = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="supervisions_led",
        verbose_name=_("supervising organization"),
    )
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=10, choices=ListingStatus.choices, default=ListingStatus.ACTIVE
    )
    is_public = models.BooleanField(
        _("public"),
        default=True,
        help_text=_("Shown on the town and county boards of listed supervisions."),
    )
    listed_by = _user_fk(_("listed by"))
    listed_at = models.DateTimeField(_("listed at"))
    lifted_by = _user_fk(_("lifted by"))
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lift_note = models.TextField(_("note on lifting"), blank=True, max_length=2000)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("listed supervision")
        verbose_name_plural = _("listed supervisions")
        ordering = ["status", "deadline", "id"]
        indexes = [models.Index(fields=["status", "deadline"])]
        constraints = [
            models.UniqueConstraint(
                fields=["hazard"],
                condition=models.Q(status="active"),
                name="listing_one_active_per_hazard",
            )
        ]

    def __str__(self) -> str:
        return self.title


class SurroundingsTask(models.Model):
    """A task about a school's surroundings (stalls, internet cafés, traffic…) given to a
    department (§2 13), with the department's own task list and feedback."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="surroundings_tasks",
        verbose_name=_("school"),
    )
    hazard = models.ForeignKey(
        Hazard,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surroundings_tasks",
        verbose_name=_("hazard"),
    )
    department = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="surroundings_tasks_received",
        verbose_name=_("department"),
        limit_choices_to={"kind": "department"},
    )
    department_kind = models.CharField(
        _("kind of department"), max_length=30, choices=DepartmentKind.choices
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=4000)
    location = models.CharField(_("location"), max_length=200, blank=True)
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.ASSIGNED
    )
    assigned_by_org = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="surroundings_tasks_given",
        verbose_name=_("given by"),
    )
    assigned_by = _user_fk(_("assigned by"))
    assigned_at = models.DateTimeField(_("assigned at"))
    feedback = models.TextField(_("feedback"), blank=True, max_length=4000)
    feedback_by = _user_fk(_("feedback by"))
    feedback_at = models.DateTimeField(_("feedback at"), null=True, blank=True)
    confirmed_by = _user_fk(_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("surroundings task")
        verbose_name_plural = _("surroundings tasks")
        ordering = ["-assigned_at", "-id"]
        indexes = [
            models.Index(fields=["department", "status"]),
            models.Index(fields=["status", "deadline"]),
        ]

    def __str__(self) -> str:
        return self.title


class SurroundingsTaskEvent(models.Model):
    """One step of a surroundings task: accepted, feedback, confirmed, returned."""

    scope_school_field = "task__school"

    task = models.ForeignKey(
        SurroundingsTask, on_delete=models.CASCADE, related_name="events", verbose_name=_("task")
    )
    at = models.DateTimeField(_("at"))
    actor = _user_fk(_("by"))
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    from_status = models.CharField(_("from"), max_length=12, choices=TaskStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=TaskStatus.choices)
    note = models.TextField(_("note"), blank=True, max_length=2000)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("surroundings task event")
        verbose_name_plural = _("surroundings task events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"
