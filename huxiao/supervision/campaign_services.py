"""Writes of self-check campaigns (§2 二–三: self-check → spot check → acceptance by fixed
dates; ADR 0027 "Campaigns").

A campaign (draft → running → closed) is run by an education or governance office over
some of its schools; its managers are the office's members with MANAGE_CAMPAIGNS. Each
school of a running campaign goes

    self_checking → submitted → spot_checked → accepted
                        ↘ returned ↗ (and spot_checked → returned)

as `ENTRY_MOVES` says. The school's leaders (INSPECT as members of the school) answer the
items and submit; a gap needs an owner from the school and a deadline by the final
acceptance, or within LATE_GAP_DAYS once that date has passed (the gap list, 缺啥补啥), which its owner marks fixed. Reviewers (MANAGE_CAMPAIGNS on the school, never
one of its members) return, spot-check and accept; acceptance is refused while a gap is
open.

Order of checks everywhere: the row is locked through the actor's scope (out of reach is
Http404), then the right (PermissionDenied, 403), then the state (`CampaignRefused`, 409
with a sentence), then the input (ValidationError by field, 400). Every write is audited
and every move of a school leaves a `CampaignEvent`; notifications go out after commit.

`campaigns_remind` is the daily reminder job (tasks.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import (
    audit_bulk_create,
    audit_create,
    audit_delete,
    audit_update,
    snapshot,
)
from huxiao.core.names import acting_user, actor_label, person_name
from huxiao.core.roles import SCHOOL_KINDS, Role
from huxiao.core.scoping import school_filter_for_org
from huxiao.hazards.choices import InspectionKind, InspectionStatus
from huxiao.hazards.hazard_services import local_today
from huxiao.hazards.models import ChecklistTemplate, Inspection, TemplateItem
from huxiao.orgs.models import Membership, Organization
from huxiao.people import validation as v
from huxiao.supervision import campaign_selectors as sel
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

ES = CampaignSchoolStatus
CS = CampaignStatus
MAX_ITEMS = 200
MAX_SCHOOLS = 5000
# Campaign dates are set at most a year ahead; later dates are typing mistakes.
MAX_DAYS_AHEAD = 366
# Schools not submitted are reminded from this many days before the self-check is due.
REMIND_DAYS_BEFORE = 3
# Once the final acceptance has passed, a gap may be given a deadline this many days ahead.
LATE_GAP_DAYS = 30
# Who is told about a school's self-check: its leaders.
SCHOOL_LEADERS = (Role.PRINCIPAL, Role.SECURITY_OFFICER)


class CampaignRefused(ValidationError):
    """A step the campaign's or the school's state does not allow. `code` is "transition";
    pages and the API answer 409 with the message."""

    def __init__(self, message):
        super().__init__(message, code="transition")


@dataclass(frozen=True)
class EntryMove:
    name: str
    sources: frozenset
    target: str
    refusal: object
    by_school: bool  # the school's leaders (True) or a reviewer from outside (False)


ENTRY_MOVES: dict[str, EntryMove] = {
    m.name: m
    for m in (
        EntryMove(
            "submit",
            frozenset({ES.SELF_CHECKING, ES.RETURNED}),
            ES.SUBMITTED,
            _("Only a self-check in progress or returned can be submitted."),
            by_school=True,
        ),
        EntryMove(
            "spot_check",
            frozenset({ES.SUBMITTED}),
            ES.SPOT_CHECKED,
            _("Only a submitted self-check can be spot-checked."),
            by_school=False,
        ),
        EntryMove(
            "accept",
            frozenset({ES.SPOT_CHECKED}),
            ES.ACCEPTED,
            _("Only a spot-checked school can be accepted."),
            by_school=False,
        ),
        EntryMove(
            "return",
            frozenset({ES.SUBMITTED, ES.SPOT_CHECKED}),
            ES.RETURNED,
            _("Only a submitted or spot-checked self-check can be returned."),
            by_school=False,
        ),
    )
}
ANSWERABLE = frozenset({ES.SELF_CHECKING, ES.RETURNED})


# ------------------------------------------------------------------ helpers


def _message(template, params: dict) -> str:
    """A notification text in the platform's language, whoever triggered it."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % params


