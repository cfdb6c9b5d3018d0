"""Incident reads, always scoped: an incident is seen by those who see its school's alarms."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from huxiao.alarms.choices import AlarmEventType, AlarmSource
from huxiao.alarms.models import Alarm, AlarmEvent
from huxiao.incidents import rules
from huxiao.incidents.choices import GroupKind, IncidentEventType, IncidentStatus, TaskStatus
from huxiao.incidents.models import GroupMember, Incident, IncidentEvent, ResponseGroup, Task
from huxiao.orgs.models import Membership


def _base(actor) -> QuerySet[Incident]:
    return Incident.objects.visible_to(actor, rules.VIEW_ACTION).select_related(
        "school",
        "alarm",
        "alarm__raised_by",
        "alarm__raised_by_device",
        "alarm__acknowledged_by",
        "opened_by",
        "commander",
        "closed_by",
    )


def incident_list(*, actor, status: str = "", school_id: int | None = None) -> QuerySet[Incident]:
    qs = _base(actor).annotate(
        open_task_count=Count("tasks", filter=Q(tasks__status=TaskStatus.OPEN))
    )
    if status in IncidentStatus.values:
        qs = qs.filter(status=status)
    if school_id:
        qs = qs.filter(school_id=school_id)
    return qs


def incident_get(*, actor, incident_id: int) -> Incident:
    return get_object_or_404(_base(actor), pk=incident_id)


def incident_for_alarm(*, actor, alarm_id: int) -> Incident | None:
    return _base(actor).filter(alarm_id=alarm_id).first()


def incident_groups(*, incident: Incident) -> list[ResponseGroup]:
    """The four groups in the order of §1 二(五)四, members with their organizations."""
    groups = {
        g.kind: g
        for g in incident.groups.select_related("leader").prefetch_related(
            Prefetch(
                "members",
                queryset=GroupMember.objects.select_related("user", "organization").order_by(
                    "added_at", "pk"
                ),
            )
        )
    }
    return [groups[kind] for kind in GroupKind.values if kind in groups]


def incident_tasks(*, incident: Incident) -> list[Task]:
    """Open tasks first (earliest deadline first), then the done ones."""
    tasks = list(incident.tasks.select_related("owner", "group", "done_by"))
    return sorted(tasks, key=lambda t: (t.is_done, t.due_at, t.pk))


def member_get(*, incident: Incident, member_id: int) -> GroupMember:
    return get_object_or_404(
        GroupMember.objects.select_related("group__incident", "user"),
        group__incident=incident,
        pk=member_id,
    )


def task_get(*, incident: Incident, task_id: int) -> Task:
    return get_object_or_404(
        Task.objects.select_related("incident", "owner"), incident=incident, pk=task_id
    )


def responder_memberships(*, incident: Incident) -> QuerySet[Membership]:
    """Everyone who may be put on the incident: the school's people and the police of its
    jurisdiction (a school principal sees the names of the officers they work with)."""
    return (
        Membership.objects.filter(
            organization_id__in=rules.responder_organization_ids(incident.school),
            is_active=True,
            user__is_active=True,
        )
        .select_related("user", "organization")
        .order_by("organization__kind", "organization__name", "user__username", "pk")
    )


# ------------------------------------------------------------------ alarm response times


@dataclass(frozen=True)
class ResponseStep:
    label: str
    at: dt.datetime | None
    seconds: float | None


def alarm_response_steps(alarm: Alarm) -> list[ResponseStep]:
    """Raised, acknowledged, dispatched, arrived, resolved/cancelled — each with the time
    since the alarm was raised."""
    steps = [
        (_("Raised"), "raised_at"),
        (_("Acknowledged"), "acknowledged_at"),
        (_("Units dispatched"), "dispatched_at"),
        (_("Police on scene"), "arrived_at"),
        (_("Resolved"), "resolved_at"),
    ]
    if alarm.cancelled_at:
        steps.append((_("Cancelled"), "cancelled_at"))
    return [
        ResponseStep(label, getattr(alarm, attr), alarm.seconds_between("raised_at", attr))
        for label, attr in steps
    ]


# ------------------------------------------------------------------ timeline


@dataclass
class TimelineEntry:
    at: dt.datetime
    source: str  # "alarm" or "incident"
    type: str
    label: str
    by: str
    text: str
    data: dict = field(default_factory=dict)
    sort_id: int = 0


def _local(value: str | None) -> str:
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "Y-m-d H:i")


def _group_label(kind: str) -> str:
    return str(GroupKind(kind).label) if kind in GroupKind.values else ""


def _incident_text(event: IncidentEvent) -> str:
    d = event.data or {}
    t = event.type
    if t == IncidentEventType.OPENED:
        if d.get("commander"):
            return _("Commander: %(name)s") % {"name": d["commander"]}
        return ""
    if t == IncidentEventType.COMMANDER_SET:
        return _("Commander: %(name)s") % {"name": d.get("name", "")}
    if t == IncidentEventType.MEMBER_ADDED:
        text = _("%(name)s (%(organization)s) joined the %(group)s") % {
            "name": d.get("name", ""),
            "organization": d.get("organization", ""),
            "group": _group_label(d.get("group", "")),
        }
        if d.get("role"):
            text = f"{text}: {d['role']}"
        if d.get("leader"):
            text = f"{text} · {_('group leader')}"
        return text
    if t == IncidentEventType.MEMBER_REMOVED:
        return _("%(name)s left the %(group)s") % {
            "name": d.get("name", ""),
            "group": _group_label(d.get("group", "")),
        }
    if t == IncidentEventType.LEADER_SET:
        return _("%(name)s leads the %(group)s") % {
            "name": d.get("name", ""),
            "group": _group_label(d.get("group", "")),
        }
    if t == IncidentEventType.TASK_ADDED:
        return _("%(title)s — owner %(owner)s, due %(due)s") % {
            "title": d.get("title", ""),
            "owner": d.get("owner", ""),
            "due": _local(d.get("due_at")),
        }
    if t == IncidentEventType.TASK_COMPLETED:
        text = d.get("title", "")
        if d.get("overdue"):
            text = f"{text} ({_('after the deadline')})"
        if d.get("note"):
            text = f"{text}: {d['note']}"
        return text
    if t == IncidentEventType.NOTE:
        return d.get("text", "")
    if t == IncidentEventType.CLOSED:
        count = len(d.get("open_tasks") or [])
        if count:
            return ngettext("%(count)d task not done", "%(count)d tasks not done", count) % {
                "count": count
            }
        return _("All tasks done")
    return ""


def _seconds(value) -> str:
    return "" if value is None else _("%(seconds)s s after the alarm") % {"seconds": value}


def _alarm_text(event: AlarmEvent) -> str:
    d = event.data or {}
    t = event.type
    if t == AlarmEventType.RAISED:
        source = d.get("source", "")
        return str(AlarmSource(source).label) if source in AlarmSource.values else ""
    if t == AlarmEventType.ACKNOWLEDGED:
        return _seconds(d.get("ack_seconds"))
    if t == AlarmEventType.DISPATCHED:
        return d.get("units", "")
    if t == AlarmEventType.ARRIVED:
        return _seconds(d.get("arrival_seconds"))
    if t == AlarmEventType.RESOLVED:
        return d.get("outcome", "")
    if t == AlarmEventType.CANCELLED:
        reason = d.get("reason", "")
        return f"{_('False alarm')}: {reason}" if d.get("false_alarm") else reason
    if t == AlarmEventType.ESCALATED:
        return _("Escalation %(level)s") % {"level": d.get("level", "")}
    return ""


def incident_timeline(*, incident: Incident) -> list[TimelineEntry]:
    """The incident's own events merged with its alarm's, oldest first."""
    entries = [
        TimelineEntry(
            at=e.at,
            source="incident",
            type=e.type,
            label=str(e.get_type_display()),
            by=e.actor_label,
            text=_incident_text(e),
            data=e.data,
            sort_id=e.pk,
        )
        for e in incident.events.order_by("at", "pk")
    ]
    if incident.alarm_id:
        entries += [
            TimelineEntry(
                at=e.at,
                source="alarm",
                type=e.type,
                label=_("Alarm: %(step)s") % {"step": e.get_type_display()},
                by=e.actor_label,
                text=_alarm_text(e),
                data=e.data,
                sort_id=e.pk,
            )
            for e in AlarmEvent.objects.filter(alarm_id=incident.alarm_id).order_by("at", "pk")
        ]
    # At the same instant the alarm's step comes first (it is what the incident answers).
    entries.sort(key=lambda e: (e.at, e.source != "alarm", e.sort_id))
    return entries
