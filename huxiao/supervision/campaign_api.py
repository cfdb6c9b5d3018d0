"""REST handlers of self-check campaigns (ADR 0027 "Campaigns"): parse → call a
selector/service → return, with the same rights as the pages.

Someone who takes no part in campaigns gets 403; a campaign or school out of reach is 404,
exactly like one that does not exist; a step the state does not allow is 409 with the
reason in `detail`; bad input is 400 with the fields in `errors`.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from ninja import Router, Schema, Status
from pydantic import Field

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.hazards.hazard_services import local_today
from huxiao.orgs.models import Membership
from huxiao.supervision import campaign_selectors as selectors
from huxiao.supervision import campaign_services as services
from huxiao.supervision.choices import CampaignResult, CampaignStatus

router = Router(tags=["supervision"])


# ------------------------------------------------------------------ schemas


class CampaignOut(Schema):
    id: int
    title: str
    status: str
    status_label: str
    owner_id: int
    owner_name: str
    self_check_due: dt.date
    spot_check_due: dt.date
    acceptance_due: dt.date
    school_count: int
    accepted_count: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    closed_at: dt.datetime | None


class CampaignList(Schema):
    count: int
    items: list[CampaignOut]


class ItemOut(Schema):
    id: int
    order: int
    text: str
    reference: str


class EntryRowOut(Schema):
    school_id: int
    school_name: str
    town_name: str
    status: str
    status_label: str
    answered: int
    gaps_open: int
    gaps_fixed: int
    gaps_overdue: int
    overdue: str


class TotalsOut(Schema):
    label: str = ""
    schools: int
    by_status: dict[str, int]
    accepted_pct: int
    gaps_open: int
    gaps_fixed: int
    gaps_overdue: int
    late: int


class CampaignDetailOut(CampaignOut):
    description: str
    template_id: int | None
    is_manager: bool
    items: list[ItemOut]
    schools: list[EntryRowOut]
    totals: TotalsOut
    towns: list[TotalsOut]


class ItemIn(Schema):
    text: str = Field(max_length=2000)
    reference: str = Field("", max_length=500)


class CampaignIn(Schema):
    title: str = Field(max_length=1000)
    description: str = Field("", max_length=20000)
    owner_id: DbId | None = None
    self_check_due: dt.date
    spot_check_due: dt.date
    acceptance_due: dt.date
    template_id: DbId | None = None
    items: list[ItemIn] = Field(default_factory=list, max_length=1000)
    school_ids: list[DbId] = Field(default_factory=list, max_length=10000)
    town_ids: list[DbId] = Field(default_factory=list, max_length=1000)
    all_schools: bool = False


class CampaignPatch(Schema):
    """A draft's changes: only what is given. `items` replaces the written items (a
    checklist's items are appended when `template_id` is given); `school_ids`, `town_ids`
    or `all_schools` replace the schools."""

    title: str | None = Field(None, max_length=1000)
    description: str | None = Field(None, max_length=20000)
    self_check_due: dt.date | None = None
    spot_check_due: dt.date | None = None
    acceptance_due: dt.date | None = None
    template_id: DbId | None = None
    items: list[ItemIn] | None = Field(None, max_length=1000)
    school_ids: list[DbId] | None = Field(None, max_length=10000)
    town_ids: list[DbId] = Field(default_factory=list, max_length=1000)
    all_schools: bool = False


class AnswerOut(Schema):
    item_id: int
    item_text: str
    item_reference: str
    result: str | None
    result_label: str
    note: str
    gap_owner_id: int | None
    gap_owner_name: str
    gap_deadline: dt.date | None
    gap_status: str
    gap_overdue: bool
    fixed_note: str
    fixed_at: dt.datetime | None
    answered_at: dt.datetime | None


class EventOut(Schema):
    at: dt.datetime
    by: str
    from_status: str
    to_status: str
    note: str


class EntryDetailOut(Schema):
    campaign_id: int
    campaign_title: str
    campaign_status: str
    school_id: int
    school_name: str
    status: str
    status_label: str
    overdue: str
    submitted_at: dt.datetime | None
    submitted_by: str
    reviewed_at: dt.datetime | None
    reviewed_by: str
    review_note: str
    spot_check_id: int | None
    accepted_at: dt.datetime | None
    accepted_by: str
    answers: list[AnswerOut]
    events: list[EventOut]
    allowed_moves: list[str]
    may_answer: bool


class AnswerIn(Schema):
    item_id: DbId
    result: str = Field(max_length=20)
    note: str = Field("", max_length=5000)
    gap_owner_id: DbId | None = None
    gap_deadline: dt.date | None = None


class AnswersIn(Schema):
    answers: list[AnswerIn] = Field(min_length=1, max_length=200)


class ReasonIn(Schema):
    reason: str = Field(max_length=10000)


class NoteIn(Schema):
    note: str = Field("", max_length=10000)


class SpotCheckIn(Schema):
    note: str = Field(max_length=10000)
    inspection_id: DbId | None = None


# ------------------------------------------------------------------ payloads


def _name(user) -> str:
    return person_name(user) if user is not None else ""


def campaign_payload(campaign, *, school_count=None, accepted_count=None) -> dict:
    return {
        "id": campaign.pk,
        "title": campaign.title,
        "status": campaign.status,
        "status_label": str(CampaignStatus(campaign.status).label),
        "owner_id": campaign.owner_id,
        "owner_name": campaign.owner.name,
        "self_check_due": campaign.self_check_due,
        "spot_check_due": campaign.spot_check_due,
        "acceptance_due": campaign.acceptance_due,
        "school_count": getattr(campaign, "school_count", school_count) or 0,
        "accepted_count": getattr(campaign, "accepted_count", accepted_count) or 0,
        "created_at": campaign.created_at,
        "started_at": campaign.started_at,
        "closed_at": campaign.closed_at,
    }


def _detail(request, campaign_id: int) -> dict:
    actor = request.auth
    campaign = selectors.campaign_get(actor=actor, campaign_id=campaign_id)
    entries = selectors.campaign_entries(actor=actor, campaign=campaign, today=local_today())
    total, towns = selectors.campaign_progress(entries)
    data = campaign_payload(
        campaign,
        school_count=len(entries),
        accepted_count=total.by_status[services.ES.ACCEPTED],
    )
    data.update(
        {
            "description": campaign.description,
            "template_id": campaign.template_id,
            "is_manager": selectors.is_manager(actor, campaign),
            "items": [
                {"id": i.pk, "order": i.order, "text": i.text, "reference": i.reference}
                for i in campaign.items.all()
            ],
            "schools": [
                {
                    "school_id": e.school_id,
                    "school_name": e.school.name,
                    "town_name": e.school.town.name if e.school.town_id else "",
                    "status": e.status,
                    "status_label": e.get_status_display(),
                    "answered": e.answered,
                    "gaps_open": e.gaps_open,
                    "gaps_fixed": e.gaps_fixed,
                    "gaps_overdue": e.gaps_overdue,
                    "overdue": e.overdue,
                }
                for e in entries
            ],
            "totals": total.as_dict(),
            "towns": [{"label": t.label, **t.as_dict()} for t in towns],
        }
    )
    return data


def _entry_detail(request, campaign_id: int, school_id: int) -> dict:
    actor = request.auth
    today = local_today()
    entry = selectors.entry_get(actor=actor, campaign_id=campaign_id, school_id=school_id)
    answers = []
    for row in selectors.entry_rows(entry, today):
        a = row.answer
        answers.append(
            {
                "item_id": row.item.pk,
                "item_text": row.item.text,
                "item_reference": row.item.reference,
                "result": a.result if a else None,
                "result_label": str(CampaignResult(a.result).label) if a else "",
                "note": a.note if a else "",
                "gap_owner_id": a.gap_owner_id if a else None,
                "gap_owner_name": _name(a.gap_owner) if a else "",
                "gap_deadline": a.gap_deadline if a else None,
                "gap_status": a.gap_status if a else "",
                "gap_overdue": row.gap_overdue,
                "fixed_note": a.fixed_note if a else "",
                "fixed_at": a.fixed_at if a else None,
                "answered_at": a.answered_at if a else None,
            }
        )
    return {
        "campaign_id": entry.campaign_id,
        "campaign_title": entry.campaign.title,
        "campaign_status": entry.campaign.status,
        "school_id": entry.school_id,
        "school_name": entry.school.name,
        "status": entry.status,
        "status_label": entry.get_status_display(),
        "overdue": selectors.entry_overdue(entry, entry.campaign, today),
        "submitted_at": entry.submitted_at,
        "submitted_by": _name(entry.submitted_by),
        "reviewed_at": entry.reviewed_at,
        "reviewed_by": _name(entry.reviewed_by),
        "review_note": entry.review_note,
        "spot_check_id": entry.spot_check_id,
        "accepted_at": entry.accepted_at,
        "accepted_by": _name(entry.accepted_by),
        "answers": answers,
        "events": [
            {
                "at": e.at,
                "by": _name(e.actor) if e.actor_id else e.actor_label,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
            }
            for e in entry.events.all()
        ],
        "allowed_moves": services.allowed_moves(actor, entry),
        "may_answer": services.may_answer(actor, entry),
    }


def _refused(request, refused: services.CampaignRefused):
    return api.create_response(request, {"detail": refused.messages[0], "errors": {}}, status=409)


def _items(items) -> list[dict] | None:
    if items is None:
        return None
    return [{"text": i.text, "reference": i.reference} for i in items]


# ------------------------------------------------------------------ campaigns

_READ = {200: CampaignDetailOut, 403: ErrorOut, 404: ErrorOut}
_WRITE = {200: CampaignDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.get("/supervision/campaigns", response={200: CampaignList, 400: ErrorOut, 403: ErrorOut})
def campaign_list(request, status: CampaignStatus | None = None, limit: int = 50, offset: int = 0):
    """Campaigns the caller runs, reviews or takes part in, newest first; `limit` 1–200."""
    selectors.require_campaign_user(request.auth)
    qs = selectors.campaign_list(actor=request.auth, status=status or "")
    return paginate(qs, limit=limit, offset=offset, row=campaign_payload)


@router.post(
    "/supervision/campaigns",
    response={201: CampaignDetailOut, 400: ErrorOut, 403: ErrorOut},
)
def campaign_create(request, payload: CampaignIn):
    """A draft campaign of one of the caller's offices (MANAGE_CAMPAIGNS)."""
    campaign = services.campaign_create(
        actor=request.auth,
        title=payload.title,
        description=payload.description,
        owner=payload.owner_id,
        self_check_due=payload.self_check_due,
        spot_check_due=payload.spot_check_due,
        acceptance_due=payload.acceptance_due,
        template=payload.template_id,
        items=_items(payload.items),
        schools=payload.school_ids,
        towns=payload.town_ids,
        all_schools=payload.all_schools,
    )
    return Status(201, _detail(request, campaign.pk))


