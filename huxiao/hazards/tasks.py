"""Periodic jobs of the hazards app; each calls a service (ADR 0026).

- overdue hazards are escalated every morning (owner → principal → supervising office);
  the job is idempotent: a second run the same day, or two workers at once, does nothing.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.hazards import hazard_services


@db_periodic_task(crontab(minute="30", hour="7"))
def hazards_escalate_daily() -> dict:
    result = hazard_services.hazards_escalate()
    return {level: len(ids) for level, ids in result.items()}
