"""`{% case_response_panel case %}`: the response part of a case page (§3 7–10) —
disinfection, suspension, statements, aftercare and monitoring plans, with the forms the
viewer may use. Nothing at all for someone who may not see the case's health record."""

from __future__ import annotations

from django import template
from django.utils import timezone

from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.core.scoping import can
from huxiao.health.choices import Step
from huxiao.health.models import CaseStep
from huxiao.health.response_forms import (
    AftercareDoneForm,
    AftercareForm,
    DisinfectionForm,
    NoSuspensionForm,
    StatementForm,
)
from huxiao.health.response_selectors import assignable_users, case_response

register = template.Library()


@register.filter
def person(user) -> str:
    """A user's name as people write it (赵志刚, not 志刚 赵)."""
    return person_name(user)


@register.inclusion_tag("health/response_panel.html", takes_context=True)
def case_response_panel(context, case):
    request = context.get("request")
    user = getattr(request, "user", None)
    if case is None or user is None or not can(user, Action.VIEW_HEALTH, case.school_id):
        return {"show": False}
    data = case_response(case)
    bound = context.get("response_forms") or {}
    may_manage = can(user, Action.MANAGE_HEALTH, case.school_id)
    may_suspend = can(user, Action.SUSPEND_CLASSES, case.school_id)
    now = timezone.localtime().replace(second=0, microsecond=0, tzinfo=None)
    forms = {}
    if may_manage:
        forms["disinfection"] = bound.get("disinfection") or DisinfectionForm(
            prefix="disinfection",
            emergency=True,
            initial={"done_at": now, "done_by_name": person_name(user)},
        )
        forms["statement"] = bound.get("statement") or StatementForm(
            prefix="statement", initial={"published_at": now}
        )
        forms["aftercare"] = bound.get("aftercare") or AftercareForm(
            prefix="aftercare", users=assignable_users(case.school_id)
        )
    assessed = (
        CaseStep.objects.filter(case_id=case.pk, step=Step.ASSESSED)
        .select_related("done_by")
        .first()
    )
    if may_suspend and assessed is None:
        forms["assessment"] = bound.get("assessment") or NoSuspensionForm(prefix="assessment")
    for task in data.tasks:
        prefix = f"done-{task.pk}"
        task.done_form = None
        if task.done_at is None and (may_manage or task.assignee_id == user.pk):
            task.done_form = bound.get(prefix) or AftercareDoneForm(prefix=prefix)
    return {
        "show": True,
        "case": data.case,
        "r": data,
        "forms": forms,
        "assessed": assessed,
        "may_suspend": may_suspend,
        "may_manage": may_manage,
        "today": data.today,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
