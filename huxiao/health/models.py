"""Health four-party linkage (issue 9; §3 1–10; ADR 0032).

- `HealthContact`: the four-party directory of a school (§3 1): health centre, township
  government, central school and the school itself, with named people and phones.
- `HealthCheck` is one class's morning/noon/extra check on one day; `ChildCheck` one child's
  result in it with the checkpoint and the time the child was checked (queue neighbours).
- `AttendanceDay` is one class's attendance on one day; `Absence` one child absent that day
  with its cause; an absence of unknown cause is chased the same day; illness absences belong
  to an `IllnessFollowUp` that stays open until the child returns (with a return note).
- `DiningSeat` is where a child ate on a day (table or group); `DormAssignment` a boarder's
  room over a period; `ClassStaff` the teachers and carers of a class beside its head teacher.
- `SymptomEvent` is the surveillance line list: one row per child, day and symptom, written
  by the services with each check, illness absence and case; the cluster rules count it.
- `ClusterRule` is a county's alert threshold (data, not code); `ClusterAlert` an alert
  raised for a school (and class) — one open alert per rule, school, class and symptom group.
- `HealthCase` is a suspected case taken through §3 4–10; `CaseStep` records who did each
  step and when; `CaseGroupMember` the response groups' members; `CaseContact` a close
  contact as notified (with the reasons at that time).
- `Disinfection` routine or emergency (tied to a case); `ClassSuspension` the joint decision
  to suspend a class, grade or school, and its resumption; `OfficialStatement` the one voice
  toward the public; `AftercareTask` and `MonitoringPlan` (more checks for the class).

Health data is scoped by the health actions (VIEW_HEALTH, RECORD_HEALTH, MANAGE_HEALTH,
SUSPEND_CLASSES): police roles hold none of them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huxiao.core.model_fields import school_fk, user_fk
from huxiao.core.scoping import ScopedQuerySet
from huxiao.health.choices import (
    AbsenceCause,
    AftercareKind,
    AlertStatus,
    CaseStatus,
    CheckAction,
    CheckSession,
    DisinfectionArea,
    DisinfectionKind,
    Party,
    ResponseGroupKind,
    RuleKind,
    Step,
    SuspensionScope,
    Symptom,
    SymptomGroup,
    SymptomSource,
)


def _class_fk(related_name, **kwargs):
    return models.ForeignKey(
        "people.SchoolClass",
        on_delete=models.PROTECT,
        related_name=related_name,
        verbose_name=_("class"),
        **kwargs,
    )


def _child_fk(related_name, **kwargs):
    return models.ForeignKey(
        "people.Child",
        on_delete=models.PROTECT,
        related_name=related_name,
        verbose_name=_("child"),
        **kwargs,
    )


class HealthContact(models.Model):
    """One named contact of the four-party directory of a school (§3 1)."""

    school = school_fk("health_contacts")
    party = models.CharField(_("party"), max_length=20, choices=Party.choices)
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organization"),
    )
    name = models.CharField(_("name"), max_length=50)
    title = models.CharField(_("role"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20)
    is_primary = models.BooleanField(_("first to call"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("four-party contact")
        verbose_name_plural = _("four-party contacts")
        ordering = ["school_id", "party", "-is_primary", "sort_order", "id"]

    def __str__(self) -> str:
        return f"{self.name} {self.phone}"


class HealthCheck(models.Model):
    """One class's health check (morning, noon or extra) on one day."""

    school = school_fk("health_checks")
    school_class = _class_fk("health_checks")
    date = models.DateField(_("date"))
    session = models.CharField(_("check"), max_length=10, choices=CheckSession.choices)
    checkpoint = models.CharField(_("checkpoint"), max_length=50, blank=True)
    expected = models.PositiveSmallIntegerField(_("children in class"), default=0)
    checked = models.PositiveSmallIntegerField(_("children checked"), default=0)
    unwell = models.PositiveSmallIntegerField(_("children unwell"), default=0)
    recorded_by = user_fk(_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("health check")
        verbose_name_plural = _("health checks")
        ordering = ["-date", "school_class_id", "session"]
        constraints = [
            models.UniqueConstraint(
                fields=["school_class", "date", "session"], name="health_check_unique"
            )
        ]
        indexes = [models.Index(fields=["school", "date"])]

    def __str__(self) -> str:
        return f"{self.school_class} {self.date} {self.get_session_display()}"


class ChildCheck(models.Model):
    """One child's result in a class check. `checked_at` and `checkpoint` place the child in
    the queue (queue neighbours are contacts)."""

    health_check = models.ForeignKey(
        HealthCheck, on_delete=models.CASCADE, related_name="results", verbose_name=_("check")
    )
    school = school_fk("+")
    child = _child_fk("health_checks")
    date = models.DateField(_("date"))
    checkpoint = models.CharField(_("checkpoint"), max_length=50, blank=True)
    checked_at = models.DateTimeField(_("checked at"))
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    symptom_note = models.CharField(_("other symptoms"), max_length=200, blank=True)
    is_well = models.BooleanField(_("well"), default=True)
    action = models.CharField(
        _("action taken"), max_length=12, choices=CheckAction.choices, default=CheckAction.NONE
    )
    note = models.CharField(_("remarks"), max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("child's check")
        verbose_name_plural = _("children's checks")
        ordering = ["health_check_id", "checked_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["health_check", "child"], name="health_childcheck_unique"
            ),
            models.CheckConstraint(
                condition=Q(temperature__isnull=True) | Q(temperature__gte=34, temperature__lte=43),
                name="health_childcheck_temperature",
            ),
        ]
        indexes = [
            models.Index(fields=["child", "date"]),
            models.Index(fields=["school", "date", "checkpoint", "checked_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.date}"


class AttendanceDay(models.Model):
    """One class's attendance taken on one day (absent children are `Absence` rows)."""

    school = school_fk("attendance_days")
    school_class = _class_fk("attendance_days")
    date = models.DateField(_("date"))
    enrolled = models.PositiveSmallIntegerField(_("enrolled"), default=0)
    absent = models.PositiveSmallIntegerField(_("absent"), default=0)
    recorded_by = user_fk(_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["-date", "school_class_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["school_class", "date"], name="health_attendance_unique"
            )
        ]
        indexes = [models.Index(fields=["school", "date"])]

    def __str__(self) -> str:
        return f"{self.school_class} {self.date}"


class IllnessFollowUp(models.Model):
    """A child's illness absence followed until the child returns (§3 3)."""

    school = school_fk("illness_follow_ups")
    child = _child_fk("illness_follow_ups")
    first_day = models.DateField(_("first day absent"))
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    diagnosis = models.CharField(_("diagnosis"), max_length=100, blank=True)
    returned_on = models.DateField(_("returned on"), null=True, blank=True)
    return_note = models.CharField(_("return note"), max_length=300, blank=True)
    closed_by = user_fk(_("return recorded by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("illness follow-up")
        verbose_name_plural = _("illness follow-ups")
        ordering = ["-first_day", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["child"],
                condition=Q(returned_on__isnull=True),
                name="health_followup_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.first_day}"


class Absence(models.Model):
    """One child absent on one day, with its cause."""

    school = school_fk("absences")
    school_class = _class_fk("absences")
    child = _child_fk("absences")
    date = models.DateField(_("date"))
    cause = models.CharField(_("cause"), max_length=10, choices=AbsenceCause.choices)
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    diagnosis = models.CharField(_("diagnosis"), max_length=100, blank=True)
    note = models.CharField(_("remarks"), max_length=300, blank=True)
    follow_up = models.ForeignKey(
        IllnessFollowUp,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="absences",
        verbose_name=_("illness follow-up"),
    )
    chased_at = models.DateTimeField(_("cause established at"), null=True, blank=True)
    chased_by = user_fk(_("cause established by"))
    recorded_by = user_fk(_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-date", "school_class_id", "child_id"]
        constraints = [
            models.UniqueConstraint(fields=["child", "date"], name="health_absence_unique")
        ]
        indexes = [
            models.Index(fields=["school", "date", "cause"]),
            models.Index(fields=["school_class", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.date}"


class DiningSeat(models.Model):
    """Where a child ate on a day: a table or group (tables may be shared across classes)."""

    school = school_fk("+")
    school_class = _class_fk("+")
    child = _child_fk("dining_seats")
    date = models.DateField(_("date"))
    table = models.CharField(_("table or group"), max_length=30)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("dining seat")
        verbose_name_plural = _("dining seats")
        ordering = ["date", "table", "child_id"]
        constraints = [
            models.UniqueConstraint(fields=["child", "date"], name="health_dining_unique")
        ]
        indexes = [
            models.Index(fields=["school", "date", "table"]),
            models.Index(fields=["school_class", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.table} {self.date}"


class DormAssignment(models.Model):
    """A boarder's dormitory room from one day to another (open-ended while current)."""

    school = school_fk("+")
    child = _child_fk("dorm_assignments")
    room = models.CharField(_("dormitory room"), max_length=30)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("dormitory room")
        verbose_name_plural = _("dormitory rooms")
        ordering = ["room", "child_id"]
        indexes = [models.Index(fields=["school", "room"])]

    def __str__(self) -> str:
        return self.room


class ClassStaff(models.Model):
    """A teacher or carer of a class besides its head teacher (contacts of the class)."""

    scope_school_field = "school_class__school"

    school_class = _class_fk("health_staff")
    staff = models.ForeignKey(
        "people.Staff", on_delete=models.CASCADE, related_name="+", verbose_name=_("staff member")
    )
    duty = models.CharField(_("duty"), max_length=50, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff of a class")
        verbose_name_plural = _("staff of classes")
        constraints = [
            models.UniqueConstraint(
                fields=["school_class", "staff"], name="health_classstaff_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} {self.school_class_id}"


class SymptomEvent(models.Model):
    """One child with one symptom on one day (the line list the cluster rules count)."""

    school = school_fk("+")
    school_class = _class_fk("+")
    child = _child_fk("+")
    date = models.DateField(_("date"))
    symptom = models.CharField(_("symptom"), max_length=12, choices=Symptom.choices)
    source = models.CharField(_("source"), max_length=10, choices=SymptomSource.choices)
    child_check = models.ForeignKey(
        ChildCheck, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    absence = models.ForeignKey(
        Absence, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        "HealthCase", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("symptom report")
        verbose_name_plural = _("symptom reports")
        indexes = [
            models.Index(fields=["date", "school", "school_class"]),
            models.Index(fields=["child", "date"]),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.date} {self.symptom}"


class ClusterRule(models.Model):
    """A county's cluster-alert threshold: `min_children` children (of one class, or of one
    school) with symptoms of `symptom_group` within `window_days`; or any suspected
    notifiable disease at once."""

    region = models.ForeignKey(
        "orgs.Region", on_delete=models.CASCADE, related_name="+", verbose_name=_("county")
    )
    kind = models.CharField(_("rule"), max_length=20, choices=RuleKind.choices)
    symptom_group = models.CharField(
        _("symptoms"), max_length=12, choices=SymptomGroup.choices, default=SymptomGroup.ANY
    )
    min_children = models.PositiveSmallIntegerField(_("children"), default=3)
    window_days = models.PositiveSmallIntegerField(_("within days"), default=3)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    class Meta:
        verbose_name = _("cluster-alert rule")
        verbose_name_plural = _("cluster-alert rules")
        ordering = ["region_id", "kind", "symptom_group", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "kind", "symptom_group"], name="health_rule_unique"
            ),
            models.CheckConstraint(
                condition=Q(min_children__gte=1, min_children__lte=500),
                name="health_rule_min_children",
            ),
            models.CheckConstraint(
                condition=Q(window_days__gte=1, window_days__lte=60),
                name="health_rule_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ≥{self.min_children}/{self.window_days}"


class ClusterAlert(models.Model):
    """A cluster alert for a school (and class). `key` is unique among open alerts, so a rule
    that keeps matching adds children to the open alert instead of raising a second one."""

    school = school_fk("cluster_alerts")
    school_class = _class_fk("cluster_alerts", null=True, blank=True)
    rule = models.ForeignKey(
        ClusterRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("rule"),
    )
    kind = models.CharField(_("rule"), max_length=20, choices=RuleKind.choices)
    symptom_group = models.CharField(_("symptoms"), max_length=12, choices=SymptomGroup.choices)
    key = models.CharField(max_length=120, editable=False)
    window_start = models.DateField(_("from"))
    window_end = models.DateField(_("to"))
    children = models.ManyToManyField("people.Child", related_name="+", verbose_name=_("children"))
    child_count = models.PositiveSmallIntegerField(_("children"), default=0)
    case = models.ForeignKey(
        "HealthCase",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("suspected case"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    raised_at = models.DateTimeField(_("raised at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = user_fk(_("closed by"))
    note = models.CharField(_("handling"), max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("cluster alert")
        verbose_name_plural = _("cluster alerts")
        ordering = ["-raised_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=Q(status="open"), name="health_alert_open_key"
            )
        ]
        indexes = [models.Index(fields=["school", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.window_end}"


class HealthCase(models.Model):
    """A suspected case taken through §3 4–10."""

    school = school_fk("health_cases")
    school_class = _class_fk("health_cases")
    child = _child_fk("health_cases")
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CaseStatus.choices,
        default=CaseStatus.REPORTED,
        db_index=True,
    )
    symptoms = models.JSONField(_("symptoms"), default=list, blank=True)
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    suspected_disease = models.CharField(_("suspected disease"), max_length=100, blank=True)
    notifiable = models.BooleanField(_("suspected notifiable disease"), default=False)
    onset_date = models.DateField(_("symptom onset"))
    contact_window_days = models.PositiveSmallIntegerField(_("days before onset traced"), default=2)
    isolated_at = models.DateTimeField(_("isolated at"), null=True, blank=True)
    isolation_place = models.CharField(_("isolation room"), max_length=100, blank=True)
    standby_classroom = models.CharField(_("standby classroom"), max_length=100, blank=True)
    diagnosis = models.CharField(_("diagnosis"), max_length=200, blank=True)
    child_check = models.ForeignKey(
        ChildCheck,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("check that found it"),
    )
    reported_by = user_fk(_("reported by"))
    reported_at = models.DateTimeField(_("reported at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    note = models.TextField(_("remarks"), blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("suspected case")
        verbose_name_plural = _("suspected cases")
        ordering = ["-reported_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact_window_days__lte=14), name="health_case_window"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} {self.onset_date}"


class CaseStep(models.Model):
    """One step of the procedure done: who did it, when, with a note."""

    scope_school_field = "case__school"

    case = models.ForeignKey(
        HealthCase, on_delete=models.CASCADE, related_name="steps", verbose_name=_("case")
    )
    step = models.CharField(_("step"), max_length=30, choices=Step.choices)
    done_by = user_fk(_("done by"))
    done_at = models.DateTimeField(_("done at"))
    note = models.CharField(_("remarks"), max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("procedure step")
        verbose_name_plural = _("procedure steps")
        ordering = ["case_id", "done_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "step"], name="health_casestep_unique")
        ]

    def __str__(self) -> str:
        return self.get_step_display()


class CaseGroupMember(models.Model):
    """A member of one of the six response groups of a case (§3 4)."""

    scope_school_field = "case__school"

    case = models.ForeignKey(
        HealthCase, on_delete=models.CASCADE, related_name="group_members", verbose_name=_("case")
    )
    group = models.CharField(_("group"), max_length=20, choices=ResponseGroupKind.choices)
    user = user_fk(_("member"))
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_leader = models.BooleanField(_("group leader"), default=False)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("response group member")
        verbose_name_plural = _("response group members")
        ordering = ["case_id", "group", "-is_leader", "id"]

    def __str__(self) -> str:
        return self.name


class CaseContact(models.Model):
    """A close contact of a case as notified: a child (guardians told) or a staff member,
    with the reasons found at that time."""

    scope_school_field = "case__school"

    case = models.ForeignKey(
        HealthCase, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("case")
    )
    child = _child_fk("+", null=True, blank=True)
    staff = models.ForeignKey(
        "people.Staff",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    reasons = models.JSONField(_("reasons"), default=list)
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    notified_by = user_fk(_("notified by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("close contact")
        verbose_name_plural = _("close contacts")
        ordering = ["case_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(child__isnull=False, staff__isnull=True)
                | Q(child__isnull=True, staff__isnull=False),
                name="health_contact_one_person",
            ),
            models.UniqueConstraint(
                fields=["case", "child"],
                condition=Q(child__isnull=False),
                name="health_contact_child",
            ),
            models.UniqueConstraint(
                fields=["case", "staff"],
                condition=Q(staff__isnull=False),
                name="health_contact_staff",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.child_id or self.staff_id}"


class Disinfection(models.Model):
    """A disinfection done: routine (§3 2) or emergency, tied to a case (§3 7)."""

    school = school_fk("disinfections")
    case = models.ForeignKey(
        HealthCase,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="disinfections",
        verbose_name=_("suspected case"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=DisinfectionKind.choices)
    area = models.CharField(_("area"), max_length=12, choices=DisinfectionArea.choices)
    area_detail = models.CharField(_("place"), max_length=100, blank=True)
    method = models.CharField(_("method"), max_length=100)
    agent = models.CharField(_("disinfectant"), max_length=100, blank=True)
    done_by_name = models.CharField(_("done by"), max_length=50)
    done_at = models.DateTimeField(_("done at"))
    recorded_by = user_fk(_("recorded by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("disinfection")
        verbose_name_plural = _("disinfections")
        ordering = ["-done_at", "id"]
        indexes = [models.Index(fields=["school", "done_at"])]

    def __str__(self) -> str:
        return f"{self.get_area_display()} {self.done_at:%Y-%m-%d}"


class ClassSuspension(models.Model):
    """A decision to suspend a class, a grade or the school (§3 8), and its resumption."""

    school = school_fk("class_suspensions")
    scope = models.CharField(_("suspended"), max_length=10, choices=SuspensionScope.choices)
    school_class = _class_fk("suspensions", null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=20, blank=True)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=300)
    case = models.ForeignKey(
        HealthCase,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="suspensions",
        verbose_name=_("suspected case"),
    )
    health_centre_opinion = models.CharField(
        _("health centre's assessment"), max_length=500, blank=True
    )
    education_office_opinion = models.CharField(
        _("education office's assessment"), max_length=500, blank=True
    )
    decided_by = user_fk(_("decided by"))
    decided_at = models.DateTimeField(_("decided at"))
    resumed_on = models.DateField(_("resumed on"), null=True, blank=True)
    resumed_by = user_fk(_("resumption recorded by"))
    resume_note = models.CharField(_("resumption note"), max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("class suspension")
        verbose_name_plural = _("class suspensions")
        ordering = ["-starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="health_suspension_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.starts_on}–{self.ends_on}"


class OfficialStatement(models.Model):
    """An official statement toward the public (§3 9: one voice)."""

    school = school_fk("health_statements")
    case = models.ForeignKey(
        HealthCase,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="statements",
        verbose_name=_("suspected case"),
    )
    text = models.TextField(_("statement"))
    published_at = models.DateTimeField(_("published at"))
    approved_by = models.CharField(_("approved by"), max_length=100)
    recorded_by = user_fk(_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("official statement")
        verbose_name_plural = _("official statements")
        ordering = ["-published_at", "id"]

    def __str__(self) -> str:
        return f"{self.published_at:%Y-%m-%d %H:%M}"


class AftercareTask(models.Model):
    """An aftercare task of a case (§3 10): supplies, follow-up, psychological support."""

    scope_school_field = "case__school"

    case = models.ForeignKey(
        HealthCase, on_delete=models.CASCADE, related_name="aftercare", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=15, choices=AftercareKind.choices)
    description = models.CharField(_("task"), max_length=300)
    assignee = user_fk(_("assigned to"))
    due_on = models.DateField(_("due on"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = user_fk(_("done by"))
    note = models.TextField(_("notes"), blank=True)
    created_by = user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("aftercare task")
        verbose_name_plural = _("aftercare tasks")
        ordering = ["case_id", "done_at", "due_on", "id"]

    def __str__(self) -> str:
        return self.description


class MonitoringPlan(models.Model):
    """More checks for a class after a case (§3 10): `checks_per_day` (at most the three
    sessions of a day: morning, noon, extra) from one day to another, with reminders when a
    day's checks are missing."""

    school = school_fk("+")
    school_class = _class_fk("monitoring_plans")
    case = models.ForeignKey(
        HealthCase,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="monitoring_plans",
        verbose_name=_("suspected case"),
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    checks_per_day = models.PositiveSmallIntegerField(_("checks a day"), default=2)
    created_by = user_fk(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("monitoring plan")
        verbose_name_plural = _("monitoring plans")
        ordering = ["-starts_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="health_monitoring_order"
            ),
            models.CheckConstraint(
                condition=Q(checks_per_day__gte=1, checks_per_day__lte=3),
                name="health_monitoring_checks",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.school_class_id} {self.starts_on}–{self.ends_on}"
