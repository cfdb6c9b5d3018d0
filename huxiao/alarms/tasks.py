"""Escalation: a sweep every minute, plus a check scheduled 30 s after each alarm so the
first escalation is not late by up to a minute."""

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from huxiao.alarms.services import alarms_escalate_due

# Ahead of everything else in the queue, the outbound deliveries included (priority 100,
# notify.tasks): a delivery to an unreachable robot can take seconds, and an escalation
# must not wait behind a queue of them. Only where the storage supports priorities (SQLite
# does; plain RedisHuey refuses a priority outright).
ESCALATION_PRIORITY = 200 if getattr(HUEY.storage, "priority", False) else None


@db_task(priority=ESCALATION_PRIORITY)
def escalation_check() -> int:
    return len(alarms_escalate_due())


@db_periodic_task(crontab(minute="*"), priority=ESCALATION_PRIORITY)
def escalation_sweep() -> int:
    return len(alarms_escalate_due())
