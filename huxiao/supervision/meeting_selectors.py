"""Reads of the leading group (领导小组), its meetings (联席会议), action items and progress
reports — always scoped (ADR 0027, "Leading group and meetings").

A leading group belongs to a town (or to the county when its town is empty), not to a
school, so its scope is computed from the actor's memberships here rather than from
`visible_school_ids`:

- **keepers** hold an action-allowing `MANAGE_MEETINGS` role (governance coordinators): a
  town-level office keeps its town's group, a county-level one the county's group;
- **readers** are the active members of the non-school organizations of the group's town
  (government, education, police, health, governance, departments), read-only; a
  county-level non-school organization reads every group of its county;
- the active **members** of a group (`GroupMember.user`) see the group, its meetings and
  its action items;
- the **attendees** of a meeting (`MeetingAttendee.user`) see that meeting and its items;
- the **owner** of an action item and the members of its responsible organization see that
  item — this is all a school sees: the items its school answers for.

Out of scope is "not found" (Http404); a page of the area with nothing in scope for the
actor at all is 403.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import timezone

from huxiao.core.names import person_name
from huxiao.core.roles import SCHOOL_KINDS, Action, Role, role_allows
from huxiao.core.scoping import _scope_cache, memberships_of
from huxiao.orgs.models import Membership, Organization
from huxiao.supervision.choices import OPEN_ACTION_STATUSES, ActionStatus, MeetingStatus
from huxiao.supervision.meeting_models import (
    ActionEvent,
    ActionItem,
    GroupMember,
    LeadingGroup,
    Meeting,
    MeetingAttendee,
    ProgressReport,
)

# The roles that lead an organization: they answer for its action items (start and report
# them done, as the named person may) and receive the first overdue notice.
LEADER_ROLES = frozenset(
    {
        Role.PRINCIPAL,
        Role.POLICE_COMMANDER,
        Role.EDUCATION_SUPERVISOR,
        Role.GOVERNANCE_COORDINATOR,
        Role.HEALTH_OFFICER,
        Role.GOVERNMENT_LIAISON,
    }
)
# Who of a school may be invited to a meeting: its leaders, not every teacher and guard.
INVITABLE_SCHOOL_ROLES = frozenset({Role.PRINCIPAL, Role.SECURITY_OFFICER})
# Items still in the owner's hands: these count as overdue past their deadline (a submitted
# item waits on the group's office).
OWNER_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now()).date()


# ------------------------------------------------------------------ who sees what


@dataclass(frozen=True)
class MeetingAccess:
    """What one actor may see and keep in the meeting area, from their memberships."""

    read_towns: frozenset[int]
    read_regions: frozenset[int]
    keep_towns: frozenset[int]
    keep_regions: frozenset[int]
    orgs: frozenset[int]
    leader_orgs: frozenset[int]
    superuser: bool = False
    user_id: int | None = None

    @property
    def anything(self) -> bool:
        return bool(self.superuser or self.read_towns or self.read_regions)


_NOBODY = MeetingAccess(
    frozenset(), frozenset(), frozenset(), frozenset(), frozenset(), frozenset()
)


def _is_user(actor) -> bool:
    return (
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and not getattr(actor, "is_device", False)
        and getattr(actor, "pk", None) is not None
    )


def access(actor) -> MeetingAccess:
    """The actor's meeting scope, computed once per request (kept with the actor's scope)."""
    if not _is_user(actor):
        return _NOBODY
    cache = _scope_cache(actor)
    if "meeting_access" in cache:
        return cache["meeting_access"]
    read_towns, read_regions, keep_towns, keep_regions = set(), set(), set(), set()
    orgs, leader_orgs = set(), set()
    for m in memberships_of(actor):
        org = m.organization
        if not org.is_active:
            continue
        orgs.add(org.pk)
        if m.role in LEADER_ROLES:
            leader_orgs.add(org.pk)
        if org.kind in SCHOOL_KINDS:
            continue
        if org.town_id:
            read_towns.add(org.town_id)
        else:
            read_regions.add(org.region_id)
        if role_allows(m.role, Action.MANAGE_MEETINGS, county_level=org.is_county_level):
            if org.town_id:
                keep_towns.add(org.town_id)
            else:
                keep_regions.add(org.region_id)
    result = MeetingAccess(
        read_towns=frozenset(read_towns),
        read_regions=frozenset(read_regions),
        keep_towns=frozenset(keep_towns),
        keep_regions=frozenset(keep_regions),
        orgs=frozenset(orgs),
        leader_orgs=frozenset(leader_orgs),
        superuser=bool(getattr(actor, "is_superuser", False)),
        user_id=actor.pk,
    )
    cache["meeting_access"] = result
    return result


def _group_q(acc: MeetingAccess) -> Q:
    """Groups the actor reads through the organizations they belong to."""
    return (
        Q(town_id__in=acc.read_towns)
        | Q(region_id__in=acc.read_regions)
        | Q(town__isnull=True, region_id__in=acc.keep_regions)
    )


def visible_groups(actor):
    acc = access(actor)
    if acc.user_id is None:
        return LeadingGroup.objects.none()
    if acc.superuser:
        return LeadingGroup.objects.all()
    member_of = GroupMember.objects.filter(user_id=acc.user_id, is_active=True).values("group_id")
    return LeadingGroup.objects.filter(_group_q(acc) | Q(pk__in=member_of))


def visible_meetings(actor):
    acc = access(actor)
    if acc.user_id is None:
        return Meeting.objects.none()
    if acc.superuser:
        return Meeting.objects.all()
    attended = MeetingAttendee.objects.filter(user_id=acc.user_id).values("meeting_id")
    return Meeting.objects.filter(
        Q(group__in=visible_groups(actor).values("pk")) | Q(pk__in=attended)
    )


def visible_actions(actor):
    acc = access(actor)
    if acc.user_id is None:
        return ActionItem.objects.none()
    if acc.superuser:
        return ActionItem.objects.all()
    return ActionItem.objects.filter(
        Q(meeting__in=visible_meetings(actor).values("pk"))
        | Q(owner_id=acc.user_id)
        | Q(owner_org_id__in=acc.orgs)
    )


def may_keep(actor, group: LeadingGroup) -> bool:
    """May the actor keep this group (MANAGE_MEETINGS at its level)?"""
    acc = access(actor)
    if acc.superuser:
        return True
    if group.town_id is not None:
        return group.town_id in acc.keep_towns
    return group.region_id in acc.keep_regions


def require_keep(actor, group: LeadingGroup) -> None:
    if not may_keep(actor, group):
        raise PermissionDenied(_no_right())


def _no_right():
    from django.utils.translation import gettext

    return gettext("Your role does not allow this action.")


def require_area(actor) -> MeetingAccess:
    """The group pages are for the non-school organizations and the groups' members: 403
    for anyone else (schools use the action items page)."""
    acc = access(actor)
    if acc.anything or acc.keep_regions:
        return acc
    if acc.user_id and GroupMember.objects.filter(user_id=acc.user_id, is_active=True).exists():
        return acc
    raise PermissionDenied


def require_any_membership(actor) -> MeetingAccess:
    """The action items page: anyone who belongs to an organization (or a group); 403 for
    the rest."""
    acc = access(actor)
    if acc.superuser or acc.orgs:
        return acc
    if acc.user_id and (
        GroupMember.objects.filter(user_id=acc.user_id, is_active=True).exists()
        or MeetingAttendee.objects.filter(user_id=acc.user_id).exists()
    ):
        return acc
    raise PermissionDenied


def keep_places(actor) -> list[Organization]:
    """The organizations through which the actor keeps a group (for the create form): the
    active non-school organizations whose role allows MANAGE_MEETINGS, one per town."""
    places, seen = [], set()
    for m in memberships_of(actor):
        org = m.organization
        if not org.is_active or org.kind in SCHOOL_KINDS:
            continue
        if not role_allows(m.role, Action.MANAGE_MEETINGS, county_level=org.is_county_level):
            continue
        key = ("town", org.town_id) if org.town_id else ("county", org.region_id)
        if key not in seen:
            seen.add(key)
            places.append(org)
    return places


# ------------------------------------------------------------------ groups


def group_list(*, actor):
    return (
        visible_groups(actor)
        .select_related("town", "region", "owner")
        .order_by("region_id", "town_id", "name", "id")
    )


def group_get(*, actor, group_id: int) -> LeadingGroup:
    group = (
        visible_groups(actor)
        .select_related("town", "region", "owner", "created_by")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=GroupMember.objects.select_related("organization", "user").order_by(
                    "-is_active", "order", "id"
                ),
            )
        )
        .filter(pk=group_id)
        .first()
    )
    if group is None:
        raise Http404
    return group


def member_get(*, actor, member_id: int) -> GroupMember:
    member = (
        GroupMember.objects.filter(group__in=visible_groups(actor).values("pk"), pk=member_id)
        .select_related("group", "organization", "user")
        .first()
    )
    if member is None:
        raise Http404
    return member


def area_organizations(group: LeadingGroup):
    """The active organizations of the group's area: its town's, or the county's."""
    qs = Organization.objects.filter(is_active=True)
    if group.town_id is not None:
        return qs.filter(town_id=group.town_id).order_by("kind", "name", "id")
    return qs.filter(region_id=group.region_id).order_by("town_id", "kind", "name", "id")