@router.get("/supervision/campaigns/{campaign_id}", response=_READ)
def campaign_detail(request, campaign_id: DbId):
    selectors.require_campaign_user(request.auth)
    return _detail(request, campaign_id)


def _campaign_step(request, campaign_id: int, call):
    selectors.require_campaign_user(request.auth)
    campaign = selectors.campaign_get(actor=request.auth, campaign_id=campaign_id)
    try:
        call(campaign)
    except services.CampaignRefused as refused:
        return _refused(request, refused)
    return _detail(request, campaign_id)


@router.patch("/supervision/campaigns/{campaign_id}", response=_WRITE)
def campaign_update(request, campaign_id: DbId, payload: CampaignPatch):
    """Change a draft (its managers only)."""
    given = payload.model_dump(exclude_unset=True)
    kwargs = {
        name: given[name]
        for name in ("title", "description", "self_check_due", "spot_check_due", "acceptance_due")
        if name in given and given[name] is not None
    }
    return _campaign_step(
        request,
        campaign_id,
        lambda c: services.campaign_update(
            actor=request.auth,
            campaign=c,
            items=_items(payload.items),
            template=payload.template_id,
            schools=payload.school_ids,
            towns=payload.town_ids,
            all_schools=payload.all_schools,
            **kwargs,
        ),
    )


