"""Writes of the leading group (领导小组), its meetings and joint meetings (联席会议), their
action items and the progress reports to the government (issue 6 item 6, ADR 0027).

Who may write (meeting_selectors has the scope):
- the group, its members, meetings, minutes and reports: the group's keepers
  (`MANAGE_MEETINGS` at the group's level: a town's governance office keeps its town's
  group, the county's the county group);
- an action item is started, its progress reported and reported done by its responsible
  person or a leader of its responsible organization; it is closed or sent back by a keeper
  who neither answers for it nor reported it done.

Action items move like hazards, by one table (`MOVES`): open → in progress (→ progress
notes) → reported done → closed, or sent back to in progress with a reason. Every move locks
the row, answers 404 out of scope, 403 without the right and `MeetingConflict` (409) when
the state does not allow it, and writes an `ActionEvent`, an audit row and (after commit)
notifications in one transaction.

Minutes can be corrected (audited) for `MINUTES_EDIT_DAYS` days after they were recorded,
then they are the record and stay as they are.

`actions_escalate` is the daily overdue job, on the pattern of `hazards_escalate`: one query
finds the items in the owner's hands past their deadline due a step today; bulk writes move
them one level (1 → the responsible organization's leaders, 2 → the group's office); one
batched `notify_send_many` sends one notice per organization and office, deduplicated per
day. A second run the same day does nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.audit.services import (
    audit_create,
    audit_record,
    audit_update,
    build_event,
    diff,
    snapshot,
)
from huxiao.core.names import acting_user, actor_label, person_name
from huxiao.core.roles import SCHOOL_KINDS, Action, OrgKind, Role, role_allows
from huxiao.orgs.models import Membership, Organization, Region, Town
from huxiao.people import validation as v
from huxiao.supervision import meeting_selectors as sel
from huxiao.supervision.choices import ActionStatus, GroupPosition, MeetingKind, MeetingStatus
from huxiao.supervision.meeting_models import (
    ActionEvent,
    ActionItem,
    GroupMember,
    LeadingGroup,
    Meeting,
    MeetingAttendee,
    ProgressReport,
)

S = ActionStatus
# Action-item deadlines: from today to a year ahead (a later date is a typing mistake, or a
# way to keep an item off the overdue ladder for ever).
MAX_DEADLINE_DAYS = 365
# Minutes may be corrected for a week after they were recorded; then they are the record.
MINUTES_EDIT_DAYS = 7
# Meetings are planned (or entered after the fact) at most a year either side of today.
MAX_MEETING_DAYS = 365
# A progress report covers at most a year, from 2000 on (an earlier date is a typing
# mistake, and 0001-01-01 would overflow when turned into an instant).
MAX_REPORT_DAYS = 366
EARLIEST_REPORT_DAY = dt.date(2000, 1, 1)
# Escalation levels (ActionItem.escalation_level): 0 owner, 1 the organization's leaders,
# 2 the group's office.
LEVEL_LEADERS = 1
LEVEL_OFFICE = 2
MAX_LEVEL = LEVEL_OFFICE
KEEPER_ROLES = tuple(r for r in Role.values if role_allows(r, Action.MANAGE_MEETINGS))


class MeetingConflict(ValidationError):
    """A write the current state does not allow (a move from the wrong state, minutes past
    their correction window, a second group for a town). Views and the API answer 409."""

    def __init__(self, message):
        super().__init__(message, code="conflict")


# ------------------------------------------------------------------ helpers


def _message(template, params: dict) -> str:
    """A notification text in the platform's language, whoever triggered it."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % params


def _user(actor):
    return acting_user(actor)


def _parse_date(value, field_message=None) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValidationError(
            field_message or _("Enter a date as YYYY-MM-DD."), code="invalid_date"
        ) from None


def clean_deadline(value, *, now=None) -> dt.date:
    """An action item's deadline: a date from today to a year ahead."""
    value = _parse_date(value)
    if value is None:
        raise ValidationError(_("Set a deadline for the action item."), code="required")
    today = sel.local_today(now)
    if value < today:
        raise ValidationError(_("The deadline cannot be in the past."), code="past_deadline")
    latest = today + dt.timedelta(days=MAX_DEADLINE_DAYS)
    if value > latest:
        raise ValidationError(
            _("Set the deadline at most a year ahead (until %(latest)s).")
            % {"latest": latest.isoformat()},
            code="far_deadline",
        )
    return value


def clean_starts_at(value, *, now) -> dt.datetime:
    """The date and time of a meeting, at most a year either side of today."""
    if value in (None, ""):
        raise ValidationError(_("Set the date and time of the meeting."), code="required")
    if not isinstance(value, dt.datetime):
        try:
            value = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(
                _("Enter a date and time as YYYY-MM-DD HH:MM."), code="invalid"
            ) from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    limit = dt.timedelta(days=MAX_MEETING_DAYS)
    if not now - limit <= value <= now + limit:
        raise ValidationError(_("The meeting must be within a year of today."), code="out_of_range")
    return value


def _id_or_none(value) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return -1  # not an id: refused as "not in the list" by the caller


def _keepers(group: LeadingGroup) -> list[int]:
    """The group's office: active members of the keeping organization who keep groups."""
    return list(
        Membership.objects.filter(
            organization_id=group.owner_id,
            role__in=KEEPER_ROLES,
            is_active=True,
            user__is_active=True,
        ).values_list("user_id", flat=True)
    )


def _leaders(org_ids) -> dict[int, set[int]]:
    """organization id → user ids of its leaders (one query)."""
    result: dict[int, set[int]] = defaultdict(set)
    for org_id, user_id in Membership.objects.filter(
        organization_id__in=list(org_ids),
        role__in=list(sel.LEADER_ROLES),
        is_active=True,
        user__is_active=True,
    ).values_list("organization_id", "user_id"):
        result[org_id].add(user_id)
    return result