def area_memberships(group: LeadingGroup, *, org_ids=None):
    """Active memberships (active users) of the area's organizations: the people who may be
    members, invitees or responsible persons."""
    qs = Membership.objects.filter(
        is_active=True,
        user__is_active=True,
        organization__in=area_organizations(group).values("pk"),
    )
    if org_ids is not None:
        qs = qs.filter(organization_id__in=list(org_ids))
    return qs.select_related("user", "organization").order_by(
        "organization__kind", "organization__name", "user__last_name", "user__username", "id"
    )


@dataclass(frozen=True)
class Candidate:
    """Someone who may be invited to a meeting: a group member ("g<id>") or a member of an
    organization of the area ("m<membership id>")."""

    key: str
    name: str
    organization_id: int
    organization_name: str
    user_id: int | None

    @property
    def label(self) -> str:
        return f"{self.name}（{self.organization_name}）"


def invitee_candidates(group: LeadingGroup) -> list[Candidate]:
    """Active group members first, then the leaders of the area's schools and every member
    of its other organizations; each person once per organization."""
    result: list[Candidate] = []
    seen: set[tuple] = set()
    for member in GroupMember.objects.filter(group=group, is_active=True).select_related(
        "organization", "user"
    ):
        key = (member.user_id, member.organization_id) if member.user_id else None
        if key:
            seen.add(key)
        result.append(
            Candidate(
                key=f"g{member.pk}",
                name=member.name,
                organization_id=member.organization_id,
                organization_name=member.organization.name,
                user_id=member.user_id,
            )
        )
    for m in area_memberships(group):
        if m.organization.kind in SCHOOL_KINDS and m.role not in INVITABLE_SCHOOL_ROLES:
            continue
        key = (m.user_id, m.organization_id)
        if key in seen:
            continue
        seen.add(key)
        result.append(
            Candidate(
                key=f"m{m.pk}",
                name=person_name(m.user),
                organization_id=m.organization_id,
                organization_name=m.organization.name,
                user_id=m.user_id,
            )
        )
    return result