def _parse_date(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid_date") from None


def clean_dates(errors: v.FieldErrors, *, self_check_due, spot_check_due, acceptance_due, today):
    """Three dates, each from today to a year ahead, in order: self-check ≤ spot check ≤
    acceptance. Returns the parsed dates (None where invalid)."""
    latest = today + dt.timedelta(days=MAX_DAYS_AHEAD)
    parsed = {}
    for name, value in (
        ("self_check_due", self_check_due),
        ("spot_check_due", spot_check_due),
        ("acceptance_due", acceptance_due),
    ):
        date = errors.run(name, _parse_date, value)
        if date is None:
            if name not in errors.errors:
                errors.add(name, _("This field is required."))
        elif date < today:
            errors.add(name, _("The date cannot be in the past."))
            date = None
        elif date > latest:
            errors.add(
                name,
                _("Set the date at most a year ahead (until %(latest)s).")
                % {"latest": latest.isoformat()},
            )
            date = None
        parsed[name] = date
    a, b, c = parsed["self_check_due"], parsed["spot_check_due"], parsed["acceptance_due"]
    if a and b and b < a:
        errors.add("spot_check_due", _("The spot check cannot be due before the self-check."))
    if b and c and c < b:
        errors.add("acceptance_due", _("The acceptance cannot be due before the spot check."))
    return a, b, c


def _clean_items(errors: v.FieldErrors, items) -> list[tuple[str, str]]:
    """Written items: a list of {"text", "reference"} (or plain texts)."""
    cleaned = []
    for index, raw in enumerate(items or ()):
        if isinstance(raw, str):
            raw = {"text": raw}
        elif not isinstance(raw, dict):
            raw = {"text": getattr(raw, "text", ""), "reference": getattr(raw, "reference", "")}
        label = _("Item %(n)s") % {"n": index + 1}
        try:
            text = v.clean_text(raw.get("text"), max_length=500, required=True)
            reference = v.clean_text(raw.get("reference"), max_length=100)
        except ValidationError as exc:
            errors.add("items", f"{label}: {exc.messages[0]}")
            continue
        cleaned.append((text.replace("\n", " "), reference.replace("\n", " ")))
    return cleaned


def _template_items(actor, template) -> list[tuple[str, str]]:
    """The items of a published checklist (shipped, or any office's), in its order."""
    if template is None:
        return []
    if not isinstance(template, ChecklistTemplate):
        template = ChecklistTemplate.objects.filter(pk=template).first()
    if template is None or not template.is_published:
        raise ValidationError({"template": [_("Choose a published checklist.")]}, code="template")
    return [
        (item.text, item.reference)
        for item in TemplateItem.objects.filter(section__template=template).order_by(
            "section__order", "section_id", "order", "id"
        )
    ]


def owner_schools(owner: Organization):
    """The active schools an office's campaign may cover (the office's scope)."""
    return Organization.objects.filter(
        school_filter_for_org(owner), kind__in=SCHOOL_KINDS, is_active=True
    )


def _clean_schools(errors: v.FieldErrors, owner, *, schools=(), all_schools=False, towns=()):
    """School ids from an explicit list, whole towns and/or "all my schools", each within
    the owner office's scope. An id outside it is named by number only."""
    scope = owner_schools(owner)
    chosen: set[int] = set()
    if all_schools:
        chosen |= set(scope.values_list("pk", flat=True))
    town_ids = []
    for raw in towns or ():
        try:
            town_ids.append(int(getattr(raw, "pk", raw)))
        except (TypeError, ValueError):
            errors.add("towns", _("Choose a town."))
    if town_ids:
        found = dict.fromkeys(town_ids, False)
        for pk, town_id in scope.filter(town_id__in=town_ids).values_list("pk", "town_id"):
            chosen.add(pk)
            found[town_id] = True
        for town_id, ok in found.items():
            if not ok:
                errors.add(
                    "towns",
                    _("Town #%(id)s has none of your schools.") % {"id": town_id},
                )
    wanted = []
    for raw in schools or ():
        try:
            wanted.append(int(getattr(raw, "pk", raw)))
        except (TypeError, ValueError):
            errors.add("schools", _("Choose schools from the list."))
    if wanted:
        known = set(scope.filter(pk__in=wanted).values_list("pk", flat=True))
        for pk in sorted(set(wanted) - known):
            errors.add("schools", _("School #%(id)s is not one of your schools.") % {"id": pk})
        chosen |= known
    if len(chosen) > MAX_SCHOOLS:
        errors.add("schools", _("At most %(n)s schools.") % {"n": MAX_SCHOOLS})
    return chosen


def _pick_owner(actor, owner) -> Organization:
    offices = sel.require_manager(actor)
    if owner in (None, ""):
        return sorted(offices, key=lambda o: o.pk)[0]
    owner_id = getattr(owner, "pk", owner)
    for office in offices:
        if str(office.pk) == str(owner_id):
            return office
    raise ValidationError(
        {"owner": [_("Choose one of the offices where you run campaigns.")]}, code="owner"
    )


def _lock_campaign(actor, campaign) -> Campaign:
    locked = (
        sel.campaigns_visible(actor)
        .select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk=getattr(campaign, "pk", campaign))
        .first()
    )
    if locked is None:
        raise Http404
    return locked


def _require_manager_of(actor, campaign: Campaign) -> None:
    if not sel.is_manager(actor, campaign):
        raise PermissionDenied(_("Only the office that runs the campaign may change it."))


def _require_draft(campaign: Campaign) -> None:
    if campaign.status != CS.DRAFT:
        raise CampaignRefused(
            _("The campaign has started: its items, schools and dates can no longer change.")
        )


