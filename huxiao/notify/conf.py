"""Tunables of outbound delivery, each overridable in settings (defaults suit both modes)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings


def send_timeout() -> float:
    """Seconds allowed to connect and to each read of an HTTP call or SMTP conversation."""
    return float(getattr(settings, "NOTIFY_TIMEOUT_SECONDS", 5))


def max_attempts() -> int:
    """After this many failed attempts a delivery is given up (status failed)."""
    return int(getattr(settings, "NOTIFY_MAX_ATTEMPTS", 6))


def retry_delay(attempts: int) -> dt.timedelta:
    """Wait after the `attempts`-th failure: 10 s, 30 s, 90 s, 270 s, 810 s … (capped at 1 h)."""
    base = float(getattr(settings, "NOTIFY_RETRY_BASE_SECONDS", 10))
    return dt.timedelta(seconds=min(base * 3 ** max(attempts - 1, 0), 3600))


def lease() -> dt.timedelta:
    """How long a dispatched or claimed delivery is left alone before the retry job takes it
    again: covers a queue that is behind and a worker that died in the middle of a send."""
    return dt.timedelta(seconds=float(getattr(settings, "NOTIFY_LEASE_SECONDS", 300)))
