"""The high-risk persons register (高危人员, §1 二(四), §2 13): police only (ADR 0017).

Everything that names or locates a person is encrypted at rest (core.crypto, AES-GCM): the
name, the resident ID number, the birth date, the address, the notes, the phonetic key of
the name, findings of follow-ups, notes of measures, the closing note and the photo. Two
keyed hashes (HMAC, with a domain of their own so they cannot be joined with the ID-number
hashes of children, guardians and staff) make screening fast without decrypting:

- `id_number_hash` finds a person by resident ID number exactly;
- `birth_date_hash` buckets people born on the same day; screening by name decrypts only
  that bucket's phonetic keys (about 50 rows in a register of a million).

Records belong to one police station (`station`); the members of that station and of its
campus police posts who hold `view_register` see them, nobody else (404, probe logged).
Audit rows of these models are sealed (`audit_sealed`): the general audit trail never lists
them; the record's own page shows them to the station's commander.

`__str__` never contains the name: anything that prints a record (logs, audit
`object_repr`, error pages) shows its reference number only.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huxiao.core import crypto
from huxiao.intel.choices import (
    Assessment,
    CloseReason,
    FollowUpMethod,
    MatchKind,
    MeasureKind,
    PersonStatus,
    RiskCategory,
    RiskLevel,
)
from huxiao.people.choices import Gender

_HASH_DOMAIN = "intel.register"


def register_id_hash(number: str) -> str:
    """Keyed hash of a normalized resident ID number, unlinkable to the people app's."""
    return crypto.lookup_hash(f"{_HASH_DOMAIN}:id:{number}")


def register_birth_hash(born: dt.date) -> str:
    return crypto.lookup_hash(f"{_HASH_DOMAIN}:birth:{born.isoformat()}")


def _decrypt(token: str) -> str:
    return crypto.decrypt(token) if token else ""


def _encrypt(text: str) -> str:
    return crypto.encrypt(text) if text else ""


class RegisterQuerySet(models.QuerySet):
    """Scoped by police station, not by school: see `huxiao.intel.rules`."""

    station_field = "station"

    def visible_to(self, principal, action: str):
        from huxiao.intel.rules import register_station_ids

        ids = register_station_ids(principal, action)
        if not ids:
            return self.none()
        return self.filter(**{f"{self.station_field}_id__in": ids})


class PersonQuerySet(RegisterQuerySet):
    def active(self):
        return self.filter(status=PersonStatus.ACTIVE)


class PersonPartQuerySet(RegisterQuerySet):
    station_field = "person__station"


