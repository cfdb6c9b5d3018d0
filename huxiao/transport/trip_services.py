"""Writes of bus trips, boarding and trip flags (issue 8 items 5–6; ADR 0031 "Trips").

- `trip_start`: the bus safety officer starts a route's trip of today in one direction with
  the route's usual bus, driver and safety officer (or others of the school). A bad
  assignment is an error and writes nothing: an unknown or foreign bus, driver or person,
  a bus or driver whose documents are not valid on the day (`checks.bus_problems`,
  `checks.driver_problems`, named in the message). An unsafe departure — nobody as safety
  officer, more riders on board than the bus's seats — is REFUSED and recorded: a trip
  with status "refused" and its reason, and a `TripFlag` per problem sent at once to the
  school and the police of its station (the police want to know a bus tried). A second
  trip of the same route, day and direction while one is under way or done is a 409.
- `boarding_board` / `boarding_alight` / `boarding_scan` / `boarding_alight_all`: the tick
  list. A child not riding the route boards only with a confirmation (recorded without a
  stop, and in the audit row). Boarding beyond the seats is refused (409) and raises the
  overload flag once per trip.
- `trip_end`: children ticked on board and never off get one NOT_ARRIVED flag each, sent
  at once to the school (principal, security officers, the child's head teacher) and the
  police; `trips_overdue` (periodic) flags a trip still under way two hours after its start.
- `flag_resolve`: a flag is closed with a note by the school's transport keepers
  (MANAGE_TRANSPORT) or the one who ran the trip.

Order of checks: the row through the actor's scope (404), the right (403), the state
(`TripConflict`, 409 with a sentence), the input (ValidationError by field, 400). Every
write is audited in its transaction; notifications go out after commit (notify_send).
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.access import codes
from huxiao.access.models import PickupCode
from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_create, audit_record, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.duty.duty_selectors import _id, require_any
from huxiao.notify.services import notify_send
from huxiao.orgs.models import Organization
from huxiao.people import validation as v
from huxiao.people.models import Child, Staff
from huxiao.transport import checks
from huxiao.transport import trip_selectors as sel
from huxiao.transport.choices import Direction, TripFlagKind, TripStatus
from huxiao.transport.models import Boarding, Bus, Driver, Route, RouteRider, Trip, TripFlag
from huxiao.transport.notify import platform_text, told_about_one

TRIP_FLAG_EVENT = "transport.trip_flag"
OVERDUE_AFTER = dt.timedelta(hours=2)
TEXT_MAX = 300
# Riders a page or client may type at departure: above any real bus, below absurd.
RIDERS_MAX = 200
CHILDREN_MAX = 200


class _Usual:
    """ "The route's usual one" (bus, driver, safety officer) — distinct from None, which
    for the safety officer means "nobody on board"."""

    def __repr__(self) -> str:
        return "USUAL"


USUAL = _Usual()


class TripConflict(ValidationError):
    """A step the state of a trip does not allow (a second run, a trip ended or refused, a
    full bus). `code` is "transition"; pages and the API answer 409 with the message."""

    def __init__(self, message):
        super().__init__(message, code="transition")


class OffRoute(ValidationError):
    """The child does not ride this route: boarding needs a confirmation (400 on `child`,
    code "off_route")."""

    def __init__(self, child: Child):
        self.child = child
        super().__init__(
            {
                "child": [
                    ValidationError(
                        _("%(name)s does not ride this route. Confirm to take them on board.")
                        % {"name": child.name},
                        code="off_route",
                    )
                ]
            }
        )


def _stored(message, **params) -> str:
    """A sentence stored on a record (a refusal's reason, a flag's detail): in the
    platform's language whoever acted, like the notifications that carry it."""
    return platform_text(message, params)[:TEXT_MAX]


