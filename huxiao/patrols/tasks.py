"""Periodic jobs of gate posts and visits; each calls a service (ADR 0018).

- shifts for the coming days, every night (and on demand: a check-in, the sweep and the
  day's post page create today's shift if the night job has not run);
- the missed/late-post sweep, every five minutes;
- the ≥ 2 visits a week rule, every 30 minutes (it acts from Friday 09:00 to Sunday);
- legal vice-principals, every night: terms that ran out are ended and the LVP memberships
  follow the assignments and the officers' police memberships (ADR 0020).
Each is idempotent: running one twice, or two workers at once, flags nothing twice.
"""

from __future__ import annotations

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.patrols import conf, lvp_services, services


@db_periodic_task(crontab(minute="5", hour="0"))
def shifts_generate() -> int:
    today = services.local_now().date()
    return services.shifts_ensure(
        first_day=today, last_day=today + dt.timedelta(days=conf.shift_horizon_days())
    )


@db_periodic_task(crontab(minute="*/5"))
def post_flags_sweep() -> dict:
    return services.post_flags_sweep()


@db_periodic_task(crontab(minute="*/30"))
def visit_rule_check() -> int:
    return len(services.visits_flag_shortfalls())


@db_periodic_task(crontab(minute="15", hour="0"))
def lvp_sweep() -> dict:
    return lvp_services.lvp_sweep()
