"""The indicator interface of assessment and ranking (issue 6 item 5, ADR 0027).

An indicator source turns the platform's own data into a percentage (0–100) per school for
one period. Each is a function

    compute(school_ids: list[int], start: date, end: date, params: dict)
        -> dict[int, Decimal | None]

registered with `@indicator(...)` under a key that schemes name in `Indicator.source`.
`start` and `end` are local dates, both included (`end` is the period's last day, or today
while the period is running). A school missing from the answer, or mapped to None, has
**no data** for that indicator: the engine leaves the indicator out of that school's total
and of its maximum, so "no data" counts neither as zero nor as full marks.

Rules every source keeps:
- **One or a few grouped queries for all the schools** (GROUP BY school), never a query per
  school: a county of 1,000 schools is assessed in a few seconds (bench/supervision).
- The engine has already checked that the caller may assess these schools; sources read the
  tables directly (the scheme's coverage is the scope).
- `params` holds the indicator's rule parameters: the source's defaults overlaid with the
  scheme's values (validated against `ParamSpec` bounds), plus `indicator_id`.

Sources whose app is not built yet are registered with `placeholder=True`: they are
`available=False` and always answer "no data", never a made-up value. The issue that builds
the app registers the real function under the same key with `replace=True`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.apps import apps
from django.db.models import Avg, Count, F, FloatField, Q
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

Compute = Callable[[list, dt.date, dt.date, dict], dict]
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ParamSpec:
    """One rule parameter: its default and the range a scheme may set it to."""

    default: int | float
    minimum: int | float
    maximum: int | float
    label: object = ""
    integer: bool = True


@dataclass(frozen=True)
class IndicatorSource:
    key: str
    label: object
    description: object
    compute: Compute
    params: dict[str, ParamSpec] = field(default_factory=dict)
    app: str = ""
    placeholder: bool = False

    @property
    def available(self) -> bool:
        """False while the app whose data it reads is not built (then it answers "no
        data")."""
        if self.placeholder:
            return False
        return not self.app or apps.is_installed(f"huxiao.{self.app}")

    @property
    def default_params(self) -> dict:
        return {name: spec.default for name, spec in self.params.items()}


REGISTRY: dict[str, IndicatorSource] = {}
MANUAL = "manual"


def indicator(
    key: str,
    *,
    label,
    description="",
    params: dict[str, ParamSpec] | None = None,
    app: str = "",
    placeholder: bool = False,
    replace: bool = False,
):
    """Register `compute` as the indicator source `key` (decorator)."""

    def decorate(compute: Compute) -> Compute:
        if key in REGISTRY and not replace:
            raise ValueError(f"indicator source {key!r} is already registered")
        REGISTRY[key] = IndicatorSource(
            key=key,
            label=label,
            description=description,
            compute=compute,
            params=dict(params or {}),
            app=app,
            placeholder=placeholder,
        )
        return compute

    return decorate


def get_source(key: str) -> IndicatorSource | None:
    return REGISTRY.get(key)


def sources() -> list[IndicatorSource]:
    """Every registered source, in registration order."""
    return list(REGISTRY.values())


def run_source(key: str, school_ids: list[int], start: dt.date, end: dt.date, params: dict):
    """One indicator for all the schools; an unknown or unavailable source is "no data"."""
    source = REGISTRY.get(key)
    if source is None or not source.available or not school_ids:
        return {}
    merged = {**source.default_params, **(params or {})}
    return source.compute(list(school_ids), start, end, merged)


# ------------------------------------------------------------------ helpers


def percent(value) -> Decimal | None:
    """A percentage as a Decimal with two places, clamped to 0–100."""
    if value is None:
        return None
    number = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    return min(max(number, Decimal(0)), HUNDRED)


def ratio(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return percent(Decimal(part) * HUNDRED / Decimal(whole))


def day_start(day: dt.date) -> dt.datetime:
    """Local midnight at the start of `day`, aware."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def period_range(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, the day after end 00:00) in local time."""
    return day_start(start), day_start(end + dt.timedelta(days=1))


# ------------------------------------------------------------------ inspections and hazards


@indicator(
    "inspection_score",
    label=_("Inspection scores"),
    description=_(
        "Mean score (as a percentage of the maximum) of the inspections signed off in the "
        "period. Inspections from outside the school only, unless self-checks are counted."
    ),
    params={
        "self_checks": ParamSpec(0, 0, 1, _("Count the school's own self-checks (1 yes, 0 no)"))
    },
    app="hazards",
)
def inspection_score(school_ids, start, end, params):
    from huxiao.hazards.choices import InspectionKind, InspectionStatus
    from huxiao.hazards.models import Inspection

    since, until = period_range(start, end)
    qs = Inspection.objects.filter(
        school_id__in=school_ids,
        status=InspectionStatus.SIGNED_OFF,
        signed_off_at__gte=since,
        signed_off_at__lt=until,
        max_score__gt=0,
    )
    if not params.get("self_checks"):
        qs = qs.exclude(kind=InspectionKind.SELF_CHECK)
    rows = (
        qs.values("school_id")
        .annotate(pct=Avg(Cast("score", FloatField()) * 100.0 / Cast("max_score", FloatField())))
        .values_list("school_id", "pct")
        .order_by()
    )
    return {school_id: percent(pct) for school_id, pct in rows}


@indicator(
    "self_checks_held",
    label=_("Monthly self-checks held"),
    description=_(
        "Share of the period's months (up to today) in which the school signed off at least "
        "one self-check (§2 13: schools check themselves every month)."
    ),
    app="hazards",
)
def self_checks_held(school_ids, start, end, params):
    from django.db.models.functions import TruncMonth

    from huxiao.hazards.choices import InspectionKind, InspectionStatus
    from huxiao.hazards.models import Inspection

    months = []
    day = start.replace(day=1)
    while day <= end:
        months.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    # A month still running counts only once its self-check is done: day 3 of a month
    # without one yet is not a miss.
    complete = {
        m
        for m in months
        if (m + dt.timedelta(days=32)).replace(day=1) <= end + dt.timedelta(days=1)
    }
    running = set(months) - complete
    since, until = period_range(start, end)
    held: dict[int, set] = defaultdict(set)
    rows = (
        Inspection.objects.filter(
            school_id__in=school_ids,
            kind=InspectionKind.SELF_CHECK,
            status=InspectionStatus.SIGNED_OFF,
            signed_off_at__gte=since,
            signed_off_at__lt=until,
        )
        .annotate(month=TruncMonth("signed_off_at"))
        .values_list("school_id", "month")
        .distinct()
        .order_by()
    )
    for school_id, month in rows:
        held[school_id].add(month.date() if isinstance(month, dt.datetime) else month)
    # Every school is measured: a whole month without a self-check is a miss, not "no data".
    result = {}
    for school_id in school_ids:
        counted = complete | (held[school_id] & running)
        result[school_id] = ratio(len(held[school_id] & counted), len(counted))
    return result


@indicator(
    "hazards_closed_on_time",
    label=_("Hazards rectified on time"),
    description=_(
        "Of the hazards verified and closed in the period, the share closed on or before "
        "their deadline (local date). No hazard closed in the period: no data."
    ),
    app="hazards",
)
def hazards_closed_on_time(school_ids, start, end, params):
    from huxiao.hazards.choices import HazardStatus
    from huxiao.hazards.models import Hazard

    since, until = period_range(start, end)
    on_time = Q(deadline__isnull=True) | Q(deadline__gte=TruncDate("closed_at"))
    rows = (
        Hazard.objects.filter(
            school_id__in=school_ids,
            status=HazardStatus.CLOSED,
            closed_at__gte=since,
            closed_at__lt=until,
        )
        .values("school_id")
        .annotate(n=Count("pk"), ok=Count("pk", filter=on_time))
        .values_list("school_id", "n", "ok")
        .order_by()
    )
    return {school_id: ratio(ok, n) for school_id, n, ok in rows}


@indicator(
    "overdue_hazards",
    label=_("Overdue hazards"),
    description=_(
        "100 minus the points per hazard still open at the end of the period past its "
        "deadline (never below 0). A school with no hazard open during the period: no data."
    ),
    params={"per_hazard": ParamSpec(20, 0, 100, _("Points off per overdue hazard"))},
    app="hazards",
)
def overdue_hazards(school_ids, start, end, params):
    from huxiao.hazards.models import Hazard

    since, until = period_range(start, end)
    # Open at some time in the period / still open when it ended. A closed hazard keeps its
    # closed_at; reopening clears it, so a reopened hazard counts as open.
    during = Q(reported_at__lt=until) & (Q(closed_at__isnull=True) | Q(closed_at__gte=since))
    at_end = Q(closed_at__isnull=True) | Q(closed_at__gte=until)
    rows = (
        Hazard.objects.filter(during, school_id__in=school_ids)
        .values("school_id")
        .annotate(late=Count("pk", filter=at_end & Q(deadline__lt=end)))
        .values_list("school_id", "late")
        .order_by()
    )
    per = Decimal(str(params.get("per_hazard", 20)))
    return {school_id: percent(max(HUNDRED - per * late, Decimal(0))) for school_id, late in rows}


@indicator(
    "listed_supervision",
    label=_("Listed supervision (挂牌督办)"),
    description=_(
        "100 minus the points per listed supervision still active at the end of the period "
        "(never below 0). A school not under listed supervision during the period: no data."
    ),
    params={"per_listing": ParamSpec(50, 0, 100, _("Points off per active listing"))},
    app="hazards",
)
def listed_supervision(school_ids, start, end, params):
    from huxiao.hazards.models import ListedSupervision

    since, until = period_range(start, end)
    during = Q(listed_at__lt=until) & (Q(lifted_at__isnull=True) | Q(lifted_at__gte=since))
    at_end = Q(lifted_at__isnull=True) | Q(lifted_at__gte=until)
    rows = (
        ListedSupervision.objects.filter(during, school_id__in=school_ids)
        .values("school_id")
        .annotate(active=Count("pk", filter=at_end))
        .values_list("school_id", "active")
        .order_by()
    )
    per = Decimal(str(params.get("per_listing", 50)))
    return {
        school_id: percent(max(HUNDRED - per * active, Decimal(0))) for school_id, active in rows
    }


# ------------------------------------------------------------------ police–school linkage


@indicator(
    "police_visits",
    label=_("Police-post visits (≥ 2 a week)"),
    description=_(
        "Share of the whole weeks (Monday to Sunday) inside the period in which the police "
        "visited the school at least the required number of times (§1 二(五)三). Schools "
        "without a police station, or a period without a whole week yet: no data."
    ),
    params={"per_week": ParamSpec(2, 1, 14, _("Visits required per week"))},
    app="patrols",
)
def police_visits(school_ids, start, end, params):
    from huxiao.orgs.models import Organization
    from huxiao.patrols.models import PoliceVisit

    first = start + dt.timedelta(days=(7 - start.weekday()) % 7)
    mondays = []
    while first + dt.timedelta(days=6) <= end:
        mondays.append(first)
        first += dt.timedelta(days=7)
    if not mondays:
        return {}
    covered = list(
        Organization.objects.filter(pk__in=school_ids, police_station__isnull=False).values_list(
            "pk", flat=True
        )
    )
    if not covered:
        return {}
    since, until = period_range(mondays[0], mondays[-1] + dt.timedelta(days=6))
    per_week: dict[tuple[int, dt.date], int] = defaultdict(int)
    rows = (
        PoliceVisit.objects.filter(
            school_id__in=covered, arrived_at__gte=since, arrived_at__lt=until
        )
        .annotate(day=TruncDate("arrived_at"))
        .values("school_id", "day")
        .annotate(n=Count("pk"))
        .values_list("school_id", "day", "n")
        .order_by()
    )
    for school_id, day, n in rows:
        per_week[(school_id, day - dt.timedelta(days=day.weekday()))] += n
    required = int(params.get("per_week", 2))
    return {
        school_id: ratio(sum(per_week[(school_id, m)] >= required for m in mondays), len(mondays))
        for school_id in covered
    }


@indicator(
    "gate_posts_staffed",
    label=_("Gate posts staffed (护学岗)"),
    description=_(
        "Share of the gate-post shifts of the period (ended, not called off) at which the "
        "counted person arrived: police where police were planned, anyone otherwise. A "
        "school without gate-post shifts in the period: no data."
    ),
    app="patrols",
)
def gate_posts_staffed(school_ids, start, end, params):
    from huxiao.patrols.models import PostShift

    _since, until = period_range(start, end)
    arrived = Q(expects_police=True, police_arrived_at__isnull=False) | Q(
        expects_police=False, first_check_in_at__isnull=False
    )
    rows = (
        PostShift.objects.filter(
            school_id__in=school_ids,
            date__gte=start,
            date__lte=end,
            cancelled_at__isnull=True,
            ends_at__lte=min(until, timezone.now()),
        )
        .values("school_id")
        .annotate(n=Count("pk"), ok=Count("pk", filter=arrived))
        .values_list("school_id", "n", "ok")
        .order_by()
    )
    return {school_id: ratio(ok, n) for school_id, n, ok in rows}


@indicator(
    "alarm_response",
    label=_("Alarm response"),
    description=_(
        "Of the real alarms raised in the period (not drills, not presses cancelled within "
        "the free-cancel window), the share acknowledged within the set number of seconds. "
        "No alarm in the period: no data (having no alarm says nothing about the response)."
    ),
    params={
        "seconds": ParamSpec(60, 5, 3600, _("Acknowledged within (seconds)")),
    },
    app="alarms",
)
def alarm_response(school_ids, start, end, params):
    from huxiao.alarms.choices import AlarmStatus
    from huxiao.alarms.models import Alarm

    since, until = period_range(start, end)
    within = dt.timedelta(seconds=int(params.get("seconds", 60)))
    rows = (
        Alarm.objects.filter(
            school_id__in=school_ids, is_drill=False, raised_at__gte=since, raised_at__lt=until
        )
        # An accidental press cancelled in the free window is not an alarm (ADR 0014).
        .exclude(status=AlarmStatus.CANCELLED, is_false_alarm=False)
        .values("school_id")
        .annotate(
            n=Count("pk"),
            ok=Count("pk", filter=Q(acknowledged_at__lte=F("raised_at") + within)),
        )
        .values_list("school_id", "n", "ok")
        .order_by()
    )
    return {school_id: ratio(ok, n) for school_id, n, ok in rows}


# ------------------------------------------------------------------ supervision


@indicator(
    "campaign_acceptance",
    label=_("Self-check campaigns accepted on time"),
    description=_(
        "Of the school's places in campaigns whose final acceptance fell due in the period, "
        "the share accepted by that date. No campaign due: no data."
    ),
    app="supervision",
)
def campaign_acceptance(school_ids, start, end, params):
    from huxiao.supervision.choices import CampaignSchoolStatus, CampaignStatus
    from huxiao.supervision.models import CampaignSchool

    accepted = Q(
        status=CampaignSchoolStatus.ACCEPTED,
        accepted_at__isnull=False,
        campaign__acceptance_due__gte=TruncDate("accepted_at"),
    )
    rows = (
        CampaignSchool.objects.filter(
            school_id__in=school_ids,
            campaign__acceptance_due__gte=start,
            campaign__acceptance_due__lte=end,
        )
        .exclude(campaign__status=CampaignStatus.DRAFT)
        .values("school_id")
        .annotate(n=Count("pk"), ok=Count("pk", filter=accepted))
        .values_list("school_id", "n", "ok")
        .order_by()
    )
    return {school_id: ratio(ok, n) for school_id, n, ok in rows}


@indicator(
    MANUAL,
    label=_("Scored by hand"),
    description=_(
        "Scored by the assessing office for each school and period (0–100 %), e.g. for "
        "paperwork checked on site. A school not scored yet: no data."
    ),
    app="supervision",
)
def manual(school_ids, start, end, params):
    from huxiao.supervision.models import ManualScore

    rows = ManualScore.objects.filter(
        indicator_id=params.get("indicator_id"), period_start=start, school_id__in=school_ids
    ).values_list("school_id", "percent")
    return {school_id: percent(value) for school_id, value in rows}


# ------------------------------------------------------------------ not built yet


def _no_data(school_ids, start, end, params):
    return {}


indicator(
    "drills_held",
    label=_("Drills held"),
    description=_("Evacuation drills and safety education held (issue 8: not built yet)."),
    app="drills",
    placeholder=True,
)(_no_data)
indicator(
    "duty_gaps",
    label=_("Duty without gaps"),
    description=_("24-hour duty and monitoring-room logs kept (issue 7: not built yet)."),
    app="duty",
    placeholder=True,
)(_no_data)
indicator(
    "staffing_compliance",
    label=_("Guards and equipment up to standard"),
    description=_(
        "Guards, protective equipment and systems up to standard (issue 7: not built yet)."
    ),
    app="security",
    placeholder=True,
)(_no_data)
