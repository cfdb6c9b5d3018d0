"""Stored activity compliance (ADR 0030 addendum "Stored standings"): a memo of
`compliance.evaluate_schools` per school and day, so the overviews, the command dashboard
and the monthly report read a county's thousand schools as rows instead of judging each
school again on every page (bench/dashboard: the judging was most of the county
dashboard's time).

A stored standing is used only when judging again would give the same verdicts:

- **Same day, county, term, rules.** The row records the day it was judged for, the
  school's county, a key of its term (id and last change, or the default term's dates and
  holidays) and a digest of the county's rules in force; any difference judges again.
- **Same facts.** A change of what the rules read — the school's activities and their
  classes, its classes, its legal vice-principals — bumps the row's `version` in the same
  transaction (`touch`, wired to those models' signals in `apps.py`); the verdicts count
  only while `computed_version` equals the version read *before* the facts were read. A
  change committed while a reader judges leaves the version ahead (the reader's upsert
  waits for the writer's row lock, and never writes `version`), so the next reader judges
  again; `touch` first creates the row, so a change made while the first reader judges is
  not lost either. A change rolled back takes its bump with it.

Writes that skip the signals (`bulk_create`, `QuerySet.update`) must call `touch` (the demo
loaders do). Rows are written by readers (an upsert of the judged fields only, never
`version`) and every night for the new day (`refresh`, tasks.py), so the first dashboard of
the morning is not the one that pays. A failed write of the memo is logged and ignored: the
verdicts returned were judged afresh either way.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from huxiao.drills.compliance import SchoolResult
from huxiao.drills.models import ActivityStanding, Term

log = logging.getLogger(__name__)


def term_key(term: Term | None) -> str:
    if term is None:
        return ""
    if term.pk:
        stamp = term.updated_at.isoformat() if term.updated_at else ""
        return f"{term.pk}:{stamp}"[:80]
    digest = hashlib.sha256(json.dumps(term.breaks or [], default=str).encode()).hexdigest()
    return f"default:{term.starts_on}:{term.ends_on}:{digest[:16]}"


def rules_key(rule_set) -> str:
    return hashlib.sha256(json.dumps(rule_set, sort_keys=True, default=str).encode()).hexdigest()


def touch(school_ids) -> None:
    """The facts of these schools change (call in the writer's transaction): their stored
    standings no longer count."""
    from huxiao.orgs.models import Organization

    ids = sorted({int(pk) for pk in school_ids if pk})
    if not ids:
        return
    existing = list(Organization.objects.filter(pk__in=ids).values_list("pk", flat=True))
    ActivityStanding.objects.bulk_create(
        [ActivityStanding(school_id=pk) for pk in existing], ignore_conflicts=True
    )
    ActivityStanding.objects.filter(school_id__in=existing).update(version=F("version") + 1)


def stored_results(rows, terms: dict, today, evaluate) -> dict:
    """The verdicts of the schools `rows` ((id, county id)) for `today`, from the stored
    standings where they still count, judged by `evaluate(rows, terms, today)` (and stored)
    for the others."""
    from huxiao.drills import rules as R

    if not rows:
        return {}
    rule_sets = R.rule_sets({region_id for _pk, region_id in rows})
    rule_keys = {region: rules_key(rule_set) for region, rule_set in rule_sets.items()}
    term_keys = {region: term_key(term) for region, term in terms.items()}
    # Plain rows, verdicts undecoded: a county's overview needs only the outcomes.
    stored = {
        row[0]: row
        for row in ActivityStanding.objects.filter(
            school_id__in=[pk for pk, _r in rows]
        ).values_list(
            "school_id",
            "version",
            "computed_version",
            "evaluated_on",
            "region_id_judged",
            "term_key",
            "rules_key",
            "verdicts",
            "outcomes",
        )
    }
    results, stale = {}, []
    for pk, region_id in rows:
        row = stored.get(pk)
        judged_with = (today, region_id, term_keys.get(region_id, ""), rule_keys.get(region_id, ""))
        if row is not None and row[1] == row[2] and row[3:7] == judged_with:
            results[pk] = StoredResult(pk, region_id, terms.get(region_id), row[7], row[8])
        else:
            stale.append((pk, region_id))
    if stale:
        judged = evaluate(stale, terms, today)
        results.update(judged)
        versions = {pk: row[1] for pk, row in stored.items()}
        _store(judged, versions, today, term_keys, rule_keys)
    return results


class StoredResult(SchoolResult):
    """A `SchoolResult` read from its stored standing: the outcomes at once, the verdicts
    (what a page lists as lacking) decoded on first use."""

    def __init__(self, school_id: int, region_id: int, term, verdicts_json: str, outcomes: str):
        self.school_id, self.region_id, self.term = school_id, region_id, term
        self._json, self._verdicts = verdicts_json, None
        self._outcomes = [tuple(item.split("=", 1)) for item in outcomes.split(";") if item]

    @property
    def verdicts(self) -> list[dict]:
        if self._verdicts is None:
            self._verdicts = json.loads(self._json) if self._json else []
        return self._verdicts

    def outcomes(self) -> list[tuple[str, str]]:
        return self._outcomes


def _store(judged: dict, versions: dict, today, term_keys: dict, rule_keys: dict) -> None:
    now = timezone.now()
    rows = [
        ActivityStanding(
            school_id=pk,
            computed_version=versions.get(pk, 0),
            evaluated_on=today,
            region_id_judged=result.region_id,
            term_key=term_keys.get(result.region_id, ""),
            rules_key=rule_keys.get(result.region_id, ""),
            verdicts=json.dumps(result.verdicts, ensure_ascii=False),
            outcomes=";".join(f"{rule}={verdict}" for rule, verdict in result.outcomes()),
            computed_at=now,
        )
        for pk, result in sorted(judged.items())
    ]
    try:
        with transaction.atomic():
            ActivityStanding.objects.bulk_create(
                rows,
                batch_size=500,
                update_conflicts=True,
                unique_fields=["school"],
                update_fields=[
                    "computed_version",
                    "evaluated_on",
                    "region_id_judged",
                    "term_key",
                    "rules_key",
                    "verdicts",
                    "outcomes",
                    "computed_at",
                ],
            )
    except DatabaseError:  # the verdicts were judged afresh; only the memo is missing
        log.warning("stored activity standings not written", exc_info=True)


def refresh(*, today=None) -> int:
    """Judge every active school for `today` (local) where its stored standing no longer
    counts (nightly, so the morning's first overview reads rows); the number of schools
    covered."""
    from huxiao.core.roles import SCHOOL_KINDS
    from huxiao.drills import compliance
    from huxiao.orgs.models import Organization

    today = today or timezone.localdate()
    region_ids = (
        Organization.objects.filter(kind__in=SCHOOL_KINDS, is_active=True)
        .order_by()
        .values_list("region_id", flat=True)
        .distinct()
    )
    judged = 0
    for region_id in sorted(r for r in region_ids if r):
        ids = compliance.region_school_ids(region_id)
        judged += len(compliance.evaluate_schools(ids, today=today, stored=True))
    return judged
