"""Regions (counties), towns, organizations and memberships."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import SCHOOL_KINDS, OrgKind, Role
from huxiao.core.scoping import ScopedQuerySet, visible_school_ids


class Region(models.Model):
    """A county (区县): the widest scope of a HuXiao deployment."""

    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("administrative code"), max_length=12, unique=True)

    class Meta:
        verbose_name = _("county")
        verbose_name_plural = _("counties")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Town(models.Model):
    """A township or town (乡镇) within a county."""

    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="towns", verbose_name=_("county")
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("administrative code"), max_length=12, unique=True)

    class Meta:
        verbose_name = _("town")
        verbose_name_plural = _("towns")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SchoolStage(models.TextChoices):
    KINDERGARTEN = "kindergarten", _("Kindergarten")
    PRIMARY = "primary", _("Primary school")
    MIDDLE = "middle", _("Middle school")
    NINE_YEAR = "nine_year", _("Nine-year school")
    HIGH = "high", _("High school")


class Ownership(models.TextChoices):
    PUBLIC = "public", _("Public")
    PRIVATE = "private", _("Private")


class OrganizationQuerySet(ScopedQuerySet):
    def schools(self):
        return self.filter(kind__in=SCHOOL_KINDS)

    def visible_to(self, principal, action: str = "view"):
        """Schools in scope for `action`, plus (for viewing) the principal's own offices and
        the offices linked to those schools."""
        school_ids = visible_school_ids(principal, action)
        if action != "view" or getattr(principal, "is_device", False):
            return self.filter(pk__in=school_ids) if school_ids else self.none()
        from huxiao.core.scoping import memberships_of

        own = {m.organization_id for m in memberships_of(principal)}
        if getattr(principal, "is_superuser", False):
            return self.all()
        if not school_ids and not own:
            return self.none()
        linked = models.Q(schools_policed__in=school_ids) | models.Q(schools_posted__in=school_ids)
        linked |= models.Q(schools_supervised__in=school_ids) | models.Q(
            schools_served__in=school_ids
        )
        return self.filter(models.Q(pk__in=school_ids) | models.Q(pk__in=own) | linked).distinct()


class Organization(models.Model):
    """A school, kindergarten, police station or post, office, health centre or government.

    School-only fields are blank for other kinds; `organization_update` enforces that.
    """

    scope_school_field = "id"

    kind = models.CharField(_("kind"), max_length=32, choices=OrgKind.choices)
    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="organizations", verbose_name=_("county")
    )
    town = models.ForeignKey(
        Town,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
        verbose_name=_("town"),
        help_text=_("Empty for county-level organizations."),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent organization"),
        help_text=_("E.g. the police station a campus police post belongs to."),
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    # School-only details (§2 3: the operator and landlord of rented premises are answerable).
    stage = models.CharField(
        _("school stage"), max_length=20, choices=SchoolStage.choices, blank=True
    )
    is_boarding = models.BooleanField(_("boarding school"), default=False)
    ownership = models.CharField(
        _("ownership"), max_length=10, choices=Ownership.choices, blank=True
    )
    is_registered = models.BooleanField(_("registered with the education office"), default=True)
    operator = models.CharField(_("operator (举办者)"), max_length=200, blank=True)
    landlord = models.CharField(_("landlord of rented premises"), max_length=200, blank=True)
    enrolment = models.PositiveIntegerField(_("enrolment"), default=0)
    police_station = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="schools_policed",
        limit_choices_to={"kind": OrgKind.POLICE_STATION},
        verbose_name=_("police station"),
    )
    police_post = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="schools_posted",
        limit_choices_to={"kind": OrgKind.POLICE_POST},
        verbose_name=_("campus police post"),
    )
    education_office = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="schools_supervised",
        limit_choices_to={"kind": OrgKind.EDUCATION_OFFICE},
        verbose_name=_("education office"),
    )
    health_centre = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="schools_served",
        limit_choices_to={"kind": OrgKind.HEALTH_CENTRE},
        verbose_name=_("health centre"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["region_id", "town_id", "kind", "name"]
        indexes = [
            models.Index(fields=["kind", "town"]),
            models.Index(fields=["kind", "region"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_school(self) -> bool:
        return self.kind in SCHOOL_KINDS

    @property
    def is_county_level(self) -> bool:
        """A county office (no town). A school without a town is still just a school."""
        return self.town_id is None and not self.is_school


class Membership(models.Model):
    """A user's role in one organization; a user may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organization"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    title = models.CharField(_("title"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "role"], name="membership_unique_role"
            )
        ]
        ordering = ["organization__name", "role"]

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} · {self.get_role_display()}"
