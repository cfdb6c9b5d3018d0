"""Hand-written statements of the gate's two hot paths: visitor check-in and child pick-up
(ADR 0022, "Performance").

Building a Django query costs 0.2–0.6 ms of CPU on a gate server, ten to fifty times the
indexed lookup it runs (bench/gate_profile.py), and a check-in or a pick-up ran several.
Here their statements are written once per database vendor from the models' own metadata
(tables, columns), run on Django's connection (same transaction, same parameter quoting)
and turned back into model instances with the fields' own converters, so that every rule
above this layer — scope, validation, screening, the audit row — sees the same objects as
before. Only reads by key and single-row inserts live here; everything else is the ORM.

`insert(obj)` is `obj.save()` for a new object less the query building: the fields still
prepare their own values (`pre_save`: auto_now; `get_db_prep_save`: dates, JSON). It sends
no signals; the project uses none (STYLE: services own their side effects).
`prepare_created` / `insert_created` write a new object with its `audit_create` row, both
made ready before the transaction so that it lasts two statements.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.db import connection, models
from django.db.models import Model

from huxiao.access.choices import VisitStatus
from huxiao.access.models import (
    BlockedVisitor,
    GateSettings,
    GuardianPhoto,
    PickupCode,
    PickupDelegate,
    Release,
    Visit,
)
from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.audit.services import build_event, snapshot
from huxiao.core.roles import SCHOOL_KINDS
from huxiao.orgs.models import Organization
from huxiao.people.models import Child, Guardian, SchoolClass, Staff


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model) -> str:
    return _qn(model._meta.db_table)


def _col(model, alias: str, name: str) -> str:
    return f"{_qn(alias)}.{_qn(model._meta.get_field(name).column)}"


def _literal(value: str) -> str:
    """One of our own constants as an SQL string literal (never user input). Written into
    the text, not bound, where a partial index's condition must be visible to the planner
    (SQLite cannot prove `status = ?` implies `status = 'inside'`)."""
    if "'" in value or "\\" in value:
        raise ValueError(f"not a plain constant: {value!r}")
    return f"'{value}'"


# ------------------------------------------------------------------ inserts


# Field classes (exactly these, not subclasses, which may convert) whose value goes to the
# database as it is when it is None or of this type: their get_db_prep_save only converts
# other types. Most of a gate row's fields are such; skipping their chain of conversions
# saves a quarter of preparing a visit's values.
_PLAIN_TYPES = {
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
}


def _plain_type(field) -> type | None:
    if type(field) in (models.ForeignKey, models.OneToOneField):
        automatic = type(field.target_field) in (models.AutoField, models.BigAutoField)
        return int if automatic else None
    return _PLAIN_TYPES.get(type(field))


@functools.cache
def _insert_plan(model, vendor: str) -> tuple[str, tuple, bool]:
    meta = model._meta
    fields = tuple(
        (f, _plain_type(f)) for f in meta.local_concrete_fields if f is not meta.auto_field
    )
    columns = ", ".join(_qn(f.column) for f, _plain in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {_table(model)} ({columns}) VALUES ({marks})"  # noqa: S608 - our names
    returning = connection.features.can_return_columns_from_insert
    if returning:
        sql += f" RETURNING {_qn(meta.pk.column)}"
    return sql, fields, returning


def db_values(obj: Model, fields) -> list:
    """What `save()` sends for `fields` (pairs of a field and its plain type) of a new
    `obj`: each field prepares its own value (pre_save: auto_now; get_db_prep_save:
    dates, JSON), except a plain value that needs no preparing."""
    values = []
    for field, plain in fields:
        if plain is not None:
            value = getattr(obj, field.attname)
            if value is None or type(value) is plain:
                values.append(value)
                continue
        values.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
    return values


def insert(obj: Model) -> Model:
    """Insert `obj` (new, auto primary key) as one row; sets its pk like `save()`."""
    _sql, fields, _returning = _insert_plan(type(obj), connection.vendor)
    return _insert_values(obj, db_values(obj, fields))


def _insert_values(obj: Model, values: list) -> Model:
    model = type(obj)
    if obj.pk is not None or model._meta.auto_field is None:
        raise ValueError("gate_sql.insert takes a new object with an automatic key")
    sql, _fields, returning = _insert_plan(model, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if returning:
            obj.pk = cursor.fetchone()[0]
        else:
            obj.pk = connection.ops.last_insert_id(
                cursor, model._meta.db_table, model._meta.pk.column
            )
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


@dataclass
class Created:
    """A new object and its audit row, made ready outside the transaction (`prepare_created`)
    and written inside it (`insert_created`): the transaction then lasts two statements —
    on SQLite it holds the database's write lock, which every other write waits for."""

    obj: Model
    values: list
    event: AuditEvent


