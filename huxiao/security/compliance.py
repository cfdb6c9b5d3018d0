"""Compliance evaluation (issue 7 item 4; ADR 0028 "Compliance").

CONTRACT (other areas call these; the compliance area implements them):
- `evaluate_schools(school_ids, *, now=None) -> int`: evaluate the given schools against
  their counties' rules in force and store one `SchoolCompliance` per school; returns the
  number of schools evaluated. Grouped queries for all the schools, never one per school.
- `evaluate_region(region_id, *, now=None) -> int`: every active school of the county.
- `reevaluate_on_commit(school_ids)`: after the current transaction commits, evaluate these
  schools again (services call it when a guard, equipment, defence, camera or device of a
  school changes).

How: the facts of all the schools are read with one grouped query per table (schools,
rules, equipment list, guards with their records, stock, defence profiles, cameras, alarm
boxes, other systems, patrol rounds), each rule kind of `rules.RULES` turns one school's
facts into a verdict in Python, and the rows are written with one upsert per batch
(update the existing row of a school, create the missing ones). The number of queries does
not grow with the number of schools.

An evaluation is a computed cache of the facts, not anybody's change: it writes no audit
row (the changes of the facts that led to it have theirs).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from huxiao.core.roles import SCHOOL_KINDS
from huxiao.security import rules as R
from huxiao.security.choices import Verdict

logger = logging.getLogger(__name__)

STAFF_ROLES = (R.GUARD, R.OFFICER, R.DORM)
NETWORK_RULES = ("alarm_networked", "video_networked")
WRITE_FIELDS = [
    "evaluated_at",
    "is_compliant",
    "is_networked",
    "passed",
    "failed",
    "no_data",
    "verdicts",
]


def _ensure_equipment_types(region_id: int) -> None:
    """The county's default equipment list, created the first time it is needed (the
    equipment area owns it; until it lands, a county keeps whatever list it has)."""
    try:
        from huxiao.security.defaults import ensure_equipment_types
    except ImportError:  # pragma: no cover - until the equipment area lands
        return
    from huxiao.orgs.models import Region

    ensure_equipment_types(Region(pk=region_id))


def _rule_sets(region_ids) -> dict[int, list[tuple[str, dict]]]:
    """Per county: the rules in force in rule order, as (key, effective parameters)."""
    from huxiao.security.models import ComplianceRule

    for region_id in region_ids:
        R.ensure_rules(region_id)
    sets: dict[int, list[tuple[str, dict]]] = defaultdict(list)
    rows = ComplianceRule.objects.filter(region_id__in=region_ids, enabled=True).order_by(
        "region_id", "order", "id"
    )
    for row in rows:
        if row.key in R.RULES:
            sets[row.region_id].append((row.key, R.effective_params(row.key, row.params)))
    return sets


def _facts(school_rows, rule_sets, now: dt.datetime) -> dict[int, R.SchoolFacts]:
    """The facts of every school, one grouped query per table, only for the areas some rule
    in force needs."""
    from huxiao.accounts.models import DeviceKind, DeviceToken
    from huxiao.patrols.models import Camera
    from huxiao.people.models import Staff
    from huxiao.security.models import (
        DefenceProfile,
        EquipmentType,
        SchoolEquipment,
        TechnicalSystem,
    )

    local_now = timezone.localtime(now)
    today = local_now.date()
    facts = {
        pk: R.SchoolFacts(
            school_id=pk,
            region_id=region_id,
            enrolment=enrolment or 0,
            is_boarding=bool(boarding),
            today=today,
        )
        for pk, region_id, enrolment, boarding in school_rows
    }
    ids = list(facts)
    areas = {R.RULES[key].area for keys in rule_sets.values() for key, _p in keys}
    in_force = {key for keys in rule_sets.values() for key, _p in keys}

    if areas & {"personnel", "equipment"}:
        staff = (
            Staff.objects.filter(school_id__in=ids, is_active=True, role__in=STAFF_ROLES)
            .values_list(
                "school_id",
                "name",
                "role",
                "background_check",
                "guard_profile__id",
                "guard_profile__employment",
                "guard_profile__certificate_number",
                "guard_profile__certificate_expires_on",
                "guard_profile__filed_with_police",
            )
            .order_by("school_id", "name", "id")
        )
        for school_id, name, role, check, profile, employment, number, expires, filed in staff:
            facts[school_id].staff.append(
                R.StaffFact(
                    name=name,
                    role=role,
                    background_check=check,
                    has_profile=profile is not None,
                    # No guard record: full-time, the record's default.
                    full_time=profile is None or employment != "part_time",
                    certificate_number=(number or "").strip(),
                    certificate_expires_on=expires,
                    filed_with_police=bool(filed),
                )
            )

    if "equipment_complete" in in_force:
        regions = {f.region_id for f in facts.values()}
        for region_id in regions:
            _ensure_equipment_types(region_id)
        required: dict[int, list[R.EquipmentRequirement]] = defaultdict(list)
        for type_id, region_id, name, minimum, per_guard in (
            EquipmentType.objects.filter(region_id__in=regions, is_required=True)
            .order_by("region_id", "order", "id")
            .values_list("pk", "region_id", "name", "min_quantity", "per_guard")
        ):
            required[region_id].append(R.EquipmentRequirement(type_id, name, minimum, per_guard))
        for f in facts.values():
            f.required_equipment = required.get(f.region_id, [])
        for school_id, type_id, quantity, condition in SchoolEquipment.objects.filter(
            school_id__in=ids
        ).values_list("school_id", "equipment_type_id", "quantity", "condition"):
            facts[school_id].stock[type_id] = (quantity, condition)

    if areas & {"defence"}:
        profile_fields = (
            "video_retention_days",
            "monitoring_room",
            "monitoring_room_24h",
            "perimeter",
            "bollards",
            "vehicle_barrier",
            "closed_management",
            "gatehouse_24h",
        )
        for row in DefenceProfile.objects.filter(school_id__in=ids).values(
            "school_id", *profile_fields
        ):
            facts[row.pop("school_id")].defence = row
        for school_id, n, networked in (
            Camera.objects.filter(school_id__in=ids, is_active=True)
            .values("school_id")
            .annotate(n=Count("pk"), networked=Count("pk", filter=Q(is_networked=True)))
            .values_list("school_id", "n", "networked")
            .order_by()
        ):
            facts[school_id].cameras_active = n
            facts[school_id].cameras_networked = networked
        for school_id, n in (
            DeviceToken.objects.in_service(now)
            .filter(school_id__in=ids, kind=DeviceKind.ALARM_BOX)
            .values("school_id")
            .annotate(n=Count("pk"))
            .values_list("school_id", "n")
            .order_by()
        ):
            facts[school_id].alarm_boxes_active = n
        for school_id, kind, n, networked in (
            TechnicalSystem.objects.filter(school_id__in=ids, is_active=True)
            .values("school_id", "kind")
            .annotate(n=Count("pk"), networked=Count("pk", filter=Q(networked_to_police=True)))
            .values_list("school_id", "kind", "n", "networked")
            .order_by()
        ):
            facts[school_id].systems[kind] = (n, networked)

    if "patrol_rounds" in in_force:
        from huxiao.duty.rounds_counts import round_counts

        windows = {
            region_id: int(params.get("days", 7))
            for region_id, keys in rule_sets.items()
            for key, params in keys
            if key == "patrol_rounds"
        }
        # The night of day D lasts until noon of D+1: before noon, last night is not over.
        last_night = today - dt.timedelta(days=1 if local_now.hour >= 12 else 2)
        longest = max(windows.values())
        start = min(today, last_night + dt.timedelta(days=1)) - dt.timedelta(days=longest)
        counts = round_counts(ids, start, today - dt.timedelta(days=1)) or {}
        for f in facts.values():
            days = windows.get(f.region_id, 0)
            f.round_days = [today - dt.timedelta(days=n) for n in range(days, 0, -1)]
            f.night_days = [last_night - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
            f.rounds = dict(counts.get(f.school_id) or {})
    return facts


def evaluate_facts(facts: R.SchoolFacts, rule_set: list[tuple[str, dict]]) -> dict:
    """One school's row values from its facts and its county's rules in force."""
    verdicts = []
    for key, params in rule_set:
        outcome = R.RULES[key].evaluate(facts, params)
        verdicts.append({"rule": key, **outcome})
    by_rule = {v["rule"]: v["verdict"] for v in verdicts}
    passed = sum(v == Verdict.PASS for v in by_rule.values())
    failed = sum(v == Verdict.FAIL for v in by_rule.values())
    no_data = sum(v == Verdict.NO_DATA for v in by_rule.values())
    network = [by_rule[k] for k in NETWORK_RULES if k in by_rule]
    return {
        # 达标 needs the records: a rule without data (nothing recorded) is not met.
        "is_compliant": failed == 0 and no_data == 0 and passed > 0,
        # Both network rules in force must pass; a county that switched one off is judged
        # on the other.
        "is_networked": bool(network) and all(v == Verdict.PASS for v in network),
        "passed": passed,
        "failed": failed,
        "no_data": no_data,
        "verdicts": verdicts,
    }


def compute(school_ids, *, now=None) -> dict[int, dict]:
    """The row values of each active school among `school_ids` (nothing written)."""
    from huxiao.orgs.models import Organization

    now = now or timezone.now()
    school_rows = list(
        Organization.objects.filter(
            pk__in=list(school_ids), kind__in=SCHOOL_KINDS, is_active=True
        ).values_list("pk", "region_id", "enrolment", "is_boarding")
    )
    if not school_rows:
        return {}
    rule_sets = _rule_sets(sorted({row[1] for row in school_rows}))
    facts = _facts(school_rows, rule_sets, now)
    return {pk: evaluate_facts(f, rule_sets.get(f.region_id, [])) for pk, f in facts.items()}


def _same(row, values: dict) -> bool:
    return all(getattr(row, name) == values[name] for name in WRITE_FIELDS[1:])


def evaluate_schools(school_ids, *, now=None, skip_unchanged: bool = False) -> int:
    """Evaluate and store; returns the number of schools evaluated. With `skip_unchanged`
    a school whose verdicts are the same as stored keeps its row (and its evaluated_at)."""
    from huxiao.security.models import SchoolCompliance

    now = now or timezone.now()
    ids = sorted({int(pk) for pk in school_ids})
    if not ids:
        return 0
    values = compute(ids, now=now)
    evaluated = len(values)
    if skip_unchanged and values:
        stored = SchoolCompliance.objects.filter(school_id__in=list(values))
        for row in stored:
            if _same(row, values[row.school_id]):
                values.pop(row.school_id)
    objs = [SchoolCompliance(school_id=pk, evaluated_at=now, **v) for pk, v in values.items()]
    if objs:
        with transaction.atomic():
            SchoolCompliance.objects.bulk_create(
                objs,
                update_conflicts=True,
                unique_fields=["school"],
                update_fields=WRITE_FIELDS,
            )
    return evaluated


def region_school_ids(region_id) -> list[int]:
    from huxiao.orgs.models import Organization

    return list(
        Organization.objects.filter(
            region_id=region_id, kind__in=SCHOOL_KINDS, is_active=True
        ).values_list("pk", flat=True)
    )


def evaluate_region(region_id, *, now=None, skip_unchanged: bool = False) -> int:
    """Every active school of the county; returns the number evaluated."""
    return evaluate_schools(region_school_ids(region_id), now=now, skip_unchanged=skip_unchanged)


_PENDING_ATTR = "_huxiao_compliance_pending"


def _run_pending() -> None:
    pending = getattr(connection, _PENDING_ATTR, None)
    if not pending:
        return
    ids = sorted(pending)
    pending.clear()
    evaluate_schools(ids)


def reevaluate_on_commit(school_ids) -> None:
    """Evaluate these schools once the current transaction commits (right away outside
    one). Several calls in one transaction are evaluated together, once; a failure is
    logged, never turned into an error of the request that already committed."""
    ids = {int(pk) for pk in school_ids if pk is not None}
    if not ids:
        return
    pending = getattr(connection, _PENDING_ATTR, None)
    if pending is None:
        pending = set()
        setattr(connection, _PENDING_ATTR, pending)
    pending.update(ids)
    # One callback per call: the first to run evaluates everything pending, the others find
    # nothing (a rolled-back savepoint drops its callback, never the later ones).
    transaction.on_commit(_run_pending, robust=True)
