"""Periodic jobs of the school gate; each calls a service (ADRs 0022–0025).

Visitors (ADR 0023):
- visitors still inside when their badge ran out (the school's closing time) are flagged
  once and the duty leaders told, every ten minutes;
- gate records older than each school's retention period are purged once a night, the
  purge itself written to the audit trail.
Each is idempotent: running one twice, or two workers at once, does nothing twice.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.access import visitor_services


@db_periodic_task(crontab(minute="*/10"))
def visitors_overstay_check() -> int:
    return len(visitor_services.visits_flag_overstays())


@db_periodic_task(crontab(minute="40", hour="2"))
def gate_records_purge() -> int:
    return sum(visitor_services.gate_records_purge().values())


from huxiao.access.pickup_tasks import pickup_not_collected_sweep  # noqa: E402, F401
