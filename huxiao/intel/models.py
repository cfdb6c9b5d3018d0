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
