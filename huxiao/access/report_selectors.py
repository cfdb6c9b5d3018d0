"""Reads of the gate reports (issue 5, item 8; ADR 0022 "Reports"): the daily gate log,
visitors by purpose and by host, and pick-up exceptions of one school over a date range.

Reports are for those who keep the gate (`manage_gate`: principal, security officer). The
queries here are the reports' own (not the areas' selectors): each section is one query
whatever its length, and the counts are computed by the database (`Count`), never by
walking the rows in Python. What a report shows of a visitor's screening is "clear" or
"held", never which list matched or why; ID numbers only in their masked form; never a
photo (the encrypted columns are not even loaded).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.access.choices import ScanResult, Screening, VisitStatus
from huxiao.access.models import (
    Interception,
    NotCollected,
    PassScan,
    PickupRefusal,
    Release,
    VehicleMovement,
    Visit,
)
from huxiao.core.roles import SCHOOL_KINDS, Action
from huxiao.core.scoping import visible_school_ids
from huxiao.orgs.models import Organization

REPORT_ACTION = Action.MANAGE_GATE
MAX_ID = 2**63 - 1

# Labels of the screening as the reports show it: nothing but the outcome.
SCREENING_LABELS = {Screening.CLEAR: _("Clear"), Screening.HOLD: _("On hold")}


def report_school_ids(actor) -> frozenset[int]:
    """The schools whose reports `actor` may read; 403 when there is none at all, so that
    a 404 for a school only ever means "not in your scope"."""
    ids = visible_school_ids(actor, REPORT_ACTION)
    if not ids:
        raise PermissionDenied(_("Your role does not allow this action."))
    return ids


def report_school(*, actor, school_id) -> Organization:
    """The school of a report: 403 without the role anywhere, 404 for a school out of the
    actor's reach (or none at all: the same answer)."""
    ids = report_school_ids(actor)
    try:
        school_id = int(school_id)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < school_id <= MAX_ID or school_id not in ids:
        raise Http404
    school = Organization.objects.filter(pk=school_id, kind__in=SCHOOL_KINDS).first()
    if school is None:
        raise Http404
    return school


def report_schools(actor) -> QuerySet[Organization]:
    return Organization.objects.filter(
        pk__in=report_school_ids(actor), kind__in=SCHOOL_KINDS
    ).order_by("name")