def _notify(*, event_type: str, title, body="", params: dict, payload: dict, recipients, actor):
    """Inbox notifications of one step; never to the person who made it."""
    ids = {r.pk if hasattr(r, "pk") else r for r in recipients if r is not None}
    ids.discard(None)
    actor_id = getattr(actor, "pk", None)
    ids.discard(actor_id)
    if not ids:
        return
    from huxiao.notify.services import notify_send

    notify_send(
        organizations=[],
        event_type=event_type,
        title=_message(title, params),
        body=_message(body, params) if body else "",
        payload=payload,
        recipients=sorted(ids),
    )


def _school_of(org: Organization | None) -> int | None:
    """The school an audit row belongs to (a school's own action items), so that its
    principal finds them in the school's trail."""
    if org is not None and org.kind in SCHOOL_KINDS:
        return org.pk
    return None


def _visible_group(actor, group) -> LeadingGroup:
    """The group's row, locked, if the actor may see it; then the keeper's right (403)."""
    locked = (
        sel.visible_groups(actor)
        .select_for_update(of=("self",))
        .select_related("town", "region", "owner")
        .filter(pk=group.pk)
        .first()
    )
    if locked is None:
        raise Http404
    sel.require_keep(actor, locked)
    return locked


def _area_org(group: LeadingGroup, org_id) -> Organization | None:
    org_id = _id_or_none(org_id)
    if org_id is None:
        return None
    return sel.area_organizations(group).filter(pk=org_id).first()


def _active_member_of(user_id, org_id) -> object | None:
    user_id = _id_or_none(user_id)
    if user_id is None or org_id is None:
        return None
    m = (
        Membership.objects.filter(
            user_id=user_id, organization_id=org_id, is_active=True, user__is_active=True
        )
        .select_related("user")
        .first()
    )
    return m.user if m else None


# ------------------------------------------------------------------ the group


def _lock_area(owner: Organization) -> None:
    """Serialise group creation per town (or county): one group per area."""
    if owner.town_id:
        Town.objects.select_for_update().filter(pk=owner.town_id).first()
    else:
        Region.objects.select_for_update().filter(pk=owner.region_id).first()


def _clean_group_fields(errors, *, name, established_on, duties, now):
    name = errors.run("name", v.clean_text, name, max_length=200, required=True)
    established = errors.run("established_on", _parse_date, established_on)
    if established is not None and established > sel.local_today(now):
        errors.add("established_on", _("The date of establishment cannot be in the future."))
    duties = errors.run("duties", v.clean_text, duties, max_length=4000)
    return name, established, duties


@transaction.atomic
def group_create(
    *, actor, owner: Organization, name, established_on=None, duties="", now=None
) -> LeadingGroup:
    """Set up the leading group of the keeper's town (or county), kept by `owner`, one of
    the actor's organizations with MANAGE_MEETINGS. One group per town: a second is
    refused (MeetingConflict)."""
    now = now or timezone.now()
    acc = sel.access(actor)
    places = {org.pk for org in sel.keep_places(actor)}
    if owner is None or not (
        owner.pk in places or (acc.superuser and owner.is_active and owner.kind not in SCHOOL_KINDS)
    ):
        raise PermissionDenied(_("Your role does not allow this action."))
    errors = v.FieldErrors()
    name, established, duties = _clean_group_fields(
        errors, name=name, established_on=established_on, duties=duties, now=now
    )
    errors.raise_if_any()
    _lock_area(owner)
    existing = LeadingGroup.objects.filter(region_id=owner.region_id, town_id=owner.town_id)
    if existing.exists():
        raise MeetingConflict(
            _("This town already has a leading group.")
            if owner.town_id
            else _("The county already has a leading group.")
        )
    group = LeadingGroup.objects.create(
        name=name,
        owner=owner,
        region_id=owner.region_id,
        town_id=owner.town_id,
        established_on=established,
        duties=duties,
        created_by=_user(actor),
    )
    audit_create(actor=actor, obj=group)
    return group


@transaction.atomic
def group_update(
    *, actor, group: LeadingGroup, name, established_on=None, duties="", now=None
) -> LeadingGroup:
    now = now or timezone.now()
    group = _visible_group(actor, group)
    errors = v.FieldErrors()
    name, established, duties = _clean_group_fields(
        errors, name=name, established_on=established_on, duties=duties, now=now
    )
    errors.raise_if_any()
    before = snapshot(group)
    group.name, group.established_on, group.duties = name, established, duties
    group.save()
    audit_update(actor=actor, obj=group, before=before)
    return group


# ------------------------------------------------------------------ members


def _clean_member_fields(errors, *, title, position, duties, order):
    title = errors.run("title", v.clean_text, title, max_length=100)
    if position not in GroupPosition.values:
        errors.add("position", _("Choose a position in the group."))
    duties = errors.run("duties", v.clean_text, duties, max_length=500)
    if order in (None, ""):
        order = None
    else:
        try:
            order = int(order)
        except (TypeError, ValueError):
            order = -1
        if not 0 <= order <= 10_000:
            errors.add("order", _("Enter a number from 0 to 10000."))
            order = None
    return title, duties, order


def _check_single(errors, group, position, *, exclude_pk=None):
    """One group leader and one head of the group's office at a time."""
    if position not in (GroupPosition.LEADER, GroupPosition.OFFICE_HEAD):
        return
    others = GroupMember.objects.filter(group=group, is_active=True, position=position)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        errors.add(
            "position",
            _("The group already has a leader; change the current leader's position first.")
            if position == GroupPosition.LEADER
            else _(
                "The group already has a head of its office; change the current one's "
                "position first."
            ),
        )


