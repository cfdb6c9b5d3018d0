"""Who may work an incident, and who may be put on one.

Seeing an incident follows the alarm (Action.VIEW_ALARM at the school). Changing it is for
those who answer or command an alarm there: police of the jurisdiction (RESPOND_ALARM) and
the school's principal, security officer and duty leader (CANCEL_ALARM). The one exception:
the owner of a task may mark it done (the guard told to lock the east gate reports back).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import Action
from huxiao.core.scoping import can

VIEW_ACTION = Action.VIEW_ALARM
MANAGE_ACTIONS = (Action.RESPOND_ALARM, Action.CANCEL_ALARM)


def can_manage(actor, school_id: int | None) -> bool:
    return any(can(actor, action, school_id) for action in MANAGE_ACTIONS)


def require_manage(actor, school_id: int | None) -> None:
    if not can_manage(actor, school_id):
        raise PermissionDenied(_("Your role does not allow this action."))


def can_complete_task(actor, task) -> bool:
    if can_manage(actor, task.incident.school_id):
        return True
    return task.owner_id == getattr(actor, "pk", None) and can(
        actor, VIEW_ACTION, task.incident.school_id
    )


def responder_organization_ids(school) -> list[int]:
    """The organizations whose people may serve on the school's incidents (§1 二(五)四: the
    school and the police of its jurisdiction), the school first."""
    return [pk for pk in (school.pk, school.police_post_id, school.police_station_id) if pk]


def responder_memberships(user, school) -> list:
    """The user's active memberships that make them eligible, in the order above."""
    from huxiao.orgs.models import Membership

    org_ids = responder_organization_ids(school)
    if user is None or getattr(user, "pk", None) is None:
        return []
    memberships = list(
        Membership.objects.filter(
            user_id=user.pk, organization_id__in=org_ids, is_active=True, user__is_active=True
        ).select_related("organization")
    )
    return sorted(memberships, key=lambda m: (org_ids.index(m.organization_id), m.pk))