def _hm(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def _pk_or_none(value) -> int | None:
    try:
        return _id(value)
    except Http404:
        return None


# ------------------------------------------------------------------ flags and who hears


def flag_recipients(school: Organization, child: Child | None = None) -> list[int]:
    """User ids told about a trip flag: who hears about the school's buses (the school's
    principals and security officers, the police of its station and campus post), and for a
    child the head teacher of their class when they have a login; in a stable order."""
    ids = told_about_one(school)
    teacher = _head_teacher(child)
    if teacher is not None and teacher.user_id and teacher.user.is_active:
        ids.append(teacher.user_id)
    return list(dict.fromkeys(ids))


def _head_teacher(child: Child | None) -> Staff | None:
    if child is None:
        return None
    school_class = child.school_class
    return school_class.head_teacher if school_class.head_teacher_id else None


def _flag_message(flag: TripFlag) -> tuple[str, str]:
    trip = flag.trip
    with translation.override(settings.LANGUAGE_CODE):
        facts = {
            "school": trip.school.name,
            "route": trip.route.name,
            "direction": str(trip.get_direction_display()),
            "date": trip.date.isoformat(),
            "plate": trip.bus.plate,
            "detail": flag.detail,
        }
        if flag.kind == TripFlagKind.NOT_ARRIVED and flag.child_id:
            title = _("Urgent: %(child)s boarded the school bus and has not arrived (%(school)s)")
            facts["child"] = flag.child.name
        elif flag.kind == TripFlagKind.NOT_ARRIVED:
            title = _("Urgent: a school bus of %(school)s is still under way")
        else:
            title = _("School bus flag at %(school)s: %(kind)s")
            facts["kind"] = str(flag.get_kind_display())
        body = _("%(route)s, %(direction)s, %(date)s, bus %(plate)s: %(detail)s")
        return str(title) % facts, str(body) % facts


def _flag_raise(*, actor, trip: Trip, kind: str, detail: str, now, child: Child | None = None):
    """Record a flag in the caller's transaction and send it once that commits. `detail`
    is a stored sentence (`_stored`)."""
    flag = TripFlag.objects.create(trip=trip, kind=kind, detail=detail, child=child, at=now)
    audit_create(actor=actor, obj=flag, school=trip.school_id)
    title, body = _flag_message(flag)
    teacher = _head_teacher(child)
    notify_send(
        organizations=[
            trip.school_id,
            *[pk for pk in (trip.school.police_station_id, trip.school.police_post_id) if pk],
        ],
        event_type=TRIP_FLAG_EVENT,
        title=title,
        body=body,
        payload={
            "flag_id": flag.pk,
            "trip_id": trip.pk,
            "school_id": trip.school_id,
            "kind": kind,
            "child_id": child.pk if child else None,
        },
        recipients=flag_recipients(trip.school, child),
        mention_phones=[teacher.phone] if teacher is not None and teacher.phone else [],
        dedupe_key=f"{TRIP_FLAG_EVENT}.{flag.pk}",
    )
    return flag


# ------------------------------------------------------------------ starting a trip


def _route_for(actor, route_id, school_id) -> Route:
    """A route of a school where the actor runs trips, or a field error (the same one for
    a route of another school and one that does not exist)."""
    route = (
        Route.objects.visible_to(actor, Action.RUN_TRIP)
        .filter(pk=_pk_or_none(route_id) or 0)
        .select_related("school", "bus", "driver", "safety_officer")
        .first()
    )
    if route is None or (school_id is not None and route.school_id != school_id):
        raise ValidationError(_("Choose a bus route of your school."), code="invalid")
    if not route.is_active:
        raise ValidationError(_("This route is no longer in service."), code="inactive")
    return route


def _direction(value) -> str:
    if value not in Direction.values:
        raise ValidationError(_("Choose to school or home."), code="invalid")
    return value


def _pick(model, value, usual, *, school_id: int, message):
    """The usual row (USUAL) or the school's row with the id `value`."""
    if value is USUAL:
        return usual
    pk = _pk_or_none(value)
    row = model.objects.filter(pk=pk, school_id=school_id).first() if pk else None
    if row is None:
        raise ValidationError(message, code="invalid")
    return row


def _assigned(field: str, model, value, usual, route: Route, errors: v.FieldErrors, **how):
    """The trip's bus or driver: the route's usual one (USUAL) or another of the school,
    with its document problems on the day as errors on `field`. `how`: `wrong` (not one
    of the school), `missing` (the route has none) and `problems` (row → pairs)."""
    row = errors.run(
        field, _pick, model, value, usual, school_id=route.school_id, message=how["wrong"]
    )
    if row is None:
        if field not in errors.errors:
            errors.add(field, how["missing"])
        return None
    for _name, problem in how["problems"](row):
        errors.add(field, problem)
    return row


def _safety_officer(route: Route, officer_id, errors: v.FieldErrors) -> Staff | None:
    """The staff member on board as safety officer; None when nobody is (then the trip is
    refused, not an input error)."""
    if officer_id is None or (officer_id is USUAL and route.safety_officer_id is None):
        return None
    officer = errors.run(
        "safety_officer",
        _pick,
        Staff,
        officer_id,
        route.safety_officer,
        school_id=route.school_id,
        message=_("Choose a staff member of this school."),
    )
    if officer is not None and not officer.is_active:
        errors.add(
            "safety_officer",
            _("%(name)s no longer works at the school: choose someone else.")
            % {"name": officer.name},
        )
    return officer


def _riders(value, errors: v.FieldErrors) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.add("riders", _("Enter a whole number."))
        return None
    if not 0 <= number <= RIDERS_MAX:
        errors.add("riders", _("Enter a number from 0 to %(max)s.") % {"max": RIDERS_MAX})
        return None
    return number


def _school_child(school_id: int, child_id) -> Child:
    pk = _pk_or_none(child_id)
    child = (
        Child.objects.filter(pk=pk, school_id=school_id, is_active=True)
        .select_related("school_class__head_teacher")
        .first()
        if pk
        else None
    )
    if child is None:
        raise ValidationError(_("Choose a child of this school."), code="invalid")
    return child


def _elsewhere_on_board(child: Child, trip_id: int | None = None) -> Boarding | None:
    """The child's boarding on another trip under way that they have not left."""
    return (
        Boarding.objects.filter(
            child_id=child.pk, alighted_at__isnull=True, trip__status=TripStatus.UNDERWAY
        )
        .exclude(trip_id=trip_id)
        .select_related("trip__route")
        .first()
    )


def _on_other_bus_message(child: Child, other: Boarding) -> str:
    return _("%(name)s is still on board %(route)s (boarded at %(time)s).") % {
        "name": child.name,
        "route": other.trip.route.name,
        "time": _hm(other.boarded_at),
    }


def _children_at_start(route: Route, values, errors: v.FieldErrors) -> list[Child]:
    """The children ticked on board at departure: riders of the route, each once, not on
    board another bus."""
    values = list(values or [])
    if len(values) > CHILDREN_MAX:
        errors.add("children", _("Too many children."))
        return []
    children: list[Child] = []
    for value in values:
        child = errors.run("children", _school_child, route.school_id, value)
        if child is None:
            continue
        if any(c.pk == child.pk for c in children):
            errors.add("children", _("%(name)s is listed twice.") % {"name": child.name})
            continue
        children.append(child)
    riding = set(
        RouteRider.objects.filter(
            route_id=route.pk, is_active=True, child_id__in=[c.pk for c in children]
        ).values_list("child_id", flat=True)
    )
    for child in children:
        if child.pk not in riding:
            errors.add(
                "children",
                _("%(name)s does not ride this route: board them from the list once started.")
                % {"name": child.name},
            )
        other = _elsewhere_on_board(child)
        if other is not None:
            errors.add("children", _on_other_bus_message(child, other))
    return children


def _running(route: Route, day: dt.date, direction: str) -> Trip | None:
    return (
        Trip.objects.filter(route_id=route.pk, date=day, direction=direction)
        .exclude(status=TripStatus.REFUSED)
        .first()
    )


def _already_run(trip: Trip) -> TripConflict:
    if trip.status == TripStatus.UNDERWAY:
        return TripConflict(
            _("This route's trip (%(direction)s) is already under way since %(time)s.")
            % {"direction": trip.get_direction_display(), "time": _hm(trip.started_at)}
        )
    return TripConflict(
        _("This route's trip (%(direction)s) has already been run today.")
        % {"direction": trip.get_direction_display()}
    )


def _unsafe(officer, riders_at_start: int, bus: Bus) -> list[tuple[str, str]]:
    """Why the bus may not leave: (flag kind, stored sentence) pairs."""
    problems = []
    if officer is None:
        problems.append(
            (TripFlagKind.NO_SAFETY_OFFICER, _stored(_("No safety officer on board the bus.")))
        )
    if riders_at_start > bus.seats:
        problems.append(
            (
                TripFlagKind.OVERLOAD,
                _stored(
                    _("%(riders)s riders on board, the bus is approved for %(seats)s."),
                    riders=riders_at_start,
                    seats=bus.seats,
                ),
            )
        )
    return problems


def trip_start(
    *,
    actor,
    route_id,
    direction,
    bus_id=USUAL,
    driver_id=USUAL,
    safety_officer_id=USUAL,
    riders=None,
    children=(),
    school_id: int | None = None,
    now: dt.datetime | None = None,
) -> Trip:
    """Start today's trip of a route in one direction (see the module's docstring).
    Returns the trip: status "underway", or "refused" with its reason and flags (sent).
    `safety_officer_id=None` means nobody is on board as safety officer; `riders` is the
    number on board at departure (default: the children ticked in `children`, who are
    recorded as boarded at the start)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    require_any(actor, Action.RUN_TRIP)
    errors = v.FieldErrors()
    direction = errors.run("direction", _direction, direction)
    route = errors.run("route", _route_for, actor, route_id, school_id)
    errors.raise_if_any()
    with transaction.atomic():
        # One start of a route at a time: the second waits and then sees the first.
        Route.objects.select_for_update().filter(pk=route.pk).first()
        running = _running(route, today, direction)
        if running is not None:
            raise _already_run(running)
        bus = _assigned(
            "bus",
            Bus,
            bus_id,
            route.bus,
            route,
            errors,
            wrong=_("Choose a bus of this school."),
            missing=_("The route has no usual bus: choose one."),
            problems=lambda row: checks.bus_problems(row, today),
        )
        driver = _assigned(
            "driver",
            Driver,
            driver_id,
            route.driver,
            route,
            errors,
            wrong=_("Choose a driver of this school."),
            missing=_("The route has no usual driver: choose one."),
            problems=lambda row: checks.driver_problems(row, today, bus=bus),
        )
        officer = _safety_officer(route, safety_officer_id, errors)
        count = _riders(riders, errors)
        boarded = _children_at_start(route, children, errors)
        if count is not None and count < len(boarded):
            errors.add(
                "riders",
                _("Fewer riders than the %(n)s children ticked on board.") % {"n": len(boarded)},
            )
        errors.raise_if_any()
        riders_at_start = count if count is not None else len(boarded)
        problems = _unsafe(officer, riders_at_start, bus)
        trip = Trip(
            school=route.school,
            route=route,
            date=today,
            direction=direction,
            bus=bus,
            driver=driver,
            safety_officer=officer,
            status=TripStatus.REFUSED if problems else TripStatus.UNDERWAY,
            started_at=now,
            riders_at_start=riders_at_start,
            refuse_reason=" ".join(text for _kind, text in problems)[:TEXT_MAX],
            started_by=acting_user(actor),
        )
        try:
            with transaction.atomic():
                trip.save()
        except IntegrityError:
            raise _already_run(_running(route, today, direction) or trip) from None
        audit_create(actor=actor, obj=trip)
        for kind, text in problems:
            _flag_raise(actor=actor, trip=trip, kind=kind, detail=text, now=now)
        if not problems:
            stops = _stops_of(route.pk, boarded)
            for child in boarded:
                _board(actor=actor, trip=trip, child=child, stop_id=stops.get(child.pk), now=now)
    return trip


def _stops_of(route_id: int, children) -> dict[int, int]:
    return dict(
        RouteRider.objects.filter(
            route_id=route_id, is_active=True, child_id__in=[c.pk for c in children]
        ).values_list("child_id", "stop_id")
    )


# ------------------------------------------------------------------ the tick list


def _locked(model, actor, pk):
    """The row of `model` in the actor's scope, locked for a change; else 404."""
    row = model.objects.visible_to(actor, Action.VIEW).select_for_update().filter(pk=_id(pk))
    row = row.first()
    if row is None:
        raise Http404
    return row


def _trip_for(actor, trip_id, action: str = Action.RUN_TRIP) -> Trip:
    """The trip locked for a change: 404 out of scope, 403 without `action` there."""
    trip = _locked(Trip, actor, trip_id)
    require(actor, action, trip.school_id)
    return Trip.objects.select_related(*sel.TRIP_RELATED).get(pk=trip.pk)


def _require_underway(trip: Trip) -> None:
    if trip.status == TripStatus.REFUSED:
        raise TripConflict(_("This trip was refused at departure: start a new one."))
    if trip.status == TripStatus.FINISHED:
        raise TripConflict(_("This trip has ended."))


def _board(*, actor, trip: Trip, child: Child, stop_id, now, off_route=False) -> Boarding:
    boarding = Boarding.objects.create(
        trip=trip,
        child=child,
        stop_id=stop_id,
        boarded_at=now,
        recorded_by=acting_user(actor),
    )
    if off_route:
        # Boarding has no remark: the confirmation stays in the audit row.
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=boarding,
            school=trip.school_id,
            changes={"after": snapshot(boarding), "off_route_confirmed": True},
        )
    else:
        audit_create(actor=actor, obj=boarding, school=trip.school_id)
    return boarding


