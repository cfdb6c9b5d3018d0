"""Escalations out through the notify app's channels (SMS, WeCom, DingTalk, email, webhook)
and into the inboxes of the station commander and the county command."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.models import Membership, Organization


def escalation_targets(alarm) -> tuple[list[Organization], list]:
    school = alarm.school
    station_ids = [pk for pk in (school.police_station_id, school.police_post_id) if pk]
    county_command = Organization.objects.filter(
        region_id=school.region_id, town__isnull=True, kind=OrgKind.GOVERNANCE_OFFICE
    )
    organizations = list(Organization.objects.filter(pk__in=station_ids)) + list(county_command)
    users = [
        m.user
        for m in Membership.objects.filter(is_active=True)
        .filter(
            Q(organization_id=school.police_station_id, role=Role.POLICE_COMMANDER)
            | Q(organization__in=county_command)
        )
        .select_related("user")
    ]
    return organizations, users


def alarm_escalation_notify(*, alarm, event) -> None:
    from huxiao.notify.services import notify_send

    organizations, users = escalation_targets(alarm)
    title = _("Alarm not acknowledged: %(school)s") % {"school": alarm.school.name}
    body = _(
        "%(kind)s at %(school)s (%(location)s), raised %(time)s, not acknowledged "
        "(escalation %(level)s)."
    ) % {
        "kind": alarm.get_kind_display(),
        "school": alarm.school.name,
        "location": alarm.location or "—",
        "time": timezone.localtime(alarm.raised_at).strftime("%H:%M:%S"),
        "level": alarm.escalation_level,
    }
    if not (alarm.school.police_station_id or alarm.school.police_post_id):
        # Nobody on the console can answer it: say so, and what to do.
        body += " " + _(
            "No police station is linked to this school, so no police have received the "
            "alarm: call 110 and the school."
        )
    notify_send(
        organizations=organizations,
        event_type="alarm.escalated",
        title=title,
        body=body,
        payload={"alarm_id": alarm.pk, "event_id": event.pk, "level": alarm.escalation_level},
        recipients=users,
        dedupe_key=f"alarm:{alarm.pk}:escalation:{alarm.escalation_level}",
    )
