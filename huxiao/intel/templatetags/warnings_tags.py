"""`{% active_early_warnings %}`: the early warnings in force for the user's school(s), for
the gate page and the school home (ADR 0019). Renders nothing for anyone else."""

from django import template

from huxiao.intel.warnings_selectors import active_warnings_for_school_user

register = template.Library()


@register.inclusion_tag("intel/warnings/_active.html", takes_context=True)
def active_early_warnings(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"active_early_warnings": []}
    return {"active_early_warnings": active_warnings_for_school_user(user)}
