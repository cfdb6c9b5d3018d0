"""Reads of self-check campaigns (§2 二–三, ADR 0027 "Campaigns").

Who sees what:

- the **managers** of a campaign — members of its owner office whose role holds
  `MANAGE_CAMPAIGNS` — see it in every state, drafts included, with all its schools;
- **reviewers** — `MANAGE_CAMPAIGNS` on a school from another office (e.g. the county's
  governance centre) — see a started campaign with the schools in their scope;
- **the school's own people** (members of the school with `view` there) see a started
  campaign with their school only: the leaders (`INSPECT`) do its self-check, the gap owners
  mark their gaps fixed, the others read.

Anyone else gets 403 for the area and 404 for a campaign or school they may not see: the
police, for one, take no part in campaigns. A draft is the office's business: it is "not
found" for everyone but its managers.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import SCHOOL_KINDS, Action, role_allows
from huxiao.core.scoping import can, memberships_of, visible_school_ids
from huxiao.hazards.choices import InspectionKind
from huxiao.hazards.hazard_services import local_today
from huxiao.hazards.models import Inspection
from huxiao.orgs.models import Membership
from huxiao.supervision.campaign_models import (
    Campaign,
    CampaignAnswer,
    CampaignEvent,
    CampaignItem,
    CampaignSchool,
)
from huxiao.supervision.choices import (
    CampaignResult,
    CampaignSchoolStatus,
    CampaignStatus,
    GapStatus,
)

MAX_ID = 2**63 - 1
ES = CampaignSchoolStatus
# A school still owes its self-check in these states.
NOT_SUBMITTED = (ES.SELF_CHECKING, ES.RETURNED)


# ------------------------------------------------------------------ who


def manager_offices(actor) -> list:
    """The active offices where the actor holds a role with MANAGE_CAMPAIGNS."""
    return [
        m.organization
        for m in memberships_of(actor)
        if m.organization.is_active
        and m.organization.kind not in SCHOOL_KINDS
        and role_allows(
            m.role, Action.MANAGE_CAMPAIGNS, county_level=m.organization.is_county_level
        )
    ]


def manager_office_ids(actor) -> frozenset[int]:
    return frozenset(org.pk for org in manager_offices(actor))


def member_school_ids(actor) -> frozenset[int]:
    """The schools the actor is a member of (active memberships)."""
    return frozenset(m.organization_id for m in memberships_of(actor) if m.organization.is_school)


def is_member_of(actor, school_id: int) -> bool:
    return school_id in member_school_ids(actor)


def entry_school_ids(actor) -> frozenset[int]:
    """Schools whose campaign entries the actor may read outside the campaigns they manage:
    reviewers' scope, and the actor's own schools."""
    return visible_school_ids(actor, Action.MANAGE_CAMPAIGNS) | (
        visible_school_ids(actor, Action.VIEW) & member_school_ids(actor)
    )


def is_campaign_user(actor) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return bool(manager_office_ids(actor) or entry_school_ids(actor))


def require_campaign_user(actor) -> None:
    """403 for those who take no part in campaigns anywhere (a 404 then only ever means "not
    there or not yours")."""
    if not is_campaign_user(actor):
        raise PermissionDenied(_("Your role does not allow this action."))


def require_manager(actor) -> list:
    offices = manager_offices(actor)
    if not offices:
        raise PermissionDenied(_("Your role does not allow this action."))
    return offices


def is_manager(actor, campaign: Campaign) -> bool:
    return campaign.owner_id in manager_office_ids(actor)


def may_self_check(actor, school_id: int) -> bool:
    """The school's own leaders (principal, security officer): INSPECT there as members."""
    return is_member_of(actor, school_id) and can(actor, Action.INSPECT, school_id)


def may_review(actor, school_id: int) -> bool:
    """Spot check, return, accept: MANAGE_CAMPAIGNS on the school, from outside it."""
    return can(actor, Action.MANAGE_CAMPAIGNS, school_id) and not is_member_of(actor, school_id)


# ------------------------------------------------------------------ campaigns


def campaigns_visible(actor) -> QuerySet[Campaign]:
    managed = Q(owner_id__in=manager_office_ids(actor))
    ids = entry_school_ids(actor)
    if ids:
        in_scope = CampaignSchool.objects.filter(school_id__in=ids).values("campaign_id")
        return Campaign.objects.filter(
            managed | (~Q(status=CampaignStatus.DRAFT) & Q(pk__in=in_scope))
        )
    return Campaign.objects.filter(managed)


def campaign_list(*, actor, status: str = "") -> QuerySet[Campaign]:
    """The campaigns the actor may see, newest first, with their numbers of schools: all
    of them in the campaigns the actor manages, elsewhere only the schools whose entries
    the actor may read (as `campaign_entries` shows them)."""
    managed = manager_office_ids(actor)
    ids = entry_school_ids(actor)
    seen = []
    if managed:
        seen.append(Q(owner_id__in=managed))
    if ids:
        seen.append(Q(schools__school_id__in=ids))
    if not seen:
        return Campaign.objects.none()
    counted = seen[0] if len(seen) == 1 else seen[0] | seen[1]
    qs = campaigns_visible(actor).select_related("owner")
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(
        school_count=Count("schools", filter=counted, distinct=True),
        accepted_count=Count(
            "schools", filter=counted & Q(schools__status=ES.ACCEPTED), distinct=True
        ),
    ).order_by("-created_at", "-id")


def _check_id(value: int) -> int:
    if not 0 < int(value) <= MAX_ID:
        raise Http404
    return int(value)


def campaign_get(*, actor, campaign_id: int) -> Campaign:
    """One campaign with its items; out of reach is 404."""
    campaign = (
        campaigns_visible(actor)
        .select_related("owner", "template", "created_by")
        .prefetch_related(Prefetch("items", queryset=CampaignItem.objects.order_by("order", "id")))
        .filter(pk=_check_id(campaign_id))
        .first()
    )
    if campaign is None:
        raise Http404
    return campaign


def _entry_counts(qs: QuerySet, today: dt.date) -> QuerySet:
    gap = Q(answers__result=CampaignResult.GAP)
    return qs.annotate(
        answered=Count("answers", distinct=True),
        gaps_open=Count(
            "answers", filter=gap & Q(answers__gap_status=GapStatus.OPEN), distinct=True
        ),
        gaps_fixed=Count(
            "answers", filter=gap & Q(answers__gap_status=GapStatus.FIXED), distinct=True
        ),
        gaps_overdue=Count(
            "answers",
            filter=gap & Q(answers__gap_status=GapStatus.OPEN, answers__gap_deadline__lt=today),
            distinct=True,
        ),
    )


def campaign_entries(
    *, actor, campaign: Campaign, today: dt.date | None = None
) -> list[CampaignSchool]:
    """The campaign's schools the actor may see (all of them for its managers), with their
    counts of answers and gaps and the overdue flag, by town and name."""
    today = today or local_today()
    qs = CampaignSchool.objects.filter(campaign=campaign).select_related("school", "school__town")
    if not is_manager(actor, campaign):
        qs = qs.filter(school_id__in=entry_school_ids(actor))
    entries = list(_entry_counts(qs, today).order_by("school__town__name", "school__name", "id"))
    for entry in entries:
        entry.campaign = campaign
        entry.overdue = entry_overdue(entry, campaign, today)
    return entries


def entry_overdue(entry: CampaignSchool, campaign: Campaign, today: dt.date) -> str:
    """Which date the entry has missed, or "": the self-check (school), the spot check or the
    acceptance (reviewers). A closed campaign has no more deadlines."""
    if campaign.status != CampaignStatus.RUNNING:
        return ""
    if entry.status in NOT_SUBMITTED and today > campaign.self_check_due:
        return "self_check"
    if entry.status == ES.SUBMITTED and today > campaign.spot_check_due:
        return "spot_check"
    if entry.status == ES.SPOT_CHECKED and today > campaign.acceptance_due:
        return "acceptance"
    return ""


@dataclass
class Totals:
    """Progress of a group of schools (the campaign, or one town)."""

    label: str = ""
    schools: int = 0
    by_status: dict = field(default_factory=lambda: {s: 0 for s in ES.values})
    gaps_open: int = 0
    gaps_fixed: int = 0
    gaps_overdue: int = 0
    late: int = 0

    @property
    def accepted_pct(self) -> int:
        if not self.schools:
            return 0
        return round(100 * self.by_status[ES.ACCEPTED] / self.schools)

    def add(self, entry) -> None:
        self.schools += 1
        self.by_status[entry.status] += 1
        self.gaps_open += entry.gaps_open
        self.gaps_fixed += entry.gaps_fixed
        self.gaps_overdue += entry.gaps_overdue
        self.late += bool(entry.overdue)

    def as_dict(self) -> dict:
        return {
            "schools": self.schools,
            "by_status": dict(self.by_status),
            "accepted_pct": self.accepted_pct,
            "gaps_open": self.gaps_open,
            "gaps_fixed": self.gaps_fixed,
            "gaps_overdue": self.gaps_overdue,
            "late": self.late,
        }


def campaign_progress(entries: list[CampaignSchool]) -> tuple[Totals, list[Totals]]:
    """Totals of the given entries and the same per town (in the entries' order)."""
    total = Totals()
    towns: OrderedDict[object, Totals] = OrderedDict()
    for entry in entries:
        total.add(entry)
        town = entry.school.town
        key = town.pk if town else None
        if key not in towns:
            towns[key] = Totals(label=town.name if town else "—")
        towns[key].add(entry)
    return total, list(towns.values())


def show_town_totals(campaign: Campaign, towns: list[Totals]) -> bool:
    """Per-town totals are for county-level owners (or any campaign over several towns)."""
    return campaign.owner.is_county_level or len(towns) > 1


# ------------------------------------------------------------------ one school


def entry_get(*, actor, campaign_id: int, school_id: int) -> CampaignSchool:
    """One school's entry in a campaign the actor may see; 404 when either is out of reach."""
    campaign = campaign_get(actor=actor, campaign_id=campaign_id)
    school_id = _check_id(school_id)
    if not is_manager(actor, campaign) and school_id not in entry_school_ids(actor):
        raise Http404
    entry = (
        CampaignSchool.objects.filter(campaign=campaign, school_id=school_id)
        .select_related(
            "school", "school__town", "submitted_by", "reviewed_by", "accepted_by", "spot_check"
        )
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=CampaignAnswer.objects.select_related(
                    "item", "gap_owner", "answered_by"
                ).order_by("item__order", "item_id"),
            ),
            Prefetch("events", queryset=CampaignEvent.objects.select_related("actor")),
        )
        .first()
    )
    if entry is None:
        raise Http404
    entry.campaign = campaign
    return entry