@transaction.atomic
def member_add(
    *,
    actor,
    group: LeadingGroup,
    organization_id,
    user_id=None,
    name="",
    title="",
    position=GroupPosition.MEMBER,
    duties="",
    order=None,
    now=None,
) -> GroupMember:
    """Add a member: a platform user (an active member of the organization) or a person
    named by hand, of an organization of the group's area."""
    group = _visible_group(actor, group)
    errors = v.FieldErrors()
    org = _area_org(group, organization_id)
    if org is None:
        errors.add("organization", _("Choose an organization of the group's town."))
    user = None
    if user_id not in (None, ""):
        user = _active_member_of(user_id, org.pk if org else None)
        if user is None and org is not None:
            errors.add("user", _("The person must be an active member of the organization."))
    name = errors.run("name", v.clean_text, name, max_length=100, required=user is None)
    if user is not None and not name:
        name = person_name(user)[:100]
    title, duties, order = _clean_member_fields(
        errors, title=title, position=position, duties=duties, order=order
    )
    active = GroupMember.objects.filter(group=group, is_active=True)
    if user is not None and active.filter(user=user).exists():
        errors.add("user", _("This person is already a member of the group."))
    elif (
        user is None
        and org is not None
        and name
        and active.filter(user__isnull=True, name=name, organization=org).exists()
    ):
        errors.add("name", _("This person is already a member of the group."))
    _check_single(errors, group, position)
    errors.raise_if_any()
    if order is None:
        order = (GroupMember.objects.filter(group=group).aggregate(m=Max("order"))["m"] or 0) + 10
    member = GroupMember.objects.create(
        group=group,
        user=user,
        name=name,
        organization=org,
        title=title,
        position=position,
        duties=duties,
        order=order,
    )
    audit_create(actor=actor, obj=member)
    if user is not None:
        _notify(
            event_type="meetings.member_added",
            title=_("You are a member of %(group)s"),
            body=_("Position: %(position)s."),
            params={"group": group.name, "position": member.get_position_display()},
            payload={"group_id": group.pk},
            recipients=[user],
            actor=actor,
        )
    return member


def _lock_member(actor, member: GroupMember) -> GroupMember:
    """The member's row, locked after its group's row (the order member_add takes too), so
    that two changes of position cannot both pass "one leader, one office head"."""
    group_id = (
        GroupMember.objects.filter(group__in=sel.visible_groups(actor).values("pk"), pk=member.pk)
        .values_list("group_id", flat=True)
        .first()
    )
    if group_id is None:
        raise Http404
    # The group first (404 out of reach, 403 without the keeper's right), then the member.
    _visible_group(actor, LeadingGroup(pk=group_id))
    locked = (
        GroupMember.objects.select_for_update(of=("self",))
        .filter(group_id=group_id, pk=member.pk)
        .select_related("group", "organization", "user")
        .first()
    )
    if locked is None:
        raise Http404
    return locked


@transaction.atomic
def member_update(
    *, actor, member: GroupMember, title="", position, duties="", order=None, name=None
) -> GroupMember:
    """Change a current member's title, position, duties or order (and the name of a person
    named by hand). Someone else is a new member."""
    member = _lock_member(actor, member)
    if not member.is_active:
        raise MeetingConflict(_("A former member cannot be changed; add them again."))
    errors = v.FieldErrors()
    if member.user_id is None and name is not None:
        name = errors.run("name", v.clean_text, name, max_length=100, required=True)
    else:
        name = member.name
    title, duties, order = _clean_member_fields(
        errors, title=title, position=position, duties=duties, order=order
    )
    _check_single(errors, member.group, position, exclude_pk=member.pk)
    errors.raise_if_any()
    before = snapshot(member)
    member.name, member.title, member.position, member.duties = name, title, position, duties
    if order is not None:
        member.order = order
    member.save()
    audit_update(actor=actor, obj=member, before=before)
    return member


@transaction.atomic
def member_deactivate(*, actor, member: GroupMember, now=None) -> GroupMember:
    """The member leaves the group; the row stays (meetings and history keep naming them)."""
    member = _lock_member(actor, member)
    if not member.is_active:
        raise MeetingConflict(_("This person is no longer a member of the group."))
    before = snapshot(member)
    member.is_active = False
    member.save()
    audit_update(actor=actor, obj=member, before=before)
    return member


# ------------------------------------------------------------------ meetings


@dataclass(frozen=True)
class _Invitee:
    name: str
    organization_id: int
    user_id: int | None


def _resolve_invitees(errors, group: LeadingGroup, keys) -> list[_Invitee]:
    by_key = {c.key: c for c in sel.invitee_candidates(group)}
    result, seen = [], set()
    for key in keys or ():
        candidate = by_key.get(str(key).strip())
        if candidate is None:
            errors.add("invitees", _("Choose the invitees from the list."))
            return []
        ident = (
            ("u", candidate.user_id)
            if candidate.user_id
            else ("n", candidate.name, candidate.organization_id)
        )
        if ident in seen:
            continue
        seen.add(ident)
        result.append(_Invitee(candidate.name, candidate.organization_id, candidate.user_id))
    if not result:
        errors.add("invitees", _("Invite at least one person."))
    return result


def _clean_meeting_fields(errors, *, kind, title, starts_at, location, chair, agenda, now):
    if kind not in MeetingKind.values:
        errors.add("kind", _("Choose the kind of meeting."))
    title = errors.run("title", v.clean_text, title, max_length=200, required=True)
    starts_at = errors.run("starts_at", clean_starts_at, starts_at, now=now)
    location = errors.run("location", v.clean_text, location, max_length=200)
    chair = errors.run("chair", v.clean_text, chair, max_length=100)
    agenda = errors.run("agenda", v.clean_text, agenda, max_length=4000)
    return title, starts_at, location, chair, agenda