def window(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local days start..end (both included) as an aware half-open interval."""
    tz = timezone.get_current_timezone()
    first = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    after = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz)
    return first, after


# ------------------------------------------------------------------ sections


def report_visits(*, school, start: dt.date, end: dt.date) -> QuerySet[Visit]:
    """Visitors who came to the gate in the range (checked in, or held at the gate)."""
    first, after = window(start, end)
    return (
        Visit.objects.filter(school=school, checked_in_at__gte=first, checked_in_at__lt=after)
        .select_related("host")
        .only(
            "id",
            "school_id",
            "name",
            "id_number_masked",
            "purpose",
            "purpose_note",
            "status",
            "screening",
            "checked_in_at",
            "checked_out_at",
            "checked_in_by_label",
            "host__id",
            "host__name",
        )
        .order_by("checked_in_at", "id")
    )


def report_vehicles(*, school, start: dt.date, end: dt.date) -> QuerySet[VehicleMovement]:
    first, after = window(start, end)
    return (
        VehicleMovement.objects.filter(school=school, entered_at__gte=first, entered_at__lt=after)
        .select_related("gate_pass")
        .only(
            "id",
            "school_id",
            "plate",
            "driver_name",
            "purpose",
            "note",
            "entered_at",
            "exited_at",
            "gate_pass__id",
            "gate_pass__holder_name",
            "gate_pass__kind",
        )
        .order_by("entered_at", "id")
    )


def report_scans(*, school, start: dt.date, end: dt.date) -> QuerySet[PassScan]:
    first, after = window(start, end)
    return (
        PassScan.objects.filter(school=school, at__gte=first, at__lt=after)
        .select_related("gate_pass")
        .only(
            "id",
            "school_id",
            "at",
            "direction",
            "result",
            "reason",
            "scanned_by_label",
            "gate_pass__id",
            "gate_pass__holder_name",
            "gate_pass__kind",
            "gate_pass__plate",
        )
        .order_by("at", "id")
    )


def report_interceptions(*, school, start: dt.date, end: dt.date) -> QuerySet[Interception]:
    first, after = window(start, end)
    return (
        Interception.objects.filter(school=school, at__gte=first, at__lt=after)
        # The photo stays in its row: a report never carries one.
        .defer("photo_encrypted", "photo_content_type")
        .order_by("at", "id")
    )


def visitors_by_purpose(*, school, start: dt.date, end: dt.date) -> list[dict]:
    first, after = window(start, end)
    return list(
        Visit.objects.filter(school=school, checked_in_at__gte=first, checked_in_at__lt=after)
        .values("purpose")
        .annotate(visits=Count("id"), held=Count("id", filter=Q(screening=Screening.HOLD)))
        .order_by("-visits", "purpose")
    )


def visitors_by_host(*, school, start: dt.date, end: dt.date) -> list[dict]:
    """Visits per host staff member; visits without a host are one row with host None."""
    first, after = window(start, end)
    return list(
        Visit.objects.filter(school=school, checked_in_at__gte=first, checked_in_at__lt=after)
        .values("host_id", "host__name")
        .annotate(visits=Count("id"))
        .order_by("-visits", "host__name", "host_id")
    )


def report_refusals(*, school, start: dt.date, end: dt.date) -> QuerySet[PickupRefusal]:
    """Refused pick-ups with the reason, the child and the adult whose code was shown."""
    first, after = window(start, end)
    return (
        PickupRefusal.objects.filter(school=school, at__gte=first, at__lt=after)
        .select_related("child__school_class")
        .only(
            "id",
            "school_id",
            "at",
            "reason",
            "by_label",
            "child__id",
            "child__name",
            "child__school_class__id",
            "child__school_class__name",
        )
        # Whose code was shown: a guardian of the roster or a one-day delegate.
        .annotate(adult_name=Coalesce("code__guardian__name", "code__delegate__name", Value("")))
        .order_by("at", "id")
    )


def report_not_collected(*, school, start: dt.date, end: dt.date) -> QuerySet[NotCollected]:
    """Children flagged as not collected, with when they were collected in the end."""
    collected = Release.objects.filter(child=OuterRef("child"), on_date=OuterRef("on_date"))
    return (
        NotCollected.objects.filter(school=school, on_date__gte=start, on_date__lte=end)
        .select_related("child__school_class")
        .only(
            "id",
            "school_id",
            "on_date",
            "flagged_at",
            "child__id",
            "child__name",
            "child__school_class__id",
            "child__school_class__name",
        )
        .annotate(
            collected_at=Subquery(collected.values("released_at")[:1]),
            collected_by=Subquery(collected.values("adult_name")[:1]),
        )
        .order_by("on_date", "flagged_at", "id")
    )


def report_delegate_releases(*, school, start: dt.date, end: dt.date) -> QuerySet[Release]:
    """Children handed over to a one-day delegate rather than a guardian of the roster."""
    return (
        Release.objects.filter(
            school=school, on_date__gte=start, on_date__lte=end, delegate__isnull=False
        )
        .select_related("child", "school_class", "delegate")
        .only(
            "id",
            "school_id",
            "on_date",
            "released_at",
            "released_by_label",
            "adult_name",
            "method",
            "child__id",
            "child__name",
            "school_class__id",
            "school_class__name",
            "delegate__id",
            "delegate__relationship",
        )
        .order_by("released_at", "id")
    )


def report_totals(*, school, start: dt.date, end: dt.date) -> dict[str, int]:
    """The headline counts, one aggregate query per kind of record."""
    first, after = window(start, end)
    in_range = Q(school=school, at__gte=first, at__lt=after)
    visits = Visit.objects.filter(
        school=school, checked_in_at__gte=first, checked_in_at__lt=after
    ).aggregate(
        visits=Count("id"),
        held=Count("id", filter=Q(screening=Screening.HOLD)),
        still_inside=Count("id", filter=Q(status=VisitStatus.INSIDE)),
    )
    vehicles = VehicleMovement.objects.filter(
        school=school, entered_at__gte=first, entered_at__lt=after
    ).aggregate(vehicles=Count("id"))
    scans = PassScan.objects.filter(in_range).aggregate(
        scans_accepted=Count("id", filter=Q(result=ScanResult.ACCEPTED)),
        scans_refused=Count("id", filter=Q(result=ScanResult.REFUSED)),
    )
    interceptions = Interception.objects.filter(in_range).aggregate(interceptions=Count("id"))
    releases = Release.objects.filter(
        school=school, on_date__gte=start, on_date__lte=end
    ).aggregate(
        releases=Count("id"),
        delegate_releases=Count("id", filter=Q(delegate__isnull=False)),
    )
    refusals = PickupRefusal.objects.filter(in_range).aggregate(refusals=Count("id"))
    not_collected = NotCollected.objects.filter(
        school=school, on_date__gte=start, on_date__lte=end
    ).aggregate(not_collected=Count("id"))
    return {
        **visits,
        **vehicles,
        **scans,
        **interceptions,
        **releases,
        **refusals,
        **not_collected,
    }


@dataclasses.dataclass
class GateReport:
    """One school's report over start..end; the sections are lazy querysets (the page
    slices them, the export iterates them in full)."""

    school: Organization
    start: dt.date
    end: dt.date
    totals: dict[str, int]
    by_purpose: list[dict]
    by_host: list[dict]
    visits: QuerySet
    vehicles: QuerySet
    scans: QuerySet
    interceptions: QuerySet
    refusals: QuerySet
    not_collected: QuerySet
    delegate_releases: QuerySet

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def gate_report(*, actor, school, start: dt.date, end: dt.date) -> GateReport:
    """The report of `school` (already checked with `report_school`) over start..end."""
    if school.pk not in report_school_ids(actor):
        raise Http404
    kwargs = {"school": school, "start": start, "end": end}
    return GateReport(
        school=school,
        start=start,
        end=end,
        totals=report_totals(**kwargs),
        by_purpose=visitors_by_purpose(**kwargs),
        by_host=visitors_by_host(**kwargs),
        visits=report_visits(**kwargs),
        vehicles=report_vehicles(**kwargs),
        scans=report_scans(**kwargs),
        interceptions=report_interceptions(**kwargs),
        refusals=report_refusals(**kwargs),
        not_collected=report_not_collected(**kwargs),
        delegate_releases=report_delegate_releases(**kwargs),
    )


def screening_label(value: str) -> str:
    label = SCREENING_LABELS.get(value)
    return str(label) if label is not None else ""


# ------------------------------------------------------------------ counts (dashboards)


def gate_counts(*, school_ids, day: dt.date, week_start: dt.date) -> dict[str, int]:
    """The gate at a set of schools in figures (the command dashboard), whose scope the
    caller has checked: visitors who came to the gate on `day` (checked in or held, as
    `report_totals` counts them; never how many were held), vehicles that entered on `day`,
    and contraband interceptions from `week_start` to `day` (both included). Three
    aggregate queries on the (school, time) indexes, a day or a week of rows read, however
    many gate events the years have stored."""
    ids = list(school_ids)
    if not ids:
        return {"visitors": 0, "vehicles": 0, "interceptions": 0}
    first, after = window(day, day)
    week_first, week_after = window(week_start, day)
    visitors = Visit.objects.filter(
        school_id__in=ids, checked_in_at__gte=first, checked_in_at__lt=after
    ).count()
    vehicles = VehicleMovement.objects.filter(
        school_id__in=ids, entered_at__gte=first, entered_at__lt=after
    ).count()
    interceptions = Interception.objects.filter(
        school_id__in=ids, at__gte=week_first, at__lt=week_after
    ).count()
    return {"visitors": visitors, "vehicles": vehicles, "interceptions": interceptions}


def gate_counts_by_school(*, school_ids, start: dt.date, end: dt.date) -> dict[int, dict]:
    """Per school of `school_ids` (whose scope the caller has checked): the visitors who
    came to the gate, the vehicles that entered and the contraband interceptions over the
    local days start..end, counted as `report_totals` counts them (the monthly report of a
    town or the county, ADR 0033; never how many visitors were held). Three grouped
    queries on the (school, time) indexes; schools without any are left out."""
    ids = list(school_ids)
    counts: dict[int, dict] = {}
    if not ids:
        return counts
    first, after = window(start, end)
    for name, model, field in (
        ("visitors", Visit, "checked_in_at"),
        ("vehicles", VehicleMovement, "entered_at"),
        ("interceptions", Interception, "at"),
    ):
        rows = (
            model.objects.filter(
                school_id__in=ids, **{f"{field}__gte": first, f"{field}__lt": after}
            )
            .order_by()
            .values("school_id")
            .annotate(n=Count("id"))
            .values_list("school_id", "n")
        )
        for school_id, n in rows:
            counts.setdefault(school_id, {"visitors": 0, "vehicles": 0, "interceptions": 0})[
                name
            ] = n
    return counts
