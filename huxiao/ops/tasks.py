"""Periodic job of the ops app: the nightly backup (ADR 0034).

Every night at 02:30 local time, when HUXIAO_BACKUP_SCHEDULE is on (default: in production),
one backup into HUXIAO_BACKUP_DIR and the oldest beyond HUXIAO_BACKUP_KEEP removed. The hour
is the quietest of a school's day and clear of the other apps' jobs (00:05, 07:30). The task
is always registered and reads the setting when it runs, so turning it on needs no code.
"""

from __future__ import annotations

import logging

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.ops.backup import BackupError, backup_create

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="30", hour="2"))
def backup_nightly() -> dict:
    if not settings.HUXIAO_BACKUP_SCHEDULE:
        return {"skipped": True}
    try:
        result = backup_create()
    except BackupError as exc:
        # Raised again so that huey records the failure too; the log line is the alert.
        logger.error("nightly backup failed: %s", exc)
        raise
    return {
        "path": str(result.path),
        "bytes": sum(part["bytes"] for part in result.manifest["parts"].values()),
        "seconds": round(result.seconds, 1),
        "pruned": [path.name for path in result.pruned],
    }
