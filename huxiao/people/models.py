"""Staff, classes, children and their guardians / authorised pick-up persons."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huxiao.core import crypto
from huxiao.core.scoping import ScopedQuerySet
from huxiao.people.choices import BackgroundCheck, Gender, Relationship, StaffRole


class IdNumberFields(models.Model):
    """A resident ID number stored encrypted, with a keyed hash and a masked copy.

    The plain number is never stored; reading it goes through a service that logs the read.
    """

    id_number_encrypted = models.TextField(_("resident ID number (encrypted)"), blank=True)
    id_number_hash = models.CharField(
        _("resident ID number lookup hash"), max_length=64, blank=True, db_index=True
    )
    id_number_masked = models.CharField(_("resident ID number"), max_length=18, blank=True)

    audit_exclude = ("id_number_encrypted", "id_number_hash")

    class Meta:
        abstract = True

    def set_id_number(self, number: str) -> None:
        """Store an already-validated, normalized number (see core.idcard)."""
        from huxiao.core.idcard import mask_id_number

        if number:
            self.id_number_encrypted = crypto.encrypt(number)
            self.id_number_hash = crypto.lookup_hash(number)
            self.id_number_masked = mask_id_number(number)
        else:
            self.id_number_encrypted = self.id_number_hash = self.id_number_masked = ""

    def decrypt_id_number(self) -> str:
        """Only for services that log the read (people.services.*_reveal_id_number)."""
        return crypto.decrypt(self.id_number_encrypted) if self.id_number_encrypted else ""


class Staff(IdNumberFields):
    """A member of a school's staff, with or without a HuXiao login."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="staff",
        verbose_name=_("school"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_records",
        verbose_name=_("login"),
    )
    name = models.CharField(_("name"), max_length=50)
    role = models.CharField(_("post"), max_length=32, choices=StaffRole.choices)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    background_check = models.CharField(
        _("background check"),
        max_length=10,
        choices=BackgroundCheck.choices,
        default=BackgroundCheck.NOT_DONE,
    )
    background_checked_on = models.DateField(_("background check date"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["school_id", "role", "name"]

    def __str__(self) -> str:
        return self.name


class Certificate(models.Model):
    """A staff certificate (security guard licence, teacher's, health certificate…)."""

    scope_school_field = "staff__school"

    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="certificates", verbose_name=_("staff member")
    )
    kind = models.CharField(_("certificate"), max_length=100)
    number = models.CharField(_("number"), max_length=64, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["expires_on"]

    def __str__(self) -> str:
        return f"{self.kind} {self.number}".strip()


class SchoolClass(models.Model):
    """A class (班级) of a school or kindergarten."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="classes",
        verbose_name=_("school"),
    )
    name = models.CharField(_("name"), max_length=50)
    grade = models.CharField(_("grade"), max_length=20, blank=True)
    head_teacher = models.ForeignKey(
        Staff,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="classes_led",
        verbose_name=_("head teacher"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ["school_id", "grade", "name"]
        constraints = [models.UniqueConstraint(fields=["school", "name"], name="class_unique_name")]

    def __str__(self) -> str:
        return self.name


class Child(IdNumberFields):
    """A child or pupil enrolled at a school."""

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="children_enrolled",
        verbose_name=_("school"),
    )
    school_class = models.ForeignKey(
        SchoolClass, on_delete=models.PROTECT, related_name="children", verbose_name=_("class")
    )
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    is_active = models.BooleanField(_("enrolled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("child")
        verbose_name_plural = _("children")
        ordering = ["school_class_id", "name", "id"]
        indexes = [models.Index(fields=["school", "school_class", "name"])]
        constraints = [
            models.UniqueConstraint(
                fields=["school", "id_number_hash"],
                condition=~models.Q(id_number_hash=""),
                name="child_unique_id_number_per_school",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Guardian(IdNumberFields):
    """A guardian of a child, or another adult the family authorised to pick the child up."""

    scope_school_field = "child__school"

    child = models.ForeignKey(
        Child, on_delete=models.CASCADE, related_name="guardians", verbose_name=_("child")
    )
    name = models.CharField(_("name"), max_length=50)
    relationship = models.CharField(_("relationship"), max_length=20, choices=Relationship.choices)
    phone = models.CharField(_("phone"), max_length=20)
    can_pick_up = models.BooleanField(_("authorised to pick up"), default=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("guardian")
        verbose_name_plural = _("guardians")
        ordering = ["child_id", "-is_primary", "id"]

    def __str__(self) -> str:
        return self.name
