"""Periodic jobs of the accounts app."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.accounts.services import login_failures_purge


@db_periodic_task(crontab(minute="17"))
def purge_old_login_failures() -> int:
    """Hourly: failed-login rows older than a day no longer decide any lockout."""
    return login_failures_purge(older_than=timezone.now() - dt.timedelta(days=1))
