"""Counting patrol rounds per school and day (issue 7 item 7; ADR 0029 "Rounds").

CONTRACT (the compliance rule "patrol_rounds" and the daily missed-rounds check both use it;
the rounds area implements it):

    round_counts(school_ids, start: date, end: date) -> dict[int, dict[date, tuple[int, int]]]

For each school and each local day from `start` to `end` (both included) with any counted
round: (day rounds, night rounds). A round counts when it is finished and scanned at least
`min(2, active checkpoints of the school)` distinct checkpoints; it belongs to the local date
of `started_at` (a night round after midnight belongs to the night that began the evening
before: the local date of started_at minus one day when before noon). One or two grouped
queries for all the schools.
"""

from __future__ import annotations


def round_counts(school_ids, start, end) -> dict:  # stub until the rounds area lands
    return {}
