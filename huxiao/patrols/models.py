"""护学岗 gate posts and their shifts and check-ins, patrol logs, police-post visits.

A gate post (`GatePost`) is one school's post for one peak (morning drop-off, noon,
afternoon pick-up), with its time window on each weekday it is held (`GatePostWindow`)
and who staffs it (`GatePostStaff`). Each date it is held becomes a `PostShift`, generated
from the plan; staff check in and out of the shift (`PostCheckIn`). The shift keeps what
its check-ins achieved (police present, police car, lights — the "三见"), so coverage is
an aggregate over shifts in the database (ADR 0018).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huxiao.core.scoping import MultiSchoolQuerySet, ScopedQuerySet
from huxiao.patrols.choices import WEEKDAY_LABELS, Dress, PatrolMode, Period, StaffKind
from huxiao.patrols.video_choices import CameraKind

WEEKDAY_CHOICES = [(day, label) for day, label in enumerate(WEEKDAY_LABELS)]


class GatePost(models.Model):
    """A school's 护学岗 for one peak period: where, when on each weekday, and who staffs it."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="gate_posts",
        verbose_name=_("school"),
    )
    period = models.CharField(_("peak period"), max_length=20, choices=Period.choices)
    location = models.CharField(
        _("location"),
        max_length=200,
        help_text=_("E.g. main gate and the crossing in front of it."),
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("gate post")
        verbose_name_plural = _("gate posts")
        ordering = ["school__name", "period"]
        constraints = [
            # One post per school and peak: coverage counts peaks, not gates (ADR 0018).
            models.UniqueConstraint(fields=["school", "period"], name="gatepost_unique_period")
        ]

    def __str__(self) -> str:
        return f"{self.school} · {self.get_period_display()}"


class GatePostWindow(models.Model):
    """The post's time window on one weekday (Monday 0 … Sunday 6), local time."""

    scope_school_field = "post__school"

    post = models.ForeignKey(
        GatePost, on_delete=models.CASCADE, related_name="windows", verbose_name=_("gate post")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=WEEKDAY_CHOICES)
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("time window")
        verbose_name_plural = _("time windows")
        ordering = ["post_id", "weekday"]
        constraints = [
            models.UniqueConstraint(fields=["post", "weekday"], name="gatepostwindow_unique_day"),
            models.CheckConstraint(
                condition=Q(ends__gt=models.F("starts")), name="gatepostwindow_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class GatePostStaff(models.Model):
    """Someone who staffs the post: a user with an account, or a named volunteer without.

    `weekdays` lists the days they stand (digits 0–6, Monday 0); empty means every day the
    post is held.
    """

    scope_school_field = "post__school"

    post = models.ForeignKey(
        GatePost, on_delete=models.CASCADE, related_name="staff", verbose_name=_("gate post")
    )
    kind = models.CharField(_("staffed by"), max_length=30, choices=StaffKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="gate_post_staff",
        verbose_name=_("user"),
    )
    name = models.CharField(
        _("name of the person"),
        max_length=50,
        blank=True,
        help_text=_("For people without an account."),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    weekdays = models.CharField(_("weekdays"), max_length=7, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("gate post staff")
        verbose_name_plural = _("gate post staff")
        ordering = ["post_id", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "user"],
                condition=Q(user__isnull=False, is_active=True),
                name="gatepoststaff_unique_user",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(name=""), name="gatepoststaff_user_or_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} · {self.get_kind_display()}"

    @property
    def display_name(self) -> str:
        from huxiao.core.names import person_name

        return person_name(self.user) if self.user_id else self.name

    def stands_on(self, weekday: int) -> bool:
        return not self.weekdays or str(weekday) in self.weekdays


class PostShift(models.Model):
    """One date a post is held: its window as aware datetimes and what its check-ins
    achieved. Generated from the plan (services.shifts_ensure); the coverage flags are
    written only by the check-in services, from the shift's check-ins."""

    post = models.ForeignKey(
        GatePost, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("gate post")
    )
    # Copied from the post so that scoping and coverage need no join.
    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="post_shifts",
        verbose_name=_("school"),
    )
    period = models.CharField(_("peak period"), max_length=20, choices=Period.choices)
    date = models.DateField(_("date"))
    week_start = models.DateField(_("week (Monday)"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    # Police were planned for this date: then "at the post" means police at the post.
    expects_police = models.BooleanField(_("police planned"), default=False)

    staffed = models.BooleanField(_("someone checked in"), default=False)
    police_present = models.BooleanField(_("police present (见警察)"), default=False)
    police_car = models.BooleanField(_("police car (见警车)"), default=False)
    police_lights = models.BooleanField(_("police lights (见警灯)"), default=False)
    first_check_in_at = models.DateTimeField(_("first check-in"), null=True, blank=True)
    police_arrived_at = models.DateTimeField(_("police arrived"), null=True, blank=True)
    arrived_late = models.BooleanField(_("arrived late"), default=False)

    late_flagged_at = models.DateTimeField(_("flagged: nobody at the post"), null=True, blank=True)
    missed_flagged_at = models.DateTimeField(_("flagged: missed"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("called off at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for calling off"), max_length=200, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("called off by"),
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("gate post shift")
        verbose_name_plural = _("gate post shifts")
        ordering = ["date", "starts_at", "school_id"]
        constraints = [
            models.UniqueConstraint(fields=["post", "date"], name="postshift_unique_date")
        ]
        indexes = [
            models.Index(fields=["school", "date"]),
            # Coverage reads (school, week) ranges grouped by week and post in this order,
            # so SQLite streams the groups instead of sorting a year of shifts (ADR 0018).
            models.Index(fields=["school", "week_start", "post"], name="postshift_coverage_idx"),
            models.Index(fields=["starts_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.school} · {self.date} · {self.get_period_display()}"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def arrived_at(self):
        """The arrival that counts: police where police are planned, anyone otherwise."""
        return self.police_arrived_at if self.expects_police else self.first_check_in_at

    @property
    def all_three(self) -> bool:
        return self.police_present and self.police_car and self.police_lights


class PostCheckIn(models.Model):
    """Someone at the post: when they came and left, where the phone was, an optional photo,
    and for police whether the car was there with its lights on.

    A volunteer without an account is checked in by whoever is at the gate (`on_behalf`):
    `user` is then the person who recorded it and `staff` the volunteer."""

    scope_school_field = "school"
    # A file is not JSON; the trail records that a photo was attached (services).
    audit_exclude = ("photo",)

    shift = models.ForeignKey(
        PostShift, on_delete=models.CASCADE, related_name="check_ins", verbose_name=_("shift")
    )
    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("school"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="post_check_ins",
        verbose_name=_("checked in by"),
    )
    staff = models.ForeignKey(
        GatePostStaff,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="check_ins",
        verbose_name=_("planned staff"),
    )
    on_behalf = models.BooleanField(_("recorded for someone without an account"), default=False)
    kind = models.CharField(_("staffed by"), max_length=30, choices=StaffKind.choices)
    person_name = models.CharField(_("name of the person"), max_length=50)
    checked_in_at = models.DateTimeField(_("checked in at"))
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    is_late = models.BooleanField(_("checked in late"), default=False)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    accuracy_m = models.PositiveIntegerField(_("location accuracy (m)"), null=True, blank=True)
    photo = models.FileField(_("photo"), upload_to="patrols/checkins/%Y/%m/", blank=True)
    vehicle_present = models.BooleanField(_("police car at the post"), default=False)
    lights_on = models.BooleanField(_("lights on"), default=False)
    note = models.CharField(_("note"), max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("gate post check-in")
        verbose_name_plural = _("gate post check-ins")
        ordering = ["checked_in_at", "id"]
        constraints = [
            # A second check-in of the same person to the same shift is refused (backstop
            # for the service's check, which answers with a reason).
            models.UniqueConstraint(
                fields=["shift", "user"],
                condition=Q(on_behalf=False),
                name="postcheckin_unique_user",
            ),
            models.UniqueConstraint(
                fields=["shift", "staff"],
                condition=Q(staff__isnull=False),
                name="postcheckin_unique_staff",
            ),
        ]
        indexes = [models.Index(fields=["school", "checked_in_at"])]

    def __str__(self) -> str:
        return f"{self.person_name} @ {self.shift}"

    @property
    def is_police(self) -> bool:
        from huxiao.patrols.choices import POLICE_STAFF_KINDS

        return self.kind in POLICE_STAFF_KINDS


class PatrolLog(models.Model):
    """A patrol around schools (§2 10: car and foot, uniform and plain clothes)."""

    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="patrol_logs",
        verbose_name=_("officer"),
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))
    mode = models.CharField(_("mode"), max_length=10, choices=PatrolMode.choices)
    dress = models.CharField(_("dress"), max_length=20, choices=Dress.choices)
    route = models.CharField(_("route"), max_length=500)
    schools = models.ManyToManyField(
        "orgs.Organization", related_name="patrols_passed", verbose_name=_("schools passed")
    )
    companions = models.CharField(
        _("patrolled with"),
        max_length=200,
        blank=True,
        help_text=_("E.g. auxiliary police, militia, village security staff."),
    )
    findings = models.TextField(_("findings"), blank=True, max_length=4000)
    suspicious_checked = models.PositiveIntegerField(_("suspicious persons checked"), default=0)
    suspicious_notes = models.TextField(
        _("suspicious persons: who and outcome"), blank=True, max_length=4000
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Visible when one of the schools it passed is (core.scoping).
    objects = MultiSchoolQuerySet.as_manager()

    class Meta:
        verbose_name = _("patrol log")
        verbose_name_plural = _("patrol logs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["-started_at"])]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.started_at:%Y-%m-%d %H:%M}"


class PoliceVisit(models.Model):
    """A police-post officer's work at a school (§1 二(五)三: at least twice a week)."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="police_visits",
        verbose_name=_("school"),
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="police_visits",
        verbose_name=_("officer"),
    )
    arrived_at = models.DateTimeField(_("arrived at the school"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    information_collected = models.TextField(
        _("information collected"), blank=True, max_length=4000
    )
    guidance_given = models.TextField(_("guidance given"), blank=True, max_length=4000)
    problems_found = models.TextField(_("problems found"), blank=True, max_length=4000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("police-post visit")
        verbose_name_plural = _("police-post visits")
        ordering = ["-arrived_at", "-id"]
        indexes = [models.Index(fields=["school", "arrived_at"])]

    def __str__(self) -> str:
        return f"{self.school} {self.arrived_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.left_at is None


class VisitShortfall(models.Model):
    """A school that had fewer visits than required in a week when the rule was checked;
    one row per school and week, so the station is told once."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.CASCADE,
        related_name="visit_shortfalls",
        verbose_name=_("school"),
    )
    week_start = models.DateField(_("week (Monday)"))
    visits_counted = models.PositiveSmallIntegerField(_("visits when checked"))
    required = models.PositiveSmallIntegerField(_("visits required"))
    flagged_at = models.DateTimeField(_("flagged at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit shortfall")
        verbose_name_plural = _("visit shortfalls")
        ordering = ["-week_start", "school_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "week_start"], name="visitshortfall_unique_week"
            )
        ]

    def __str__(self) -> str:
        return f"{self.school} · {self.week_start}"


# ------------------------------------------------------------------ video patrol (ADR 0020)


class Camera(models.Model):
    """A school camera in the registry, addressed by its GB/T 28181 device ID."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="cameras",
        verbose_name=_("school"),
    )
    device_id = models.CharField(
        _("device ID (GB/T 28181)"),
        max_length=20,
        unique=True,
        help_text=_("20 digits; the first 8 are the administrative division code."),
    )
    name = models.CharField(_("name"), max_length=100)
    location = models.CharField(_("location"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=CameraKind.choices)
    is_online = models.BooleanField(_("online"), default=False)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)
    is_networked = models.BooleanField(_("networked to the police"), default=False)
    is_active = models.BooleanField(_("in service"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")
        ordering = ["school__name", "name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.device_id})"


class VideoPatrol(models.Model):
    """A video patrol session (视频巡逻): an officer looks at school cameras (§2 9)."""

    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="video_patrols",
        verbose_name=_("officer"),
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))
    schools = models.ManyToManyField(
        "orgs.Organization", related_name="video_patrols", verbose_name=_("schools looked at")
    )
    findings = models.TextField(_("findings"), blank=True, max_length=4000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Visible when one of the schools it passed is (core.scoping).
    objects = MultiSchoolQuerySet.as_manager()

    class Meta:
        verbose_name = _("video patrol")
        verbose_name_plural = _("video patrols")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["-started_at"])]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}"


class VideoObservation(models.Model):
    """What the officer saw on one camera during a video patrol; may need follow-up (a later
    issue turns it into a warning or a hazard)."""

    patrol = models.ForeignKey(
        VideoPatrol,
        on_delete=models.CASCADE,
        related_name="observations",
        verbose_name=_("video patrol"),
    )
    camera = models.ForeignKey(
        Camera, on_delete=models.PROTECT, related_name="observations", verbose_name=_("camera")
    )
    # The camera's school, kept on the row so scoping needs no join through the camera.
    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("school"),
    )
    seen = models.TextField(_("what was seen"), blank=True, max_length=2000)
    needs_follow_up = models.BooleanField(_("needs follow-up"), default=False)
    follow_up_note = models.TextField(_("follow-up"), blank=True, max_length=2000)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("video observation")
        verbose_name_plural = _("video observations")
        ordering = ["patrol_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["patrol", "camera"], name="videoobs_unique_camera")
        ]

    def __str__(self) -> str:
        return f"{self.camera} · {self.patrol}"


class LegalVicePrincipal(models.Model):
    """A police officer appointed legal vice-principal (法制副校长) of a school.

    Active while `ended_at` is empty; at most one active assignment per school (ADR 0020).
    The officer's LEGAL_VICE_PRINCIPAL membership at the station follows the assignments."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="lvp_assignments",
        verbose_name=_("school"),
    )
    station = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="lvp_assignments_made",
        verbose_name=_("police station"),
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="lvp_assignments",
        verbose_name=_("officer"),
    )
    term_start = models.DateField(_("term starts"))
    term_end = models.DateField(_("term ends"), null=True, blank=True)
    appointment_no = models.CharField(_("appointment document number"), max_length=60)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("legal vice-principal assignment")
        verbose_name_plural = _("legal vice-principal assignments")
        ordering = ["school__name", "-term_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["school"],
                condition=Q(ended_at__isnull=True),
                name="lvp_one_active_per_school",
            )
        ]

    def __str__(self) -> str:
        return f"{self.school} · {self.officer}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None