def _set_items(actor, campaign: Campaign, items: list[tuple[str, str]]) -> None:
    old = list(campaign.items.all())
    for item in old:
        audit_delete(actor=actor, obj=item, school=campaign.owner_id)
    CampaignItem.objects.filter(campaign=campaign).delete()
    rows = CampaignItem.objects.bulk_create(
        [
            CampaignItem(campaign=campaign, order=index, text=text, reference=reference)
            for index, (text, reference) in enumerate(items, start=1)
        ]
    )
    if rows and rows[0].pk is None:  # backends without RETURNING
        rows = list(CampaignItem.objects.filter(campaign=campaign).order_by("order", "id"))
    # Filed under the office: a draft is the office's business (ADR 0027).
    audit_bulk_create(actor=actor, objs=rows, school=campaign.owner_id)


def _set_schools(actor, campaign: Campaign, school_ids: set[int]) -> None:
    current = {e.school_id: e for e in CampaignSchool.objects.filter(campaign=campaign)}
    for school_id in sorted(set(current) - school_ids):
        audit_delete(actor=actor, obj=current[school_id], school=campaign.owner_id)
        current[school_id].delete()
    new = [
        CampaignSchool(campaign=campaign, school_id=school_id)
        for school_id in sorted(school_ids - set(current))
    ]
    if new:
        CampaignSchool.objects.bulk_create(new)
        rows = list(
            CampaignSchool.objects.filter(
                campaign=campaign, school_id__in=[e.school_id for e in new]
            )
        )
        audit_bulk_create(actor=actor, objs=rows, school=campaign.owner_id)


# ------------------------------------------------------------------ the campaign


@transaction.atomic
def campaign_create(
    *,
    actor,
    title,
    description="",
    owner=None,
    self_check_due=None,
    spot_check_due=None,
    acceptance_due=None,
    template=None,
    items=(),
    schools=(),
    all_schools=False,
    towns=(),
    now=None,
) -> Campaign:
    """A draft campaign of one of the actor's offices: its items (a published checklist's,
    then the written ones), its schools (within the office's scope: listed, whole towns or
    all) and its three dates."""
    now = now or timezone.now()
    owner = _pick_owner(actor, owner)
    errors = v.FieldErrors()
    title = errors.run("title", v.clean_text, title, max_length=200, required=True)
    description = errors.run("description", v.clean_text, description, max_length=4000)
    dates = clean_dates(
        errors,
        self_check_due=self_check_due,
        spot_check_due=spot_check_due,
        acceptance_due=acceptance_due,
        today=local_today(now),
    )
    template_obj = _template_or_error(errors, template)
    all_items = errors.run("template", _template_items, actor, template_obj) or []
    all_items += _clean_items(errors, items)
    if len(all_items) > MAX_ITEMS:
        errors.add("items", _("At most %(n)s items.") % {"n": MAX_ITEMS})
    school_ids = _clean_schools(
        errors, owner, schools=schools, all_schools=all_schools, towns=towns
    )
    errors.raise_if_any()
    campaign = Campaign.objects.create(
        title=title.replace("\n", " "),
        description=description or "",
        owner=owner,
        template=template_obj,
        self_check_due=dates[0],
        spot_check_due=dates[1],
        acceptance_due=dates[2],
        status=CS.DRAFT,
        created_by=acting_user(actor),
    )
    audit_create(actor=actor, obj=campaign, school=owner.pk)
    _set_items(actor, campaign, all_items)
    _set_schools(actor, campaign, school_ids)
    return campaign


def _template_or_error(errors: v.FieldErrors, template):
    if template in (None, ""):
        return None
    if isinstance(template, ChecklistTemplate):
        return template
    try:
        pk = int(template)
    except (TypeError, ValueError):
        errors.add("template", _("Choose a published checklist."))
        return None
    found = ChecklistTemplate.objects.filter(pk=pk, is_published=True).first()
    if found is None:
        errors.add("template", _("Choose a published checklist."))
    return found


_UNSET = object()


