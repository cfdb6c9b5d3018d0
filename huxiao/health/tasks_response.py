"""Periodic jobs of the response area (ADR 0032 "Response"); each calls a service.

- on school days at 11:30 and 15:30 local time, the head teacher and the health staff of
  each class under a monitoring plan whose checks today are behind are reminded
  (response_services.monitoring_remind): by 11:30 half of the day's checks are due (the
  morning check of a twice-a-day plan), by 15:30 all of them. Suspended classes are not
  reminded. Once per class, day and slot (dedupe key): a second run, or two workers at
  once, sends nothing twice.

Huey finds periodic tasks in each app's `tasks.py`; `health/tasks.py` imports this module.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.health.response_services import monitoring_remind


# day_of_week: huey counts 0 = Sunday, so 1-5 is Monday to Friday.
@db_periodic_task(crontab(minute="30", hour="11,15", day_of_week="1-5"))
def monitoring_remind_at_slots() -> int:
    return len(monitoring_remind())