class HighRiskPerson(models.Model):
    """A person registered by a police station as a risk to the schools near them."""

    audit_sealed = True
    audit_exclude = (
        "name_encrypted",
        "phonetic_encrypted",
        "id_number_encrypted",
        "id_number_hash",
        "birth_date_encrypted",
        "birth_date_hash",
        "address_encrypted",
        "notes_encrypted",
        "closed_note_encrypted",
    )

    station = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("police station"),
    )
    name_encrypted = models.TextField(_("name (encrypted)"))
    phonetic_encrypted = models.TextField(_("phonetic key of the name (encrypted)"))
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    id_number_encrypted = models.TextField(_("resident ID number (encrypted)"), blank=True)
    id_number_hash = models.CharField(
        _("resident ID number lookup hash"), max_length=64, blank=True, db_index=True
    )
    id_number_masked = models.CharField(_("resident ID number"), max_length=18, blank=True)
    birth_date_encrypted = models.TextField(_("birth date (encrypted)"))
    birth_date_hash = models.CharField(_("birth date lookup hash"), max_length=64, db_index=True)
    address_encrypted = models.TextField(_("address (encrypted)"), blank=True)
    notes_encrypted = models.TextField(_("notes (encrypted)"), blank=True)
    category = models.CharField(_("category"), max_length=30, choices=RiskCategory.choices)
    risk_level = models.CharField(_("risk level"), max_length=10, choices=RiskLevel.choices)
    related_schools = models.ManyToManyField(
        "orgs.Organization",
        blank=True,
        related_name="+",
        verbose_name=_("related schools"),
    )
    responsible_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible officer"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PersonStatus.choices, default=PersonStatus.ACTIVE
    )
    next_review_on = models.DateField(_("next review"), null=True, blank=True, db_index=True)
    closed_reason = models.CharField(
        _("reason for closing"), max_length=30, choices=CloseReason.choices, blank=True
    )
    closed_note_encrypted = models.TextField(_("closing note (encrypted)"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("high-risk person")
        verbose_name_plural = _("high-risk persons")
        ordering = ["-id"]
        indexes = [models.Index(fields=["station", "status", "next_review_on"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        """The record number shown instead of the name wherever a name must not appear."""
        return f"HR-{self.pk or 0:06d}"

    @property
    def is_active(self) -> bool:
        return self.status == PersonStatus.ACTIVE

    # Only selectors and services call these; they log the read (selectors.person_get…).
    def set_name(self, name: str, phonetic: str) -> None:
        self.name_encrypted = crypto.encrypt(name)
        self.phonetic_encrypted = crypto.encrypt(phonetic)

    def set_id_number(self, number: str) -> None:
        from huxiao.core.idcard import mask_id_number

        if number:
            self.id_number_encrypted = crypto.encrypt(number)
            self.id_number_hash = register_id_hash(number)
            self.id_number_masked = mask_id_number(number)
        else:
            self.id_number_encrypted = self.id_number_hash = self.id_number_masked = ""

    def set_birth_date(self, born: dt.date) -> None:
        self.birth_date_encrypted = crypto.encrypt(born.isoformat())
        self.birth_date_hash = register_birth_hash(born)

    def set_address(self, address: str) -> None:
        self.address_encrypted = _encrypt(address)

    def set_notes(self, notes: str) -> None:
        self.notes_encrypted = _encrypt(notes)

    def set_closed_note(self, note: str) -> None:
        self.closed_note_encrypted = _encrypt(note)

    def decrypt_name(self) -> str:
        return _decrypt(self.name_encrypted)

    def decrypt_id_number(self) -> str:
        return _decrypt(self.id_number_encrypted)

    def decrypt_birth_date(self) -> dt.date | None:
        text = _decrypt(self.birth_date_encrypted)
        return dt.date.fromisoformat(text) if text else None

    def decrypt_address(self) -> str:
        return _decrypt(self.address_encrypted)

    def decrypt_notes(self) -> str:
        return _decrypt(self.notes_encrypted)

    def decrypt_closed_note(self) -> str:
        return _decrypt(self.closed_note_encrypted)


class PersonPhoto(models.Model):
    """A photo of a registered person, encrypted in the database like the rest of the
    record (not a file under MEDIA_ROOT: no second place to secure, back up or wipe)."""

    audit_sealed = True
    audit_exclude = ("data_encrypted",)

    person = models.OneToOneField(
        HighRiskPerson, on_delete=models.CASCADE, related_name="photo", verbose_name=_("person")
    )
    content_type = models.CharField(_("content type"), max_length=20)
    size = models.PositiveIntegerField(_("size (bytes)"))
    data_encrypted = models.TextField(_("photo (encrypted)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now=True)

    objects = PersonPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("photo of a high-risk person")
        verbose_name_plural = _("photos of high-risk persons")

    def __str__(self) -> str:
        return f"{self.person.reference} photo"


class ControlMeasure(models.Model):
    """A control measure in force for a person (疏导、稳控、收治、管控)."""

    audit_sealed = True
    audit_exclude = ("notes_encrypted",)

    person = models.ForeignKey(
        HighRiskPerson,
        on_delete=models.CASCADE,
        related_name="measures",
        verbose_name=_("person"),
    )
    kind = models.CharField(_("measure"), max_length=20, choices=MeasureKind.choices)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible"),
    )
    notes_encrypted = models.TextField(_("notes (encrypted)"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = PersonPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("control measure")
        verbose_name_plural = _("control measures")
        ordering = ["-started_on", "-id"]

    def __str__(self) -> str:
        return f"{self.person.reference} {self.kind} {self.started_on}"

    def decrypt_notes(self) -> str:
        return _decrypt(self.notes_encrypted)

    def is_current(self, today: dt.date) -> bool:
        return self.started_on <= today and (self.ended_on is None or self.ended_on >= today)


class FollowUp(models.Model):
    """One follow-up of a person: when, how, what was found (动态轨迹)."""

    audit_sealed = True
    audit_exclude = ("finding_encrypted",)

    person = models.ForeignKey(
        HighRiskPerson,
        on_delete=models.CASCADE,
        related_name="follow_ups",
        verbose_name=_("person"),
    )
    on = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=20, choices=FollowUpMethod.choices)
    assessment = models.CharField(_("assessment"), max_length=30, choices=Assessment.choices)
    finding_encrypted = models.TextField(_("finding (encrypted)"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = PersonPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-on", "-id"]

    def __str__(self) -> str:
        return f"{self.person.reference} {self.on}"

    def decrypt_finding(self) -> str:
        return _decrypt(self.finding_encrypted)


class ScreeningHit(models.Model):
    """A gate screening that held a registered person: part of their movements."""

    audit_sealed = True

    person = models.ForeignKey(
        HighRiskPerson,
        on_delete=models.CASCADE,
        related_name="screening_hits",
        verbose_name=_("person"),
    )
    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("school"),
    )
    at = models.DateTimeField(_("at"))
    match = models.CharField(_("matched on"), max_length=20, choices=MatchKind.choices)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("screened by"),
    )
    screened_by_label = models.CharField(_("screened by"), max_length=150, blank=True)

    objects = PersonPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("gate screening hit")
        verbose_name_plural = _("gate screening hits")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.person.reference} {self.at:%Y-%m-%d %H:%M}"


# --------------------------------------------------------------------------------------------
# Warnings both ways (ADR 0019): warning signs 苗头性信息 (school → police) and early
# warnings 预警 (police → schools). Scoped by school like the rest of the platform.

from huxiao.core.scoping import ScopedQuerySet  # noqa: E402
from huxiao.intel.warnings_choices import (  # noqa: E402
    SignCategory,
    SignStatus,
    TimeNode,
    WarningLevel,
)


class WarningSign(models.Model):
    """A warning sign reported by a school to the police station of its jurisdiction."""

    scope_school_field = "school"

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="warning_signs",
        verbose_name=_("school"),
    )
    category = models.CharField(_("category"), max_length=30, choices=SignCategory.choices)
    description = models.TextField(_("description"))
    observed_at = models.DateTimeField(_("observed at"), null=True, blank=True)
    observed_place = models.CharField(_("observed where"), max_length=200, blank=True)
    time_node = models.CharField(
        _("special time node"), max_length=30, choices=TimeNode.choices, blank=True
    )
    status = models.CharField(
        _("status"), max_length=20, choices=SignStatus.choices, default=SignStatus.REPORTED
    )
    reported_at = models.DateTimeField(_("reported at"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("reported by"),
    )
    feedback = models.TextField(_("police feedback"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("warning sign")
        verbose_name_plural = _("warning signs")
        ordering = ["-reported_at", "-id"]
        indexes = [models.Index(fields=["school", "status"], name="intel_sign_school_status")]

    def __str__(self) -> str:
        return f"warning sign #{self.pk}"

    @property
    def is_special_time(self) -> bool:
        return bool(self.time_node)


class WarningSignAttachment(models.Model):
    """A file of a warning sign; served only through a scoped view, never from /media/."""

    scope_school_field = "sign__school"

    sign = models.ForeignKey(
        WarningSign,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("warning sign"),
    )
    file = models.FileField(_("file"), upload_to="intel/warning_signs/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("warning sign attachment")
        verbose_name_plural = _("warning sign attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"attachment #{self.pk} of warning sign #{self.sign_id}"


class WarningSignEvent(models.Model):
    """The timeline of a warning sign: reported and each police transition with its note."""

    scope_school_field = "sign__school"

    sign = models.ForeignKey(
        WarningSign, on_delete=models.CASCADE, related_name="events", verbose_name=_("warning sign")
    )
    status = models.CharField(_("status"), max_length=20, choices=SignStatus.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("warning sign event")
        verbose_name_plural = _("warning sign events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.sign} {self.status}"


class EarlyWarningQuerySet(models.QuerySet):
    """An early warning is visible to whoever may act on one of its recipient schools."""

    def visible_to(self, principal, action: str):
        from huxiao.core.scoping import visible_school_ids

        ids = visible_school_ids(principal, action)
        if not ids:
            return self.none()
        return self.filter(
            pk__in=EarlyWarningRecipient.objects.filter(school_id__in=ids).values("warning_id")
        )


class EarlyWarning(models.Model):
    """An early warning issued by a police station (or post) to schools of its jurisdiction."""

    issuer = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="early_warnings",
        verbose_name=_("issued by (station)"),
    )
    title = models.CharField(_("title"), max_length=200)
    content = models.TextField(_("content"))
    level = models.CharField(_("level"), max_length=10, choices=WarningLevel.choices)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("issued by"),
    )

    objects = EarlyWarningQuerySet.as_manager()

    class Meta:
        verbose_name = _("early warning")
        verbose_name_plural = _("early warnings")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("valid_from")),
                name="earlywarning_valid_period",
            )
        ]

    def __str__(self) -> str:
        return f"early warning #{self.pk}"

    def is_active_at(self, now) -> bool:
        return self.valid_from <= now < self.valid_until


class EarlyWarningRecipient(models.Model):
    """One school an early warning was sent to, and its acknowledgement of receipt."""

    scope_school_field = "school"

    warning = models.ForeignKey(
        EarlyWarning,
        on_delete=models.CASCADE,
        related_name="recipients",
        verbose_name=_("early warning"),
    )
    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="early_warnings_received",
        verbose_name=_("school"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_by_label = models.CharField(_("acknowledged by"), max_length=150, blank=True)
    chase_count = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    last_chased_at = models.DateTimeField(_("last reminder at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("early warning recipient")
        verbose_name_plural = _("early warning recipients")
        ordering = ["warning_id", "school__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["warning", "school"], name="earlywarning_one_per_school"
            )
        ]
        indexes = [models.Index(fields=["acknowledged_at", "warning"], name="intel_ewr_unacked")]

    def __str__(self) -> str:
        return f"{self.warning} → school #{self.school_id}"


# ------------------------------------------------------------------ school-related cases

from huxiao.intel.cases_choices import CaseCategory, CaseStatus  # noqa: E402


class SchoolCase(models.Model):
    """A school-related case (涉校涉园案件) kept by the police station of the school (ADR 0021).

    Its links to high-risk persons are shown only to the keepers of the station's register.
    """

    scope_school_field = "school"

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="school_cases",
        verbose_name=_("school"),
    )
    station = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="station_cases",
        verbose_name=_("police station"),
    )
    case_number = models.CharField(_("case number"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    category = models.CharField(_("category"), max_length=30, choices=CaseCategory.choices)
    description = models.TextField(_("description"), blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("dedicated officer"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.REGISTERED
    )
    registered_at = models.DateTimeField(_("registered at"))
    investigating_at = models.DateTimeField(_("investigation started at"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved at"), null=True, blank=True)
    referred_at = models.DateTimeField(_("referred at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    alarms = models.ManyToManyField(
        "alarms.Alarm", blank=True, related_name="school_cases", verbose_name=_("alarms")
    )
    warning_signs = models.ManyToManyField(
        WarningSign, blank=True, related_name="school_cases", verbose_name=_("warning signs")
    )
    persons = models.ManyToManyField(
        HighRiskPerson,
        blank=True,
        related_name="school_cases",
        verbose_name=_("high-risk persons"),
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("school-related case")
        verbose_name_plural = _("school-related cases")
        ordering = ["-registered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "case_number"], name="schoolcase_number_per_station"
            )
        ]
        indexes = [models.Index(fields=["station", "status"], name="intel_case_station_status")]

    def __str__(self) -> str:
        return f"case #{self.pk}"

    @property
    def days_to_solve(self) -> float | None:
        """Days from registration to solution, one decimal; None while unsolved."""
        if self.solved_at is None:
            return None
        return round((self.solved_at - self.registered_at).total_seconds() / 86400, 1)


class CaseEvent(models.Model):
    """The timeline of a case: registration, edits and each transition, with a note."""

    scope_school_field = "case__school"

    case = models.ForeignKey(
        SchoolCase, on_delete=models.CASCADE, related_name="events", verbose_name=_("case")
    )
    kind = models.CharField(_("what"), max_length=20)
    status = models.CharField(_("status"), max_length=20, choices=CaseStatus.choices)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.case} {self.kind}"
