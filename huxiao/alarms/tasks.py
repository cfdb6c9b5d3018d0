"""Escalation: a sweep every minute, plus a check scheduled 30 s after each alarm so the
first escalation is not late by up to a minute."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from huxiao.alarms.services import alarms_escalate_due


@db_task()
def escalation_check() -> int:
    return len(alarms_escalate_due())


@db_periodic_task(crontab(minute="*"))
def escalation_sweep() -> int:
    return len(alarms_escalate_due())
