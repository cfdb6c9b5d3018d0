"""Writing audit rows. Services call these inside their own transaction."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable

from django.db import connections, models, router
from django.utils import timezone

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.core import request_context


def _jsonable(value):
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict:
    """A JSON-safe picture of a model's concrete fields for before/after.

    Encrypted columns are never copied into the trail: models list them in
    `audit_exclude`, and show their masked form instead.
    """
    exclude = set(getattr(obj, "audit_exclude", ()))
    result = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if field.name in exclude or field.attname in exclude:
            continue
        result[field.name] = _jsonable(getattr(obj, field.attname))
    return result


def diff(before: dict, after: dict) -> dict:
    """Only what changed: {"field": [old, new]}."""
    keys = set(before) | set(after)
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(keys)
        if before.get(key) != after.get(key)
    }


def _actor_fields(actor) -> dict:
    if actor is None:
        return {"actor": None, "actor_label": "system"}
    if getattr(actor, "is_device", False):
        return {"actor": None, "actor_label": str(actor)[:150]}
    if not getattr(actor, "is_authenticated", False):
        return {"actor": None, "actor_label": "anonymous"}
    return {"actor": actor, "actor_label": actor.get_username()[:150]}


def _school_id_of(obj, school) -> int | None:
    if school is not None:
        return school if isinstance(school, int) else school.pk
    if obj is None:
        return None
    path = getattr(type(obj), "scope_school_field", "school")
    if path == "id":
        return obj.pk if getattr(obj, "is_school", False) else None
    target = obj
    parts = path.split("__")
    for part in parts[:-1]:
        target = getattr(target, part, None)
        if target is None:
            return None
    return getattr(target, parts[-1] + "_id", None)


def build_event(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    school=None,
    changes: dict | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    context = request_context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    return AuditEvent(
        at=at or timezone.now(),
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:255],
        school_id=_school_id_of(obj, school),
        changes=changes or {},
        request_id=context.request_id,
        ip=context.ip,
        **_actor_fields(actor),
    )


def audit_record(**kwargs) -> AuditEvent:
    event = build_event(**kwargs)
    event.save()
    return event


def audit_create(*, actor, obj: models.Model, school=None) -> AuditEvent:
    return audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=obj,
        school=school,
        changes={"after": snapshot(obj)},
    )


def audit_update(*, actor, obj: models.Model, before: dict, school=None) -> AuditEvent | None:
    after = snapshot(obj)
    changed = diff(before, after)
    changed.pop("updated_at", None)
    if not changed:
        return None
    return audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=obj,
        school=school,
        changes={"fields": changed},
    )


def audit_delete(*, actor, obj: models.Model, school=None) -> AuditEvent:
    return audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        obj=obj,
        school=school,
        changes={"before": snapshot(obj)},
    )


def audit_sensitive_read(*, actor, obj: models.Model, field: str, purpose: str = "") -> AuditEvent:
    return audit_record(
        actor=actor,
        action=AuditAction.READ_SENSITIVE,
        obj=obj,
        changes={"field": field, "purpose": purpose},
    )


def audit_bulk_create(*, actor, objs: list[models.Model], school=None, batch_size=1000) -> None:
    """One create row per object, written in bulk (used by roster imports)."""
    now = timezone.now()
    events = [
        build_event(
            actor=actor,
            action=AuditAction.CREATE,
            obj=obj,
            school=school,
            changes={"after": snapshot(obj)},
            at=now,
        )
        for obj in objs
    ]
    AuditEvent.objects.bulk_create(events, batch_size=batch_size)


def insert_rows(model: type[models.Model], names: list[str], rows: list[tuple], fixed=None) -> int:
    """Insert rows of `model` without building a model instance per row (`bulk_create`
    spends most of its time preparing each field of each object): `rows` hold the values of
    the fields `names`, already in database form (ids, text); `fixed` maps other fields to
    one Python value for every row; the remaining fields take their default (no `pre_save`:
    give `auto_now` fields in `fixed`). The fixed values are prepared once. PostgreSQL takes
    the rows with COPY, other databases one prepared INSERT run for every row
    (`executemany`): a multi-row INSERT with thousands of parameters costs more to parse,
    in psycopg's client-side binding above all, than the rows cost to write. Returns the
    number of rows."""
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    fixed = dict(fixed or {})
    own = [model._meta.get_field(name) for name in names]
    rest = [f for f in model._meta.concrete_fields if not f.primary_key and f.name not in names]
    unknown = set(fixed) - {f.name for f in rest}
    if unknown:
        raise ValueError(
            f"insert_rows: not a field of {model._meta.label} or given twice: {unknown}"
        )
    tail = tuple(
        f.get_db_prep_save(fixed[f.name] if f.name in fixed else f.get_default(), connection)
        for f in rest
    )
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in own + rest)
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw = connection.connection
        tail = tuple(_copy_text(raw, value) for value in tail)
        # The raw connection (Django's cursors have no COPY), errors still Django's own.
        with (
            connection.wrap_database_errors,
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row((*row, *tail))
        return len(rows)
    marks = ", ".join(["%s"] * (len(own) + len(rest)))
    with connection.cursor() as cursor:
        # Only the model's own, quoted names go into the text; every value is a parameter.
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
            [(*row, *tail) for row in rows],
        )
    return len(rows)


def _copy_text(raw_connection, value):
    """A prepared value in COPY's text form, dumped once for all rows (a JSON value would
    be serialised again for every row)."""
    if value is None or isinstance(value, str):
        return value
    from psycopg.adapt import PyFormat, Transformer

    dumped = Transformer(raw_connection).get_dumper(value, PyFormat.TEXT).dump(value)
    return bytes(dumped).decode()


def audit_bulk_update(
    *, actor, model: type[models.Model], objects: Iterable[tuple], fields: dict, at=None
) -> int:
    """The UPDATE rows of one change made to many objects at once (a queryset `update()`,
    which `audit_update` never sees): one row per object, as `audit_update` would write it,
    from (pk, repr, school id) triples, without building a model instance; every row has
    the same `{"fields": fields}`. The daily overdue job records its thousands of
    escalations this way, each still its own row under its object."""
    rows = [(str(pk), str(text)[:255], school_id) for pk, text, school_id in objects]
    context = request_context.current()
    who = _actor_fields(actor)
    return insert_rows(
        AuditEvent,
        ["object_id", "object_repr", "school"],
        rows,
        fixed={
            "at": at or timezone.now(),
            "actor": who["actor"].pk if who["actor"] is not None else None,
            "actor_label": who["actor_label"],
            "action": AuditAction.UPDATE,
            "object_type": model._meta.label_lower,
            "changes": {"fields": fields},
            "request_id": context.request_id,
            "ip": context.ip,
        },
    )
