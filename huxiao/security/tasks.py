"""Periodic jobs of the security app; each calls a service (ADR 0028).

- guard certificates expiring within 30 days or expired, and security staff without a
  passed training in 12 months, are sent to each school's principal and security officers
  every morning (personnel_services.personnel_remind); one message per school and day
  (dedupe key), so a second run the same day, or two workers at once, sends nothing twice.
- every county is evaluated against its compliance rules at 00:40 local time
  (compliance_services.compliance_evaluate_all): the day just ended joins the patrol-rounds
  window and certificates that expired at midnight count; a second run writes the same rows.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.security.compliance_services import compliance_evaluate_all
from huxiao.security.personnel_services import personnel_remind


@db_periodic_task(crontab(minute="20", hour="7"))
def personnel_remind_daily() -> dict:
    result = personnel_remind()
    return {"schools": len(result["schools"]), "items": result["items"]}


@db_periodic_task(crontab(minute="40", hour="0"))
def compliance_evaluate_nightly() -> dict:
    result = compliance_evaluate_all()
    return {"counties": len(result), "schools": sum(result.values())}
