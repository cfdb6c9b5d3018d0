"""School buses, drivers, safety officers, routes, riders, trips with boarding records, and
police inspections with their findings (issue 8 items 4–6; §1 二(三), §2 12; ADR 0031).

- `Bus` and `Driver` belong to the school whose pupils they carry (the operator is a field:
  a bus company or the school itself). A driver's violations are `DriverViolation` rows.
- Bus safety officers (照管员) are `people.Staff` rows of the school.
- `Route` has ordered `RouteStop`s and `RouteRider`s (a child, its stop; a child rides at
  most one active route).
- `Trip` is one run of a route in one direction on one day with the bus, driver and safety
  officer actually used; the checks at its start (overload, expired documents, no safety
  officer) refuse it or flag it (`TripFlag`), in real time to the school and the police.
  `Boarding` is one child's boarding and alighting on a trip: the child's bus contacts
  (health issue's contact tracing) and the children who boarded but never arrived.
- `BusInspection` is a police check (scheduled or random) with `BusFinding`s and follow-up.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from huxiao.core.model_fields import school_fk, user_fk
from huxiao.core.scoping import ScopedQuerySet
from huxiao.transport.choices import (
    Direction,
    FindingKind,
    FindingStatus,
    InspectionKind,
    LicenceClass,
    TripFlagKind,
    TripStatus,
)


class Bus(models.Model):
    school = school_fk("buses")
    plate = models.CharField(_("number plate"), max_length=12)
    seats = models.PositiveSmallIntegerField(_("approved seats"))
    operator = models.CharField(_("operator"), max_length=200, blank=True)
    model_name = models.CharField(_("make and model"), max_length=100, blank=True)
    permit_number = models.CharField(_("school-bus permit number"), max_length=50, blank=True)
    permit_expires_on = models.DateField(_("permit expires on"), null=True, blank=True)
    insurance_expires_on = models.DateField(_("insurance expires on"), null=True, blank=True)
    inspection_expires_on = models.DateField(
        _("safety inspection valid until"), null=True, blank=True
    )
    markings_compliant = models.BooleanField(_("GB 24315 markings"), default=False)
    is_active = models.BooleanField(_("in service"), default=True)
    notes = models.CharField(_("remarks"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("school bus")
        verbose_name_plural = _("school buses")
        ordering = ["school_id", "plate"]
        constraints = [
            models.UniqueConstraint(
                fields=["plate"], condition=Q(is_active=True), name="transport_bus_plate_active"
            ),
            models.CheckConstraint(condition=Q(seats__gt=0), name="transport_bus_seats"),
        ]

    def __str__(self) -> str:
        return self.plate


class Driver(models.Model):
    school = school_fk("bus_drivers")
    name = models.CharField(_("driver"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    employer = models.CharField(_("employer"), max_length=200, blank=True)
    licence_number = models.CharField(_("driving licence number"), max_length=30, blank=True)
    licence_class = models.CharField(_("licence class"), max_length=4, choices=LicenceClass.choices)
    licence_expires_on = models.DateField(_("licence expires on"), null=True, blank=True)
    qualification_number = models.CharField(
        _("school-bus driver qualification"), max_length=50, blank=True
    )
    qualification_expires_on = models.DateField(
        _("qualification expires on"), null=True, blank=True
    )
    health_checked_on = models.DateField(_("last health check"), null=True, blank=True)
    health_check_expires_on = models.DateField(_("health check valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("in service"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("bus driver")
        verbose_name_plural = _("bus drivers")
        ordering = ["school_id", "name", "id"]

    def __str__(self) -> str:
        return self.name


class DriverViolation(models.Model):
    scope_school_field = "driver__school"

    driver = models.ForeignKey(
        Driver, on_delete=models.CASCADE, related_name="violations", verbose_name=_("driver")
    )
    occurred_on = models.DateField(_("date"))
    description = models.CharField(_("violation"), max_length=300)
    points = models.PositiveSmallIntegerField(_("penalty points"), default=0)
    created_by = user_fk(_("recorded by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("driver violation")
        verbose_name_plural = _("driver violations")
        ordering = ["-occurred_on", "-id"]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.description}"


class Route(models.Model):
    school = school_fk("bus_routes")
    name = models.CharField(_("route"), max_length=100)
    bus = models.ForeignKey(
        Bus,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routes",
        verbose_name=_("usual bus"),
    )
    driver = models.ForeignKey(
        Driver,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routes",
        verbose_name=_("usual driver"),
    )
    safety_officer = models.ForeignKey(
        "people.Staff",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bus_routes",
        verbose_name=_("usual safety officer"),
    )
    is_active = models.BooleanField(_("in service"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = user_fk(_("updated by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("bus route")
        verbose_name_plural = _("bus routes")
        ordering = ["school_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="transport_route_name")
        ]

    def __str__(self) -> str:
        return self.name


class RouteStop(models.Model):
    scope_school_field = "route__school"

    route = models.ForeignKey(
        Route, on_delete=models.CASCADE, related_name="stops", verbose_name=_("route")
    )
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("stop"), max_length=100)
    morning_time = models.TimeField(_("morning pick-up"), null=True, blank=True)
    afternoon_time = models.TimeField(_("afternoon drop-off"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("bus stop")
        verbose_name_plural = _("bus stops")
        ordering = ["route_id", "order", "id"]

    def __str__(self) -> str:
        return self.name


class RouteRider(models.Model):
    """A child riding a route from or to a stop. A child rides at most one active route."""

    scope_school_field = "route__school"

    route = models.ForeignKey(
        Route, on_delete=models.CASCADE, related_name="riders", verbose_name=_("route")
    )
    child = models.ForeignKey(
        "people.Child", on_delete=models.CASCADE, related_name="bus_rides", verbose_name=_("child")
    )
    stop = models.ForeignKey(
        RouteStop, on_delete=models.PROTECT, related_name="riders", verbose_name=_("stop")
    )
    is_active = models.BooleanField(_("riding"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("bus rider")
        verbose_name_plural = _("bus riders")
        ordering = ["route_id", "stop__order", "child__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["child"], condition=Q(is_active=True), name="transport_one_route_per_child"
            )
        ]

    def __str__(self) -> str:
        return f"{self.child_id} on {self.route_id}"


class Trip(models.Model):
    """One run of a route in one direction on one day."""

    school = school_fk("bus_trips")
    route = models.ForeignKey(
        Route, on_delete=models.PROTECT, related_name="trips", verbose_name=_("route")
    )
    date = models.DateField(_("date"))
    direction = models.CharField(_("direction"), max_length=12, choices=Direction.choices)
    bus = models.ForeignKey(
        Bus, on_delete=models.PROTECT, related_name="trips", verbose_name=_("bus")
    )
    driver = models.ForeignKey(
        Driver, on_delete=models.PROTECT, related_name="trips", verbose_name=_("driver")
    )
    safety_officer = models.ForeignKey(
        "people.Staff",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bus_trips",
        verbose_name=_("safety officer"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=TripStatus.choices, default=TripStatus.UNDERWAY
    )
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    riders_at_start = models.PositiveSmallIntegerField(_("riders at departure"), default=0)
    refuse_reason = models.CharField(_("reason refused"), max_length=300, blank=True)
    started_by = user_fk(_("started by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("bus trip")
        verbose_name_plural = _("bus trips")
        ordering = ["-date", "-started_at", "-id"]
        indexes = [models.Index(fields=["route", "date"], name="transport_trip_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["route", "date", "direction"],
                condition=~Q(status="refused"),
                name="transport_trip_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.route_id} {self.date} {self.direction}"


class Boarding(models.Model):
    """One child on one trip: when they boarded and alighted, and who ticked them."""

    scope_school_field = "trip__school"

    trip = models.ForeignKey(
        Trip, on_delete=models.CASCADE, related_name="boardings", verbose_name=_("trip")
    )
    child = models.ForeignKey(
        "people.Child", on_delete=models.PROTECT, related_name="boardings", verbose_name=_("child")
    )
    stop = models.ForeignKey(
        RouteStop,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("stop"),
    )
    boarded_at = models.DateTimeField(_("boarded at"))
    alighted_at = models.DateTimeField(_("alighted at"), null=True, blank=True)
    recorded_by = user_fk(_("recorded by"))

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("boarding")
        verbose_name_plural = _("boardings")
        ordering = ["trip_id", "boarded_at", "id"]
        indexes = [models.Index(fields=["child", "boarded_at"], name="transport_boarding_child")]
        constraints = [
            models.UniqueConstraint(fields=["trip", "child"], name="transport_boarding_once"),
            models.CheckConstraint(
                condition=Q(alighted_at__isnull=True) | Q(alighted_at__gte=models.F("boarded_at")),
                name="transport_boarding_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} on trip {self.trip_id}"


class TripFlag(models.Model):
    """Something wrong with a trip, sent in real time to the school and the police."""

    scope_school_field = "trip__school"

    trip = models.ForeignKey(
        Trip, on_delete=models.CASCADE, related_name="flags", verbose_name=_("trip")
    )
    kind = models.CharField(_("problem"), max_length=20, choices=TripFlagKind.choices)
    detail = models.CharField(_("details"), max_length=300, blank=True)
    child = models.ForeignKey(
        "people.Child",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("child"),
    )
    at = models.DateTimeField(_("at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = user_fk(_("resolved by"))
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("trip flag")
        verbose_name_plural = _("trip flags")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} trip {self.trip_id}"


class BusInspection(models.Model):
    """A police check of a school bus, scheduled or random (spot check on the road)."""

    school = school_fk("bus_inspections")
    bus = models.ForeignKey(
        Bus, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("bus")
    )
    trip = models.ForeignKey(
        Trip,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inspections",
        verbose_name=_("trip"),
    )
    driver = models.ForeignKey(
        Driver,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inspections",
        verbose_name=_("driver"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=InspectionKind.choices)
    inspected_at = models.DateTimeField(_("checked at"))
    location = models.CharField(_("place"), max_length=200, blank=True)
    inspector = user_fk(_("inspector"), related_name="bus_inspections")
    station = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bus_inspections_made",
        verbose_name=_("police station"),
    )
    riders_counted = models.PositiveSmallIntegerField(_("riders counted"), null=True, blank=True)
    seats = models.PositiveSmallIntegerField(_("approved seats"))
    speed_kmh = models.PositiveSmallIntegerField(_("speed (km/h)"), null=True, blank=True)
    speed_limit_kmh = models.PositiveSmallIntegerField(
        _("speed limit (km/h)"), null=True, blank=True
    )
    driving_minutes = models.PositiveSmallIntegerField(
        _("continuous driving (minutes)"), null=True, blank=True
    )
    safety_officer_present = models.BooleanField(_("safety officer on board"), default=True)
    documents_ok = models.BooleanField(_("documents valid"), default=True)
    notes = models.TextField(_("remarks"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("bus inspection")
        verbose_name_plural = _("bus inspections")
        ordering = ["-inspected_at", "-id"]

    def __str__(self) -> str:
        return f"{self.bus_id} {self.inspected_at:%Y-%m-%d}"


class BusFinding(models.Model):
    scope_school_field = "inspection__school"

    inspection = models.ForeignKey(
        BusInspection,
        on_delete=models.CASCADE,
        related_name="findings",
        verbose_name=_("inspection"),
    )
    kind = models.CharField(_("finding"), max_length=20, choices=FindingKind.choices)
    detail = models.CharField(_("details"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    follow_up = models.TextField(_("follow-up"), blank=True, max_length=2000)
    deadline = models.DateField(_("correct by"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = user_fk(_("resolved by"))
    hazard = models.ForeignKey(
        "hazards.Hazard",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bus_findings",
        verbose_name=_("hazard"),
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection finding")
        verbose_name_plural = _("inspection findings")
        ordering = ["inspection_id", "id"]

    def __str__(self) -> str:
        return self.get_kind_display()