@router.post("/supervision/campaigns/{campaign_id}/start", response=_WRITE)
def campaign_start(request, campaign_id: DbId):
    """Draft → running; the schools' principals and security officers are told."""
    return _campaign_step(
        request, campaign_id, lambda c: services.campaign_start(actor=request.auth, campaign=c)
    )


@router.post("/supervision/campaigns/{campaign_id}/close", response=_WRITE)
def campaign_close(request, campaign_id: DbId):
    return _campaign_step(
        request, campaign_id, lambda c: services.campaign_close(actor=request.auth, campaign=c)
    )


# ------------------------------------------------------------------ one school

_ENTRY_READ = {200: EntryDetailOut, 403: ErrorOut, 404: ErrorOut}
_ENTRY_WRITE = {200: EntryDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.get("/supervision/campaigns/{campaign_id}/schools/{school_id}", response=_ENTRY_READ)
def entry_detail(request, campaign_id: DbId, school_id: DbId):
    """One school's self-check: every item with its answer, the gaps, the timeline and the
    moves the caller may make."""
    selectors.require_campaign_user(request.auth)
    return _entry_detail(request, campaign_id, school_id)


def _entry_step(request, campaign_id: int, school_id: int, call):
    selectors.require_campaign_user(request.auth)
    entry = selectors.entry_get(actor=request.auth, campaign_id=campaign_id, school_id=school_id)
    try:
        call(entry)
    except services.CampaignRefused as refused:
        return _refused(request, refused)
    return _entry_detail(request, campaign_id, school_id)


def _gap_owner(user_id: int | None, school_id: int):
    """The named member of the school; someone else is passed on as a bare id, which the
    service refuses by number without revealing whether the user exists."""
    if user_id is None:
        return None
    membership = (
        Membership.objects.filter(user_id=user_id, organization_id=school_id)
        .select_related("user")
        .first()
    )
    return membership.user if membership else get_user_model()(pk=user_id)


@router.post(
    "/supervision/campaigns/{campaign_id}/schools/{school_id}/answers", response=_ENTRY_WRITE
)
def entry_answers(request, campaign_id: DbId, school_id: DbId, payload: AnswersIn):
    """Answer items (all or none are saved): `result` meets / gap / na; a gap needs `note`,
    `gap_owner_id` (a member of the school) and `gap_deadline` (today … acceptance due;
    once that date has passed, today … today + 30 days)."""

    def call(entry):
        with transaction.atomic():
            for index, answer in enumerate(payload.answers):
                try:
                    services.campaign_answer(
                        actor=request.auth,
                        entry=entry,
                        item=answer.item_id,
                        result=answer.result,
                        note=answer.note,
                        gap_owner=_gap_owner(answer.gap_owner_id, entry.school_id),
                        gap_deadline=answer.gap_deadline,
                    )
                except services.CampaignRefused:
                    raise
                except ValidationError as exc:
                    raise ValidationError(
                        {
                            f"answers.{index}.{field}": messages
                            for field, messages in _message_dict(exc).items()
                        }
                    ) from exc

    return _entry_step(request, campaign_id, school_id, call)


def _message_dict(exc) -> dict:
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {"__all__": exc.messages}


@router.post(
    "/supervision/campaigns/{campaign_id}/schools/{school_id}/submit", response=_ENTRY_WRITE
)
def entry_submit(request, campaign_id: DbId, school_id: DbId):
    """The school's leaders submit the self-check (every item answered); no body."""
    return _entry_step(
        request,
        campaign_id,
        school_id,
        lambda e: services.entry_submit(actor=request.auth, entry=e),
    )


@router.post(
    "/supervision/campaigns/{campaign_id}/schools/{school_id}/return", response=_ENTRY_WRITE
)
def entry_return(request, campaign_id: DbId, school_id: DbId, payload: ReasonIn):
    """A reviewer from outside the school returns the self-check with a reason."""
    return _entry_step(
        request,
        campaign_id,
        school_id,
        lambda e: services.entry_return(actor=request.auth, entry=e, reason=payload.reason),
    )


@router.post(
    "/supervision/campaigns/{campaign_id}/schools/{school_id}/spot-check",
    response=_ENTRY_WRITE,
)
def entry_spot_check(request, campaign_id: DbId, school_id: DbId, payload: SpotCheckIn):
    """A reviewer records the spot check, optionally with an inspection of the school."""
    return _entry_step(
        request,
        campaign_id,
        school_id,
        lambda e: services.entry_spot_check(
            actor=request.auth, entry=e, note=payload.note, inspection=payload.inspection_id
        ),
    )


@router.post(
    "/supervision/campaigns/{campaign_id}/schools/{school_id}/accept", response=_ENTRY_WRITE
)
def entry_accept(request, campaign_id: DbId, school_id: DbId, payload: NoteIn):
    """Final acceptance after the spot check; refused (409) while a gap is open."""
    return _entry_step(
        request,
        campaign_id,
        school_id,
        lambda e: services.entry_accept(actor=request.auth, entry=e, note=payload.note),
    )


@router.post(
    "/supervision/campaigns/{campaign_id}/schools/{school_id}/gaps/{item_id}/fixed",
    response=_ENTRY_WRITE,
)
def gap_fixed(request, campaign_id: DbId, school_id: DbId, item_id: DbId, payload: NoteIn):
    """The gap's owner (or the school's leaders) marks the gap of an item fixed, with a
    note."""

    def call(entry):
        answer = next((a for a in entry.answers.all() if a.item_id == item_id), None)
        if answer is None:
            raise Http404
        services.gap_fix(actor=request.auth, answer=answer, note=payload.note)

    return _entry_step(request, campaign_id, school_id, call)
