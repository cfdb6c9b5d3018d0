"""Periodic jobs of the surveillance (issue 9 item 4; ADR 0032 "Surveillance").

Every school's cluster rules are evaluated at 07:00 (after the night: absences and the
morning's first checks) and at 16:00 (the day's checks and absences): the real-time path
(`symptoms.cluster_check_on_commit`) evaluates one school after each record, and this job
catches anything it missed (a failed evaluation is only logged there) and windows that
slide across midnight. Idempotent: a second run raises nothing new and sends nothing twice.

Imported by `huxiao/health/tasks.py` (huey discovers `tasks` modules only).
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.health.surveillance_services import clusters_evaluate


@db_periodic_task(crontab(minute="0", hour="7,16"))
def clusters_evaluate_daily() -> dict:
    changed = clusters_evaluate()
    return {
        "raised": sum(1 for a in changed if a.is_new),
        "grown": sum(1 for a in changed if not a.is_new),
    }
