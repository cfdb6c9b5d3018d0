"""The school gate (issue 5): visitors, the school's own blocklist, vehicles, passes,
contraband interceptions and child pick-up by authorised adults.

Every record belongs to one school and is scoped by it (`ScopedQuerySet`). Resident ID
numbers are stored as in the foundation (`IdNumberFields`: encrypted, keyed hash, masked);
photos are encrypted in the database like the register's (no second place to secure).
A visit's screening keeps only "clear" or "hold" (never which list, never why): the
register's hits stay in `intel.ScreeningHit`, readable by the police only.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.access.choices import (
    CarrierKind,
    ContrabandCategory,
    Direction,
    Handling,
    HoldResolution,
    PassKind,
    PassState,
    RefusalReason,
    ReleaseMethod,
    ScanResult,
    Screening,
    VehiclePurpose,
    VisitPurpose,
    VisitStatus,
)
from huxiao.core.scoping import ScopedQuerySet
from huxiao.people.models import IdNumberFields

DEFAULT_RETENTION_DAYS = 180
DEFAULT_PICKUP_GRACE_MINUTES = 30


def _user_fk(verbose_name, **kwargs):
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=verbose_name,
        **kwargs,
    )


def _school_fk(related_name="+", **kwargs):
    return models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name=related_name,
        verbose_name=_("school"),
        **kwargs,
    )


class EncryptedPhoto(models.Model):
    """An optional photo, encrypted in the row (services: access.photos)."""

    photo_encrypted = models.TextField(_("photo (encrypted)"), blank=True)
    photo_content_type = models.CharField(_("photo type"), max_length=20, blank=True)

    class Meta:
        abstract = True

    @property
    def has_photo(self) -> bool:
        return bool(self.photo_encrypted)


class GateSettings(models.Model):
    """A school's gate rules; a school without a row uses the defaults (`for_school`)."""

    school = models.OneToOneField(
        "orgs.Organization",
        on_delete=models.CASCADE,
        related_name="gate_settings",
        verbose_name=_("school"),
    )
    retention_days = models.PositiveSmallIntegerField(
        _("keep gate records for (days)"),
        default=DEFAULT_RETENTION_DAYS,
        validators=[MinValueValidator(30), MaxValueValidator(3650)],
    )
    closing_time = models.TimeField(
        _("closing time"),
        default=dt.time(18, 0),
        help_text=_("Visitors still inside at this time are flagged."),
    )
    dismissal_time = models.TimeField(_("dismissal time"), default=dt.time(16, 30))
    pickup_grace_minutes = models.PositiveSmallIntegerField(
        _("flag children not collected after (minutes)"),
        default=DEFAULT_PICKUP_GRACE_MINUTES,
        validators=[MinValueValidator(5), MaxValueValidator(240)],
    )
    delegate_cutoff = models.TimeField(
        _("cut-off for same-day pick-up delegates"),
        default=dt.time(14, 0),
        help_text=_("Guardians may name a one-day delegate until this time of the day."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("gate settings")
        verbose_name_plural = _("gate settings")

    def __str__(self) -> str:
        return f"gate settings of {self.school_id}"

    @classmethod
    def for_school(cls, school) -> GateSettings:
        found = cls.objects.filter(school=school).first()
        return found if found is not None else cls(school=school)


class Visit(IdNumberFields, EncryptedPhoto):
    """A visitor's visit: expected (pre-registered by the host), inside, left.

    Written on every check-in, so it carries only the indexes a query uses (ADR 0022,
    "Performance"): the school's are the (school, …) ones below; the ID hash is searched
    through the one-inside constraint's index; the users' keys (who invited, checked in,
    out, decided) are never searched — users are deactivated, not deleted.
    """

    school = _school_fk("visits", db_index=False)
    id_number_hash = models.CharField(
        _("resident ID number lookup hash"), max_length=64, blank=True
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    purpose = models.CharField(_("purpose"), max_length=20, choices=VisitPurpose.choices)
    purpose_note = models.CharField(_("purpose details"), max_length=200, blank=True)
    host = models.ForeignKey(
        "people.Staff",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("host"),
    )
    items = models.CharField(_("items carried"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=VisitStatus.choices, default=VisitStatus.EXPECTED
    )
    screening = models.CharField(
        _("screening"), max_length=10, choices=Screening.choices, blank=True
    )
    expected_on = models.DateField(_("expected on"), null=True, blank=True)
    invitation_code = models.CharField(
        _("invitation code"), max_length=40, unique=True, null=True, blank=True
    )
    invited_by = _user_fk(_("invited by"), db_index=False)
    badge_code = models.CharField(
        _("badge code"), max_length=40, unique=True, null=True, blank=True
    )
    badge_expires_at = models.DateTimeField(_("badge expires at"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = _user_fk(_("checked in by"), db_index=False)
    checked_in_by_label = models.CharField(_("checked in by"), max_length=150, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    checked_out_by = _user_fk(_("checked out by"), db_index=False)
    overstay_flagged_at = models.DateTimeField(
        _("flagged as still inside at"), null=True, blank=True
    )
    # A held visit stays "hold" for the record; the duty leader's decision is kept here
    # (admitted: inside with a badge; turned away: cancelled). The note is never shown to
    # the gate: it may say why.
    hold_resolution = models.CharField(
        _("decision on the hold"), max_length=20, choices=HoldResolution.choices, blank=True
    )
    hold_resolved_at = models.DateTimeField(_("hold decided at"), null=True, blank=True)
    hold_resolved_by = _user_fk(_("hold decided by"), db_index=False)
    hold_note = models.CharField(_("note on the decision"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # The audit trail outlives the visit (retention purge): no phone number, and no badge
    # or invitation serial (either rebuilds a valid QR). `badge_expires_at` and
    # `expected_on` stay as the markers that a badge or an invitation was issued.
    audit_exclude = (
        "id_number_encrypted",
        "id_number_hash",
        "photo_encrypted",
        "phone",
        "badge_code",
        "invitation_code",
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-checked_in_at", "-id"]
        constraints = [
            # A person already inside cannot be checked in again (backstop for the
            # service's check, which answers with a message).
            models.UniqueConstraint(
                fields=["school", "id_number_hash"],
                condition=Q(status=VisitStatus.INSIDE) & ~Q(id_number_hash=""),
                name="visit_one_inside_per_person",
            ),
        ]
        indexes = [
            models.Index(fields=["school", "status"]),
            models.Index(fields=["school", "checked_in_at"]),
            models.Index(fields=["school", "expected_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.school_id}"


class BlockedVisitor(IdNumberFields):
    """The school's own blocklist (e.g. a parent barred by a court order). A match holds
    the visitor exactly like a register hit: the guard is not told which list matched."""

    school = _school_fk("blocked_visitors")
    name = models.CharField(_("name"), max_length=50)
    reason = models.CharField(_("reason"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    added_by = _user_fk(_("added by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("blocked visitor")
        verbose_name_plural = _("blocked visitors")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["school", "id_number_hash"])]

    def __str__(self) -> str:
        return self.name


class GatePass(models.Model):
    """A staff, vehicle or one-time pass: a signed QR code bound to one school, with a
    validity window; revocable. `serial` is the random part of the code (services:
    access.codes)."""

    school = _school_fk("gate_passes")
    kind = models.CharField(_("kind"), max_length=20, choices=PassKind.choices)
    staff = models.ForeignKey(
        "people.Staff",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="gate_passes",
        verbose_name=_("staff member"),
    )
    holder_name = models.CharField(_("holder"), max_length=50)
    plate = models.CharField(_("plate"), max_length=12, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    serial = models.CharField(_("serial"), max_length=40, unique=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = _user_fk(_("revoked by"))
    revoke_reason = models.CharField(_("reason for revoking"), max_length=200, blank=True)
    issued_by = _user_fk(_("issued by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    audit_exclude = ("serial",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("gate pass")
        verbose_name_plural = _("gate passes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["school", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.holder_name}"

    @property
    def holder_left(self) -> bool:
        """The pass stops with its holder's staff record, revoked by hand or not: the
        member left (inactive), or the record was deleted (`staff` is SET_NULL, and a staff
        pass always has one)."""
        if self.staff_id is None:
            return self.kind == PassKind.STAFF
        return not self.staff.is_active

    def state_at(self, now: dt.datetime) -> str:
        """The pass's `PassState` at `now`, as the gate would treat its code."""
        if self.revoked_at is not None:
            return PassState.REVOKED
        if self.holder_left:
            return PassState.HOLDER_LEFT
        if self.valid_until < now:
            return PassState.EXPIRED
        if self.kind == PassKind.ONE_TIME and self.used_at:
            return PassState.USED
        if self.valid_from > now:
            return PassState.NOT_YET_VALID
        return PassState.VALID

    @functools.cached_property
    def state(self) -> str:
        """The state now, computed once per object (a page shows it and its label)."""
        return self.state_at(timezone.now())

    def get_state_display(self) -> str:
        return PassState(self.state).label


class PassScan(models.Model):
    """Every scan of a pass at the gate, accepted or refused with the reason."""

    school = _school_fk()
    gate_pass = models.ForeignKey(
        GatePass,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scans",
        verbose_name=_("pass"),
    )
    at = models.DateTimeField(_("at"))
    direction = models.CharField(
        _("direction"), max_length=5, choices=Direction.choices, default=Direction.IN
    )
    result = models.CharField(_("result"), max_length=10, choices=ScanResult.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=RefusalReason.choices, blank=True)
    scanned_by = _user_fk(_("scanned by"))
    scanned_by_label = models.CharField(_("scanned by"), max_length=150, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("pass scan")
        verbose_name_plural = _("pass scans")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["school", "at"])]

    def __str__(self) -> str:
        return f"{self.result} @ {self.at:%Y-%m-%d %H:%M}"


class VehicleMovement(models.Model):
    """A vehicle's entry and, when it leaves, its exit."""

    school = _school_fk("vehicle_movements")
    plate = models.CharField(_("plate"), max_length=12)
    driver_name = models.CharField(_("driver"), max_length=50, blank=True)
    driver_phone = models.CharField(_("driver's phone"), max_length=20, blank=True)
    purpose = models.CharField(_("purpose"), max_length=20, choices=VehiclePurpose.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)
    gate_pass = models.ForeignKey(
        GatePass,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="vehicle_movements",
        verbose_name=_("pass"),
    )
    entered_at = models.DateTimeField(_("entered at"))
    exited_at = models.DateTimeField(_("left at"), null=True, blank=True)
    recorded_by = _user_fk(_("recorded by"))

    # The audit trail outlives the record (retention purge): no phone number, as for visits.
    audit_exclude = ("driver_phone",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("vehicle movement")
        verbose_name_plural = _("vehicle movements")
        ordering = ["-entered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "plate"],
                condition=Q(exited_at__isnull=True),
                name="vehicle_one_open_entry_per_plate",
            ),
        ]
        indexes = [models.Index(fields=["school", "entered_at"])]

    def __str__(self) -> str:
        return self.plate


class Interception(EncryptedPhoto):
    """A prohibited item stopped at the gate (§2 5: no knife or flammable item gets in)."""

    school = _school_fk("interceptions")
    at = models.DateTimeField(_("at"))
    category = models.CharField(_("category"), max_length=20, choices=ContrabandCategory.choices)
    item = models.CharField(_("item"), max_length=100)
    carrier_kind = models.CharField(_("carried by"), max_length=20, choices=CarrierKind.choices)
    carrier_name = models.CharField(_("name of the person"), max_length=50, blank=True)
    visit = models.ForeignKey(
        Visit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interceptions",
        verbose_name=_("visit"),
    )
    handling = models.CharField(_("handling"), max_length=20, choices=Handling.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = _user_fk(_("recorded by"))
    police_notified_at = models.DateTimeField(_("police notified at"), null=True, blank=True)

    audit_exclude = ("photo_encrypted",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("interception")
        verbose_name_plural = _("interceptions")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["school", "at"])]

    def __str__(self) -> str:
        return f"{self.item} @ {self.at:%Y-%m-%d}"


class PickupDelegate(IdNumberFields, EncryptedPhoto):
    """A one-day delegate named by a guardian before the school's cut-off time."""

    scope_school_field = "school"

    school = _school_fk()
    child = models.ForeignKey(
        "people.Child",
        on_delete=models.CASCADE,
        related_name="pickup_delegates",
        verbose_name=_("child"),
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20)
    relationship = models.CharField(_("relationship"), max_length=30)
    on_date = models.DateField(_("on"))
    named_by = models.ForeignKey(
        "people.Guardian",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("named by"),
    )
    added_by = _user_fk(_("recorded by"))
    added_at = models.DateTimeField(_("added at"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    # The audit trail outlives the delegate (retention purge): no phone number either.
    audit_exclude = ("id_number_encrypted", "id_number_hash", "photo_encrypted", "phone")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("pick-up delegate")
        verbose_name_plural = _("pick-up delegates")
        ordering = ["-on_date", "name"]
        indexes = [models.Index(fields=["school", "on_date"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.on_date})"


class GuardianPhoto(EncryptedPhoto):
    """The photo of an authorised pick-up adult from the roster, shown at release."""

    scope_school_field = "guardian__child__school"

    guardian = models.OneToOneField(
        "people.Guardian",
        on_delete=models.CASCADE,
        related_name="pickup_photo",
        verbose_name=_("guardian"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now=True)

    audit_exclude = ("photo_encrypted",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("guardian photo")
        verbose_name_plural = _("guardian photos")

    def __str__(self) -> str:
        return f"photo of guardian {self.guardian_id}"


class PickupCode(models.Model):
    """An authorised adult's pick-up code for one child: a PIN (stored as a keyed hash,
    unique among the school's live codes), a printed card's QR (`card_serial`) and a
    rotating QR derived from `secret_encrypted` (services: access.codes)."""

    school = _school_fk()
    guardian = models.ForeignKey(
        "people.Guardian",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="pickup_codes",
        verbose_name=_("guardian"),
    )
    delegate = models.ForeignKey(
        PickupDelegate,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="pickup_codes",
        verbose_name=_("delegate"),
    )
    pin_hash = models.CharField(_("PIN hash"), max_length=64)
    card_serial = models.CharField(_("card serial"), max_length=40, unique=True)
    secret_encrypted = models.TextField(_("rotating code secret (encrypted)"))
    issued_by = _user_fk(_("issued by"))
    issued_at = models.DateTimeField(_("issued at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    audit_exclude = ("pin_hash", "card_serial", "secret_encrypted")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("pick-up code")
        verbose_name_plural = _("pick-up codes")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(guardian__isnull=False) & Q(delegate__isnull=True))
                | (Q(guardian__isnull=True) & Q(delegate__isnull=False)),
                name="pickupcode_one_adult",
            ),
            models.UniqueConstraint(
                fields=["school", "pin_hash"],
                condition=Q(revoked_at__isnull=True),
                name="pickupcode_live_pin_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"pick-up code {self.pk}"


class Release(models.Model):
    """A child handed over to an authorised adult, with who confirmed it and when.

    Written on every release: the school's and the child's keys are searched through the
    (school, on_date) index and the once-a-day constraint, the releasing user's never (as
    `Visit`)."""

    school = _school_fk("releases", db_index=False)
    child = models.ForeignKey(
        "people.Child",
        on_delete=models.PROTECT,
        related_name="releases",
        verbose_name=_("child"),
        db_index=False,
    )
    school_class = models.ForeignKey(
        "people.SchoolClass",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("class"),
    )
    on_date = models.DateField(_("on"))
    released_at = models.DateTimeField(_("released at"))
    released_by = _user_fk(_("released by"), db_index=False)
    released_by_label = models.CharField(_("released by"), max_length=150, blank=True)
    guardian = models.ForeignKey(
        "people.Guardian",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("guardian"),
    )
    delegate = models.ForeignKey(
        PickupDelegate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("delegate"),
    )
    adult_name = models.CharField(_("collected by"), max_length=50)
    method = models.CharField(_("code"), max_length=10, choices=ReleaseMethod.choices)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("release")
        verbose_name_plural = _("releases")
        ordering = ["-released_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["child", "on_date"], name="release_once_a_day"),
        ]
        indexes = [models.Index(fields=["school", "on_date"])]

    def __str__(self) -> str:
        return f"{self.child_id} → {self.adult_name} ({self.on_date})"


class PickupRefusal(models.Model):
    """A refused pick-up attempt; the class teacher and the duty leader are alerted."""

    school = _school_fk()
    at = models.DateTimeField(_("at"))
    reason = models.CharField(_("reason"), max_length=20, choices=RefusalReason.choices)
    child = models.ForeignKey(
        "people.Child",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("child"),
    )
    code = models.ForeignKey(
        PickupCode,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("code"),
    )
    by = _user_fk(_("at the gate"))
    by_label = models.CharField(_("at the gate"), max_length=150, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("refused pick-up")
        verbose_name_plural = _("refused pick-ups")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["school", "at"])]

    def __str__(self) -> str:
        return f"{self.reason} @ {self.at:%Y-%m-%d %H:%M}"


class NotCollected(models.Model):
    """A child still waiting N minutes after dismissal (flagged once a day)."""

    school = _school_fk()
    child = models.ForeignKey(
        "people.Child", on_delete=models.CASCADE, related_name="+", verbose_name=_("child")
    )
    on_date = models.DateField(_("on"))
    flagged_at = models.DateTimeField(_("flagged at"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("child not collected")
        verbose_name_plural = _("children not collected")
        ordering = ["-flagged_at"]
        constraints = [
            models.UniqueConstraint(fields=["child", "on_date"], name="notcollected_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} not collected ({self.on_date})"