@dataclass
class Row:
    """One item of a school's self-check with its answer (or None)."""

    item: CampaignItem
    answer: CampaignAnswer | None
    gap_overdue: bool = False


def entry_rows(entry: CampaignSchool, today: dt.date | None = None) -> list[Row]:
    today = today or local_today()
    answers = {a.item_id: a for a in entry.answers.all()}
    rows = []
    for item in entry.campaign.items.all():
        answer = answers.get(item.pk)
        rows.append(Row(item=item, answer=answer, gap_overdue=gap_overdue(answer, today)))
    return rows


def gap_overdue(answer: CampaignAnswer | None, today: dt.date) -> bool:
    return bool(
        answer is not None
        and answer.result == CampaignResult.GAP
        and answer.gap_status == GapStatus.OPEN
        and answer.gap_deadline is not None
        and answer.gap_deadline < today
    )


def my_entries(*, actor, today: dt.date | None = None) -> list[CampaignSchool]:
    """The entries of the actor's own schools in started campaigns (the school's view)."""
    today = today or local_today()
    ids = visible_school_ids(actor, Action.VIEW) & member_school_ids(actor)
    if not ids:
        return []
    qs = (
        CampaignSchool.objects.filter(school_id__in=ids)
        .exclude(campaign__status=CampaignStatus.DRAFT)
        .select_related("campaign", "school", "school__town")
    )
    entries = list(_entry_counts(qs, today).order_by("-campaign__created_at", "school__name"))
    for entry in entries:
        entry.overdue = entry_overdue(entry, entry.campaign, today)
    return entries


