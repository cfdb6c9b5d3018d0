"""Periodic jobs of the hazards app; each calls a service (ADR 0026).

- overdue hazards are escalated every morning (owner → principal → supervising office);
  the job is idempotent: a second run the same day, or two workers at once, does nothing.
- listed supervisions (挂牌督办) due within three days or overdue remind the school's
  principals (overdue: the supervising office too), once per listing and day.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.hazards import hazard_services, listing_services


@db_periodic_task(crontab(minute="30", hour="7"))
def hazards_escalate_daily() -> dict:
    result = hazard_services.hazards_escalate()
    return {level: len(ids) for level, ids in result.items()}


@db_periodic_task(crontab(minute="40", hour="7"))
def listings_remind_daily() -> dict:
    result = listing_services.listings_remind()
    return {kind: len(ids) for kind, ids in result.items()}
