"""Periodic jobs of the drills app; each calls a service (ADR 0030).

- every morning at 07:30 local time the schools are reminded of activities still due (no
  drill yet this week from Thursday; a per-term activity missing 14 days before the term
  ends) and flagged, with their education office, for what was missed (the last week ended
  without a drill; the term ended short) — compliance_services.activities_remind. Each
  reminder or flag at most once per school, rule and period: a second run, or two workers at
  once, sends nothing twice.
- every night at 00:05 every school's compliance is judged for the new day and stored
  (standings.refresh), so the first overview of the morning reads stored rows.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.drills.compliance_services import activities_remind


@db_periodic_task(crontab(minute="30", hour="7"))
def activities_remind_daily() -> dict:
    result = activities_remind()
    return {"reminded": result["reminded"], "flagged": result["flagged"]}


@db_periodic_task(crontab(minute="5", hour="0"))
def standings_refresh_nightly() -> dict:
    """Just after midnight: every school's activity compliance judged for the new day and
    stored (drills.standings), so the morning's first overview reads rows."""
    from huxiao.drills import standings

    return {"schools": standings.refresh()}
