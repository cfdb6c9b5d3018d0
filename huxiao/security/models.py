"""Security staffing, equipment, technical and physical defences and computed compliance
(issue 7, items 1–4; §1 二(一), §2 4–6; ADR 0028).

- Guards, security staff and dormitory managers are `people.Staff` rows (their post, phone,
  background check and resident ID live there); `GuardProfile` adds what the security-service
  regulations ask for: employment, employer or security company, the guard certificate
  (保安员证), filing with the police; `TrainingRecord` keeps their trainings.
- The basic protective set is data per county (`EquipmentType`, default eight items);
  `SchoolEquipment` is a school's stock of one item, `EquipmentIssue` one item issued to one
  guard.
- Technical defence: cameras are the video registry's (`patrols.Camera`, GB/T 28181 IDs);
  HuXiao's alarm boxes are `accounts.DeviceToken(kind=alarm_box)`; other systems are
  `TechnicalSystem`. `DefenceProfile` holds the school-wide facts (monitoring room, video
  retention, physical defences, closed management, 24-hour gatehouse).
- Compliance rules are data per county (`ComplianceRule`: a rule kind from
  `security.rules.RULES` with its parameters); `SchoolCompliance` keeps each school's last
  evaluation (one row per school, verdicts as JSON) so that town and county pages only read.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from huxiao.core.model_fields import school_fk, user_fk
from huxiao.core.scoping import ScopedQuerySet
from huxiao.security.choices import Condition, Employer, Employment, Perimeter, SystemKind

# ------------------------------------------------------------------ personnel (item 1)


class GuardProfile(models.Model):
    """The security-service record of a guard, security officer or dormitory manager."""

    scope_school_field = "staff__school"

    staff = models.OneToOneField(
        "people.Staff",
        on_delete=models.CASCADE,
        related_name="guard_profile",
        verbose_name=_("staff member"),
    )
    employment = models.CharField(
        _("employment"), max_length=10, choices=Employment.choices, default=Employment.FULL_TIME
    )
    employer = models.CharField(
        _("employer"), max_length=20, choices=Employer.choices, default=Employer.SCHOOL
    )
    security_company = models.CharField(_("security company"), max_length=200, blank=True)
    hired_on = models.DateField(_("hired on"), null=True, blank=True)
    certificate_number = models.CharField(_("guard certificate number"), max_length=20, blank=True)
    certificate_issued_on = models.DateField(_("certificate issued on"), null=True, blank=True)
    certificate_expires_on = models.DateField(_("certificate expires on"), null=True, blank=True)
    filed_with_police = models.BooleanField(_("filed with the police"), default=False)
    filed_on = models.DateField(_("filed on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("guard record")
        verbose_name_plural = _("guard records")
        ordering = ["staff__school_id", "staff__name"]

    def __str__(self) -> str:
        return str(self.staff)


class TrainingRecord(models.Model):
    """One training a guard or security staff member took part in."""

    scope_school_field = "staff__school"

    staff = models.ForeignKey(
        "people.Staff",
        on_delete=models.CASCADE,
        related_name="security_trainings",
        verbose_name=_("staff member"),
    )
    held_on = models.DateField(_("held on"))
    topic = models.CharField(_("topic"), max_length=200)
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1, default=0)
    provider = models.CharField(_("given by"), max_length=200, blank=True)
    passed = models.BooleanField(_("passed"), default=True)
    created_by = user_fk(_("recorded by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["staff", "held_on"])]

    def __str__(self) -> str:
        return f"{self.held_on} {self.topic}"


# ------------------------------------------------------------------ equipment (item 2)


class EquipmentType(models.Model):
    """One item of a county's basic protective set (shipped default: eight items)."""

    region = models.ForeignKey(
        "orgs.Region",
        on_delete=models.CASCADE,
        related_name="equipment_types",
        verbose_name=_("county"),
    )
    key = models.SlugField(_("key"), max_length=40)
    name = models.CharField(_("name"), max_length=50)
    min_quantity = models.PositiveSmallIntegerField(_("minimum per school"), default=1)
    per_guard = models.BooleanField(_("issued to each guard"), default=False)
    is_required = models.BooleanField(_("part of the required set"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("equipment item")
        verbose_name_plural = _("equipment items")
        ordering = ["region_id", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["region", "key"], name="security_equipment_type_key")
        ]

    def __str__(self) -> str:
        return self.name


class SchoolEquipment(models.Model):
    """A school's stock of one protective item."""

    school = school_fk("security_equipment")
    equipment_type = models.ForeignKey(
        EquipmentType, on_delete=models.PROTECT, related_name="stock", verbose_name=_("item")
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=0)
    condition = models.CharField(
        _("condition"), max_length=10, choices=Condition.choices, default=Condition.GOOD
    )
    last_checked_on = models.DateField(_("last checked on"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("equipment stock")
        verbose_name_plural = _("equipment stock")
        ordering = ["school_id", "equipment_type__order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "equipment_type"], name="security_equipment_per_school"
            )
        ]

    def __str__(self) -> str:
        return f"{self.equipment_type} × {self.quantity}"


class EquipmentIssue(models.Model):
    """Items of a school's stock issued to one guard (returned when `returned_on` is set)."""

    scope_school_field = "equipment__school"

    equipment = models.ForeignKey(
        SchoolEquipment, on_delete=models.CASCADE, related_name="issues", verbose_name=_("item")
    )
    staff = models.ForeignKey(
        "people.Staff",
        on_delete=models.CASCADE,
        related_name="equipment_issued",
        verbose_name=_("issued to"),
    )
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1)
    issued_on = models.DateField(_("issued on"))
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    created_by = user_fk(_("recorded by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("equipment issue")
        verbose_name_plural = _("equipment issues")
        ordering = ["-issued_on", "-id"]

    def __str__(self) -> str:
        return f"{self.equipment} → {self.staff}"


# ------------------------------------------------------------------ defences (item 3)


class DefenceProfile(models.Model):
    """A school's technical and physical defence facts (one row per school)."""

    school = models.OneToOneField(
        "orgs.Organization",
        on_delete=models.CASCADE,
        related_name="defence_profile",
        verbose_name=_("school"),
    )
    # Technical defence, school-wide.
    video_retention_days = models.PositiveSmallIntegerField(
        _("video retention (days)"), null=True, blank=True
    )
    monitoring_room = models.BooleanField(_("monitoring room"), default=False)
    monitoring_room_24h = models.BooleanField(_("monitoring room staffed 24 hours"), default=False)
    # Physical defence.
    perimeter = models.CharField(
        _("perimeter"), max_length=10, choices=Perimeter.choices, default=Perimeter.NONE
    )
    bollards = models.PositiveSmallIntegerField(_("anti-ram bollards"), default=0)
    vehicle_barrier = models.BooleanField(_("vehicle barrier at the gate"), default=False)
    speed_bumps = models.BooleanField(_("speed bumps"), default=False)
    parent_waiting_area = models.BooleanField(_("parent waiting area"), default=False)
    closed_management = models.BooleanField(_("closed management"), default=False)
    gatehouse_24h = models.BooleanField(_("gatehouse staffed 24 hours"), default=False)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("defence profile")
        verbose_name_plural = _("defence profiles")

    def __str__(self) -> str:
        return str(self.school)


class TechnicalSystem(models.Model):
    """An alarm or recording system that is neither a registry camera nor a HuXiao alarm
    box (those count by themselves)."""

    school = school_fk("technical_systems")
    kind = models.CharField(_("kind"), max_length=20, choices=SystemKind.choices)
    name = models.CharField(_("name"), max_length=100)
    location = models.CharField(_("location"), max_length=200, blank=True)
    networked_to_police = models.BooleanField(_("networked to the police"), default=False)
    installed_on = models.DateField(_("installed on"), null=True, blank=True)
    last_tested_on = models.DateField(_("last tested on"), null=True, blank=True)
    is_active = models.BooleanField(_("in service"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("technical system")
        verbose_name_plural = _("technical systems")
        ordering = ["school_id", "kind", "name", "id"]

    def __str__(self) -> str:
        return self.name


# ------------------------------------------------------------------ compliance (item 4)


class ComplianceRule(models.Model):
    """One rule of a county's rule set: a kind from `security.rules.RULES` with parameters
    (defaults overlaid with these values). Changing a rule re-evaluates the county."""

    region = models.ForeignKey(
        "orgs.Region",
        on_delete=models.CASCADE,
        related_name="compliance_rules",
        verbose_name=_("county"),
    )
    key = models.SlugField(_("rule"), max_length=40)
    enabled = models.BooleanField(_("in force"), default=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    class Meta:
        verbose_name = _("compliance rule")
        verbose_name_plural = _("compliance rules")
        ordering = ["region_id", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["region", "key"], name="security_rule_key")]

    def __str__(self) -> str:
        return self.key


class SchoolCompliance(models.Model):
    """A school's last evaluation against its county's rules.

    `verdicts` is a list of {"rule", "verdict", "evidence", "missing", "required", "actual"}
    in rule order; `is_compliant` is True when no rule in force fails (and at least one was
    evaluated); `is_networked` when one-click alarm and video both reach the police.
    """

    school = models.OneToOneField(
        "orgs.Organization",
        on_delete=models.CASCADE,
        related_name="security_compliance",
        verbose_name=_("school"),
    )
    evaluated_at = models.DateTimeField(_("evaluated at"))
    is_compliant = models.BooleanField(_("fully compliant"), default=False)
    is_networked = models.BooleanField(_("networked to the police"), default=False)
    passed = models.PositiveSmallIntegerField(_("rules met"), default=0)
    failed = models.PositiveSmallIntegerField(_("rules not met"), default=0)
    no_data = models.PositiveSmallIntegerField(_("rules without data"), default=0)
    verdicts = models.JSONField(_("verdicts"), default=list)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("school compliance")
        verbose_name_plural = _("school compliance")

    def __str__(self) -> str:
        return f"{self.school} {self.passed}/{self.passed + self.failed}"