def _when(meeting: Meeting) -> str:
    return timezone.localtime(meeting.starts_at).strftime("%Y-%m-%d %H:%M")


@transaction.atomic
def meeting_plan(
    *,
    actor,
    group: LeadingGroup,
    kind,
    title,
    starts_at,
    location="",
    chair="",
    agenda="",
    invitees=(),
    now=None,
) -> Meeting:
    """Plan a meeting of the group (or a joint meeting of the agencies) and invite people of
    the area (keys of `meeting_selectors.invitee_candidates`); the invitees with a login are
    told at once."""
    now = now or timezone.now()
    group = _visible_group(actor, group)
    errors = v.FieldErrors()
    title, starts_at, location, chair, agenda = _clean_meeting_fields(
        errors,
        kind=kind,
        title=title,
        starts_at=starts_at,
        location=location,
        chair=chair,
        agenda=agenda,
        now=now,
    )
    people = _resolve_invitees(errors, group, invitees)
    errors.raise_if_any()
    meeting = Meeting.objects.create(
        group=group,
        kind=kind,
        title=title,
        starts_at=starts_at,
        location=location,
        chair=chair,
        agenda=agenda,
        status=MeetingStatus.PLANNED,
        created_by=_user(actor),
    )
    audit_create(actor=actor, obj=meeting)
    attendees = MeetingAttendee.objects.bulk_create(
        [
            MeetingAttendee(
                meeting=meeting,
                user_id=p.user_id,
                name=p.name[:100],
                organization_id=p.organization_id,
                present=True,
            )
            for p in people
        ]
    )
    AuditEvent.objects.bulk_create(
        [
            build_event(
                actor=actor,
                action=AuditAction.CREATE,
                obj=a,
                changes={"after": snapshot(a)},
                at=now,
            )
            for a in attendees
        ]
    )
    _notify(
        event_type="meetings.invited",
        title=_("Meeting invitation: %(title)s"),
        body=_("%(group)s · %(when)s · %(location)s"),
        params={
            "title": meeting.title,
            "group": group.name,
            "when": _when(meeting),
            "location": meeting.location or "—",
        },
        payload={"meeting_id": meeting.pk, "group_id": group.pk},
        recipients=[p.user_id for p in people if p.user_id],
        actor=actor,
    )
    return meeting


def _lock_meeting(actor, meeting: Meeting) -> Meeting:
    locked = (
        sel.visible_meetings(actor)
        .select_for_update(of=("self",))
        .select_related("group", "group__town")
        .filter(pk=meeting.pk)
        .first()
    )
    if locked is None:
        raise Http404
    sel.require_keep(actor, locked.group)
    return locked


@transaction.atomic
def meeting_update(
    *, actor, meeting: Meeting, kind, title, starts_at, location="", chair="", agenda="", now=None
) -> Meeting:
    """Change a planned meeting (reschedule, move, retitle); the invitees are told when
    the time or the place changes."""
    now = now or timezone.now()
    meeting = _lock_meeting(actor, meeting)
    if meeting.status != MeetingStatus.PLANNED:
        raise MeetingConflict(_("Only a planned meeting can be changed."))
    errors = v.FieldErrors()
    title, starts_at, location, chair, agenda = _clean_meeting_fields(
        errors,
        kind=kind,
        title=title,
        starts_at=starts_at,
        location=location,
        chair=chair,
        agenda=agenda,
        now=now,
    )
    errors.raise_if_any()
    before = snapshot(meeting)
    moved = starts_at != meeting.starts_at or location != meeting.location
    meeting.kind, meeting.title, meeting.starts_at = kind, title, starts_at
    meeting.location, meeting.chair, meeting.agenda = location, chair, agenda
    meeting.save()
    audit_update(actor=actor, obj=meeting, before=before)
    if moved:
        _notify(
            event_type="meetings.rescheduled",
            title=_("Meeting changed: %(title)s"),
            body=_("%(group)s · %(when)s · %(location)s"),
            params={
                "title": meeting.title,
                "group": meeting.group.name,
                "when": _when(meeting),
                "location": meeting.location or "—",
            },
            payload={"meeting_id": meeting.pk, "group_id": meeting.group_id},
            recipients=list(
                meeting.attendees.filter(user__isnull=False).values_list("user_id", flat=True)
            ),
            actor=actor,
        )
    return meeting


def _clean_absent(errors, meeting: Meeting, absent_ids) -> set[int]:
    attendee_ids = set(meeting.attendees.values_list("pk", flat=True))
    absent = set()
    for raw in absent_ids or ():
        pk = _id_or_none(raw)
        if pk is None:
            continue
        if pk not in attendee_ids:
            errors.add("absent", _("Mark attendance only for the people invited."))
            return set()
        absent.add(pk)
    return absent


def _set_attendance(actor, meeting: Meeting, absent: set[int], now) -> None:
    changed = []
    audits = []
    for attendee in meeting.attendees.select_for_update():
        present = attendee.pk not in absent
        if attendee.present != present:
            audits.append(
                build_event(
                    actor=actor,
                    action=AuditAction.UPDATE,
                    obj=attendee,
                    changes={"fields": {"present": [attendee.present, present]}},
                    at=now,
                )
            )
            attendee.present = present
            changed.append(attendee)
    if changed:
        MeetingAttendee.objects.bulk_update(changed, ["present"])
        AuditEvent.objects.bulk_create(audits)