def prepare_created(*, actor, obj: Model) -> Created:
    """The row of new `obj` as `save()` would write it (auto_now fields set now) and its
    `audit_create` row but for the new key, which only the insert gives."""
    _sql, fields, _returning = _insert_plan(type(obj), connection.vendor)
    values = db_values(obj, fields)
    event = build_event(
        actor=actor, action=AuditAction.CREATE, obj=obj, changes={"after": snapshot(obj)}
    )
    return Created(obj=obj, values=values, event=event)


def insert_created(created: Created) -> Model:
    """Write a prepared object and its audit row (in the caller's transaction)."""
    obj, event = created.obj, created.event
    _insert_values(obj, created.values)
    event.object_id = str(obj.pk)
    event.object_repr = str(obj)[:255]
    event.changes["after"][obj._meta.pk.name] = obj.pk
    insert(event)
    return obj


# ------------------------------------------------------------------ reading rows back


class _Columns:
    """Some fields of `model` under a table alias: their SELECT list, and the model
    instance made of their values (as `QuerySet.only()` makes it; other fields deferred)."""

    def __init__(self, model, alias: str, names):
        wanted = set(names) | {model._meta.pk.name}
        # Model.from_db takes the values in the model's field order. Names may be a
        # field's name or its attname ("school" or "school_id").
        self.fields = [
            f for f in model._meta.concrete_fields if f.name in wanted or f.attname in wanted
        ]
        if len(self.fields) != len(wanted):
            raise ValueError(f"unknown fields of {model.__name__}: {sorted(wanted)}")
        self.model = model
        self.attnames = [f.attname for f in self.fields]
        self.pk_index = self.attnames.index(model._meta.pk.attname)
        self.sql = ", ".join(_col(model, alias, f.name) for f in self.fields)
        self.width = len(self.fields)
        self.converters = []
        for i, field in enumerate(self.fields):
            expression = field.get_col(alias)
            found = connection.ops.get_db_converters(expression) + expression.get_db_converters(
                connection
            )
            if found:
                self.converters.append((i, found, expression))

    def load(self, row, start: int) -> Model | None:
        """The instance in row[start:start + width]; None for a LEFT JOIN without a row."""
        values = list(row[start : start + self.width])
        if values[self.pk_index] is None:
            return None
        for i, converters, expression in self.converters:
            for convert in converters:
                values[i] = convert(values[i], expression, connection)
        return self.model.from_db(connection.alias, self.attnames, values)


def _all_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields]


# ------------------------------------------------------------------ the gate's school


# What the gate reads of its school: scope and kind, the groups of its events (county, town,
# station, post) and its name for alerts. Other fields load on first use (deferred).
_SCHOOL_FIELDS = (
    "id",
    "kind",
    "name",
    "region",
    "town",
    "parent",
    "police_station",
    "police_post",
    "is_active",
)


@functools.cache
def _school_plan(vendor: str):
    school = _Columns(Organization, "o", _SCHOOL_FIELDS)
    rules = _Columns(GateSettings, "g", _all_fields(GateSettings))
    kinds = ", ".join(_literal(kind) for kind in sorted(SCHOOL_KINDS))
    sql = (
        f"SELECT {school.sql}, {rules.sql} FROM {_table(Organization)} {_qn('o')} "  # noqa: S608
        f"LEFT JOIN {_table(GateSettings)} {_qn('g')} "
        f"ON {_col(GateSettings, 'g', 'school')} = {_col(Organization, 'o', 'id')} "
        f"WHERE {_col(Organization, 'o', 'id')} = %s "
        f"AND {_col(Organization, 'o', 'kind')} IN ({kinds})"
    )
    return sql, school, rules


_SETTINGS_OF_SCHOOL = GateSettings._meta.get_field("school")