@transaction.atomic
def campaign_update(
    *,
    actor,
    campaign,
    title=_UNSET,
    description=_UNSET,
    self_check_due=_UNSET,
    spot_check_due=_UNSET,
    acceptance_due=_UNSET,
    items=None,
    template=None,
    schools=None,
    all_schools=False,
    towns=(),
    now=None,
) -> Campaign:
    """Change a draft: what is given replaces what was there. `items` (the written list)
    replaces the items, with a checklist's items appended when `template` is given;
    `schools` (with `towns`/`all_schools`) replaces the schools."""
    now = now or timezone.now()
    campaign = _lock_campaign(actor, campaign)
    _require_manager_of(actor, campaign)
    _require_draft(campaign)
    before = snapshot(campaign)
    errors = v.FieldErrors()
    if title is not _UNSET:
        title = errors.run("title", v.clean_text, title, max_length=200, required=True)
    if description is not _UNSET:
        description = errors.run("description", v.clean_text, description, max_length=4000)
    dates_given = any(d is not _UNSET for d in (self_check_due, spot_check_due, acceptance_due))
    dates = None
    if dates_given:
        dates = clean_dates(
            errors,
            self_check_due=campaign.self_check_due if self_check_due is _UNSET else self_check_due,
            spot_check_due=campaign.spot_check_due if spot_check_due is _UNSET else spot_check_due,
            acceptance_due=campaign.acceptance_due if acceptance_due is _UNSET else acceptance_due,
            today=local_today(now),
        )
    template_obj = _template_or_error(errors, template)
    new_items = None
    if items is not None or template_obj is not None:
        written = (
            _clean_items(errors, items)
            if items is not None
            else [(i.text, i.reference) for i in campaign.items.all()]
        )
        new_items = written + (errors.run("template", _template_items, actor, template_obj) or [])
        if len(new_items) > MAX_ITEMS:
            errors.add("items", _("At most %(n)s items.") % {"n": MAX_ITEMS})
    school_ids = None
    if schools is not None or all_schools or towns:
        school_ids = _clean_schools(
            errors, campaign.owner, schools=schools or (), all_schools=all_schools, towns=towns
        )
    errors.raise_if_any()
    if title is not _UNSET:
        campaign.title = title.replace("\n", " ")
    if description is not _UNSET:
        campaign.description = description or ""
    if dates is not None:
        campaign.self_check_due, campaign.spot_check_due, campaign.acceptance_due = dates
    if template_obj is not None:
        campaign.template = template_obj
    campaign.save()
    audit_update(actor=actor, obj=campaign, before=before, school=campaign.owner_id)
    if new_items is not None:
        _set_items(actor, campaign, new_items)
    if school_ids is not None:
        _set_schools(actor, campaign, school_ids)
    return campaign


@transaction.atomic
def campaign_start(*, actor, campaign, now=None) -> Campaign:
    """Draft → running: the schools' principals and security officers are told. Needs an
    item, a school, and dates that have not passed."""
    now = now or timezone.now()
    campaign = _lock_campaign(actor, campaign)
    _require_manager_of(actor, campaign)
    if campaign.status != CS.DRAFT:
        raise CampaignRefused(_("Only a draft campaign can be started."))
    errors = v.FieldErrors()
    if not campaign.items.exists():
        errors.add("items", _("Add at least one item to check."))
    if not campaign.schools.exists():
        errors.add("schools", _("Choose at least one school."))
    clean_dates(
        errors,
        self_check_due=campaign.self_check_due,
        spot_check_due=campaign.spot_check_due,
        acceptance_due=campaign.acceptance_due,
        today=local_today(now),
    )
    errors.raise_if_any()
    before = snapshot(campaign)
    campaign.status = CS.RUNNING
    campaign.started_at = now
    campaign.save(update_fields=["status", "started_at"])
    audit_update(actor=actor, obj=campaign, before=before, school=campaign.owner_id)
    _notify_started(campaign)
    return campaign


def _leaders_by_school(school_ids) -> dict[int, set[int]]:
    leaders: dict[int, set[int]] = defaultdict(set)
    for org_id, user_id in Membership.objects.filter(
        organization_id__in=list(school_ids),
        role__in=SCHOOL_LEADERS,
        is_active=True,
        user__is_active=True,
    ).values_list("organization_id", "user_id"):
        leaders[org_id].add(user_id)
    return leaders


def _notify_started(campaign: Campaign) -> None:
    from huxiao.notify.services import notify_send_many

    entries = list(campaign.schools.select_related("school"))
    leaders = _leaders_by_school([e.school_id for e in entries])
    params = {
        "title": campaign.title,
        "office": campaign.owner.name,
        "due": campaign.self_check_due.isoformat(),
    }
    notify_send_many(
        dict(
            organizations=[entry.school_id],
            event_type="campaigns.started",
            title=_message(_("Self-check campaign: %(title)s"), params),
            body=_message(
                _(
                    "%(office)s has started a self-check campaign. Answer every item, list "
                    "the gaps with owners and deadlines, and submit by %(due)s."
                ),
                params,
            ),
            payload={"campaign_id": campaign.pk, "school_id": entry.school_id},
            recipients=sorted(leaders[entry.school_id]),
            dedupe_key=f"campaigns.started:{campaign.pk}:{entry.school_id}",
        )
        for entry in entries
    )


@transaction.atomic
def campaign_close(*, actor, campaign, now=None) -> Campaign:
    """Running → closed: nothing more can be answered, reviewed or fixed in it."""
    now = now or timezone.now()
    campaign = _lock_campaign(actor, campaign)
    _require_manager_of(actor, campaign)
    if campaign.status != CS.RUNNING:
        raise CampaignRefused(_("Only a running campaign can be closed."))
    before = snapshot(campaign)
    campaign.status = CS.CLOSED
    campaign.closed_at = now
    campaign.save(update_fields=["status", "closed_at"])
    audit_update(actor=actor, obj=campaign, before=before, school=campaign.owner_id)
    return campaign


# ------------------------------------------------------------------ one school's self-check


