"""Alarm events on the console socket: groups, payloads and publishing after commit.

Groups are derived on the server: an alarm goes to its school, the police station and post
whose jurisdiction holds the school, the town and the county; a console joins the groups
its memberships entitle it to (roles with Action.VIEW_ALARM). A client never picks a group.
"""

from __future__ import annotations

from huxiao.alarms.choices import AlarmKind, AlarmStatus
from huxiao.core.events import group_send_on_commit
from huxiao.core.names import person_name
from huxiao.core.roles import Action, OrgKind, role_allows

PREFIX = "alarms"
# Labels by value, translated when shown: Django's get_FOO_display() rebuilds a hashable
# dict of the choices on every call, a tenth of a millisecond per alarm pushed.
_KIND_LABELS = dict(AlarmKind.choices)
_STATUS_LABELS = dict(AlarmStatus.choices)


def groups_for_alarm(alarm, *, station_only: bool = False) -> list[str]:
    school = alarm.school
    groups = []
    if school.police_station_id:
        groups.append(f"{PREFIX}.station.{school.police_station_id}")
    if school.police_post_id:
        groups.append(f"{PREFIX}.post.{school.police_post_id}")
    if station_only:
        return groups
    groups.append(f"{PREFIX}.school.{school.pk}")
    if school.town_id:
        groups.append(f"{PREFIX}.town.{school.town_id}")
    groups.append(f"{PREFIX}.county.{school.region_id}")
    return groups


def console_groups(memberships) -> list[str]:
    """The alarm groups a user's memberships give; none without Action.VIEW_ALARM."""
    groups: list[str] = []
    for membership in memberships:
        org = membership.organization
        if not role_allows(membership.role, Action.VIEW_ALARM, county_level=org.is_county_level):
            continue
        if org.is_school:
            group = f"{PREFIX}.school.{org.pk}"
        elif org.kind == OrgKind.POLICE_STATION:
            group = f"{PREFIX}.station.{org.pk}"
        elif org.kind == OrgKind.POLICE_POST:
            group = f"{PREFIX}.post.{org.pk}"
        elif org.town_id:
            group = f"{PREFIX}.town.{org.town_id}"
        else:
            group = f"{PREFIX}.county.{org.region_id}"
        if group not in groups:
            groups.append(group)
    return groups


def alarm_payload(alarm) -> dict:
    """The alarm as consoles and the API show it."""

    def name(user):
        if user is None:
            return None
        return person_name(user)

    return {
        "id": alarm.pk,
        "school_id": alarm.school_id,
        "school_name": alarm.school.name,
        "kind": alarm.kind,
        "kind_label": str(_KIND_LABELS.get(alarm.kind, alarm.kind)),
        "location": alarm.location,
        "note": alarm.note,
        "is_drill": alarm.is_drill,
        "source": alarm.source,
        "status": alarm.status,
        "status_label": str(_STATUS_LABELS.get(alarm.status, alarm.status)),
        "raised_at": alarm.raised_at.isoformat(),
        "raised_by": name(alarm.raised_by)
        or (alarm.raised_by_device.name if alarm.raised_by_device_id else None),
        "cancel_window_ends_at": alarm.cancel_window_ends_at.isoformat(),
        "acknowledged_at": alarm.acknowledged_at.isoformat() if alarm.acknowledged_at else None,
        "acknowledged_by": name(alarm.acknowledged_by),
        "dispatched_at": alarm.dispatched_at.isoformat() if alarm.dispatched_at else None,
        "dispatch_note": alarm.dispatch_note,
        "arrived_at": alarm.arrived_at.isoformat() if alarm.arrived_at else None,
        "resolved_at": alarm.resolved_at.isoformat() if alarm.resolved_at else None,
        "outcome": alarm.outcome,
        "cancelled_at": alarm.cancelled_at.isoformat() if alarm.cancelled_at else None,
        "cancel_reason": alarm.cancel_reason,
        "is_false_alarm": alarm.is_false_alarm,
        "escalation_level": alarm.escalation_level,
        "ack_seconds": alarm.ack_seconds,
        "arrival_seconds": alarm.arrival_seconds,
    }


def event_message(event, alarm) -> dict:
    return {
        "type": event.type,
        "event_id": event.pk,
        "at": event.at.isoformat(),
        "alarm": alarm_payload(alarm),
    }


def publish_on_commit(event, alarm, *, station_only: bool = False) -> None:
    """Send after the transaction commits; a push failure never fails the write."""
    group_send_on_commit(
        groups_for_alarm(alarm, station_only=station_only),
        {"type": "alarm.message", "data": event_message(event, alarm)},
        label=f"{event.type}#{event.pk}",
    )