def _clean_action_row(errors, group: LeadingGroup, row: dict, *, prefix: str, now):
    """One decision of a meeting: text, responsible organization of the area, responsible
    person (optional; an active member of that organization) and a deadline."""
    decision = errors.run(
        f"{prefix}decision", v.clean_text, row.get("decision"), max_length=2000, required=True
    )
    org = _area_org(group, row.get("owner_org_id"))
    if org is None:
        errors.add(f"{prefix}owner_org", _("Choose an organization of the group's town."))
    owner = None
    if row.get("owner_id") not in (None, ""):
        owner = _active_member_of(row.get("owner_id"), org.pk if org else None)
        if owner is None and org is not None:
            errors.add(
                f"{prefix}owner",
                _("The responsible person must be an active member of the organization."),
            )
    deadline = errors.run(f"{prefix}deadline", clean_deadline, row.get("deadline"), now=now)
    return {"decision": decision, "owner_org": org, "owner": owner, "deadline": deadline}


def _create_actions(actor, meeting: Meeting, rows: list[dict], now) -> list[ActionItem]:
    items = []
    for row in rows:
        item = ActionItem.objects.create(
            meeting=meeting,
            decision=row["decision"],
            owner_org=row["owner_org"],
            owner=row["owner"],
            deadline=row["deadline"],
            status=S.OPEN,
            created_by=_user(actor),
        )
        audit_create(actor=actor, obj=item, school=_school_of(row["owner_org"]))
        _event(item, actor=actor, at=now, from_status="", to_status=S.OPEN)
        items.append(item)
    if items:
        leaders = _leaders({i.owner_org_id for i in items})
        for item in items:
            _notify(
                event_type="meetings.action_assigned",
                title=_("Action item for %(org)s: %(decision)s"),
                body=_("Decided at %(meeting)s; deadline %(deadline)s."),
                params={
                    "org": item.owner_org.name,
                    "decision": item.decision[:60],
                    "meeting": meeting.title,
                    "deadline": item.deadline.isoformat(),
                },
                payload={"action_id": item.pk, "meeting_id": meeting.pk},
                recipients=[item.owner_id, *leaders.get(item.owner_org_id, ())],
                actor=actor,
            )
    return items


def _clean_action_rows(errors, group, actions, now) -> list[dict]:
    rows = []
    for index, row in enumerate(actions or ()):
        rows.append(_clean_action_row(errors, group, row, prefix=f"actions.{index}.", now=now))
    return rows


@transaction.atomic
def meeting_record(
    *, actor, meeting: Meeting, minutes, absent_ids=(), actions=(), now=None
) -> Meeting:
    """Record a held meeting: the minutes (纪要, required), who was absent, and its decisions
    as action items ({"decision", "owner_org_id", "owner_id", "deadline"} each). All or
    nothing: one bad row and nothing is written."""
    now = now or timezone.now()
    meeting = _lock_meeting(actor, meeting)
    if meeting.status != MeetingStatus.PLANNED:
        raise MeetingConflict(_("The meeting has already been recorded as held."))
    if meeting.starts_at > now:
        raise MeetingConflict(_("The meeting has not started yet; record it once it is held."))
    errors = v.FieldErrors()
    minutes = errors.run("minutes", v.clean_text, minutes, max_length=20000, required=True)
    absent = _clean_absent(errors, meeting, absent_ids)
    rows = _clean_action_rows(errors, meeting.group, actions, now)
    errors.raise_if_any()
    _set_attendance(actor, meeting, absent, now)
    before = snapshot(meeting)
    meeting.minutes = minutes
    meeting.status = MeetingStatus.HELD
    meeting.held_recorded_by = _user(actor)
    meeting.held_recorded_at = now
    meeting.save()
    audit_update(actor=actor, obj=meeting, before=before)
    _create_actions(actor, meeting, rows, now)
    return meeting


def minutes_editable(meeting: Meeting, now=None) -> bool:
    now = now or timezone.now()
    return (
        meeting.status == MeetingStatus.HELD
        and meeting.held_recorded_at is not None
        and now - meeting.held_recorded_at <= dt.timedelta(days=MINUTES_EDIT_DAYS)
    )


def _require_editable(meeting: Meeting, now) -> None:
    if meeting.status != MeetingStatus.HELD:
        raise MeetingConflict(_("Record the meeting as held first."))
    if not minutes_editable(meeting, now):
        raise MeetingConflict(
            _(
                "The minutes were recorded more than %(days)s days ago; they are the record "
                "now and can no longer be changed."
            )
            % {"days": MINUTES_EDIT_DAYS}
        )


@transaction.atomic
def meeting_minutes_edit(*, actor, meeting: Meeting, minutes, absent_ids=(), now=None) -> Meeting:
    """Correct the minutes and the attendance within MINUTES_EDIT_DAYS of recording them;
    the audit trail keeps the text before and after."""
    now = now or timezone.now()
    meeting = _lock_meeting(actor, meeting)
    _require_editable(meeting, now)
    errors = v.FieldErrors()
    minutes = errors.run("minutes", v.clean_text, minutes, max_length=20000, required=True)
    absent = _clean_absent(errors, meeting, absent_ids)
    errors.raise_if_any()
    _set_attendance(actor, meeting, absent, now)
    before = snapshot(meeting)
    meeting.minutes = minutes
    meeting.save()
    audit_update(actor=actor, obj=meeting, before=before)
    return meeting


@transaction.atomic
def action_add(
    *, actor, meeting: Meeting, decision, owner_org_id, owner_id=None, deadline=None, now=None
) -> ActionItem:
    """One more decision of a held meeting, while its minutes may still be corrected."""
    now = now or timezone.now()
    meeting = _lock_meeting(actor, meeting)
    _require_editable(meeting, now)
    errors = v.FieldErrors()
    row = _clean_action_row(
        errors,
        meeting.group,
        {
            "decision": decision,
            "owner_org_id": owner_org_id,
            "owner_id": owner_id,
            "deadline": deadline,
        },
        prefix="",
        now=now,
    )
    errors.raise_if_any()
    return _create_actions(actor, meeting, [row], now)[0]