def _lock_entry(actor, entry) -> CampaignSchool:
    """The entry's row, locked, if the actor may see it (and its campaign); else 404.

    The campaign's row is locked first, in the order `campaign_close` and
    `campaign_update` lock (campaign, then its schools): the campaign's status read here
    holds until the move commits, so nothing commits into a campaign closed meanwhile."""
    entry_id = getattr(entry, "pk", entry)
    campaign_id = (
        CampaignSchool.objects.filter(pk=entry_id).values_list("campaign_id", flat=True).first()
    )
    if campaign_id is None:
        raise Http404
    campaign = (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk=campaign_id)
        .first()
    )
    locked = (
        CampaignSchool.objects.select_for_update(of=("self",))
        .select_related("school")
        .filter(pk=entry_id, campaign_id=campaign_id)
        .first()
    )
    if campaign is None or locked is None:
        raise Http404
    locked.campaign = campaign
    manager = sel.is_manager(actor, campaign)
    if not manager and (
        campaign.status == CS.DRAFT or locked.school_id not in sel.entry_school_ids(actor)
    ):
        raise Http404
    return locked


def _require_running(campaign: Campaign) -> None:
    if campaign.status == CS.CLOSED:
        raise CampaignRefused(_("The campaign is closed."))
    if campaign.status != CS.RUNNING:
        raise CampaignRefused(_("The campaign has not started."))


