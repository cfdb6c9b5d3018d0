"""Compliance evaluation (issue 7 item 4; ADR 0028 "Compliance").

CONTRACT (other areas call these; the compliance area implements them):
- `evaluate_schools(school_ids, *, now=None) -> int`: evaluate the given schools against
  their counties' rules in force and store one `SchoolCompliance` per school; returns the
  number of schools evaluated. Grouped queries for all the schools, never one per school.
- `evaluate_region(region_id, *, now=None) -> int`: every active school of the county.
- `reevaluate_on_commit(school_ids)`: after the current transaction commits, evaluate these
  schools again (services call it when a guard, equipment, defence, camera or device of a
  school changes).
"""

from __future__ import annotations


def evaluate_schools(school_ids, *, now=None) -> int:  # pragma: no cover - stub
    return 0


def evaluate_region(region_id, *, now=None) -> int:  # pragma: no cover - stub
    return 0


def reevaluate_on_commit(school_ids) -> None:  # pragma: no cover - stub
    return None
