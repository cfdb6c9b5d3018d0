"""Reads of child pick-up (issue 5, ADR 0025): classes, their children and authorised
adults, who is still waiting, and the kiosk's pick-up queue."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404

from huxiao.access.models import NotCollected, PickupCode, PickupDelegate, Release
from huxiao.access.pickup_services import gate_settings, local_now, require_release_or_manage
from huxiao.core.roles import Action
from huxiao.core.scoping import visible_school_ids
from huxiao.people.models import Child, Guardian, SchoolClass

KIOSK_RECENT = 10
KIOSK_WAITING = 30


def initials(name: str) -> str:
    """A placeholder for the child's photo (there is no child photo in v1)."""
    name = (name or "").strip()
    if not name:
        return "?"
    if name.isascii():
        return "".join(part[0] for part in name.split()[:2]).upper()
    return name[-2:] if len(name) >= 2 else name


def pickup_class_list(*, actor):
    """Classes where the actor may release children or keep pick-up adults."""
    ids = visible_school_ids(actor, Action.RELEASE_CHILD) | visible_school_ids(
        actor, Action.MANAGE_PICKUP
    )
    return (
        SchoolClass.objects.filter(school_id__in=ids)
        .select_related("school", "head_teacher")
        .order_by("school__name", "grade", "name")
    )


def pickup_class_get(*, actor, class_id: int) -> SchoolClass:
    """A class the actor can see (404 otherwise), then 403 without a pick-up action."""
    school_class = get_object_or_404(
        SchoolClass.objects.visible_to(actor, Action.VIEW).select_related("school"),
        pk=class_id,
    )
    require_release_or_manage(actor, school_class.school_id)
    return school_class


def class_roster(*, school_class, now=None) -> list[Child]:
    """Children of the class with their authorised adults (photo flag, live code) and
    today's delegates."""
    today = local_now(now).date()
    live_codes = PickupCode.objects.filter(revoked_at__isnull=True)
    guardians = (
        Guardian.objects.filter(can_pick_up=True)
        .select_related("pickup_photo")
        .prefetch_related(Prefetch("pickup_codes", queryset=live_codes, to_attr="live_codes"))
    )
    delegates = PickupDelegate.objects.filter(on_date=today, cancelled_at__isnull=True)
    return list(
        Child.objects.filter(school_class=school_class, is_active=True)
        .order_by("name", "id")
        .prefetch_related(
            Prefetch("guardians", queryset=guardians, to_attr="pickup_adults"),
            Prefetch("pickup_delegates", queryset=delegates, to_attr="today_delegates"),
        )
    )


def delegates_named_today(*, guardian, now=None) -> list[PickupDelegate]:
    """The live delegates a guardian named for today (their page lists them to cancel)."""
    return list(
        PickupDelegate.objects.filter(
            named_by=guardian, on_date=local_now(now).date(), cancelled_at__isnull=True
        ).order_by("added_at", "pk")
    )


@dataclasses.dataclass
class WaitingRow:
    child: Child
    release: Release | None
    flagged: bool

    @property
    def initials(self) -> str:
        return initials(self.child.name)


def class_waiting(*, school_class, now=None) -> list[WaitingRow]:
    """Every active child of the class today: still waiting, or released by whom and when."""
    today = local_now(now).date()
    children = list(
        Child.objects.filter(school_class=school_class, is_active=True).order_by("name", "id")
    )
    releases = {
        r.child_id: r
        for r in Release.objects.filter(child__in=children, on_date=today).select_related(
            "released_by"
        )
    }
    flagged = set(
        NotCollected.objects.filter(child__in=children, on_date=today).values_list(
            "child_id", flat=True
        )
    )
    rows = [WaitingRow(c, releases.get(c.pk), c.pk in flagged) for c in children]
    # Waiting first (the ones that need attention), then by release time.
    rows.sort(key=lambda r: (r.release is not None, r.release.released_at if r.release else 0))
    return rows


def kiosk_panel(*, actor, school, now) -> dict:
    """Context for the kiosk's pick-up queue panel (template access/pickup/_kiosk_panel.html):
    children still waiting once dismissal has come (weekdays) and the latest releases."""
    moment = local_now(now)
    today = moment.date()
    # The kiosk's people: those who run it or hand children over (not every viewer).
    allowed = school.pk in (
        visible_school_ids(actor, Action.RELEASE_CHILD)
        | visible_school_ids(actor, Action.REGISTER_VISITOR)
    )
    if not allowed:
        return {"waiting": [], "recent": [], "waiting_count": 0, "after_dismissal": False}
    rules = gate_settings(school)
    dismissal = dt.datetime.combine(today, rules.dismissal_time)
    after_dismissal = moment.weekday() < 5 and moment.replace(tzinfo=None) >= dismissal
    waiting_qs = (
        Child.objects.filter(school=school, is_active=True)
        .exclude(releases__on_date=today)
        .select_related("school_class")
        .order_by("school_class__name", "name")
    )
    waiting = []
    waiting_count = 0
    if after_dismissal:
        waiting_count = waiting_qs.count()
        flagged = set(
            NotCollected.objects.filter(school=school, on_date=today).values_list(
                "child_id", flat=True
            )
        )
        waiting = [
            {"child": c, "initials": initials(c.name), "flagged": c.pk in flagged}
            for c in waiting_qs[:KIOSK_WAITING]
        ]
    recent = list(
        Release.objects.filter(school=school, on_date=today)
        .select_related("child", "school_class")
        .order_by("-released_at")[:KIOSK_RECENT]
    )
    return {
        "waiting": waiting,
        "waiting_count": waiting_count,
        "recent": recent,
        "after_dismissal": after_dismissal,
        "dismissal_time": rules.dismissal_time,
    }