def school_with_gate_settings(school_id: int) -> Organization | None:
    """The school (`_SCHOOL_FIELDS`, the rest deferred) with its gate rules cached on it (`gate_settings`; None
    when the school keeps the defaults), in one statement; None when `school_id` is not a
    school."""
    sql, school_columns, rules_columns = _school_plan(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [school_id])
        row = cursor.fetchone()
    if row is None:
        return None
    school = school_columns.load(row, 0)
    rules = rules_columns.load(row, school_columns.width)
    _SETTINGS_OF_SCHOOL.remote_field.set_cached_value(school, rules)
    if rules is not None:
        _SETTINGS_OF_SCHOOL.set_cached_value(rules, school)
    return school


# ------------------------------------------------------------------ check-in


@dataclass(frozen=True)
class CheckInFacts:
    """What a check-in must know of the school's records before it writes."""

    host_active: bool  # the host is an active staff member of the school
    inside: bool  # a visitor with this ID number is inside the school now
    blocked: bool  # the school's blocklist has an active entry for this ID number


@functools.cache
def _check_in_facts_sql(vendor: str) -> str:
    staff, visit, blocked = _table(Staff), _table(Visit), _table(BlockedVisitor)

    def col(model, name):
        return _qn(model._meta.get_field(name).column)

    # The "inside" test repeats the one-inside constraint's partial-index condition with
    # literals, so that both databases search that index (visit_one_inside_per_person).
    return (
        f"SELECT EXISTS(SELECT 1 FROM {staff} WHERE {col(Staff, 'id')} = %s "  # noqa: S608
        f"AND {col(Staff, 'school')} = %s AND {col(Staff, 'is_active')}), "
        f"EXISTS(SELECT 1 FROM {visit} WHERE {col(Visit, 'school')} = %s "
        f"AND {col(Visit, 'status')} = {_literal(VisitStatus.INSIDE)} "
        f"AND {col(Visit, 'id_number_hash')} = %s "
        f"AND NOT ({col(Visit, 'id_number_hash')} = {_literal('')})), "
        f"EXISTS(SELECT 1 FROM {blocked} WHERE {col(BlockedVisitor, 'school')} = %s "
        f"AND {col(BlockedVisitor, 'is_active')} AND {col(BlockedVisitor, 'id_number_hash')} = %s)"
    )


def check_in_facts(*, school_id: int, host_id: int | None, id_hash: str) -> CheckInFacts:
    """The host, duplicate and blocklist checks of a check-in in one statement (each an
    indexed lookup). No host or no ID hash: that check is simply false."""
    with connection.cursor() as cursor:
        cursor.execute(
            _check_in_facts_sql(connection.vendor),
            [host_id or 0, school_id, school_id, id_hash or "", school_id, id_hash or ""],
        )
        host_active, inside, blocked = cursor.fetchone()
    return CheckInFacts(
        host_active=bool(host_active and host_id),
        inside=bool(inside and id_hash),
        blocked=bool(blocked and id_hash),
    )


# ------------------------------------------------------------------ pick-up codes


@dataclass(frozen=True)
class _CodePlan:
    select: str
    parts: tuple  # (_Columns, relation path) in SELECT order


