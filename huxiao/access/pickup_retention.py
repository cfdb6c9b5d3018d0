"""Retention of pick-up records (ADR 0025): the gate's purge job (visitors area) calls
`purge_before` for each school with that school's cut-off."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from huxiao.access.models import NotCollected, PickupDelegate, PickupRefusal, Release


def purge_before(school, cutoff: dt.datetime) -> int:
    """Delete the school's releases, refusals, not-collected flags and delegates older
    than `cutoff` (an aware datetime); returns the number of rows deleted. Codes of a
    purged delegate go with it (cascade) and are counted."""
    day = timezone.localdate(cutoff)  # the job passes UTC; delegates' days are local
    deleted = 0
    with transaction.atomic():
        deleted += Release.objects.filter(school=school, released_at__lt=cutoff).delete()[0]
        deleted += PickupRefusal.objects.filter(school=school, at__lt=cutoff).delete()[0]
        deleted += NotCollected.objects.filter(school=school, flagged_at__lt=cutoff).delete()[0]
        # A delegate is valid on one day only: expired once that day is before the cut-off.
        deleted += PickupDelegate.objects.filter(school=school, on_date__lt=day).delete()[0]
    return deleted