def _full(trip: Trip, on_board: int) -> str:
    return _("The bus is full: %(seats)s seats, %(on_board)s children on board.") % {
        "seats": trip.bus.seats,
        "on_board": on_board,
    }


def boarding_board(
    *, actor, trip_id, child_id, confirm_off_route: bool = False, now=None
) -> Boarding:
    """Tick a child on board. A child not riding the route needs `confirm_off_route`
    (OffRoute otherwise); a full bus is refused (TripConflict) and flagged once per trip."""
    now = now or timezone.now()
    refusal = None
    with transaction.atomic():
        trip = _trip_for(actor, trip_id)
        _require_underway(trip)
        child = _checked_child(trip, child_id)
        rider = RouteRider.objects.filter(
            route_id=trip.route_id, child_id=child.pk, is_active=True
        ).first()
        if rider is None and not confirm_off_route:
            raise OffRoute(child)
        on_board = trip.boardings.filter(alighted_at__isnull=True).count()
        if on_board >= trip.bus.seats:
            refusal = _full(trip, on_board)
            if not trip.flags.filter(kind=TripFlagKind.OVERLOAD).exists():
                detail = _stored(
                    _("%(name)s was not let on: %(seats)s seats, %(on_board)s children on board."),
                    name=child.name,
                    seats=trip.bus.seats,
                    on_board=on_board,
                )
                _flag_raise(
                    actor=actor, trip=trip, kind=TripFlagKind.OVERLOAD, detail=detail, now=now
                )
        else:
            boarding = _board(
                actor=actor,
                trip=trip,
                child=child,
                stop_id=rider.stop_id if rider else None,
                now=now,
                off_route=rider is None,
            )
    if refusal is not None:
        # Raised after the commit: the overload flag stays recorded and is sent.
        raise TripConflict(refusal)
    return boarding