@functools.cache
def _code_plan(vendor: str, code_fields: tuple, child_fields: tuple, class_fields: tuple):
    """SELECT … FROM pickup codes with their adult (guardian or delegate), the adult's child
    and the child's class, whether the child already left on a given day and whether the
    guardian has a photo. Everything the gate decides on, in one statement."""
    code = _Columns(PickupCode, "c", [f for f in code_fields if "__" not in f])

    def related(prefix):
        return [f.split("__", 1)[1] for f in code_fields if f.startswith(prefix + "__")]

    guardian = _Columns(Guardian, "g", related("guardian"))
    delegate = _Columns(PickupDelegate, "d", related("delegate"))
    parts = (
        (code, ()),
        (guardian, ("guardian",)),
        (_Columns(Child, "gc", child_fields), ("guardian", "child")),
        (_Columns(SchoolClass, "gk", class_fields), ("guardian", "child", "school_class")),
        (delegate, ("delegate",)),
        (_Columns(Child, "dc", child_fields), ("delegate", "child")),
        (_Columns(SchoolClass, "dk", class_fields), ("delegate", "child", "school_class")),
    )
    release, photo = _table(Release), _table(GuardianPhoto)

    def col(model, name):
        return _qn(model._meta.get_field(name).column)

    left_joins = [
        (Guardian, "g", _col(PickupCode, "c", "guardian")),
        (Child, "gc", _col(Guardian, "g", "child")),
        (SchoolClass, "gk", _col(Child, "gc", "school_class")),
        (PickupDelegate, "d", _col(PickupCode, "c", "delegate")),
        (Child, "dc", _col(PickupDelegate, "d", "child")),
        (SchoolClass, "dk", _col(Child, "dc", "school_class")),
    ]
    joins = " ".join(
        f"LEFT JOIN {_table(model)} {_qn(alias)} ON {_col(model, alias, 'id')} = {on}"
        for model, alias, on in left_joins
    )
    released = (
        f"EXISTS(SELECT 1 FROM {release} WHERE {col(Release, 'on_date')} = %s AND "  # noqa: S608
        f"({col(Release, 'child')} = {_col(Guardian, 'g', 'child')} "
        f"OR {col(Release, 'child')} = {_col(PickupDelegate, 'd', 'child')}))"
    )
    has_photo = (
        f"EXISTS(SELECT 1 FROM {photo} WHERE {col(GuardianPhoto, 'guardian')} = "  # noqa: S608
        f"{_col(PickupCode, 'c', 'guardian')} "
        f"AND NOT ({col(GuardianPhoto, 'photo_encrypted')} = {_literal('')}))"
    )
    columns = ", ".join(part.sql for part, _path in parts)
    select = (
        f"SELECT {columns}, {released}, {has_photo} "  # noqa: S608 - our names
        f"FROM {_table(PickupCode)} {_qn('c')} {joins}"
    )
    return _CodePlan(select=select, parts=parts)


# Conditions on the codes (table alias c, delegates d) by which the gate finds one.
_WHERE = {
    # A live code by its PIN (the PIN is unique among the school's live codes).
    "pin": "{c_school} = %s AND {c_pin} = %s AND {c_revoked} IS NULL",
    # A delegate cancelled that day, by the PIN they had (the newest cancel first).
    "cancelled_pin": (
        "{c_school} = %s AND {c_pin} = %s AND {d_cancelled} IS NOT NULL AND {d_on} = %s "
        "ORDER BY {d_cancelled} DESC"
    ),
    # A printed card at its school, or a rotating QR's code at any school.
    "card": "{c_serial} = %s AND {c_school} = %s",
    "serial": "{c_serial} = %s",
    # The code a confirmation token names, at its school.
    "id": "{c_id} = %s AND {c_school} = %s",
}


@functools.cache
def _code_sql(vendor: str, shape: str, fields: tuple) -> tuple[str, _CodePlan]:
    plan = _code_plan(vendor, *fields)
    names = {
        "c_id": _col(PickupCode, "c", "id"),
        "c_school": _col(PickupCode, "c", "school"),
        "c_pin": _col(PickupCode, "c", "pin_hash"),
        "c_revoked": _col(PickupCode, "c", "revoked_at"),
        "c_serial": _col(PickupCode, "c", "card_serial"),
        "d_cancelled": _col(PickupDelegate, "d", "cancelled_at"),
        "d_on": _col(PickupDelegate, "d", "on_date"),
    }
    return f"{plan.select} WHERE {_WHERE[shape].format(**names)} LIMIT 1", plan


def _adapt(value):
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def pickup_code(shape: str, params: list, *, today: dt.date, fields: tuple) -> PickupCode | None:
    """The first code matching `shape` (a key of _WHERE) with `params`, as
    `pickup_services` reads it: `fields` = (code fields with `guardian__…`/`delegate__…`,
    child fields, class fields); the adult, child and class cached on it (no further
    queries), `released_on_day` (the child left on `today`) and `guardian_has_photo` set."""
    sql, plan = _code_sql(connection.vendor, shape, fields)
    with connection.cursor() as cursor:
        cursor.execute(sql, [_adapt(value) for value in (today, *params)])
        row = cursor.fetchone()
    if row is None:
        return None
    objects: dict[tuple, Model | None] = {}
    start = 0
    for columns, path in plan.parts:
        obj = columns.load(row, start)
        start += columns.width
        objects[path] = obj
        if path:
            parent = objects[path[:-1]]
            if parent is not None:
                parent._meta.get_field(path[-1]).set_cached_value(parent, obj)
    code = objects[()]
    released, has_photo = row[start], row[start + 1]
    code.released_on_day = bool(released)
    code.guardian_has_photo = bool(has_photo)
    code.released_checked_for = today
    return code
