"""Periodic jobs run on the local clock: "07:30" in a crontab is 07:30 in the township
(Asia/Shanghai), not in UTC (huey's default, which would page principals at 15:30)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import HUEY


def test_huey_schedules_on_local_time():
    assert HUEY.utc is False
    assert settings.HUEY["utc"] is False


def test_a_morning_crontab_fires_in_the_local_morning():
    shanghai = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    fires = crontab(minute="30", hour="7")
    # huey compares the crontab with its own clock: local time when utc is False.
    local_morning = dt.datetime(2026, 12, 1, 7, 30, tzinfo=shanghai).replace(tzinfo=None)
    utc_of_that_moment = (
        dt.datetime(2026, 12, 1, 7, 30, tzinfo=shanghai).astimezone(dt.UTC).replace(tzinfo=None)
    )
    assert fires(local_morning)
    assert not fires(utc_of_that_moment)