def _checked_child(trip: Trip, child_id) -> Child:
    """A child of the trip's school who is not on this trip yet nor on board another."""
    try:
        child = _school_child(trip.school_id, child_id)
    except ValidationError as exc:
        raise ValidationError({"child": exc.messages}) from None
    existing = trip.boardings.filter(child_id=child.pk).first()
    if existing is not None:
        raise ValidationError(
            {
                "child": [
                    _("%(name)s already boarded this trip at %(time)s.")
                    % {"name": child.name, "time": _hm(existing.boarded_at)}
                ]
            }
        )
    other = _elsewhere_on_board(child, trip.pk)
    if other is not None:
        raise ValidationError({"child": [_on_other_bus_message(child, other)]})
    return child


def boarding_alight(*, actor, trip_id, child_id, now=None) -> Boarding:
    """Tick a child off the bus."""
    now = now or timezone.now()
    with transaction.atomic():
        trip = _trip_for(actor, trip_id)
        _require_underway(trip)
        boarding = (
            trip.boardings.select_for_update()
            .select_related("child")
            .filter(child_id=_pk_or_none(child_id) or 0)
            .first()
        )
        if boarding is None:
            raise ValidationError(
                {"child": [_("This child has not boarded this trip: tick them on board first.")]}
            )
        _alight(actor=actor, trip=trip, boarding=boarding, now=now)
    return boarding


