"""Close contacts of a suspected case, found from the school day (issue 9 item 6; §3 5;
ADR 0032 "Case").

`case_contacts(case)` is a pure computation on a case the caller has already scoped (and
whose read it logs); `case_contacts_for(actor=, case_id=)` is the scoped, logged read.

The window runs from the onset minus `contact_window_days` to the day of isolation (or
today while the child is not isolated). A contact is found for one or more reasons, each
with the days it happened and a detail (class, table, route, checkpoint, room):

- SAME_CLASS: a child of the case's class present on a day the case child was present. A
  child is present on a day when the class's attendance was taken or the child was checked
  that day, and the child has no absence recorded that day.
- CLASS_STAFF: the class's head teacher and the staff of the class (`ClassStaff`), on the
  days the case child was present.
- BUS: another child on one of the case child's bus trips (`transport.Boarding`).
- DINING: a child at the same table or group on the same day (a seat shows the child ate
  there), unless either of them is recorded absent that day.
- CHECK_QUEUE: a child checked at the same checkpoint within `queue_minutes` of the case
  child (any class). Checks without a named checkpoint were taken in the classroom: they
  have no queue across classes, and the class is covered by SAME_CLASS.
- DORMITORY: a boarder of the same room whose stay overlaps the case child's in the window.

A constant number of queries (about ten) whatever the size of the school: every read is
bounded by the school, the window and the case child's own class, tables, trips, checks and
rooms (bench/tracing measures it on a school of 3,000 children).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from huxiao.health.check_services import _default_checked_at
from huxiao.health.choices import ContactReason
from huxiao.health.models import (
    Absence,
    AttendanceDay,
    ChildCheck,
    ClassStaff,
    DiningSeat,
    DormAssignment,
    HealthCase,
)
from huxiao.people.choices import Relationship
from huxiao.people.models import Child, Guardian, SchoolClass, Staff
from huxiao.transport.choices import Direction
from huxiao.transport.models import Boarding

REASON_ORDER = {code: n for n, code in enumerate(ContactReason.values)}


@dataclass
class ReasonHit:
    """One reason a person is a contact: the days and what was shared."""

    reason: str
    dates: list[dt.date] = field(default_factory=list)
    detail: str = ""

    @property
    def label(self) -> str:
        return str(ContactReason(self.reason).label)


@dataclass
class GuardianPhone:
    name: str
    relationship: str
    phone: str


@dataclass
class Contact:
    """A close contact: a child (`kind` "child") or a staff member ("staff")."""

    kind: str
    id: int
    name: str
    class_id: int | None
    class_name: str
    reasons: list[ReasonHit] = field(default_factory=list)
    guardians: list[GuardianPhone] = field(default_factory=list)
    phone: str = ""
    user_id: int | None = None

    @property
    def reason_codes(self) -> list[str]:
        return [r.reason for r in self.reasons]


def contact_window(case: HealthCase, *, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The days traced: onset minus the window to the isolation day (today until then)."""
    start = case.onset_date - dt.timedelta(days=case.contact_window_days or 0)
    today = today or timezone.localdate()
    end = timezone.localdate(case.isolated_at) if case.isolated_at else today
    end = min(end, today)
    return start, max(start, end)


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def _ticked(day: dt.date, checked_at: dt.datetime, recorded_at: dt.datetime) -> bool:
    """Whether a child's check time was ticked (the page's script, or a time sent to the
    API) rather than the default the check's first save gave every child not ticked: the
    save time, or for a day gone by the save's clock time on that day
    (`check_services._default_checked_at`). A time equal to that default places nobody in
    the queue. A tick time is never exactly that default (the check area keeps a tick
    just before the save); a flag on `ChildCheck` would say it outright."""
    return checked_at != _default_checked_at(day, recorded_at)


class _Found:
    """Reasons found so far, by person."""

    def __init__(self):
        self.children: dict[int, dict[str, tuple[set, set]]] = defaultdict(dict)

    def add(self, child_id: int, reason: str, day: dt.date, detail: str = "") -> None:
        dates, details = self.children[child_id].setdefault(reason, (set(), set()))
        dates.add(day)
        if detail:
            details.add(detail)


def _hits(reasons: dict[str, tuple[set, set]]) -> list[ReasonHit]:
    return sorted(
        (
            ReasonHit(reason=code, dates=sorted(dates), detail="、".join(sorted(details)))
            for code, (dates, details) in reasons.items()
        ),
        key=lambda hit: REASON_ORDER[hit.reason],
    )


