"""The bulk writers of the trail: `insert_rows` (no model instance per row) and
`audit_bulk_update` (one UPDATE row per object of a change made with a queryset update)."""

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.audit.services import audit_bulk_update, insert_rows
from huxiao.people.models import Child

pytestmark = pytest.mark.django_db


def test_audit_bulk_update_writes_one_row_per_object(world):
    at = timezone.make_aware(dt.datetime(2025, 3, 3, 7, 30))
    user = world.users["principal"]
    children = [world.child, world.other_child]
    count = audit_bulk_update(
        actor=user,
        model=Child,
        objects=[(c.pk, c.name, c.school_id) for c in children],
        fields={"name": ["甲", "乙"]},
        at=at,
    )
    assert count == 2
    rows = AuditEvent.objects.filter(object_type="people.child", at=at).order_by("object_id")
    assert [(r.object_id, r.object_repr, r.school_id) for r in rows] == sorted(
        (str(c.pk), c.name, c.school_id) for c in children
    )
    for row in rows:
        assert (row.action, row.actor_id, row.actor_label) == (
            AuditAction.UPDATE,
            user.pk,
            user.username,
        )
        assert row.changes == {"fields": {"name": ["甲", "乙"]}}
    assert audit_bulk_update(actor=None, model=Child, objects=[], fields={}) == 0


def test_insert_rows_batches_and_defaults(world):
    """Many rows (COPY on PostgreSQL, executemany elsewhere), the fixed values on every row,
    the defaults of the fields not given, and a field given twice refused."""
    at = timezone.make_aware(dt.datetime(2025, 3, 4, 8, 0))
    rows = [(str(n), f"对象{n}") for n in range(700)]
    assert insert_rows(
        AuditEvent,
        ["object_id", "object_repr"],
        rows,
        fixed={"at": at, "action": AuditAction.EXPORT, "object_type": "bench.row"},
    ) == len(rows)
    written = AuditEvent.objects.filter(object_type="bench.row")
    assert written.count() == 700
    last = written.get(object_id="699")
    assert (last.object_repr, last.at, last.action, last.changes, last.school_id, last.ip) == (
        "对象699",
        at,
        AuditAction.EXPORT,
        {},
        None,
        "",
    )
    assert set(written.values_list("at", flat=True)) == {at}
    with pytest.raises(ValueError, match="given twice"):
        insert_rows(AuditEvent, ["object_id"], [("1",)], fixed={"object_id": "2"})


def test_insert_rows_fails_as_a_django_database_error(world):
    """A bad row (here a missing text where the column takes none) is Django's
    IntegrityError on every database (COPY on PostgreSQL included), and nothing of the
    batch stays."""
    from django.db import IntegrityError, transaction

    at = timezone.make_aware(dt.datetime(2025, 3, 5, 8, 0))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(
            AuditEvent,
            ["object_id", "object_repr"],
            [("1", "好的"), ("2", None)],
            fixed={"at": at, "action": AuditAction.UPDATE, "object_type": "bench.bad"},
        )
    assert not AuditEvent.objects.filter(object_type="bench.bad").exists()
