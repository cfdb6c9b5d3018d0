"""Periodic jobs of the supervision app; each calls a service (ADR 0027).

- overdue action items of the leading group's meetings are escalated every morning
  (responsible person → the organization's leaders → the group's office); idempotent: a
  second run the same day, or two workers at once, does nothing.
- public criticisms past their date to put things right and not resolved are flagged to
  the issuing office every morning (notice_services.notices_remind); once a day.
- self-check campaigns remind the schools that have not submitted (from 3 days before the
  self-check is due, and when overdue) and the owners of overdue gaps
  (campaign_services.campaigns_remind); once a day per school and owner (dedupe keys).
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.supervision.campaign_services import campaigns_remind
from huxiao.supervision.meeting_services import actions_escalate
from huxiao.supervision.notice_services import notices_remind

__all__ = [
    "actions_escalate",
    "actions_escalate_daily",
    "campaigns_remind",
    "campaigns_remind_daily",
    "notices_remind",
    "notices_remind_daily",
]


@db_periodic_task(crontab(minute="35", hour="7"))
def actions_escalate_daily() -> dict:
    result = actions_escalate()
    return {level: len(ids) for level, ids in result.items()}


@db_periodic_task(crontab(minute="40", hour="7"))
def notices_remind_daily() -> dict:
    return {"flagged": len(notices_remind()["flagged"])}


@db_periodic_task(crontab(minute="0", hour="8"))
def campaigns_remind_daily() -> dict:
    return {kind: len(refs) for kind, refs in campaigns_remind().items()}