def case_contacts(
    case: HealthCase, *, queue_minutes: int = 3, today: dt.date | None = None
) -> list[Contact]:
    """The close contacts of `case` (already scoped by the caller), most reasons first, then
    by name. The case child never appears."""
    start, end = contact_window(case, today=today)
    school_id = case.school_id
    class_id = case.school_class_id
    me = case.child_id
    found = _Found()

    # The class's days: attendance taken, and each child's checks (the case child's checks
    # also place them in the check queue).
    attendance_days = set(
        AttendanceDay.objects.filter(
            school_class_id=class_id, date__range=(start, end)
        ).values_list("date", flat=True)
    )
    checked: dict[int, set[dt.date]] = defaultdict(set)
    my_checks: list[tuple[dt.date, str, dt.datetime]] = []
    for child_id, day, checkpoint, checked_at, recorded_at in ChildCheck.objects.filter(
        health_check__school_class_id=class_id, date__range=(start, end)
    ).values_list("child_id", "date", "checkpoint", "checked_at", "health_check__recorded_at"):
        checked[child_id].add(day)
        if child_id == me and _ticked(day, checked_at, recorded_at):
            my_checks.append((day, checkpoint, checked_at))

    # Bus trips shared with the case child.
    ways = {value: str(label) for value, label in Direction.choices}
    own_trips = Boarding.objects.filter(
        child_id=me, trip__school_id=school_id, trip__date__range=(start, end)
    ).values("trip_id")
    for child_id, day, route, direction in (
        Boarding.objects.filter(trip__school_id=school_id, trip_id__in=own_trips)
        .exclude(child_id=me)
        .values_list("child_id", "trip__date", "trip__route__name", "trip__direction")
    ):
        found.add(child_id, ContactReason.BUS, day, f"{route}（{ways.get(direction, direction)}）")

    # Dining: the tables the case child sat at in the window, then everyone at them on
    # those days (each branch an exact (school, date, table) lookup of the seats' index).
    my_seats = set(
        DiningSeat.objects.filter(
            child_id=me, school_id=school_id, date__range=(start, end)
        ).values_list("date", "table")
    )
    tables = Q()
    for day, table in my_seats:
        tables |= Q(school_id=school_id, date=day, table=table)
    table_mates = (
        list(
            DiningSeat.objects.filter(tables)
            .exclude(child_id=me)
            .values_list("child_id", "date", "table")
        )
        if my_seats
        else []
    )

    # Absences: the case's class, and the children who shared a table (both present).
    mates = {child_id for child_id, _day, _table in table_mates}
    absent: set[tuple[int, dt.date]] = set(
        Absence.objects.filter(school_id=school_id, date__range=(start, end))
        .filter(Q(school_class_id=class_id) | Q(child_id__in=mates) | Q(child_id=me))
        .values_list("child_id", "date")
    )

    def present(child_id: int) -> set[dt.date]:
        days = attendance_days | checked.get(child_id, set())
        return {d for d in days if (child_id, d) not in absent}

    my_days = present(me)
    # A seat shows the child ate there, unless an absence is recorded that day.
    for child_id, day, table in table_mates:
        if (me, day) not in absent and (child_id, day) not in absent:
            found.add(child_id, ContactReason.DINING, day, table)

    # The check queue: children checked at the same checkpoint within the minutes. The
    # school is repeated in each branch so that every branch can use the queue index
    # (school, date, checkpoint, checked_at). Only real tick times count, on both sides: a
    # check saved without the page's script gives every child the save time, which would
    # make whole classes (and other classes saved minutes apart) queue neighbours.
    span = dt.timedelta(minutes=queue_minutes)
    queue = Q()
    for day, checkpoint, at in my_checks:
        if checkpoint:
            queue |= Q(
                school_id=school_id,
                date=day,
                checkpoint=checkpoint,
                checked_at__range=(at - span, at + span),
            )
    if queue:
        for child_id, day, checkpoint, checked_at, recorded_at in (
            ChildCheck.objects.filter(queue)
            .exclude(child_id=me)
            .values_list(
                "child_id", "date", "checkpoint", "checked_at", "health_check__recorded_at"
            )
        ):
            if _ticked(day, checked_at, recorded_at):
                found.add(child_id, ContactReason.CHECK_QUEUE, day, checkpoint)

    # Dormitory: stays in the case child's rooms overlapping the window.
    own_rooms = DormAssignment.objects.filter(
        child_id=me, school_id=school_id, starts_on__lte=end
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=start))
    stays = list(
        DormAssignment.objects.filter(
            school_id=school_id, room__in=own_rooms.values("room"), starts_on__lte=end
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=start))
        .values_list("child_id", "room", "starts_on", "ends_on")
    )
    mine = [(room, s, e) for child_id, room, s, e in stays if child_id == me]
    for child_id, room, s, e in stays:
        if child_id == me:
            continue
        for my_room, my_s, my_e in mine:
            if my_room != room:
                continue
            first = max(start, s, my_s)
            last = min(end, e or end, my_e or end)
            for day in _days(first, last) if first <= last else []:
                found.add(child_id, ContactReason.DORMITORY, day, room)

    # The class: every enrolled child present on a day the case child was. Plain rows,
    # not model instances: a list of hundreds of contacts stays fast.
    school_class = SchoolClass.objects.filter(pk=class_id).select_related("head_teacher").first()
    others = list(found.children)
    rows = (
        Child.objects.filter(Q(school_class_id=class_id, is_active=True) | Q(pk__in=others))
        .filter(school_id=school_id)
        .exclude(pk=me)
        .values_list("pk", "name", "school_class_id", "school_class__name", "is_active")
    )
    children = {row[0]: row for row in rows}
    for pk, _name, child_class, class_name, active in children.values():
        if child_class == class_id and active:
            for day in sorted(my_days & present(pk)):
                found.add(pk, ContactReason.SAME_CLASS, day, class_name)
    guardians: dict[int, list[GuardianPhone]] = defaultdict(list)
    for child_id, name, relationship, phone in (
        Guardian.objects.filter(child_id__in=[pk for pk in children if pk in found.children])
        .order_by("child_id", "-is_primary", "id")
        .values_list("child_id", "name", "relationship", "phone")
    ):
        label = (
            str(Relationship(relationship).label)
            if relationship in Relationship.values
            else relationship
        )
        guardians[child_id].append(GuardianPhone(name, label, phone))

    contacts: list[Contact] = []
    for child_id, reasons in found.children.items():
        row = children.get(child_id)
        if row is None:
            continue
        pk, name, child_class, class_name, _active = row
        contacts.append(
            Contact(
                kind="child",
                id=pk,
                name=name,
                class_id=child_class,
                class_name=class_name,
                reasons=_hits(reasons),
                guardians=guardians.get(pk, []),
            )
        )
    contacts += _class_staff(case, school_class, sorted(my_days))
    contacts.sort(key=lambda c: (-len(c.reasons), c.name, c.kind, c.id))
    return contacts


