"""Reads of suspected cases: the list, one case, the procedure as a checklist, who may do
which step, who is told (issue 9 item 5; §3 4–10; ADR 0032 "Case").

Who sees what: VIEW_HEALTH (the school's health staff, principal and duty leader; the
health centre; county health roles) reads cases; out of scope is 404 exactly like a case
that does not exist; police hold no health action (403). A teacher who reported a case
(RECORD_HEALTH, no VIEW_HEALTH) sees only the confirmation of their report.

Who does which step (checked by the services, shown by the pages):
- verify, isolate, move the class, notify the parents: a member of the school who reads
  health records (duty leader, principal, health staff) — the people on the spot;
- start the procedure: a principal of the school (the leading group's leader);
- response groups, reports to the central school and the health centre: a member of the
  school who runs health procedures (principal, health staff);
- transfer, contacts, outcome, closing, the contact window: MANAGE_HEALTH (the school's
  health staff and principal, the health centre).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import Action, Role, role_allows
from huxiao.core.scoping import can, memberships_of
from huxiao.duty.duty_selectors import _id
from huxiao.health.choices import STEP_ORDER, CaseStatus, ResponseGroupKind, Step, Symptom
from huxiao.health.models import CaseGroupMember, CaseStep, HealthCase
from huxiao.orgs.models import Membership

CASE_RELATED = (
    "school",
    "school_class",
    "child",
    "reported_by",
    "child_check",
)
OPEN_STATUSES = (CaseStatus.REPORTED, CaseStatus.ACTIVE, CaseStatus.CONFIRMED, CaseStatus.CLEARED)

# Steps the response area records through its own records (disinfection, the suspension
# assessment, aftercare); the case page shows their state and includes its section.
RESPONSE_STEPS = frozenset(
    {
        Step.CLASSROOM_DISINFECTED,
        Step.EMERGENCY_DISINFECTION,
        Step.ASSESSED,
        Step.AFTERCARE,
    }
)
CASE_STEPS = tuple(s for s in STEP_ORDER if s not in RESPONSE_STEPS)
# Steps that may be done before the group leader starts the procedure (isolation never
# waits); every other step of the case area waits for STARTED, STARTED for VERIFIED.
BEFORE_START = frozenset({Step.REPORTED, Step.VERIFIED, Step.ISOLATED, Step.STARTED})

SCHOOL_HEALTH = "school_health"  # a school member with VIEW_HEALTH
LEADER = "leader"  # a principal of the school
SCHOOL_MANAGE = "school_manage"  # a school member with MANAGE_HEALTH
MANAGE = "manage"  # MANAGE_HEALTH at the school (the health centre too)
STEP_WHO: dict[str, str] = {
    Step.VERIFIED: SCHOOL_HEALTH,
    Step.STARTED: LEADER,
    Step.GROUPS: SCHOOL_MANAGE,
    Step.ISOLATED: SCHOOL_HEALTH,
    Step.CLASS_MOVED: SCHOOL_HEALTH,
    Step.PARENTS_NOTIFIED: SCHOOL_HEALTH,
    Step.CENTRAL_SCHOOL_REPORTED: SCHOOL_MANAGE,
    Step.HEALTH_CENTRE_REPORTED: SCHOOL_MANAGE,
    Step.TRANSFERRED: MANAGE,
    Step.CONTACTS_TRACED: MANAGE,
    Step.CONTACTS_NOTIFIED: MANAGE,
    Step.OUTCOME: MANAGE,
}
REFUSALS = {
    SCHOOL_HEALTH: _(
        "Only the school's duty leader, principal or health staff may record this step."
    ),
    LEADER: _(
        "Only the principal of the school, as leader of the leading group, starts the procedure."
    ),
    SCHOOL_MANAGE: _("Only the school's principal or health staff may record this step."),
    MANAGE: _(
        "Only the school's health staff, its principal or the health centre may record this step."
    ),
}


# ------------------------------------------------------------------ the list and one case


def case_list(*, actor, status: str = "", school_id: int | None = None):
    """Cases in the actor's scope: open ones first, newest first."""
    qs = HealthCase.objects.visible_to(actor, Action.VIEW_HEALTH).select_related(
        "school", "school_class", "child"
    )
    if school_id is not None:
        qs = qs.filter(school_id=school_id)
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status:
        qs = qs.filter(status=status)
    return qs.annotate(
        closed_last=Case(
            When(status=CaseStatus.CLOSED, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    ).order_by("closed_last", "-reported_at", "-id")


def case_get(*, actor, case_id, action: str = Action.VIEW_HEALTH) -> HealthCase:
    """A case in the actor's scope for `action`, else 404."""
    case = (
        HealthCase.objects.visible_to(actor, action)
        .filter(pk=_id(case_id))
        .select_related(*CASE_RELATED, "school_class__head_teacher")
        .first()
    )
    if case is None:
        raise Http404
    return case


def reported_case_get(*, actor, case_id) -> HealthCase:
    """The confirmation of a report: the one who reported it (still RECORD_HEALTH at the
    school), or anyone who reads health records there; else 404."""
    case = (
        HealthCase.objects.visible_to(actor, Action.RECORD_HEALTH)
        .filter(pk=_id(case_id))
        .select_related(*CASE_RELATED)
        .first()
    )
    if case is None:
        case = (
            HealthCase.objects.visible_to(actor, Action.VIEW_HEALTH)
            .filter(pk=_id(case_id))
            .select_related(*CASE_RELATED)
            .first()
        )
        if case is None:
            raise Http404
        return case
    if case.reported_by_id != getattr(actor, "pk", None) and not can(
        actor, Action.VIEW_HEALTH, case.school_id
    ):
        raise Http404
    return case


def symptom_labels(codes) -> list[str]:
    """The labels of symptom codes, in the active language."""
    return [str(Symptom(code).label) for code in codes or [] if code in Symptom.values]


def is_open(case: HealthCase) -> bool:
    return case.status != CaseStatus.CLOSED


# ------------------------------------------------------------------ who may do a step


def school_roles(actor, school_id: int) -> set[str]:
    """The actor's roles at the school itself (active memberships)."""
    return {m.role for m in memberships_of(actor) if m.organization_id == school_id}


def _allowed(actor, school_id: int, who: str) -> bool:
    if who == MANAGE:
        return can(actor, Action.MANAGE_HEALTH, school_id)
    roles = school_roles(actor, school_id)
    if who == LEADER:
        return Role.PRINCIPAL in roles
    if who == SCHOOL_MANAGE:
        return any(role_allows(r, Action.MANAGE_HEALTH) for r in roles)
    return any(role_allows(r, Action.VIEW_HEALTH) for r in roles)


def may_step(actor, case: HealthCase, step: str) -> bool:
    who = STEP_WHO.get(step)
    return who is not None and _allowed(actor, case.school_id, who)


def may_manage(actor, case: HealthCase) -> bool:
    """Close the case, change its contact window, trace and notify contacts."""
    return _allowed(actor, case.school_id, MANAGE)


def refusal(step: str) -> str:
    return str(REFUSALS.get(STEP_WHO.get(step, MANAGE), REFUSALS[MANAGE]))


def order_problem(case: HealthCase, step: str, done: dict) -> str:
    """Why the step cannot be recorded now ("" when it can)."""
    if case.status == CaseStatus.CLOSED:
        return str(_("This case is closed."))
    if step == Step.STARTED and Step.VERIFIED not in done:
        return str(
            _(
                "The duty leader verifies the report first; then the group leader starts the "
                "procedure."
            )
        )
    if step not in BEFORE_START and Step.STARTED not in done:
        return str(_("The group leader has not started the procedure yet."))
    return ""


# ------------------------------------------------------------------ who is told


def duty_leaders(school_id: int, now: dt.datetime | None = None) -> list[int]:
    """User ids of today's duty leader(s): the leader on the duty roster's shift under way
    (or, failing that, of today's shifts) when the school keeps one; otherwise every member
    with the duty-leader role. Only active members who can log in."""
    from huxiao.duty.choices import DutyRole
    from huxiao.duty.models import DutyAssignment

    now = now or timezone.now()
    members = set(
        Membership.objects.filter(
            organization_id=school_id, is_active=True, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    rows = list(
        DutyAssignment.objects.filter(
            shift__school_id=school_id,
            role=DutyRole.LEADER,
            shift__date__in=[timezone.localdate(now), timezone.localdate(now) - dt.timedelta(1)],
        ).values_list("user_id", "shift__starts_at", "shift__ends_at", "shift__date")
    )
    under_way = [u for u, s, e, _d in rows if s <= now < e and u in members]
    today = [u for u, _s, _e, d in rows if d == timezone.localdate(now) and u in members]
    chosen = under_way or today
    if chosen:
        return list(dict.fromkeys(sorted(chosen)))
    return sorted(
        Membership.objects.filter(
            organization_id=school_id,
            role=Role.DUTY_LEADER,
            is_active=True,
            user__is_active=True,
        )
        .values_list("user_id", flat=True)
        .distinct()
    )


# ------------------------------------------------------------------ the checklist


@dataclass
class StepRow:
    step: str
    label: str
    done: CaseStep | None
    owner: str  # "case" or "response"
    may_act: bool = False
    problem: str = ""  # why it cannot be done now (order, closed)

    @property
    def is_done(self) -> bool:
        return self.done is not None


@dataclass
class GroupView:
    kind: str
    label: str
    members: list = field(default_factory=list)


def checklist(actor, case: HealthCase, done: dict) -> list[StepRow]:
    """Every step of §3 4–10 in order: done (who, when, note) or, for the case area's steps,
    whether the actor may record it now."""
    rows = []
    for step in STEP_ORDER:
        owner = "response" if step in RESPONSE_STEPS else "case"
        row = StepRow(step=step, label=str(Step(step).label), done=done.get(step), owner=owner)
        if owner == "case" and row.done is None and step in STEP_WHO:
            row.problem = order_problem(case, step, done)
            row.may_act = may_step(actor, case, step) and not row.problem
        rows.append(row)
    return rows


def groups_of(case: HealthCase) -> list[GroupView]:
    """The six response groups with their members (leader first)."""
    groups = {
        kind: GroupView(kind=kind, label=str(label)) for kind, label in ResponseGroupKind.choices
    }
    for member in CaseGroupMember.objects.filter(case=case).select_related("user"):
        groups[member.group].members.append(member)
    return list(groups.values())


def groups_missing(case: HealthCase) -> list[str]:
    """The response groups that have no member yet."""
    staffed = set(CaseGroupMember.objects.filter(case=case).values_list("group", flat=True))
    return [kind for kind in ResponseGroupKind.values if kind not in staffed]


def staff_logins(school_id: int) -> list[tuple[int, str, str]]:
    """(user id, name, phone) of the school's active members: the choices of a group
    member; the phone from their staff record when they have one."""
    from huxiao.core.names import person_name
    from huxiao.duty.duty_selectors import school_members
    from huxiao.people.models import Staff

    phones = dict(
        Staff.objects.filter(school_id=school_id, user__isnull=False, is_active=True)
        .exclude(phone="")
        .values_list("user_id", "phone")
    )
    return [(u.pk, person_name(u), phones.get(u.pk, "")) for u in school_members(school_id)]