# ------------------------------------------------------------------ action items


@dataclass(frozen=True)
class Move:
    name: str
    sources: frozenset
    target: str
    by: str  # "owner": the responsible person or a leader of the organization; "keeper"
    refusal: object


# The whole state machine (ADR 0027): open → in progress → reported done → closed; reported
# done → in progress when sent back; progress notes while in progress.
MOVES: dict[str, Move] = {
    m.name: m
    for m in (
        Move(
            "start",
            frozenset({S.OPEN}),
            S.IN_PROGRESS,
            "owner",
            _("Only an open action item can be started."),
        ),
        Move(
            "progress",
            frozenset({S.IN_PROGRESS}),
            S.IN_PROGRESS,
            "owner",
            _("Progress can be reported only on an action item in progress."),
        ),
        Move(
            "submit",
            frozenset({S.IN_PROGRESS}),
            S.SUBMITTED,
            "owner",
            _("Only an action item in progress can be reported done."),
        ),
        Move(
            "close",
            frozenset({S.SUBMITTED}),
            S.CLOSED,
            "keeper",
            _("Only an action item reported done can be closed."),
        ),
        Move(
            "send_back",
            frozenset({S.SUBMITTED}),
            S.IN_PROGRESS,
            "keeper",
            _("Only an action item reported done can be sent back."),
        ),
    )
}


def _event(item: ActionItem, *, actor, at, from_status, to_status, note="") -> ActionEvent:
    return ActionEvent.objects.create(
        action=item,
        at=at,
        actor=_user(actor),
        actor_label=actor_label(actor),
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


def answers_for(actor, item: ActionItem) -> bool:
    """The responsible person, or a leader of the responsible organization."""
    acc = sel.access(actor)
    if acc.user_id is None:
        return False
    return item.owner_id == acc.user_id or item.owner_org_id in acc.leader_orgs


def last_submitter_id(item: ActionItem) -> int | None:
    event = (
        item.events.filter(to_status=S.SUBMITTED, from_status=S.IN_PROGRESS)
        .order_by("-at", "-id")
        .only("actor")
        .first()
    )
    return event.actor_id if event else None


def _independence_refusal(actor, item: ActionItem):
    """Why the actor may not judge this item, or None: never the person who answers for it
    or reported it done."""
    pk = getattr(actor, "pk", None)
    if pk is not None and pk in (item.owner_id, last_submitter_id(item)):
        return _("You cannot close or send back an action item you answer for or reported done.")
    return None


def _may(actor, move: Move, item: ActionItem) -> bool:
    if move.by == "owner":
        return answers_for(actor, item)
    return sel.may_keep(actor, item.meeting.group)


def allowed_moves(actor, item: ActionItem) -> list[str]:
    """The moves the actor may make now (for the page's forms and the API)."""
    names = []
    for move in MOVES.values():
        if item.status not in move.sources or not _may(actor, move, item):
            continue
        if move.by == "keeper" and _independence_refusal(actor, item):
            continue
        names.append(move.name)
    return names


def check_move(actor, item: ActionItem, name: str) -> Move:
    """Right (403), state (409) and independence (403) of one move on an item the actor
    sees; the move's service checks the same again under the row lock."""
    move = MOVES[name]
    if not _may(actor, move, item):
        raise PermissionDenied(_("Your role does not allow this action."))
    if item.status not in move.sources:
        raise MeetingConflict(move.refusal)
    if move.by == "keeper":
        refusal = _independence_refusal(actor, item)
        if refusal is not None:
            raise PermissionDenied(refusal)
    return move


def _begin(actor, item: ActionItem, name: str) -> tuple[ActionItem, Move]:
    """Lock, then scope (404), right (403) and state (409) for one move."""
    locked = (
        sel.visible_actions(actor)
        .select_for_update(of=("self",))
        .select_related("meeting", "meeting__group", "owner_org", "owner")
        .filter(pk=item.pk)
        .first()
    )
    if locked is None:
        raise Http404
    return locked, check_move(actor, locked, name)


def _apply(actor, item: ActionItem, move: Move, *, now, note="", **fields) -> ActionItem:
    before = snapshot(item)
    from_status = item.status
    item.status = move.target
    for name, value in fields.items():
        setattr(item, name, value)
    item.save()
    # Always a row, even when nothing but the note changed (a progress note like the last).
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=item,
        school=_school_of(item.owner_org),
        changes={"fields": diff(before, snapshot(item)), "move": move.name, "note": note},
    )
    _event(item, actor=actor, at=now, from_status=from_status, to_status=move.target, note=note)
    return item


def _params(item: ActionItem) -> dict:
    return {
        "decision": item.decision[:60],
        "org": item.owner_org.name,
        "meeting": item.meeting.title,
    }


def _to_office(actor, item, *, event_type, title, body=""):
    _notify(
        event_type=event_type,
        title=title,
        body=body,
        params=_params(item),
        payload={"action_id": item.pk},
        recipients=_keepers(item.meeting.group),
        actor=actor,
    )


def _to_owners(actor, item, *, event_type, title, body=""):
    _notify(
        event_type=event_type,
        title=title,
        body=body,
        params=_params(item),
        payload={"action_id": item.pk},
        recipients=[item.owner_id, *_leaders([item.owner_org_id]).get(item.owner_org_id, ())],
        actor=actor,
    )


@transaction.atomic
def action_start(*, actor, item: ActionItem, note="", now=None) -> ActionItem:
    """The responsible side starts the work, optionally with a first progress note."""
    now = now or timezone.now()
    item, move = _begin(actor, item, "start")
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=2000)
    errors.raise_if_any()
    extra = {"progress": note} if note else {}
    item = _apply(actor, item, move, now=now, note=note, **extra)
    _to_office(
        actor,
        item,
        event_type="meetings.action_started",
        title=_("Action item started by %(org)s: %(decision)s"),
    )
    return item