def school_entries(*, actor, school_id: int, today: dt.date | None = None) -> list[CampaignSchool]:
    """One school's entries in started campaigns that the actor may read — as one of the
    school's own people, as a reviewer with the school in scope, or as a manager of the
    campaign — with the counts and the overdue flag of `campaign_entries`, newest campaign
    first (the school scorecard, issue 10). One query."""
    today = today or local_today()
    qs = (
        CampaignSchool.objects.filter(school_id=school_id)
        .exclude(campaign__status=CampaignStatus.DRAFT)
        .select_related("campaign", "school", "school__town")
    )
    if school_id not in entry_school_ids(actor):
        managed = manager_office_ids(actor)
        if not managed:
            return []
        qs = qs.filter(campaign__owner_id__in=managed)
    entries = list(_entry_counts(qs, today).order_by("-campaign__created_at", "-campaign_id"))
    for entry in entries:
        entry.overdue = entry_overdue(entry, entry.campaign, today)
    return entries


def gap_owner_candidates(school_id: int) -> list:
    """Active members of the school, each once, by name: who may own a gap."""
    seen, users = set(), []
    for m in (
        Membership.objects.filter(organization_id=school_id, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    ):
        if m.user_id not in seen:
            seen.add(m.user_id)
            users.append(m.user)
    return users


def spot_check_inspections(*, actor, school_id: int, limit: int = 20) -> list[Inspection]:
    """Recent inspections of the school the actor may see that can document a spot check
    (any kind but the school's own self-check)."""
    return list(
        Inspection.objects.visible_to(actor, Action.VIEW)
        .filter(school_id=school_id)
        .exclude(kind=InspectionKind.SELF_CHECK)
        .order_by("-planned_on", "-id")[:limit]
    )
