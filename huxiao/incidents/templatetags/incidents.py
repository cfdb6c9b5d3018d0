"""`{% incident_button alarm %}` for the alarm page: a link to the alarm's incident, or the
"open incident" button for those who may open one."""

from __future__ import annotations

from django import template

from huxiao.alarms.choices import AlarmStatus
from huxiao.incidents import rules, selectors

register = template.Library()


@register.inclusion_tag("incidents/_alarm_button.html", takes_context=True)
def incident_button(context, alarm):
    request = context.get("request")
    user = getattr(request, "user", None)
    incident = selectors.incident_for_alarm(actor=user, alarm_id=alarm.pk) if user else None
    return {
        "alarm": alarm,
        "incident": incident,
        "can_open": incident is None
        and alarm.status != AlarmStatus.CANCELLED
        and rules.can_manage(user, alarm.school_id),
        "csrf_token": context.get("csrf_token"),
    }