@transaction.atomic
def action_progress(*, actor, item: ActionItem, note, now=None) -> ActionItem:
    """A progress note on an item in progress (kept as its latest progress)."""
    now = now or timezone.now()
    item, move = _begin(actor, item, "progress")
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=2000, required=True)
    errors.raise_if_any()
    item = _apply(actor, item, move, now=now, note=note, progress=note)
    _to_office(
        actor,
        item,
        event_type="meetings.action_progress",
        title=_("Progress on an action item of %(org)s: %(decision)s"),
    )
    return item


@transaction.atomic
def action_submit(*, actor, item: ActionItem, note, now=None) -> ActionItem:
    """The responsible side reports the item done, saying what was done."""
    now = now or timezone.now()
    item, move = _begin(actor, item, "submit")
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=2000, required=True)
    errors.raise_if_any()
    item = _apply(actor, item, move, now=now, note=note, progress=note, submitted_at=now)
    _to_office(
        actor,
        item,
        event_type="meetings.action_submitted",
        title=_("Action item reported done by %(org)s: %(decision)s"),
        body=_("Check it and close it, or send it back with a reason."),
    )
    return item


@transaction.atomic
def action_close(*, actor, item: ActionItem, note="", now=None) -> ActionItem:
    """The group's office accepts the work and closes the item."""
    now = now or timezone.now()
    item, move = _begin(actor, item, "close")
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=2000)
    errors.raise_if_any()
    item = _apply(actor, item, move, now=now, note=note, closed_by=_user(actor), closed_at=now)
    _to_owners(
        actor,
        item,
        event_type="meetings.action_closed",
        title=_("Action item closed: %(decision)s"),
        body=_("The group's office has accepted the work of %(org)s."),
    )
    return item


@transaction.atomic
def action_send_back(*, actor, item: ActionItem, reason, now=None) -> ActionItem:
    """The group's office does not accept the work: back to in progress, with a reason."""
    now = now or timezone.now()
    item, move = _begin(actor, item, "send_back")
    errors = v.FieldErrors()
    reason = errors.run("reason", v.clean_text, reason, max_length=2000, required=True)
    errors.raise_if_any()
    item = _apply(actor, item, move, now=now, note=reason, submitted_at=None)
    _to_owners(
        actor,
        item,
        event_type="meetings.action_sent_back",
        title=_("Action item sent back: %(decision)s"),
        body=_("%(org)s: the work was not accepted; see the reason on the item."),
    )
    return item


# ------------------------------------------------------------------ progress reports


def clean_period(period_start, period_end, *, now=None) -> tuple[dt.date, dt.date]:
    errors = v.FieldErrors()
    start = errors.run("period_start", _parse_date, period_start)
    end = errors.run("period_end", _parse_date, period_end)
    if start is None and "period_start" not in errors.errors:
        errors.add("period_start", _("Set the first day of the period."))
    if end is None and "period_end" not in errors.errors:
        errors.add("period_end", _("Set the last day of the period."))
    for field, value in (("period_start", start), ("period_end", end)):
        if value is not None and value < EARLIEST_REPORT_DAY:
            errors.add(field, _("Choose a date from 2000 on."))
    if start and end and not errors.errors:
        if end > sel.local_today(now):
            errors.add("period_end", _("The period cannot end after today."))
        elif start > end:
            errors.add("period_start", _("The period must start before it ends."))
        elif (end - start).days >= MAX_REPORT_DAYS:
            errors.add("period_start", _("A report covers at most a year."))
    errors.raise_if_any()
    return start, end


def report_recipients(group: LeadingGroup) -> list[Organization]:
    """The government of the group's area: the town's (or the county's) government."""
    qs = Organization.objects.filter(
        kind=OrgKind.GOVERNMENT, is_active=True, region_id=group.region_id
    )
    qs = qs.filter(town_id=group.town_id) if group.town_id else qs.filter(town__isnull=True)
    return list(qs.order_by("name", "id"))


