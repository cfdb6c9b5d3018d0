"""`{% alarm_button school %}` puts the school's alarm button on a page (only for users who
may raise alarms there); `|alarm_duration` shows response times."""

from __future__ import annotations

from django import template

from huxiao.alarms import ui
from huxiao.core.roles import Action
from huxiao.core.scoping import can

register = template.Library()


@register.inclusion_tag("alarms/_button.html", takes_context=True)
def alarm_button(context, school, compact=False):
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or school is None or not can(user, Action.RAISE_ALARM, school.pk):
        return {"show": False}
    return {
        "show": True,
        "compact": compact,
        "school": school,
        "config": ui.button_config(request, school),
        "config_id": f"alarm-button-config-{school.pk}",
        "kinds": ui.kind_buttons(),
        "request": request,
    }


@register.filter
def alarm_duration(seconds) -> str:
    """12.3 → "0:12", 185 → "3:05", 3725 → "1:02:05"; "—" when the step has not happened."""
    if seconds is None or seconds == "":
        return "—"
    total = max(0, round(float(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
