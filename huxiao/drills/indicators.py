"""Assessment indicator source fed by the drills app (replaces the supervision placeholder
"drills_held"; ADR 0027 "Indicators", ADR 0030).

"drills_held": per school and period, the share of its due school weeks with at least the
given number of held evacuation drills. A due school week is a school week of one of the
county's terms (`terms.school_weeks`) that ended within the period (its Sunday between the
period's first and last day) and before today — each week belongs to the period its Sunday
falls in, so consecutive periods never count a week twice. No due week (a holiday month, a
period not yet begun): no data. One query for the terms, one grouped query for the drills.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.supervision.indicators import ParamSpec, indicator, ratio

SUNDAY = dt.timedelta(days=6)


def due_weeks(terms, start: dt.date, end: dt.date, today: dt.date) -> list[dt.date]:
    """The Mondays of the terms' school weeks ending within [start, end] and before today."""
    from huxiao.drills.terms import school_weeks

    weeks = set()
    for term in terms:
        for monday in school_weeks(term):
            sunday = monday + SUNDAY
            if start <= sunday <= end and sunday < today:
                weeks.add(monday)
    return sorted(weeks)


@indicator(
    "drills_held",
    label=_("Weekly drills held"),
    description=_(
        "Share of the school weeks that ended in the period (in the county's terms, holidays "
        "left out) with at least the given number of held evacuation drills (§2 7: a drill "
        "every week). No school week ended in the period: no data."
    ),
    params={"min_per_week": ParamSpec(1, 1, 7, _("Drills a week at least"))},
    app="drills",
    replace=True,
)
def drills_held(school_ids, start, end, params):
    from huxiao.drills.choices import ActivityKind, ActivityStatus
    from huxiao.drills.models import Activity
    from huxiao.drills.terms import county_terms
    from huxiao.orgs.models import Organization

    today = timezone.localdate()
    region_of = dict(
        Organization.objects.filter(pk__in=list(school_ids)).values_list("pk", "region_id")
    )
    terms = county_terms(set(region_of.values()), start - SUNDAY, end)
    weeks = {r: due_weeks(t, start, end, today) for r, t in terms.items()}
    if not any(weeks.values()):
        return {}
    counts: dict[int, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for school_id, day, n in (
        Activity.objects.filter(
            school_id__in=list(region_of),
            kind=ActivityKind.DRILL,
            status=ActivityStatus.HELD,
            date__gte=start - SUNDAY,
            date__lte=end,
        )
        .values("school_id", "date")
        .annotate(n=Count("pk"))
        .values_list("school_id", "date", "n")
        .order_by()
    ):
        counts[school_id][day - dt.timedelta(days=day.weekday())] += n
    need = int(params.get("min_per_week", 1))
    result = {}
    for school_id, region_id in region_of.items():
        due = weeks.get(region_id) or []
        if due:
            held = sum(counts[school_id][monday] >= need for monday in due)
            result[school_id] = ratio(held, len(due))
    return result
