"""Writes of a school's bus routes, their stops and riders (issue 8 item 4; ADR 0031
"Fleet"). Order of checks as in fleet_services: scope (404), MANAGE_TRANSPORT (403), state
(`FleetRefused`, 409), input (ValidationError by field, 400; nothing written).

Rules:
- a route's name is required and unique in the school; its usual bus, driver and safety
  officer belong to the school. A bus or driver newly put on a route must be able to run
  today (`transport.checks`: documents in date, in service, a licence class for the bus);
  the error names what expired. The safety officer is any active staff member;
- stops are kept as one ordered list (`stops_save`; adding, changing and removing one stop
  go through the same check): 1–50 stops, each named (unique on the route); morning
  pick-up times increase along the order; afternoon drop-off times run one way, either
  way (the afternoon run often goes in reverse). A stop with riders is not removed;
- riders are enrolled children of the school, each at a stop of this route; a child rides
  at most one route in service — the second is an error naming the first (the constraint
  `transport_one_route_per_child` backs it when two requests race);
- a retired route keeps its stops and riders as a record (the riders no longer ride it, so
  the children may join another route); only putting it back in service changes it.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_delete, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.people import validation as v
from huxiao.people.models import Child, Staff
from huxiao.transport import checks
from huxiao.transport import fleet_selectors as fsel
from huxiao.transport.fleet_services import FleetRefused, clean_fields, save_changes
from huxiao.transport.models import Bus, Driver, Route, RouteRider, RouteStop

MAX_STOPS = 50
MAX_RIDERS_AT_ONCE = 200


def _ref(value) -> int | None:
    """The id of a model instance or an id as given; None for nothing, -1 for garbage."""
    if value is None or value == "":
        return None
    value = getattr(value, "pk", value)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return -1
    return number if not isinstance(value, bool) and 1 <= number <= fsel.MAX_ID else -1


def _pick(queryset, value, message):
    """The row of `queryset` that `value` names (an instance or an id), None for none;
    anything else raises `message`."""
    pk = _ref(value)
    if pk is None:
        return None
    obj = queryset.filter(pk=pk).first() if pk > 0 else None
    if obj is None:
        raise ValidationError(message, code="choice")
    return obj


def _problems_text(problems) -> str:
    return " ".join(str(message) for _field, message in problems)


# ------------------------------------------------------------------ routes


def _route_cleaners(school_id: int) -> dict:
    return {
        "name": partial(v.clean_text, max_length=100, required=True),
        "bus": partial(
            _pick, Bus.objects.filter(school_id=school_id), message=_("Choose a bus of the school.")
        ),
        "driver": partial(
            _pick,
            Driver.objects.filter(school_id=school_id),
            message=_("Choose a driver of the school."),
        ),
        "safety_officer": partial(
            _pick,
            Staff.objects.filter(school_id=school_id, is_active=True),
            message=_("Choose an active staff member of the school."),
        ),
        "is_active": v.clean_required_bool,
    }


ROUTE_FIELDS = tuple(_route_cleaners(0))


def _check_route(errors, cleaned: dict, route: Route | None, school_id: int, today: dt.date):
    """The name is free in the school; a bus or driver newly put on the route can run."""
    name = cleaned.get("name")
    if name and "name" not in errors.errors:
        taken = Route.objects.filter(school_id=school_id, name=name)
        if route is not None:
            taken = taken.exclude(pk=route.pk)
        if taken.exists():
            errors.add("name", _("The school already has a route named %(name)s.") % {"name": name})
    bus = cleaned.get("bus", getattr(route, "bus", None))
    driver = cleaned.get("driver", getattr(route, "driver", None))
    bus_changed = "bus" in cleaned and bus is not None and bus != getattr(route, "bus", None)
    if bus_changed and "bus" not in errors.errors:
        problems = checks.bus_problems(bus, today)
        if problems:
            errors.add(
                "bus",
                _("%(bus)s may not carry children: %(problems)s")
                % {"bus": bus.plate, "problems": _problems_text(problems)},
            )
    driver_changed = "driver" in cleaned and driver != getattr(route, "driver", None)
    if driver is not None and (driver_changed or bus_changed) and "driver" not in errors.errors:
        problems = checks.driver_problems(driver, today, bus=bus)
        if problems:
            errors.add(
                "driver",
                _("%(driver)s may not drive this route: %(problems)s")
                % {"driver": driver.name, "problems": _problems_text(problems)},
            )


def _save_route(route: Route) -> None:
    try:
        with transaction.atomic():
            route.save()
    except IntegrityError:
        raise ValidationError(
            {"name": [_("The school already has a route named %(name)s.") % {"name": route.name}]}
        ) from None


@transaction.atomic
def route_create(
    *, actor, school, name, bus=None, driver=None, safety_officer=None, today=None
) -> Route:
    require(actor, Action.MANAGE_TRANSPORT, school.pk)
    today = today or fsel.today_local()
    given = {"name": name, "bus": bus, "driver": driver, "safety_officer": safety_officer}
    errors = v.FieldErrors()
    cleaned = clean_fields(errors, given, _route_cleaners(school.pk))
    _check_route(errors, cleaned, None, school.pk, today)
    errors.raise_if_any()
    route = Route(school=school, updated_by=acting_user(actor), **cleaned)
    _save_route(route)
    audit_create(actor=actor, obj=route, school=school.pk)
    return route


@transaction.atomic
def route_update(*, actor, route: Route, today: dt.date | None = None, **changes) -> Route:
    """Change the fields given. `is_active=False` retires the route (its riders stop
    riding it); a retired route changes only by being put back in service."""
    require(actor, Action.MANAGE_TRANSPORT, route.school_id)
    route = (
        Route.objects.select_for_update(of=("self",))
        .select_related("bus", "driver")
        .get(pk=route.pk)
    )
    if not route.is_active and changes.get("is_active") is not True and changes:
        raise FleetRefused(_("The route is out of service: put it back in service first."))
    today = today or fsel.today_local()
    errors = v.FieldErrors()
    cleaned = clean_fields(errors, changes, _route_cleaners(route.school_id))
    _check_route(errors, cleaned, route, route.school_id, today)
    errors.raise_if_any()
    if cleaned.get("is_active") is False and route.is_active:
        for rider in route.riders.filter(is_active=True):
            before = snapshot(rider)
            rider.is_active = False
            rider.save(update_fields=["is_active"])
            audit_update(actor=actor, obj=rider, before=before, school=route.school_id)
    save_changes(
        actor=actor,
        obj=route,
        cleaned=cleaned,
        school_id=route.school_id,
        save=partial(_save_route, route),
    )
    return route


@transaction.atomic
def route_delete(*, actor, route: Route) -> None:
    """Delete a route recorded by mistake: never one with trips or riders."""
    require(actor, Action.MANAGE_TRANSPORT, route.school_id)
    if route.trips.exists() or route.riders.exists():
        raise FleetRefused(
            _("%(name)s has trips or riders on record: retire it instead.") % {"name": route.name}
        )
    for stop in stop_rows(route):
        audit_delete(actor=actor, obj=stop, school=route.school_id)
    audit_delete(actor=actor, obj=route, school=route.school_id)
    route.delete()


def _require_in_service(route: Route) -> None:
    if not route.is_active:
        raise FleetRefused(_("The route is out of service: put it back in service first."))


# ------------------------------------------------------------------ stops


def stop_rows(route: Route) -> list[RouteStop]:
    return list(RouteStop.objects.filter(route=route).order_by("order", "pk"))


def clean_time(value) -> dt.time | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    try:
        return dt.time.fromisoformat(str(value).strip()).replace(second=0, microsecond=0)
    except ValueError:
        raise ValidationError(_("Enter a time as HH:MM."), code="time") from None


STOP_CLEANERS = {
    "name": partial(v.clean_text, max_length=100, required=True),
    "morning_time": clean_time,
    "afternoon_time": clean_time,
}


def _stop_label(position: int, name) -> str:
    return str(_("stop %(n)s (%(name)s)") % {"n": position, "name": name or "—"})


def _order_errors(cleaned: list[dict]) -> list[tuple[str, str]]:
    """(field, message) for times out of order: morning times increase along the stops;
    afternoon times run one way, either way."""
    errors = []
    timed = [(i, c["morning_time"]) for i, c in enumerate(cleaned) if c.get("morning_time")]
    for (i, earlier), (j, later) in zip(timed, timed[1:], strict=False):
        if later <= earlier:
            errors.append(
                (
                    "morning_time",
                    _(
                        "Morning pick-up times must increase along the stops: %(b)s at %(tb)s is "
                        "not after %(a)s at %(ta)s."
                    )
                    % {
                        "a": _stop_label(i + 1, cleaned[i]["name"]),
                        "ta": earlier.strftime("%H:%M"),
                        "b": _stop_label(j + 1, cleaned[j]["name"]),
                        "tb": later.strftime("%H:%M"),
                    },
                )
            )
    afternoon = [c["afternoon_time"] for c in cleaned if c.get("afternoon_time")]
    pairs = list(zip(afternoon, afternoon[1:], strict=False))
    if pairs and not (all(b > a for a, b in pairs) or all(b < a for a, b in pairs)):
        errors.append(
            (
                "afternoon_time",
                _(
                    "Afternoon drop-off times must run one way along the stops (earliest first "
                    "or last)."
                ),
            )
        )
    return errors


def _clean_stops(entries: list[dict], current: dict[int, RouteStop]):
    """(cleaned entries, errors as (position or None, field, message))."""
    problems: list[tuple[int | None, str, str]] = []
    if not entries:
        problems.append((None, "stops", _("Keep at least one stop.")))
    if len(entries) > MAX_STOPS:
        problems.append((None, "stops", _("At most %(n)s stops.") % {"n": MAX_STOPS}))
        return [], problems
    cleaned, seen_ids, seen_names = [], set(), set()
    for position, entry in enumerate(entries, start=1):
        errors = v.FieldErrors()
        stop_id = _ref(entry.get("id"))
        if stop_id is not None and (stop_id not in current or stop_id in seen_ids):
            errors.add("id", _("Not a stop of this route."))
        seen_ids.add(stop_id)
        fields = clean_fields(errors, {k: entry.get(k) for k in STOP_CLEANERS}, STOP_CLEANERS)
        name = fields.get("name")
        if name and name.casefold() in seen_names:
            errors.add("name", _("Two stops have the same name."))
        seen_names.add((name or "").casefold())
        for field, messages in errors.errors.items():
            problems += [(position, field, m) for m in messages]
        cleaned.append({"id": stop_id, **fields})
    if not problems:
        problems += [(None, f, m) for f, m in _order_errors(cleaned)]
    return cleaned, problems


def _write_stops(actor, route: Route, cleaned: list[dict], current: dict[int, RouteStop]):
    kept = {c["id"] for c in cleaned if c["id"]}
    removed = [stop for pk, stop in current.items() if pk not in kept]
    riding = {
        stop_id
        for stop_id in RouteRider.objects.filter(stop__in=removed, is_active=True).values_list(
            "stop_id", flat=True
        )
    }
    if riding:
        names = "、".join(stop.name for stop in removed if stop.pk in riding)
        raise FleetRefused(
            _("%(stops)s still has riders: move or remove them first.") % {"stops": names}
        )
    for stop in removed:
        # Riders of a retired spell of the route are a record of the stop only.
        for rider in RouteRider.objects.filter(stop=stop):
            audit_delete(actor=actor, obj=rider, school=route.school_id)
            rider.delete()
        audit_delete(actor=actor, obj=stop, school=route.school_id)
        stop.delete()
    stops = []
    for order, entry in enumerate(cleaned, start=1):
        values = {"order": order, **{k: entry[k] for k in STOP_CLEANERS}}
        stop = current.get(entry["id"])
        if stop is None:
            stop = RouteStop.objects.create(route=route, **values)
            audit_create(actor=actor, obj=stop, school=route.school_id)
        else:
            before = snapshot(stop)
            for key, value in values.items():
                setattr(stop, key, value)
            if snapshot(stop) != before:
                stop.save()
                audit_update(actor=actor, obj=stop, before=before, school=route.school_id)
        stops.append(stop)
    return stops


def _replace_stops(*, actor, route: Route, build, single: int | None) -> list[RouteStop]:
    """Lock the route, build the new ordered list from the current entries (`build`),
    check it whole and write it. Errors name the stops (`single=None`), or the fields of
    the one stop changed (`single` = its position)."""
    require(actor, Action.MANAGE_TRANSPORT, route.school_id)
    route = Route.objects.select_for_update().get(pk=route.pk)
    _require_in_service(route)
    rows = stop_rows(route)
    current = {stop.pk: stop for stop in rows}
    entries = build(
        [
            {k: getattr(s, k) for k in ("name", "morning_time", "afternoon_time")} | {"id": s.pk}
            for s in rows
        ]
    )
    cleaned, problems = _clean_stops(entries, current)
    if problems:
        result: dict[str, list] = {}
        for position, field, message in problems:
            if single is not None:
                result.setdefault(field, []).append(message)
            elif position is None:
                result.setdefault("stops", []).append(message)
            else:
                label = _stop_label(position, entries[position - 1].get("name"))
                result.setdefault("stops", []).append(f"{label}: {message}")
        raise ValidationError(result)
    return _write_stops(actor, route, cleaned, current)


@transaction.atomic
def stops_save(*, actor, route: Route, stops: list[dict]) -> list[RouteStop]:
    """Make the route's stops exactly `stops`, in that order: dicts of name, morning_time,
    afternoon_time and, for a stop kept, its id. Stops left out are removed."""
    return _replace_stops(actor=actor, route=route, build=lambda _current: list(stops), single=None)


@transaction.atomic
def stop_add(
    *, actor, route: Route, name, morning_time=None, afternoon_time=None, position=None
) -> RouteStop:
    """Add a stop at `position` (1 = first; the end when None)."""
    entry = {
        "id": None,
        "name": name,
        "morning_time": morning_time,
        "afternoon_time": afternoon_time,
    }
    index: list[int] = []

    def build(current):
        if position is None:
            at = len(current)
        else:
            try:
                at = min(max(int(position), 1), len(current) + 1) - 1
            except (TypeError, ValueError):
                raise ValidationError(
                    {"position": [_("Enter the stop's position as a number.")]}
                ) from None
        index.append(at)
        return [*current[:at], entry, *current[at:]]

    stops = _replace_stops(actor=actor, route=route, build=build, single=0)
    return stops[index[0]]


@transaction.atomic
def stop_update(*, actor, stop: RouteStop, **changes) -> RouteStop:
    """Change a stop's name or times (the whole route is checked again)."""
    unknown = set(changes) - set(STOP_CLEANERS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")

    def build(current):
        return [{**entry, **changes} if entry["id"] == stop.pk else entry for entry in current]

    stops = _replace_stops(actor=actor, route=stop.route, build=build, single=0)
    return next(s for s in stops if s.pk == stop.pk)


@transaction.atomic
def stop_remove(*, actor, stop: RouteStop) -> None:
    """Remove a stop without riders (409 while children ride from it)."""

    def build(current):
        return [entry for entry in current if entry["id"] != stop.pk]

    _replace_stops(actor=actor, route=stop.route, build=build, single=0)


# ------------------------------------------------------------------ riders


def _conflicts(child_ids) -> dict[int, str]:
    """child id → the name of the route in service they ride."""
    return dict(
        RouteRider.objects.filter(child_id__in=list(child_ids), is_active=True).values_list(
            "child_id", "route__name"
        )
    )


def _riding_errors(children, conflicts: dict[int, str]) -> list[str]:
    return [
        _("%(child)s already rides %(route)s.") % {"child": c.name, "route": conflicts[c.pk]}
        for c in children
        if c.pk in conflicts
    ]


def _clean_children(route: Route, children) -> list[Child]:
    values = list(children) if isinstance(children, list | tuple) else [children]
    if not values or values == [None]:
        raise ValidationError(_("Choose at least one child."), code="required")
    if len(values) > MAX_RIDERS_AT_ONCE:
        raise ValidationError(
            _("At most %(n)s children at once.") % {"n": MAX_RIDERS_AT_ONCE}, code="max"
        )
    ids = [_ref(value) for value in values]
    found = {
        c.pk: c
        for c in Child.objects.filter(
            school_id=route.school_id, is_active=True, pk__in=[i for i in ids if i and i > 0]
        )
    }
    if any(i not in found for i in ids):
        raise ValidationError(_("Choose enrolled children of this school."), code="choice")
    return list({i: found[i] for i in ids}.values())


def _clean_stop(route: Route, stop) -> RouteStop:
    picked = _pick(
        RouteStop.objects.filter(route=route), stop, message=_("Choose a stop of this route.")
    )
    if picked is None:
        raise ValidationError(_("Choose a stop of this route."), code="required")
    return picked


@transaction.atomic
def riders_add(*, actor, route: Route, stop, children) -> list[RouteRider]:
    """Put children (instances or ids) on the route at `stop`; all or none."""
    require(actor, Action.MANAGE_TRANSPORT, route.school_id)
    route = Route.objects.select_for_update().get(pk=route.pk)
    _require_in_service(route)
    errors = v.FieldErrors()
    stop_clean = errors.run("stop", _clean_stop, route, stop)
    kids = errors.run("children", _clean_children, route, children) or []
    for message in _riding_errors(kids, _conflicts(c.pk for c in kids)):
        errors.add("children", message)
    errors.raise_if_any()
    try:
        with transaction.atomic():
            RouteRider.objects.bulk_create(
                [RouteRider(route=route, child=child, stop=stop_clean) for child in kids]
            )
    except IntegrityError:
        # Another request put one of them on a route meanwhile: the same sentence.
        messages = _riding_errors(kids, _conflicts(c.pk for c in kids))
        raise ValidationError({"children": messages or [_("Try again.")]}) from None
    riders = list(
        RouteRider.objects.filter(route=route, child__in=kids, is_active=True).select_related(
            "child", "stop"
        )
    )
    for rider in riders:
        audit_create(actor=actor, obj=rider, school=route.school_id)
    return riders


@transaction.atomic
def rider_move(*, actor, rider: RouteRider, stop, route=None) -> RouteRider:
    """Move a rider to another stop of the same route, or to a stop of another route in
    service of the school (`route`)."""
    require(actor, Action.MANAGE_TRANSPORT, rider.route.school_id)
    rider = (
        RouteRider.objects.select_for_update(of=("self",)).select_related("route").get(pk=rider.pk)
    )
    if not rider.is_active:
        raise FleetRefused(_("The child no longer rides this route."))
    errors = v.FieldErrors()
    target = rider.route
    if route is not None:
        target = errors.run(
            "route",
            _pick,
            Route.objects.filter(school_id=rider.route.school_id, is_active=True),
            route,
            message=_("Choose a route in service of the school."),
        )
    stop_clean = errors.run("stop", _clean_stop, target, stop) if target else None
    errors.raise_if_any()
    save_changes(
        actor=actor,
        obj=rider,
        cleaned={"route": target, "stop": stop_clean},
        school_id=target.school_id,
        save=rider.save,
    )
    return rider


@transaction.atomic
def rider_remove(*, actor, rider: RouteRider) -> None:
    require(actor, Action.MANAGE_TRANSPORT, rider.route.school_id)
    _require_in_service(rider.route)
    audit_delete(actor=actor, obj=rider, school=rider.route.school_id)
    rider.delete()