def _class_staff(case: HealthCase, school_class, days: list[dt.date]) -> list[Contact]:
    """The head teacher and the active staff of the case's class (one query)."""
    people: dict[int, tuple[Staff, str]] = {}
    head = school_class.head_teacher if school_class is not None else None
    if head is not None and head.is_active and head.school_id == case.school_id:
        people[head.pk] = (head, _("Head teacher"))
    for row in (
        ClassStaff.objects.filter(
            school_class_id=case.school_class_id,
            staff__is_active=True,
            staff__school_id=case.school_id,
        )
        .select_related("staff")
        .order_by("staff__name", "staff_id")
    ):
        people.setdefault(row.staff_id, (row.staff, row.duty))
    return [
        Contact(
            kind="staff",
            id=staff.pk,
            name=staff.name,
            class_id=case.school_class_id,
            class_name=school_class.name,
            reasons=[ReasonHit(ContactReason.CLASS_STAFF, list(days), duty or "")],
            phone=staff.phone,
            user_id=staff.user_id,
        )
        for staff, duty in people.values()
    ]


def case_contacts_for(*, actor, case_id) -> tuple[HealthCase, list[Contact]]:
    """The case in the actor's scope (VIEW_HEALTH; else 404) and its contacts; the read is
    logged."""
    from huxiao.core.roles import Action
    from huxiao.duty.duty_selectors import require_any
    from huxiao.health.case_selectors import case_get
    from huxiao.health.reads import log_health_read

    require_any(actor, Action.VIEW_HEALTH)
    case = case_get(actor=actor, case_id=case_id)
    log_health_read(actor=actor, obj=case, purpose="case contacts")
    return case, case_contacts(case)
