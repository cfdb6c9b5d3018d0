"""Periodic jobs of the transport app; each calls a service (ADR 0031).

- documents of buses and drivers in service that have expired or run out within 30 days
  are sent to each school's principal and security officers every morning
  (fleet_services.fleet_remind); one message per school and day (dedupe key), so a second
  run the same day, or two workers at once, sends nothing twice.
- bus trips still under way two hours after their start, every five minutes
  (trip_services.trips_overdue): each is flagged once to the school and the police.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.transport.fleet_services import fleet_remind
from huxiao.transport.trip_services import trips_overdue


@db_periodic_task(crontab(minute="25", hour="7"))
def fleet_remind_daily() -> dict:
    result = fleet_remind()
    return {"schools": len(result["schools"]), "items": result["items"]}


@db_periodic_task(crontab(minute="*/5"))
def trips_overdue_every_5_minutes() -> int:
    return len(trips_overdue())
