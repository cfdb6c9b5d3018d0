"""Writing audit rows. Services call these inside their own transaction."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable

from django.db import models
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
