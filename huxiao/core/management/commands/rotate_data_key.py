"""manage.py rotate_data_key: re-encrypt every encrypted column under HUXIAO_DATA_KEY.

Run after putting the new key in HUXIAO_DATA_KEY and the old one(s) in HUXIAO_DATA_KEYS_OLD
(runbook: "Rotating the data key"). Every column whose name ends in ``_encrypted`` holds a
``v1:<key id>:…`` ciphertext (ADR 0004); the rows not yet under the current key are
rewritten in batches, each batch one transaction, so the command can be stopped and run
again: it carries on with what is left. When it reports nothing left and no failures, the
old keys can be removed from HUXIAO_DATA_KEYS_OLD.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record
from huxiao.core import crypto

SUFFIX = "_encrypted"


def encrypted_columns() -> list[tuple[type[models.Model], str]]:
    """(model, field name) of every encrypted column of the installed apps."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if field.name.endswith(SUFFIX) and isinstance(
                field, (models.TextField, models.CharField)
            ):
                found.append((model, field.name))
    return found


def _stale(model, field: str, current: str):
    """Rows whose ciphertext is not under the current key (empty values hold nothing)."""
    return (
        model._default_manager.exclude(**{field: ""})
        .exclude(**{f"{field}__isnull": True})
        .exclude(**{f"{field}__startswith": f"v1:{current}:"})
    )


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the current HUXIAO_DATA_KEY (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count only, change nothing")
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, dry_run: bool, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if settings.HUXIAO_DATA_KEYS_OLD and settings.HUXIAO_HASH_KEY == settings.HUXIAO_DATA_KEY:
            # The lookup hashes would change with the data key and stop matching (ADR 0004).
            raise CommandError(
                "HUXIAO_HASH_KEY is not set, so it follows HUXIAO_DATA_KEY. Set HUXIAO_HASH_KEY "
                "to the ORIGINAL data key (the first one ever used) before rotating."
            )
        current = crypto.current_key_id()
        self.stdout.write(f"Current key id: {current}")
        total_done = total_failed = total_left = 0
        for model, field in encrypted_columns():
            label = f"{model._meta.label}.{field}"
            pending = _stale(model, field, current)
            count = pending.count()
            if dry_run:
                by_key: dict[str, int] = {}
                for token in pending.values_list(field, flat=True).iterator(chunk_size=1000):
                    key_id = crypto.key_id_of(token) or "?"
                    by_key[key_id] = by_key.get(key_id, 0) + 1
                if count:
                    detail = ", ".join(f"{k}: {n}" for k, n in sorted(by_key.items()))
                    self.stdout.write(f"{label}: {count} to re-encrypt ({detail})")
                total_left += count
                continue
            done, failed = self._rotate(model, field, current, batch_size)
            if count or failed:
                self.stdout.write(f"{label}: {done} re-encrypted, {failed} failed")
            total_done += done
            total_failed += failed
        if dry_run:
            self.stdout.write(f"Dry run: {total_left} values would be re-encrypted.")
            return
        left = sum(_stale(m, f, current).count() for m, f in encrypted_columns())
        audit_record(
            actor=None,
            action=AuditAction.UPDATE,
            object_type="core.datakey",
            object_id=current,
            object_repr=f"data key rotation: {total_done} re-encrypted, {total_failed} failed",
        )
        self.stdout.write(
            f"Done: {total_done} re-encrypted, {total_failed} failed, {left} not under the "
            f"current key."
        )
        if total_failed or left:
            raise CommandError(
                "Some values could not be re-encrypted (their key is not in HUXIAO_DATA_KEY or "
                "HUXIAO_DATA_KEYS_OLD, or they are damaged). Keep the old keys until resolved."
            )
        self.stdout.write("Every encrypted value uses the current key: old keys may be removed.")

    def _rotate(self, model, field: str, current: str, batch_size: int) -> tuple[int, int]:
        done = failed = 0
        last_pk = None
        manager = model._default_manager
        while True:
            ids = _stale(model, field, current)
            if last_pk is not None:
                ids = ids.filter(pk__gt=last_pk)
            batch_ids = list(ids.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not batch_ids:
                return done, failed
            last_pk = batch_ids[-1]
            with transaction.atomic():
                rows = list(manager.select_for_update().filter(pk__in=batch_ids).only("pk", field))
                changed = []
                for row in rows:
                    token = getattr(row, field)
                    if not token or crypto.key_id_of(token) == current:
                        continue  # rewritten meanwhile by the application
                    try:
                        setattr(row, field, crypto.reencrypt(token))
                    except crypto.DecryptionError:
                        failed += 1
                        continue
                    changed.append(row)
                if changed:
                    manager.bulk_update(changed, [field])
                done += len(changed)
            self.stdout.write(f"  {model._meta.label}.{field}: {done} so far", ending="\r")
