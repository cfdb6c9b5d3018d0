"""Periodic jobs of the check area (issue 9 item 3; §3 3). Imported by `health/tasks.py`.

- at 15:00 every day, each class reporter (the head teacher's login, else the school's
  health staff) is told of the day's absences whose cause is still unknown
  (check_services.absences_unknown_remind); one message per class and day (dedupe key), so
  a second run, or two workers at once, sends nothing twice.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.health.check_services import absences_unknown_remind


@db_periodic_task(crontab(minute="0", hour="15"))
def absences_unknown_remind_daily() -> int:
    return len(absences_unknown_remind())
