"""Tunables of gate posts and visits, each overridable in settings (ADR 0018)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings


def _minutes(name: str, default: int) -> dt.timedelta:
    return dt.timedelta(minutes=int(getattr(settings, name, default)))


def checkin_early() -> dt.timedelta:
    """How long before a post's start its staff may check in (arriving early is normal)."""
    return _minutes("PATROL_CHECKIN_EARLY_MINUTES", 15)


def late_grace() -> dt.timedelta:
    """A check-in later than start + this is late; at start + this with nobody (no police,
    where police are planned) at the post, the station is told."""
    return _minutes("PATROL_LATE_GRACE_MINUTES", 5)


def checkout_grace() -> dt.timedelta:
    """Check-out (and correcting car/lights) stays open this long after the post ends."""
    return _minutes("PATROL_CHECKOUT_GRACE_MINUTES", 60)


def flag_lookback() -> dt.timedelta:
    """The missed-post sweep looks at shifts that started within this span; older shifts are
    history and are never flagged late (a first run must not page about last month)."""
    return _minutes("PATROL_FLAG_LOOKBACK_MINUTES", 24 * 60)


def shift_horizon_days() -> int:
    """Shifts are generated from today up to this many days ahead."""
    return int(getattr(settings, "PATROL_SHIFT_HORIZON_DAYS", 7))


def visits_required() -> int:
    """§1 二(五)三: police-post officers work at each school at least twice a week."""
    return int(getattr(settings, "PATROL_VISITS_PER_WEEK", 2))


def visit_flag_weekday() -> int:
    """Weekday (Monday 0) from which a school still short of visits is flagged: Friday."""
    return int(getattr(settings, "PATROL_VISIT_FLAG_WEEKDAY", 4))


def visit_flag_time() -> dt.time:
    """Time of that day from which it is flagged: early enough to visit on Friday."""
    raw = str(getattr(settings, "PATROL_VISIT_FLAG_TIME", "09:00"))
    hour, minute = raw.split(":")
    return dt.time(int(hour), int(minute))


def visit_backdate_days() -> int:
    """A visit may be logged afterwards, up to this many days back."""
    return int(getattr(settings, "PATROL_VISIT_BACKDATE_DAYS", 14))


def photo_max_bytes() -> int:
    return int(getattr(settings, "PATROL_PHOTO_MAX_BYTES", 8 * 1024 * 1024))
