"""Background sending of notifications; each task only calls a service."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from huxiao.notify import services

logger = logging.getLogger(__name__)

# Ahead of imports and reports in the queue: an alarm's SMS must not wait behind a roster
# check. Only where the queue's storage supports priorities (SQLite does; plain RedisHuey
# refuses a priority outright, PriorityRedisHuey honours it).
DELIVERY_PRIORITY = 100


@db_task()
def deliver_task(delivery_id: int, token: str) -> None:
    services.delivery_send(delivery_id=delivery_id, token=token)


def deliver_enqueue(delivery_id: int, token: str) -> None:
    """Queue one send (services call this after commit)."""
    priority = DELIVERY_PRIORITY if getattr(HUEY.storage, "priority", False) else None
    deliver_task(delivery_id, token, priority=priority)


# A run that waited in the queue past the next one's start is dropped, not piled up.
@db_periodic_task(crontab(minute="*"), expires=120)
def deliveries_retry_due_task() -> None:
    """Every minute: queue the deliveries whose next attempt is due."""
    queued = services.deliveries_retry_due()
    if queued:
        logger.info("queued %s notification deliveries for another attempt", queued)