@transaction.atomic
def report_send(
    *, actor, group: LeadingGroup, period_start, period_end, summary="", now=None
) -> ProgressReport:
    """Build the figures for the period, keep them as the report's snapshot and send it to
    the area's government (its members' inboxes and the organization's channels)."""
    now = now or timezone.now()
    group = _visible_group(actor, group)
    errors = v.FieldErrors()
    try:
        start, end = clean_period(period_start, period_end, now=now)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                errors.add(field, message)
        start = end = None
    summary = errors.run("summary", v.clean_text, summary, max_length=4000)
    governments = report_recipients(group)
    if not governments:
        errors.add(
            "__all__",
            _("No government organization of the group's area is registered to receive it."),
        )
    errors.raise_if_any()
    figures = sel.progress_figures(group, start, end, sel.local_today(now))
    report = ProgressReport.objects.create(
        group=group,
        period_start=start,
        period_end=end,
        summary=summary or "",
        snapshot=figures,
        sent_by=_user(actor),
        sent_at=now,
    )
    report.sent_to.set(governments)
    audit_create(actor=actor, obj=report)
    from huxiao.notify.services import notify_send

    members = list(
        Membership.objects.filter(
            organization__in=governments, is_active=True, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    params = {
        "group": group.name,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "open": figures["totals"]["open"],
        "overdue": figures["totals"]["overdue"],
    }
    notify_send(
        organizations=[g.pk for g in governments],
        event_type="meetings.report_sent",
        title=_message(_("Progress report of %(group)s, %(start)s – %(end)s"), params),
        body=_message(_("Action items open: %(open)s, of which overdue: %(overdue)s."), params),
        payload={"report_id": report.pk, "group_id": group.pk},
        recipients=sorted(set(members) - {getattr(actor, "pk", None)}),
    )
    return report


# ------------------------------------------------------------------ the daily escalation


def escalation_candidates(today: dt.date, start_of_day: dt.datetime):
    """Items in the owner's hands past their deadline that may take a step today (one
    query). Reported-done items wait on the office and are left alone."""
    return (
        ActionItem.objects.filter(
            status__in=sel.OWNER_STATUSES,
            deadline__lt=today,
            escalation_level__lt=MAX_LEVEL,
        )
        .filter(Q(escalated_at__isnull=True) | Q(escalated_at__lt=start_of_day))
        .select_related("owner_org", "meeting__group__owner")
        .only(
            "pk",
            "decision",
            "deadline",
            "status",
            "escalation_level",
            "owner_id",
            "owner_org__id",
            "owner_org__name",
            "owner_org__kind",
            "meeting__id",
            "meeting__group__id",
            "meeting__group__name",
            "meeting__group__owner__id",
            "meeting__group__owner__name",
        )
        .order_by("pk")
    )


@transaction.atomic
def actions_escalate(*, now: dt.datetime | None = None) -> dict:
    """Move every overdue item one escalation level (at most one a day) and tell the
    responsible organization's leaders (level 1, with the responsible person) or the
    group's office (level 2)."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    today = local.date()
    start_of_day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    candidates = list(
        escalation_candidates(today, start_of_day).select_for_update(skip_locked=True, of=("self",))
    )
    by_level: dict[int, list[ActionItem]] = defaultdict(list)
    for item in candidates:
        level = item.escalation_level + 1
        if (today - item.deadline).days >= level:
            by_level[level].append(item)
    result = {"level_1": [i.pk for i in by_level[1]], "level_2": [i.pk for i in by_level[2]]}
    if not by_level[1] and not by_level[2]:
        return result
    events, audits = [], []
    for level, items in by_level.items():
        ActionItem.objects.filter(pk__in=[i.pk for i in items]).update(
            escalation_level=level, escalated_at=now
        )
        note = _message(
            _("Overdue: escalated to the leaders of the responsible organization.")
            if level == LEVEL_LEADERS
            else _("Overdue: escalated to the group's office."),
            {},
        )
        for item in items:
            events.append(
                ActionEvent(
                    action_id=item.pk,
                    at=now,
                    actor=None,
                    actor_label="system",
                    from_status=item.status,
                    to_status=item.status,
                    note=note,
                )
            )
            audits.append(
                build_event(
                    actor=None,
                    action=AuditAction.UPDATE,
                    obj=item,
                    school=_school_of(item.owner_org),
                    changes={"fields": {"escalation_level": [item.escalation_level, level]}},
                    at=now,
                )
            )
    ActionEvent.objects.bulk_create(events, batch_size=1000)
    AuditEvent.objects.bulk_create(audits, batch_size=1000)
    _escalation_notify(by_level, today=today)
    return result


def _decisions(items: list[ActionItem], limit: int = 10) -> str:
    text = "；".join(i.decision[:40] for i in items[:limit])
    if len(items) > limit:
        text += " …"
    return text


def _escalation_notify(by_level: dict[int, list[ActionItem]], *, today: dt.date) -> None:
    from huxiao.notify.services import notify_send_many

    # One batch for every organization and office: the job's queries do not grow with them.
    messages: list[dict] = []
    per_org: dict[int, list[ActionItem]] = defaultdict(list)
    for item in by_level[LEVEL_LEADERS]:
        per_org[item.owner_org_id].append(item)
    if per_org:
        leaders = _leaders(per_org)
        for org_id, items in per_org.items():
            owners = {i.owner_id for i in items if i.owner_id}
            messages.append(
                dict(
                    organizations=[org_id],
                    event_type="meetings.action_overdue",
                    title=_message(
                        _("%(org)s: %(n)s action item(s) past the deadline"),
                        {"org": items[0].owner_org.name, "n": len(items)},
                    ),
                    body=_message(_("Overdue: %(items)s"), {"items": _decisions(items)}),
                    payload={"organization_id": org_id, "action_ids": [i.pk for i in items]},
                    recipients=sorted(leaders.get(org_id, set()) | owners),
                    dedupe_key=f"meetings.action_overdue:{org_id}:1:{today.isoformat()}",
                )
            )
    per_office: dict[int, list[ActionItem]] = defaultdict(list)
    for item in by_level[LEVEL_OFFICE]:
        per_office[item.meeting.group.owner_id].append(item)
    if per_office:
        keepers: dict[int, set[int]] = defaultdict(set)
        for org_id, user_id in Membership.objects.filter(
            organization_id__in=list(per_office),
            role__in=KEEPER_ROLES,
            is_active=True,
            user__is_active=True,
        ).values_list("organization_id", "user_id"):
            keepers[org_id].add(user_id)
        for office_id, items in per_office.items():
            orgs = sorted({i.owner_org.name for i in items})
            messages.append(
                dict(
                    organizations=[office_id],
                    event_type="meetings.action_overdue_escalated",
                    title=_message(
                        _("%(n)s overdue action item(s) escalated to the group's office"),
                        {"n": len(items)},
                    ),
                    body=_message(
                        _("Organizations: %(orgs)s. Overdue: %(items)s"),
                        {"orgs": "、".join(orgs), "items": _decisions(items)},
                    ),
                    payload={"action_ids": [i.pk for i in items]},
                    recipients=sorted(keepers.get(office_id, set())),
                    dedupe_key=f"meetings.action_overdue:office:{office_id}:{today.isoformat()}",
                )
            )
    notify_send_many(messages)
