"""Purging old pass, vehicle and contraband records (issue 5 item 7, ADR 0024).

The purge job (visitors area) calls `purge_before(school, cutoff)` with the school's
retention cutoff and logs the purge itself. What goes:
- pass scans and vehicle movements that happened before the cutoff (a vehicle still
  inside is kept, whatever its age: the gate still needs its open entry);
- interceptions recorded before the cutoff;
- passes whose validity (or revocation) ended before the cutoff and that were not scanned
  since (a vehicle movement only loses its link to a purged pass).
Each function returns the number of rows deleted (not counting cascades)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q

from huxiao.access.models import GatePass, Interception, PassScan, VehicleMovement


def _school_id(school) -> int:
    return int(getattr(school, "pk", school))


def pass_scans_purge_before(school, cutoff: dt.datetime) -> int:
    deleted, _ = PassScan.objects.filter(school_id=_school_id(school), at__lt=cutoff).delete()
    return deleted


def vehicle_movements_purge_before(school, cutoff: dt.datetime) -> int:
    deleted, _ = VehicleMovement.objects.filter(
        school_id=_school_id(school), exited_at__isnull=False, exited_at__lt=cutoff
    ).delete()
    return deleted


def interceptions_purge_before(school, cutoff: dt.datetime) -> int:
    deleted, _ = Interception.objects.filter(school_id=_school_id(school), at__lt=cutoff).delete()
    return deleted


def passes_purge_before(school, cutoff: dt.datetime) -> int:
    ended = GatePass.objects.filter(school_id=_school_id(school)).filter(
        Q(valid_until__lt=cutoff) | Q(revoked_at__lt=cutoff)
    )
    # A recent scan (e.g. a refused attempt with the expired card) keeps its pass: the
    # scans would otherwise go with it (CASCADE). Movements only lose the link (SET_NULL).
    recent = PassScan.objects.filter(at__gte=cutoff, gate_pass__isnull=False)
    ended = ended.exclude(pk__in=recent.values("gate_pass_id"))
    # Passes are few (hundreds per school): one list of ids keeps the delete a plain
    # `pk IN (...)` instead of a join repeated by the collector.
    ids = list(ended.values_list("pk", flat=True).distinct())
    if not ids:
        return 0
    return GatePass.objects.filter(pk__in=ids).delete()[1].get(GatePass._meta.label, 0)


@transaction.atomic
def purge_before(school, cutoff: dt.datetime) -> int:
    """Delete this area's records of `school` older than `cutoff`; the number deleted."""
    return (
        pass_scans_purge_before(school, cutoff)
        + vehicle_movements_purge_before(school, cutoff)
        + interceptions_purge_before(school, cutoff)
        + passes_purge_before(school, cutoff)
    )
