"""Incident writes: open from an alarm, commander, group members and leaders, tasks, notes,
close.

Every service checks the actor's right at the incident's school, locks the incident row,
refuses changes to a closed incident, and writes its timeline entry (IncidentEvent) and
audit row in the same transaction. Nothing here is pushed to consoles: the incident page is
worked by a handful of people and reloads its panels after each write.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.alarms.choices import AlarmStatus
from huxiao.alarms.models import Alarm
from huxiao.audit.services import audit_create, audit_delete, audit_update, snapshot
from huxiao.core.names import acting_user, actor_label, person_name
from huxiao.incidents import rules
from huxiao.incidents.choices import GroupKind, IncidentEventType, IncidentStatus, TaskStatus
from huxiao.incidents.models import GroupMember, Incident, IncidentEvent, ResponseGroup, Task
from huxiao.people import validation as v

NOT_A_RESPONDER = _("Choose a person of the school or of its police station or post.")


# The name shown for a person ("" for nobody); kept as the API module's name for it.
display_name = person_name


def _event(incident, type_, *, actor, at, **data) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        type=type_,
        at=at,
        actor=acting_user(actor),
        actor_label=actor_label(actor),
        data=data,
    )


def _locked(incident: Incident) -> Incident:
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("school", "alarm")
        .get(pk=incident.pk)
    )


def _must_be_open(incident: Incident) -> None:
    if not incident.is_open:
        raise ValidationError({"status": [_("The incident is closed.")]})


def _responder_membership(errors: v.FieldErrors, user, school, *, field: str, organization=None):
    """The membership that makes `user` eligible at `school`; a field error if none does.

    One message for "no such person" and "not of this school or its police": the form must
    not reveal who exists elsewhere."""
    memberships = rules.responder_memberships(user, school)
    if not memberships:
        errors.add(field, NOT_A_RESPONDER)
        return None
    if organization is None:
        return memberships[0]
    org_id = getattr(organization, "pk", organization)
    for membership in memberships:
        if membership.organization_id == org_id:
            return membership
    errors.add("organization_id", NOT_A_RESPONDER)
    return None


def _group(incident: Incident, group_kind: str, *, required: bool = True):
    if not group_kind and not required:
        return None
    if group_kind not in GroupKind.values:
        raise ValidationError({"group": [_("Unknown response group.")]})
    return incident.groups.get(kind=group_kind)


def _default_title(alarm: Alarm) -> str:
    return str(
        _("%(kind)s at %(school)s")
        % {"kind": alarm.get_kind_display(), "school": alarm.school.name}
    )[:200]


# ------------------------------------------------------------------ open


def incident_open_from_alarm(
    *, actor, alarm: Alarm, title: str = "", now: dt.datetime | None = None
) -> tuple[Incident, bool]:
    """Open the incident of an alarm with its four response groups. Returns (incident,
    created): a second call — another responder pressing the same button — returns the
    incident already open (created False)."""
    rules.require_manage(actor, alarm.school_id)
    errors = v.FieldErrors()
    title = errors.run("title", v.clean_text, title, max_length=200)
    errors.raise_if_any()
    existing = Incident.objects.filter(alarm_id=alarm.pk).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            # Lock the alarm so two simultaneous presses queue up behind each other.
            alarm = (
                Alarm.objects.select_for_update(of=("self",))
                .select_related("school")
                .get(pk=alarm.pk)
            )
            existing = Incident.objects.filter(alarm_id=alarm.pk).first()
            if existing is not None:
                return existing, False
            if alarm.status == AlarmStatus.CANCELLED:
                raise ValidationError(
                    {"alarm_id": [_("A cancelled alarm cannot open an incident.")]}
                )
            now = now or timezone.now()
            commander = actor if rules.responder_memberships(actor, alarm.school) else None
            incident = Incident.objects.create(
                school=alarm.school,
                alarm=alarm,
                title=title or _default_title(alarm),
                opened_at=now,
                opened_by=acting_user(actor),
                commander=commander,
            )
            ResponseGroup.objects.bulk_create(
                ResponseGroup(incident=incident, kind=kind) for kind in GroupKind.values
            )
            _event(
                incident,
                IncidentEventType.OPENED,
                actor=actor,
                at=now,
                alarm_id=alarm.pk,
                commander=display_name(commander),
            )
            audit_create(actor=actor, obj=incident)
    except IntegrityError:
        # The unique alarm column settles a race the lock could not (SQLite has no row
        # locks): the other press won; answer with its incident.
        existing = Incident.objects.filter(alarm_id=alarm.pk).first()
        if existing is None:
            raise
        return existing, False
    return incident, True


# ------------------------------------------------------------------ people


@transaction.atomic
def incident_commander_set(*, actor, incident: Incident, user, now=None) -> Incident:
    rules.require_manage(actor, incident.school_id)
    incident = _locked(incident)
    _must_be_open(incident)
    errors = v.FieldErrors()
    _responder_membership(errors, user, incident.school, field="user_id")
    errors.raise_if_any()
    if incident.commander_id == user.pk:
        return incident
    now = now or timezone.now()
    before = snapshot(incident)
    incident.commander = user
    incident.save(update_fields=["commander"])
    _event(
        incident,
        IncidentEventType.COMMANDER_SET,
        actor=actor,
        at=now,
        user_id=user.pk,
        name=display_name(user),
    )
    audit_update(actor=actor, obj=incident, before=before)
    return incident


@transaction.atomic
def incident_member_add(
    *,
    actor,
    incident: Incident,
    group_kind: str,
    user,
    organization=None,
    role: str = "",
    leader: bool = False,
    now=None,
) -> GroupMember:
    """Put a person of the school or of its police station/post into a response group.

    `organization` picks which of their memberships they serve under; by default the school,
    then the post, then the station."""
    rules.require_manage(actor, incident.school_id)
    incident = _locked(incident)
    _must_be_open(incident)
    errors = v.FieldErrors()
    group = errors.run("group", _group, incident, group_kind)
    membership = _responder_membership(
        errors, user, incident.school, field="user_id", organization=organization
    )
    role = errors.run("role", v.clean_text, role, max_length=100)
    errors.raise_if_any()
    if group.members.filter(user_id=user.pk).exists():
        raise ValidationError({"user_id": [_("This person is already in the group.")]})
    now = now or timezone.now()
    member = GroupMember.objects.create(
        group=group,
        user=user,
        organization=membership.organization,
        role=role or "",
        added_at=now,
    )
    if leader and group.leader_id != user.pk:
        group_before = snapshot(group)
        group.leader = user
        group.save(update_fields=["leader"])
        audit_update(actor=actor, obj=group, before=group_before)
    _event(
        incident,
        IncidentEventType.MEMBER_ADDED,
        actor=actor,
        at=now,
        member_id=member.pk,
        group=group.kind,
        user_id=user.pk,
        name=display_name(user),
        organization=membership.organization.name,
        role=member.role,
        leader=bool(leader),
    )
    audit_create(actor=actor, obj=member)
    return member


@transaction.atomic
def incident_member_remove(*, actor, member: GroupMember, now=None) -> None:
    incident = member.group.incident
    rules.require_manage(actor, incident.school_id)
    incident = _locked(incident)
    _must_be_open(incident)
    group = member.group
    now = now or timezone.now()
    if group.leader_id == member.user_id:
        group.leader = None
        group.save(update_fields=["leader"])
    _event(
        incident,
        IncidentEventType.MEMBER_REMOVED,
        actor=actor,
        at=now,
        member_id=member.pk,
        group=group.kind,
        user_id=member.user_id,
        name=display_name(member.user),
    )
    audit_delete(actor=actor, obj=member)
    member.delete()


@transaction.atomic
def incident_leader_set(
    *, actor, incident: Incident, group_kind: str, user, now=None
) -> ResponseGroup:
    """Make a member of the group its leader."""
    rules.require_manage(actor, incident.school_id)
    incident = _locked(incident)
    _must_be_open(incident)
    group = _group(incident, group_kind)
    if user is None or not group.members.filter(user_id=user.pk).exists():
        raise ValidationError({"user_id": [_("The leader must be a member of the group.")]})
    if group.leader_id == user.pk:
        return group
    now = now or timezone.now()
    before = snapshot(group)
    group.leader = user
    group.save(update_fields=["leader"])
    _event(
        incident,
        IncidentEventType.LEADER_SET,
        actor=actor,
        at=now,
        group=group.kind,
        user_id=user.pk,
        name=display_name(user),
    )
    audit_update(actor=actor, obj=group, before=before)
    return group


# ------------------------------------------------------------------ tasks


def _clean_due(due_at, *, opened_at) -> dt.datetime:
    if not isinstance(due_at, dt.datetime):
        raise ValidationError(_("Enter a date and time."), code="required")
    if timezone.is_naive(due_at):
        due_at = timezone.make_aware(due_at)
    if due_at < opened_at:
        raise ValidationError(
            _("The deadline cannot be before the incident was opened."), code="past"
        )
    return due_at


@transaction.atomic
def task_add(
    *,
    actor,
    incident: Incident,
    title: str,
    owner,
    due_at: dt.datetime,
    group_kind: str = "",
    now=None,
) -> Task:
    rules.require_manage(actor, incident.school_id)
    incident = _locked(incident)
    _must_be_open(incident)
    errors = v.FieldErrors()
    title = errors.run("title", v.clean_text, title, max_length=300, required=True)
    _responder_membership(errors, owner, incident.school, field="owner_id")
    due_at = errors.run("due_at", _clean_due, due_at, opened_at=incident.opened_at)
    group = errors.run("group", _group, incident, group_kind, required=False)
    errors.raise_if_any()
    now = now or timezone.now()
    task = Task.objects.create(
        incident=incident,
        group=group,
        title=title,
        owner=owner,
        due_at=due_at,
        created_at=now,
        created_by=acting_user(actor),
    )
    _event(
        incident,
        IncidentEventType.TASK_ADDED,
        actor=actor,
        at=now,
        task_id=task.pk,
        title=task.title,
        owner_id=owner.pk,
        owner=display_name(owner),
        due_at=due_at.isoformat(),
        group=group.kind if group else "",
    )
    audit_create(actor=actor, obj=task)
    return task


@transaction.atomic
def task_complete(*, actor, task: Task, note: str = "", now=None) -> Task:
    """Mark a task done (its owner may, as well as those who manage the incident). Doing it
    twice changes nothing."""
    if not rules.can_complete_task(actor, task):
        raise PermissionDenied(_("Your role does not allow this action."))
    incident = _locked(task.incident)
    _must_be_open(incident)
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=1000)
    errors.raise_if_any()
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.is_done:
        return task
    now = now or timezone.now()
    before = snapshot(task)
    overdue = task.is_overdue(now)
    task.status = TaskStatus.DONE
    task.done_at, task.done_by = now, acting_user(actor)
    task.save(update_fields=["status", "done_at", "done_by"])
    _event(
        incident,
        IncidentEventType.TASK_COMPLETED,
        actor=actor,
        at=now,
        task_id=task.pk,
        title=task.title,
        note=note or "",
        overdue=overdue,
    )
    audit_update(actor=actor, obj=task, before=before)
    return task


# ------------------------------------------------------------------ notes and closing


@transaction.atomic
def incident_note_add(*, actor, incident: Incident, text: str, now=None) -> IncidentEvent:
    """A free-text entry in the timeline (what was seen, said or decided)."""
    rules.require_manage(actor, incident.school_id)
    incident = _locked(incident)
    _must_be_open(incident)
    errors = v.FieldErrors()
    text = errors.run("text", v.clean_text, text, max_length=2000, required=True)
    errors.raise_if_any()
    event = _event(
        incident, IncidentEventType.NOTE, actor=actor, at=now or timezone.now(), text=text
    )
    audit_create(actor=actor, obj=event)
    return event


@transaction.atomic
def incident_close(
    *,
    actor,
    incident: Incident,
    summary: str,
    casualties: str = "",
    actions_taken: str = "",
    lessons: str = "",
    now=None,
) -> Incident:
    """Close with the report. Tasks still open stay open and are listed as not done."""
    rules.require_manage(actor, incident.school_id)
    incident = _locked(incident)
    _must_be_open(incident)
    errors = v.FieldErrors()
    cleaned = {
        "summary": errors.run("summary", v.clean_text, summary, max_length=8000, required=True),
        "casualties": errors.run("casualties", v.clean_text, casualties, max_length=4000),
        "actions_taken": errors.run("actions_taken", v.clean_text, actions_taken, max_length=8000),
        "lessons": errors.run("lessons", v.clean_text, lessons, max_length=8000),
    }
    errors.raise_if_any()
    now = now or timezone.now()
    before = snapshot(incident)
    for field, value in cleaned.items():
        setattr(incident, field, value or "")
    incident.status = IncidentStatus.CLOSED
    incident.closed_at, incident.closed_by = now, acting_user(actor)
    incident.save(update_fields=[*cleaned, "status", "closed_at", "closed_by"])
    open_tasks = list(
        incident.tasks.filter(status=TaskStatus.OPEN).order_by("due_at", "pk").values("pk", "title")
    )
    _event(
        incident,
        IncidentEventType.CLOSED,
        actor=actor,
        at=now,
        open_tasks=[{"task_id": t["pk"], "title": t["title"]} for t in open_tasks],
    )
    audit_update(actor=actor, obj=incident, before=before)
    return incident
