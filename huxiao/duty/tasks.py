"""Periodic jobs of the duty app; each calls a service (ADR 0029).

- uncovered shifts, every minute (duty_services.duty_gaps_scan): a shift that started more
  than its school's grace minutes ago with nobody checked in is flagged once;
- the monitoring-room log, every hour (monitoring_services.monitoring_gaps_scan): stretches
  of the last 24 hours without an entry, longer than the plan allows, are flagged once;
- patrol rounds, at 00:20 and 12:20 (rounds_services.rounds_check): idle rounds are ended,
  yesterday's too few rounds and the last finished night without a night round (a night is
  over at noon) are flagged once; idle rounds are also ended every 15 minutes.
Each is idempotent: running one twice, or two workers at once, flags nothing twice.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.duty.duty_services import duty_gaps_scan
from huxiao.duty.monitoring_services import monitoring_gaps_scan
from huxiao.duty.rounds_services import rounds_check, rounds_finish_idle


@db_periodic_task(crontab(minute="*"))
def duty_gaps_every_minute() -> int:
    return len(duty_gaps_scan())


@db_periodic_task(crontab(minute="7"))
def monitoring_gaps_hourly() -> int:
    return len(monitoring_gaps_scan())


@db_periodic_task(crontab(minute="20", hour="0,12"))
def rounds_check_daily() -> dict:
    result = rounds_check()
    return {
        "finished": result.finished,
        "rounds_missed": len(result.rounds_missed),
        "night_round_missed": len(result.night_missed),
    }


@db_periodic_task(crontab(minute="*/15"))
def rounds_finish_idle_every_15_minutes() -> int:
    return rounds_finish_idle()