def _alight(*, actor, trip: Trip, boarding: Boarding, now) -> None:
    if boarding.alighted_at is not None:
        raise ValidationError(
            {
                "child": [
                    _("%(name)s already got off at %(time)s.")
                    % {"name": boarding.child.name, "time": _hm(boarding.alighted_at)}
                ]
            }
        )
    if now < boarding.boarded_at:
        raise ValidationError({"child": [_("A child cannot get off before boarding.")]})
    before = snapshot(boarding)
    boarding.alighted_at = now
    boarding.save(update_fields=["alighted_at"])
    audit_update(actor=actor, obj=boarding, before=before, school=trip.school_id)


def boarding_alight_all(*, actor, trip_id, now=None) -> int:
    """Everyone on board gets off at school (trips to school only); returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        trip = _trip_for(actor, trip_id)
        _require_underway(trip)
        if trip.direction != Direction.TO_SCHOOL:
            raise TripConflict(_("On the way home children get off at their stops: tick each one."))
        on_board = list(
            trip.boardings.select_for_update()
            .select_related("child")
            .filter(alighted_at__isnull=True, boarded_at__lte=now)
        )
        for boarding in on_board:
            _alight(actor=actor, trip=trip, boarding=boarding, now=now)
    return len(on_board)


# What a keyboard-wedge scanner or a person types: a pick-up card's QR, or a name.
_NAME_MAX = 50


def child_from_text(trip: Trip, text) -> Child:
    """The child a scan or a typed name means: a guardian's or delegate's pick-up card of
    the school (the gate's printed QR, access.codes) names its child; otherwise the name
    of a rider of the route or a child boarded (exactly, else the one name containing the
    text), else a child of the school of exactly that name."""
    raw = str(text or "")[: codes.MAX_INPUT]
    compact = re.sub(r"\s+", "", raw)
    if not compact:
        raise ValidationError({"code": [_("Scan a pick-up card or type a child's name.")]})
    if "HX1" in compact.upper():
        return _child_of_card(trip, raw)
    name = raw.strip()[:_NAME_MAX]
    candidates = list(
        Child.objects.filter(school_id=trip.school_id, is_active=True)
        .filter(
            Exists(
                RouteRider.objects.filter(
                    route_id=trip.route_id, is_active=True, child_id=OuterRef("pk")
                )
            )
            | Exists(Boarding.objects.filter(trip_id=trip.pk, child_id=OuterRef("pk")))
        )
        .filter(name__contains=name)
        .select_related("school_class")
    )
    exact = [c for c in candidates if c.name == name] or candidates
    if not exact:
        exact = list(Child.objects.filter(school_id=trip.school_id, is_active=True, name=name)[:2])
    if len(exact) == 1:
        return exact[0]
    if not exact:
        raise ValidationError(
            {"code": [_("No child of this route is called “%(text)s”.") % {"text": name}]}
        )
    raise ValidationError(
        {
            "code": [
                _("%(n)s children match “%(text)s”: tick the right one in the list.")
                % {"n": len(exact), "text": name}
            ]
        }
    )


def _child_of_card(trip: Trip, raw: str) -> Child:
    try:
        parsed = codes.verify(
            raw, kinds={codes.PICKUP_CARD}, school_id=trip.school_id, expires=False
        )
    except codes.CodeRefused:
        raise ValidationError(
            {"code": [_("Not a pick-up card of this school. Scan again or type the name.")]}
        ) from None
    card = (
        PickupCode.objects.filter(
            school_id=trip.school_id, card_serial=parsed.ident, revoked_at__isnull=True
        )
        .select_related("guardian__child", "delegate__child")
        .first()
    )
    if card is None:
        raise ValidationError({"code": [_("This pick-up card has been withdrawn.")]})
    return card.guardian.child if card.guardian_id else card.delegate.child


def boarding_scan(
    *, actor, trip_id, text, confirm_off_route: bool = False, now=None
) -> tuple[str, Boarding]:
    """A scan or a typed name: the child boards when not on the bus yet and gets off when
    on it. Returns ("boarded" | "alighted", the boarding)."""
    with transaction.atomic():
        trip = _trip_for(actor, trip_id)
        _require_underway(trip)
        child = child_from_text(trip, text)
        boarding = trip.boardings.filter(child_id=child.pk).first()
    if boarding is not None and boarding.alighted_at is None:
        return "alighted", boarding_alight(actor=actor, trip_id=trip.pk, child_id=child.pk, now=now)
    return "boarded", boarding_board(
        actor=actor,
        trip_id=trip.pk,
        child_id=child.pk,
        confirm_off_route=confirm_off_route,
        now=now,
    )


# ------------------------------------------------------------------ the end of a trip


def _not_arrived_detail(boarding: Boarding, ended_at) -> str:
    return _stored(
        _("Boarded at %(time)s (%(stop)s) and not ticked off by the end of the trip at %(end)s."),
        time=_hm(boarding.boarded_at),
        stop=boarding.stop.name if boarding.stop_id else _("not a rider of the route"),
        end=_hm(ended_at),
    )


def trip_end(*, actor, trip_id, now=None) -> Trip:
    """End the trip; every child still ticked on board gets a NOT_ARRIVED flag, sent at
    once. Returns the trip."""
    now = now or timezone.now()
    with transaction.atomic():
        trip = _trip_for(actor, trip_id)
        _require_underway(trip)
        if now < trip.started_at:
            raise ValidationError({"ended_at": [_("A trip cannot end before it started.")]})
        before = snapshot(trip)
        trip.status = TripStatus.FINISHED
        trip.ended_at = now
        trip.save(update_fields=["status", "ended_at"])
        audit_update(actor=actor, obj=trip, before=before)
        missing = trip.boardings.filter(alighted_at__isnull=True).select_related(
            "child__school_class__head_teacher", "stop"
        )
        for boarding in missing.order_by("child__name", "id"):
            _flag_raise(
                actor=actor,
                trip=trip,
                kind=TripFlagKind.NOT_ARRIVED,
                detail=_not_arrived_detail(boarding, now),
                child=boarding.child,
                now=now,
            )
    return trip


def trips_overdue(*, now=None) -> list[TripFlag]:
    """Flag every trip still under way OVERDUE_AFTER its start, once (a NOT_ARRIVED flag
    without a child: the bus has not arrived). Idempotent; returns the new flags."""
    now = now or timezone.now()
    overdue = (
        Trip.objects.filter(status=TripStatus.UNDERWAY, started_at__lte=now - OVERDUE_AFTER)
        .exclude(
            Exists(
                TripFlag.objects.filter(
                    trip_id=OuterRef("pk"), kind=TripFlagKind.NOT_ARRIVED, child__isnull=True
                )
            )
        )
        .select_related(*sel.TRIP_RELATED)
        .order_by("started_at", "id")
    )
    flags = []
    for trip in overdue:
        with transaction.atomic():
            locked = Trip.objects.select_for_update().filter(pk=trip.pk).first()
            if (
                locked is None
                or locked.status != TripStatus.UNDERWAY
                or sel.overdue_flag_exists(trip)
            ):
                continue
            on_board = trip.boardings.filter(alighted_at__isnull=True).count()
            detail = _stored(
                _(
                    "Still under way %(hours)s hours after its start at %(time)s, "
                    "%(n)s children ticked on board."
                ),
                hours=int(OVERDUE_AFTER.total_seconds() // 3600),
                time=_hm(trip.started_at),
                n=on_board,
            )
            flags.append(
                _flag_raise(
                    actor=None, trip=trip, kind=TripFlagKind.NOT_ARRIVED, detail=detail, now=now
                )
            )
    return flags


def flag_resolve(*, actor, flag_id, resolution, now=None) -> TripFlag:
    """Close a flag with what was done about it (the school's transport keepers or the one
    who ran the trip)."""
    now = now or timezone.now()
    with transaction.atomic():
        flag = sel.flag_get(actor=actor, flag_id=_locked(TripFlag, actor, flag_id).pk)
        if not sel.may_resolve(actor, flag):
            raise PermissionDenied(
                _("Only the school's transport keepers or the one who ran the trip may do this.")
            )
        if flag.resolved_at is not None:
            raise TripConflict(_("This flag has already been resolved."))
        errors = v.FieldErrors()
        text = errors.run(
            "resolution", v.clean_text, resolution, max_length=TEXT_MAX, required=True
        )
        errors.raise_if_any()
        before = snapshot(flag)
        flag.resolved_at = now
        flag.resolved_by = acting_user(actor)
        flag.resolution = text
        flag.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        audit_update(actor=actor, obj=flag, before=before, school=flag.trip.school_id)
    return flag
