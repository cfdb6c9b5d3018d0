"""Periodic job of child pick-up (ADR 0025): flag children not collected after dismissal.

Imported by `huxiao/access/tasks.py`, the module huey's autodiscovery loads."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.access import pickup_services


@db_periodic_task(crontab(minute="*/5"))
def pickup_not_collected_sweep() -> int:
    # Idempotent: a child is flagged once a day whatever the number of runs or workers.
    return pickup_services.not_collected_sweep()