def _event(entry: CampaignSchool, *, actor, at, from_status, to_status, note="") -> None:
    CampaignEvent.objects.create(
        entry=entry,
        at=at,
        actor=acting_user(actor),
        actor_label=actor_label(actor),
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


def allowed_moves(actor, entry: CampaignSchool) -> list[str]:
    """The moves the actor may make now (for the page's buttons and the API)."""
    if entry.campaign.status != CS.RUNNING:
        return []
    names = []
    for move in ENTRY_MOVES.values():
        if entry.status not in move.sources:
            continue
        if move.by_school and not sel.may_self_check(actor, entry.school_id):
            continue
        if not move.by_school and not sel.may_review(actor, entry.school_id):
            continue
        names.append(move.name)
    return names


def may_answer(actor, entry: CampaignSchool) -> bool:
    return (
        entry.campaign.status == CS.RUNNING
        and entry.status in ANSWERABLE
        and sel.may_self_check(actor, entry.school_id)
    )


def _begin(actor, entry, name: str) -> tuple[CampaignSchool, EntryMove]:
    move = ENTRY_MOVES[name]
    entry = _lock_entry(actor, entry)
    if move.by_school:
        if not sel.may_self_check(actor, entry.school_id):
            raise PermissionDenied(
                _("Only the school's principal or security officer does its self-check.")
            )
    elif not sel.may_review(actor, entry.school_id):
        if sel.is_member_of(actor, entry.school_id):
            raise PermissionDenied(_("Someone from outside the school must review its self-check."))
        raise PermissionDenied(_("Your role does not allow this action."))
    _require_running(entry.campaign)
    if entry.status not in move.sources:
        raise CampaignRefused(move.refusal)
    return entry, move


def entry_move_check(*, actor, entry, name: str) -> None:
    """The checks of a move without making it (scope 404, right 403, state 409), for a page
    whose form is invalid: those answers come before "bad input"."""
    with transaction.atomic():
        _begin(actor, entry, name)


def _move(actor, entry: CampaignSchool, move: EntryMove, *, now, note="", **fields):
    before = snapshot(entry)
    from_status = entry.status
    entry.status = move.target
    for name, value in fields.items():
        setattr(entry, name, value)
    entry.save()
    audit_update(actor=actor, obj=entry, before=before)
    _event(entry, actor=actor, at=now, from_status=from_status, to_status=move.target, note=note)
    return entry


def _clean_gap_owner(owner, school_id: int):
    if owner is None:
        raise ValidationError(_("Name the person who will fix the gap."), code="required")
    ok = Membership.objects.filter(
        user_id=owner.pk, organization_id=school_id, is_active=True, user__is_active=True
    ).exists()
    if not ok:
        # By number: do not reveal anything about someone outside the school.
        raise ValidationError(
            _("User #%(id)s is not a member of this school.") % {"id": owner.pk},
            code="owner",
        )
    return owner


def gap_deadline_bounds(campaign: Campaign, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last deadline a gap may be given today: from today to the final
    acceptance; once the acceptance date has passed (a school answering late, or a
    self-check returned after it), from today to today + LATE_GAP_DAYS."""
    last = campaign.acceptance_due
    if last < today:
        last = today + dt.timedelta(days=LATE_GAP_DAYS)
    return today, last


def _clean_gap_deadline(value, *, campaign: Campaign, today: dt.date) -> dt.date:
    date = _parse_date(value)
    if date is None:
        raise ValidationError(_("Set a deadline for fixing the gap."), code="required")
    first, last = gap_deadline_bounds(campaign, today)
    if date < first:
        raise ValidationError(_("The deadline cannot be in the past."), code="past")
    if date > last:
        if campaign.acceptance_due < today:
            raise ValidationError(
                _(
                    "The final acceptance has passed: the gap must be fixed within "
                    "%(days)s days (by %(date)s)."
                )
                % {"days": LATE_GAP_DAYS, "date": last.isoformat()},
                code="late",
            )
        raise ValidationError(
            _("The gap must be fixed by the final acceptance (%(date)s).")
            % {"date": last.isoformat()},
            code="late",
        )
    return date


@transaction.atomic
def campaign_answer(
    *,
    actor,
    entry,
    item,
    result,
    note="",
    gap_owner=None,
    gap_deadline=None,
    now=None,
) -> CampaignAnswer:
    """The school's answer to one item (changed freely until submitted, and again when
    returned). A gap needs a note saying what is missing, an owner (an active member of
    the school) and a deadline from today to the acceptance date (once that has passed, to
    today + LATE_GAP_DAYS); it starts open. Answering
    a gap again with the same owner keeps it fixed if it was; any other change reopens it."""
    now = now or timezone.now()
    entry = _lock_entry(actor, entry)
    if not sel.may_self_check(actor, entry.school_id):
        raise PermissionDenied(
            _("Only the school's principal or security officer does its self-check.")
        )
    _require_running(entry.campaign)
    if entry.status not in ANSWERABLE:
        raise CampaignRefused(
            _("The self-check has been submitted; it can be changed only when returned.")
        )
    item_id = getattr(item, "pk", item)
    item = CampaignItem.objects.filter(campaign_id=entry.campaign_id, pk=item_id).first()
    if item is None:
        raise ValidationError({"item": [_("This item is not part of the campaign.")]})
    errors = v.FieldErrors()
    if result not in CampaignResult.values:
        errors.add("result", _("Choose meets, gap or not applicable."))
    is_gap = result == CampaignResult.GAP
    note = errors.run("note", v.clean_text, note, max_length=1000, required=is_gap)
    if is_gap:
        gap_owner = errors.run("gap_owner", _clean_gap_owner, gap_owner, entry.school_id)
        gap_deadline = errors.run(
            "gap_deadline",
            _clean_gap_deadline,
            gap_deadline,
            campaign=entry.campaign,
            today=local_today(now),
        )
    errors.raise_if_any()

    answer = CampaignAnswer.objects.select_for_update().filter(entry=entry, item=item).first()
    created = answer is None
    if created:
        answer = CampaignAnswer(entry=entry, item=item)
        before = None
    else:
        before = snapshot(answer)
    keep_fixed = (
        not created
        and is_gap
        and answer.result == CampaignResult.GAP
        and answer.gap_status == GapStatus.FIXED
        and answer.gap_owner_id == gap_owner.pk
    )
    answer.result = result
    answer.note = note or ""
    answer.answered_by = acting_user(actor)
    answer.answered_at = now
    if is_gap:
        answer.gap_owner = gap_owner
        answer.gap_deadline = gap_deadline
        if not keep_fixed:
            answer.gap_status = GapStatus.OPEN
            answer.fixed_note = ""
            answer.fixed_at = None
    else:
        answer.gap_owner = None
        answer.gap_deadline = None
        answer.gap_status = ""
        answer.fixed_note = ""
        answer.fixed_at = None
    answer.save()
    if created:
        audit_create(actor=actor, obj=answer)
    else:
        audit_update(actor=actor, obj=answer, before=before)
    return answer


@transaction.atomic
def entry_submit(*, actor, entry, note="", now=None) -> CampaignSchool:
    """The school hands in its self-check (with an optional note): every item answered.
    Open gaps may remain (they are the gap list); they must be fixed before acceptance."""
    now = now or timezone.now()
    entry, move = _begin(actor, entry, "submit")
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=2000) or ""
    errors.raise_if_any()
    answered = set(entry.answers.values_list("item_id", flat=True))
    missing = [i for i in entry.campaign.items.all() if i.pk not in answered]
    if missing:
        raise ValidationError(
            {
                "answers": [
                    _("Answer every item first; not answered: %(items)s")
                    % {"items": _texts([i.text for i in missing])}
                ]
            },
            code="unanswered",
        )
    entry = _move(
        actor,
        entry,
        move,
        now=now,
        note=note,
        submitted_by=acting_user(actor),
        submitted_at=now,
    )
    return entry


@transaction.atomic
def entry_return(*, actor, entry, reason, now=None) -> CampaignSchool:
    """A reviewer sends the self-check back with a reason; the school edits and resubmits."""
    now = now or timezone.now()
    entry, move = _begin(actor, entry, "return")
    errors = v.FieldErrors()
    reason = errors.run("reason", v.clean_text, reason, max_length=2000, required=True)
    errors.raise_if_any()
    entry = _move(
        actor,
        entry,
        move,
        now=now,
        note=reason,
        reviewed_by=acting_user(actor),
        reviewed_at=now,
        review_note=reason,
    )
    _notify_school(
        entry,
        event_type="campaigns.returned",
        title=_("Self-check returned: %(title)s"),
        body=_("%(school)s: the self-check was returned for more work. Reason: %(note)s"),
        note=reason,
        actor=actor,
    )
    return entry


def _clean_inspection(actor, inspection, school_id: int):
    if inspection in (None, ""):
        return None
    pk = getattr(inspection, "pk", inspection)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise ValidationError(
            _("Choose an inspection of this school."), code="inspection"
        ) from None
    found = Inspection.objects.visible_to(actor, "view").filter(pk=pk, school_id=school_id).first()
    if found is None:
        raise ValidationError(_("Choose an inspection of this school."), code="inspection")
    if found.kind == InspectionKind.SELF_CHECK:
        raise ValidationError(
            _("A spot check is made from outside: the school's own self-check does not count."),
            code="inspection",
        )
    if found.status == InspectionStatus.PLANNED:
        # An unannounced one would be revealed to the school on its campaign page.
        raise ValidationError(_("The inspection has not started yet."), code="inspection")
    return found


@transaction.atomic
def entry_spot_check(*, actor, entry, note, inspection=None, now=None) -> CampaignSchool:
    """A reviewer records the district spot check (what was checked and found), optionally
    with the inspection that documents it."""
    now = now or timezone.now()
    entry, move = _begin(actor, entry, "spot_check")
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=2000, required=True)
    inspection = errors.run("inspection", _clean_inspection, actor, inspection, entry.school_id)
    errors.raise_if_any()
    entry = _move(
        actor,
        entry,
        move,
        now=now,
        note=note,
        reviewed_by=acting_user(actor),
        reviewed_at=now,
        review_note=note,
        spot_check=inspection,
    )
    return entry


@transaction.atomic
def entry_accept(*, actor, entry, note="", now=None) -> CampaignSchool:
    """Final acceptance after the spot check. Refused while a gap is open: acceptance means
    every gap was fixed (缺啥补啥); a gap the reviewer thinks wrongly listed is returned to
    the school, not waved through (ADR 0027)."""
    now = now or timezone.now()
    entry, move = _begin(actor, entry, "accept")
    open_gaps = list(
        entry.answers.filter(result=CampaignResult.GAP, gap_status=GapStatus.OPEN)
        .select_related("item")
        .order_by("item__order", "item_id")
    )
    if open_gaps:
        raise CampaignRefused(
            _("%(n)s gap(s) are still open: %(items)s. They must be fixed before acceptance.")
            % {"n": len(open_gaps), "items": _texts([a.item.text for a in open_gaps])}
        )
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=2000) or ""
    errors.raise_if_any()
    entry = _move(
        actor,
        entry,
        move,
        now=now,
        note=note,
        accepted_by=acting_user(actor),
        accepted_at=now,
    )
    _notify_school(
        entry,
        event_type="campaigns.accepted",
        title=_("Self-check accepted: %(title)s"),
        body=_("%(school)s has passed the final acceptance."),
        note=note,
        actor=actor,
    )
    return entry


@transaction.atomic
def gap_fix(*, actor, answer, note, now=None) -> CampaignAnswer:
    """The gap's owner (or the school's leaders) marks it fixed with a note, while the
    campaign runs and the school is not yet accepted."""
    now = now or timezone.now()
    answer_id = getattr(answer, "pk", answer)
    row = CampaignAnswer.objects.filter(pk=answer_id).only("entry_id").first()
    if row is None:
        raise Http404
    entry = _lock_entry(actor, row.entry_id)
    answer = (
        CampaignAnswer.objects.select_for_update()
        .select_related("item")
        .filter(pk=answer_id, entry=entry)
        .first()
    )
    if answer is None:
        raise Http404
    if not (
        (answer.gap_owner_id is not None and answer.gap_owner_id == getattr(actor, "pk", None))
        or sel.may_self_check(actor, entry.school_id)
    ):
        raise PermissionDenied(_("Only the gap's owner or the school's leaders may mark it fixed."))
    _require_running(entry.campaign)
    if answer.result != CampaignResult.GAP:
        raise CampaignRefused(_("This item is not a gap."))
    if answer.gap_status == GapStatus.FIXED:
        raise CampaignRefused(_("This gap is already marked fixed."))
    if entry.status == ES.ACCEPTED:
        raise CampaignRefused(_("The school has been accepted."))
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=1000, required=True)
    errors.raise_if_any()
    before = snapshot(answer)
    answer.gap_status = GapStatus.FIXED
    answer.fixed_note = note
    answer.fixed_at = now
    answer.save(update_fields=["gap_status", "fixed_note", "fixed_at"])
    audit_update(actor=actor, obj=answer, before=before)
    _event(
        entry,
        actor=actor,
        at=now,
        from_status=entry.status,
        to_status=entry.status,
        note=_message(
            _("Gap fixed: %(item)s — %(note)s"), {"item": answer.item.text, "note": note}
        ),
    )
    return answer


def _texts(texts: list[str], limit: int = 5) -> str:
    shown = "；".join(t[:60] for t in texts[:limit])
    if len(texts) > limit:
        shown += " …"
    return shown


def _notify_school(entry, *, event_type, title, body, note, actor) -> None:
    from huxiao.notify.services import notify_send

    leaders = _leaders_by_school([entry.school_id])[entry.school_id]
    leaders.discard(getattr(actor, "pk", None))
    if not leaders:
        return
    params = {"title": entry.campaign.title, "school": entry.school.name, "note": note or "—"}
    notify_send(
        organizations=[entry.school_id],
        event_type=event_type,
        title=_message(title, params),
        body=_message(body, params),
        payload={"campaign_id": entry.campaign_id, "school_id": entry.school_id},
        recipients=sorted(leaders),
    )


# ------------------------------------------------------------------ the daily reminders


def campaigns_remind(*, now: dt.datetime | None = None) -> dict:
    """Remind, once a day (dedupe keys carry the date):

    - the leaders of each school of a running campaign that has not submitted (or was
      returned), from REMIND_DAYS_BEFORE days before the self-check is due ("due soon"),
      and every day after it ("overdue");
    - each owner of an open gap past its deadline (one message listing their gaps), while
      the campaign runs and the school is not accepted.

    Returns the entries and owners told in this run (a second run the same day tells
    nobody). Queries do not grow with the number of schools or gaps."""
    from huxiao.notify.models import Notification
    from huxiao.notify.services import notify_send_many

    now = now or timezone.now()
    today = local_today(now)
    stamp = today.isoformat()
    entries = list(
        CampaignSchool.objects.filter(
            campaign__status=CS.RUNNING,
            status__in=sel.NOT_SUBMITTED,
            campaign__self_check_due__lte=today + dt.timedelta(days=REMIND_DAYS_BEFORE),
        )
        .select_related("campaign", "school")
        .order_by("campaign_id", "school_id")
    )
    gaps = list(
        CampaignAnswer.objects.filter(
            entry__campaign__status=CS.RUNNING,
            result=CampaignResult.GAP,
            gap_status=GapStatus.OPEN,
            gap_deadline__lt=today,
            gap_owner__isnull=False,
            gap_owner__is_active=True,
        )
        .exclude(entry__status=ES.ACCEPTED)
        .select_related("item", "entry__school", "entry__campaign")
        .order_by("gap_owner_id", "gap_deadline", "id")
    )
    leaders = _leaders_by_school({e.school_id for e in entries})
    messages: list[tuple[str, object, dict]] = []
    for entry in entries:
        campaign = entry.campaign
        overdue = today > campaign.self_check_due
        kind = "overdue" if overdue else "due_soon"
        params = {
            "title": campaign.title,
            "school": entry.school.name,
            "due": campaign.self_check_due.isoformat(),
            "days": (campaign.self_check_due - today).days,
        }
        messages.append(
            (
                kind,
                entry.pk,
                dict(
                    organizations=[entry.school_id],
                    event_type=f"campaigns.self_check_{kind}",
                    title=_message(
                        _("Self-check overdue: %(title)s")
                        if overdue
                        else _("Self-check due %(due)s: %(title)s"),
                        params,
                    ),
                    body=_message(
                        _("%(school)s has not submitted its self-check, due %(due)s.")
                        if overdue
                        else _(
                            "%(school)s: submit the self-check by %(due)s (%(days)s day(s) left)."
                        ),
                        params,
                    ),
                    payload={"campaign_id": campaign.pk, "school_id": entry.school_id},
                    recipients=sorted(leaders[entry.school_id]),
                    dedupe_key=f"campaigns.remind:{kind}:{campaign.pk}:{entry.school_id}:{stamp}",
                ),
            )
        )
    by_owner: dict[int, list[CampaignAnswer]] = defaultdict(list)
    for gap in gaps:
        by_owner[gap.gap_owner_id].append(gap)
    for owner_id, owned in by_owner.items():
        lines = [
            f"{g.entry.school.name} · {g.item.text[:60]}（{g.gap_deadline.isoformat()}）"
            for g in owned[:10]
        ]
        messages.append(
            (
                "gap",
                owner_id,
                dict(
                    organizations=[owned[0].entry.school_id],
                    event_type="campaigns.gap_overdue",
                    title=_message(
                        _("%(n)s campaign gap(s) past their deadline"), {"n": len(owned)}
                    ),
                    body="；".join(lines) + (" …" if len(owned) > 10 else ""),
                    payload={
                        "answer_ids": [g.pk for g in owned],
                        "campaign_ids": sorted({g.entry.campaign_id for g in owned}),
                    },
                    recipients=[owner_id],
                    dedupe_key=f"campaigns.gap_overdue:{owner_id}:{stamp}",
                ),
            )
        )
    keys = [message["dedupe_key"] for _kind, _ref, message in messages]
    sent_before = set(
        Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    fresh = [row for row in messages if row[2]["dedupe_key"] not in sent_before]
    if fresh:
        with transaction.atomic():
            notify_send_many([message for _kind, _ref, message in fresh])
    return {
        "due_soon": [ref for kind, ref, _message_ in fresh if kind == "due_soon"],
        "overdue": [ref for kind, ref, _message_ in fresh if kind == "overdue"],
        "gap_owners": [ref for kind, ref, _message_ in fresh if kind == "gap"],
    }


def gap_owner_label(answer: CampaignAnswer) -> str:
    return person_name(answer.gap_owner) if answer.gap_owner_id else ""