def person_choices(group: LeadingGroup) -> list[tuple[int, str]]:
    """(user id, "name（organization）") of the area's people, each user once, for the
    responsible-person selects; the service checks the person belongs to the chosen
    organization."""
    seen, choices = set(), []
    for m in area_memberships(group):
        if m.user_id in seen:
            continue
        seen.add(m.user_id)
        orgs = m.organization.name
        choices.append((m.user_id, f"{person_name(m.user)}（{orgs}）"))
    return choices


# ------------------------------------------------------------------ meetings


def meeting_list(*, actor, group_id: int | None = None, status: str = ""):
    qs = visible_meetings(actor).select_related("group")
    if group_id is not None:
        qs = qs.filter(group_id=group_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-starts_at", "-id")


def meeting_get(*, actor, meeting_id: int) -> Meeting:
    meeting = (
        visible_meetings(actor)
        .select_related("group", "group__town", "group__owner", "created_by", "held_recorded_by")
        .prefetch_related(
            Prefetch(
                "attendees",
                queryset=MeetingAttendee.objects.select_related("organization", "user").order_by(
                    "id"
                ),
            ),
            Prefetch(
                "actions",
                queryset=ActionItem.objects.select_related("owner_org", "owner").order_by(
                    "deadline", "id"
                ),
            ),
        )
        .filter(pk=meeting_id)
        .first()
    )
    if meeting is None:
        raise Http404
    return meeting


def meeting_visible_actions(actor, meeting: Meeting) -> list[ActionItem]:
    """The meeting's action items the actor may see (all of them for whoever sees the
    meeting)."""
    return list(meeting.actions.all())


# ------------------------------------------------------------------ action items


@dataclass
class ActionFilters:
    group_id: int | None = None
    meeting_id: int | None = None
    owner_org_id: int | None = None
    status: str = ""
    overdue: bool = False
    mine: bool = False


def action_list(*, actor, filters: ActionFilters | None = None, today: dt.date | None = None):
    filters = filters or ActionFilters()
    qs = visible_actions(actor).select_related("meeting", "meeting__group", "owner_org", "owner")
    if filters.group_id is not None:
        qs = qs.filter(meeting__group_id=filters.group_id)
    if filters.meeting_id is not None:
        qs = qs.filter(meeting_id=filters.meeting_id)
    if filters.owner_org_id is not None:
        qs = qs.filter(owner_org_id=filters.owner_org_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.overdue:
        qs = qs.filter(status__in=OWNER_STATUSES, deadline__lt=today or local_today())
    if filters.mine:
        acc = access(actor)
        qs = qs.filter(Q(owner_id=acc.user_id) | Q(owner_org_id__in=acc.leader_orgs))
    return qs.order_by("deadline", "id")


def action_get(*, actor, action_id: int) -> ActionItem:
    item = (
        visible_actions(actor)
        .select_related(
            "meeting",
            "meeting__group",
            "meeting__group__owner",
            "owner_org",
            "owner",
            "closed_by",
            "created_by",
        )
        .prefetch_related(
            Prefetch("events", queryset=ActionEvent.objects.select_related("actor")),
        )
        .filter(pk=action_id)
        .first()
    )
    if item is None:
        raise Http404
    return item


def is_overdue(item: ActionItem, today: dt.date | None = None) -> bool:
    return item.status in OWNER_STATUSES and item.deadline < (today or local_today())


def visible_owner_orgs(actor) -> list[Organization]:
    """Organizations that answer for an action item the actor sees (the list's filter)."""
    ids = visible_actions(actor).values("owner_org_id")
    return list(Organization.objects.filter(pk__in=ids).only("pk", "name").order_by("name"))


# ------------------------------------------------------------------ progress reports


def progress_figures(
    group: LeadingGroup, period_start: dt.date, period_end: dt.date, today: dt.date
) -> dict:
    """The figures of a progress report (JSON-safe, stored as the report's snapshot):
    meetings held in the period; the group's action items decided up to its end and not
    closed before its start, per responsible organization — how many, decided in the
    period (new), closed in the period, still open and overdue as of `today` — and the
    list of overdue items. A few queries, whatever the number of items."""
    tz = timezone.get_current_timezone()
    start_at = timezone.make_aware(dt.datetime.combine(period_start, dt.time.min), tz)
    end_at = timezone.make_aware(
        dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time.min), tz
    )
    meetings = list(
        Meeting.objects.filter(
            group=group,
            status=MeetingStatus.HELD,
            starts_at__gte=start_at,
            starts_at__lt=end_at,
        ).order_by("starts_at", "id")
    )
    items = list(
        ActionItem.objects.filter(
            meeting__group=group,
            meeting__status=MeetingStatus.HELD,
            meeting__starts_at__lt=end_at,
        )
        .exclude(status=ActionStatus.CLOSED, closed_at__lt=start_at)
        .select_related("meeting", "owner_org", "owner")
        .order_by("owner_org__name", "deadline", "id")
    )
    rows: dict[int, dict] = {}
    totals = defaultdict(int)
    overdue_items = []
    for item in items:
        row = rows.setdefault(
            item.owner_org_id,
            {
                "organization_id": item.owner_org_id,
                "organization": item.owner_org.name,
                "total": 0,
                "new": 0,
                "closed": 0,
                "open": 0,
                "overdue": 0,
            },
        )
        counts = {
            "total": 1,
            "new": int(item.meeting.starts_at >= start_at),
            "closed": int(
                item.status == ActionStatus.CLOSED
                and item.closed_at is not None
                and start_at <= item.closed_at < end_at
            ),
            "open": int(item.status in OPEN_ACTION_STATUSES),
            "overdue": int(is_overdue(item, today)),
        }
        for key, value in counts.items():
            row[key] += value
            totals[key] += value
        if counts["overdue"]:
            overdue_items.append(
                {
                    "id": item.pk,
                    "decision": item.decision,
                    "organization": item.owner_org.name,
                    "owner": person_name(item.owner) if item.owner_id else "",
                    "deadline": item.deadline.isoformat(),
                    "days_overdue": (today - item.deadline).days,
                    "status": item.status,
                    "escalation_level": item.escalation_level,
                }
            )
    for key in ("total", "new", "closed", "open", "overdue"):
        totals.setdefault(key, 0)
    return {
        "group": group.name,
        "period_start": period_start.isoformat(),
        "period_end": period_end.isoformat(),
        "as_of": today.isoformat(),
        "meetings_held": len(meetings),
        "meetings": [
            {
                "id": m.pk,
                "title": m.title,
                "kind": m.kind,
                "date": timezone.localtime(m.starts_at).date().isoformat(),
            }
            for m in meetings
        ],
        "totals": dict(totals),
        "by_organization": sorted(
            rows.values(), key=lambda r: (r["organization"], r["organization_id"])
        ),
        "overdue_items": sorted(overdue_items, key=lambda r: (-r["days_overdue"], r["id"])),
    }


def report_list(*, actor, group: LeadingGroup):
    return (
        ProgressReport.objects.filter(group=group)
        .select_related("sent_by")
        .order_by("-sent_at", "-id")
    )


def report_get(*, actor, report_id: int) -> ProgressReport:
    report = (
        ProgressReport.objects.filter(group__in=visible_groups(actor).values("pk"), pk=report_id)
        .select_related("group", "group__owner", "group__town", "sent_by")
        .prefetch_related("sent_to")
        .first()
    )
    if report is None:
        raise Http404
    return report
