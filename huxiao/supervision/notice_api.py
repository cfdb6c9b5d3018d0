"""REST handlers of notices and accountability records (ADR 0027): parse → call a
selector/service → return.

Notices: anyone who belongs to an organization lists what was published to it; the issuing
office (ASSESS) drafts, publishes, resolves and sees who read. Accountability: governance
offices (HOLD_ACCOUNTABLE) list, record and write follow-ups; a school's principal reads the
records about their school. No right anywhere → 403; out of reach → 404 exactly like a
missing record; a change the state does not allow → 409 with the reason in `detail`.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Router, Schema, Status

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.core.roles import SCHOOL_KINDS
from huxiao.supervision import notice_selectors as selectors
from huxiao.supervision import notice_services as services
from huxiao.supervision.choices import AccountabilityKind, NoticeKind, NoticeStatus

router = Router(tags=["supervision"])


# ------------------------------------------------------------------ schemas


class NoticeOut(Schema):
    id: int
    kind: str
    kind_label: str
    status: str
    reference: str
    title: str
    issuer_id: int
    issuer_name: str
    improve_by: str | None
    days_left: int | None
    overdue: bool
    resolved_at: str | None
    published_at: str | None
    # Published to one of the caller's organizations and not yet read there.
    unread: bool


class NoticeList(Schema):
    count: int
    items: list[NoticeOut]


class OrgRef(Schema):
    id: int
    name: str


class ReceiptOut(Schema):
    organization_id: int
    organization_name: str
    read_at: str | None
    read_by: str


class NoticeDetailOut(NoticeOut):
    body: str
    run_id: int | None
    subjects: list[OrgRef]
    resolution: str
    may_manage: bool
    # The issuing office sees every receipt; a recipient sees its own organization's.
    receipts: list[ReceiptOut]


class NoticeIn(Schema):
    kind: NoticeKind
    title: str
    body: str
    reference: str = ""
    improve_by: dt.date | None = None
    subject_ids: list[DbId] = []
    recipient_ids: list[DbId] = []
    # Adds every school of the issuing office's scope to the recipients.
    all_schools: bool = False
    run_id: DbId | None = None
    issuer_id: DbId | None = None


class ResolveIn(Schema):
    resolution: str


class AccountabilityOut(Schema):
    id: int
    kind: str
    kind_label: str
    subject_id: int
    subject_name: str
    town_id: int | None
    person_name: str
    person_position: str
    reason: str
    decided_on: str
    decided_by_org_id: int
    decided_by_org_name: str
    follow_up: str
    follow_up_at: str | None
    hazard_id: int | None
    notice_id: int | None


class AccountabilityList(Schema):
    count: int
    items: list[AccountabilityOut]


class AccountabilityDetailOut(AccountabilityOut):
    may_manage: bool


class AccountabilityIn(Schema):
    kind: AccountabilityKind
    subject_id: DbId
    reason: str
    decided_on: dt.date
    person_name: str = ""
    person_position: str = ""
    hazard_id: DbId | None = None
    notice_id: DbId | None = None
    deciding_org_id: DbId | None = None


class FollowUpIn(Schema):
    follow_up: str


# ------------------------------------------------------------------ payloads


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def notice_payload(notice, today: dt.date | None = None, *, unread: bool | None = None) -> dict:
    if unread is None:
        unread = bool(getattr(notice, "unread_here", 0))
    return {
        "id": notice.pk,
        "kind": notice.kind,
        "kind_label": str(NoticeKind(notice.kind).label),
        "status": notice.status,
        "reference": notice.reference,
        "title": notice.title,
        "issuer_id": notice.issuer_id,
        "issuer_name": notice.issuer.name,
        "improve_by": _iso(notice.improve_by),
        "days_left": selectors.days_left(notice, today),
        "overdue": selectors.is_overdue(notice, today),
        "resolved_at": _iso(notice.resolved_at),
        "published_at": _iso(notice.published_at),
        "unread": unread and notice.status == NoticeStatus.PUBLISHED,
    }


def notice_detail_payload(notice, actor) -> dict:
    manager = services.may_manage_notice(actor, notice)
    own = selectors.own_receipts(actor, notice)
    receipts = list(notice.receipts.all()) if manager else own
    data = notice_payload(notice, unread=any(r.read_at is None for r in own))
    data.update(
        {
            "body": notice.body,
            "run_id": notice.run_id,
            "subjects": [{"id": o.pk, "name": o.name} for o in notice.subjects.all()],
            "resolution": notice.resolution,
            "may_manage": manager,
            "receipts": [
                {
                    "organization_id": r.organization_id,
                    "organization_name": r.organization.name,
                    "read_at": _iso(r.read_at),
                    "read_by": person_name(r.read_by) if r.read_by_id else "",
                }
                for r in receipts
            ],
        }
    )
    return data


def accountability_payload(record) -> dict:
    return {
        "id": record.pk,
        "kind": record.kind,
        "kind_label": str(AccountabilityKind(record.kind).label),
        "subject_id": record.subject_id,
        "subject_name": record.subject.name,
        "town_id": record.subject.town_id,
        "person_name": record.person_name,
        "person_position": record.person_position,
        "reason": record.reason,
        "decided_on": record.decided_on.isoformat(),
        "decided_by_org_id": record.decided_by_org_id,
        "decided_by_org_name": record.decided_by_org.name,
        "follow_up": record.follow_up,
        "follow_up_at": _iso(record.follow_up_at),
        "hazard_id": record.hazard_id,
        "notice_id": record.notice_id,
    }


def _refused(request, refused: services.NoticeStateRefused):
    return api.create_response(request, {"detail": refused.messages[0], "errors": {}}, status=409)


def _notice_detail(request, notice_id: int) -> dict:
    notice = selectors.notice_get(actor=request.auth, notice_id=notice_id)
    return notice_detail_payload(notice, request.auth)


# ------------------------------------------------------------------ notices


@router.get("/supervision/notices", response={200: NoticeList, 400: ErrorOut, 403: ErrorOut})
def notice_list(
    request,
    box: Literal["received", "issued"] | None = None,
    kind: NoticeKind | None = None,
    status: NoticeStatus | None = None,
    limit: int = 50,
    offset: int = 0,
):
    """Notices the caller may see, newest first: `received` (published to one of their
    organizations) or `issued` (their offices', drafts included); both when left out.
    `limit` is clamped to 1–200."""
    selectors.require_notice_reader(request.auth)
    today = services.local_today()
    qs = selectors.notice_list(
        actor=request.auth,
        filters=selectors.NoticeFilters(box=box or "", kind=kind or "", status=status or ""),
    )
    return paginate(qs, limit=limit, offset=offset, row=lambda n: notice_payload(n, today))


@router.get(
    "/supervision/notices/{notice_id}",
    response={200: NoticeDetailOut, 403: ErrorOut, 404: ErrorOut},
)
def notice_detail(request, notice_id: DbId):
    selectors.require_notice_reader(request.auth)
    return _notice_detail(request, notice_id)


@router.post(
    "/supervision/notices",
    response={201: NoticeDetailOut, 400: ErrorOut, 403: ErrorOut},
)
def notice_create(request, payload: NoticeIn):
    """Draft a notice (ASSESS). Nothing is sent before `publish`."""
    offices = selectors.require_issuer(request.auth)
    recipients = set(payload.recipient_ids)
    if payload.all_schools:
        office = next((o for o in offices if o.pk == payload.issuer_id), None)
        office = office or (offices[0] if len(offices) == 1 else None)
        if office is not None:
            recipients.update(
                o.pk for o in services.scope_organizations(office) if o.kind in SCHOOL_KINDS
            )
    notice = services.notice_draft(
        actor=request.auth,
        issuer=payload.issuer_id,
        kind=payload.kind,
        title=payload.title,
        body=payload.body,
        reference=payload.reference,
        improve_by=payload.improve_by,
        subjects=payload.subject_ids,
        recipients=sorted(recipients),
        run=payload.run_id,
    )
    return Status(201, _notice_detail(request, notice.pk))


_CHANGE_RESPONSES = {
    200: NoticeDetailOut,
    400: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
}


def _change(request, notice_id: int, call):
    selectors.require_notice_reader(request.auth)
    notice = selectors.notice_get(actor=request.auth, notice_id=notice_id)
    try:
        call(notice)
    except services.NoticeStateRefused as refused:
        return _refused(request, refused)
    return _notice_detail(request, notice_id)


@router.post("/supervision/notices/{notice_id}/publish", response=_CHANGE_RESPONSES)
def notice_publish(request, notice_id: DbId):
    """Publish a draft: the recipients (and the subjects) are notified; the text is frozen."""
    return _change(
        request, notice_id, lambda n: services.notice_publish(actor=request.auth, notice=n)
    )


@router.post("/supervision/notices/{notice_id}/read", response=_CHANGE_RESPONSES)
def notice_read(request, notice_id: DbId):
    """Mark the notice read for the caller's recipient organization(s); the first reader
    is kept."""
    return _change(
        request, notice_id, lambda n: services.notice_mark_read(actor=request.auth, notice=n)
    )


@router.post("/supervision/notices/{notice_id}/resolve", response=_CHANGE_RESPONSES)
def notice_resolve(request, notice_id: DbId, payload: ResolveIn):
    """The issuer records how a public criticism was put right."""
    return _change(
        request,
        notice_id,
        lambda n: services.notice_resolve(
            actor=request.auth, notice=n, resolution=payload.resolution
        ),
    )


# ------------------------------------------------------------------ accountability


@router.get(
    "/supervision/accountability",
    response={200: AccountabilityList, 400: ErrorOut, 403: ErrorOut},
)
def accountability_list(
    request,
    subject_id: DbId | None = None,
    town_id: DbId | None = None,
    kind: AccountabilityKind | None = None,
    limit: int = 50,
    offset: int = 0,
):
    """Records the caller may see, newest first, per subject and/or per town."""
    selectors.require_accountability_reader(request.auth)
    qs = selectors.accountability_list(
        actor=request.auth,
        filters=selectors.AccountabilityFilters(
            subject_id=subject_id, town_id=town_id, kind=kind or ""
        ),
    )
    return paginate(qs, limit=limit, offset=offset, row=accountability_payload)


def _record_detail(request, record_id: int) -> dict:
    record = selectors.accountability_get(actor=request.auth, record_id=record_id)
    data = accountability_payload(record)
    data["may_manage"] = services.may_manage_accountability(request.auth, record)
    return data


@router.get(
    "/supervision/accountability/{record_id}",
    response={200: AccountabilityDetailOut, 403: ErrorOut, 404: ErrorOut},
)
def accountability_detail(request, record_id: DbId):
    selectors.require_accountability_reader(request.auth)
    return _record_detail(request, record_id)


@router.post(
    "/supervision/accountability",
    response={201: AccountabilityDetailOut, 400: ErrorOut, 403: ErrorOut},
)
def accountability_create(request, payload: AccountabilityIn):
    """Record an interview (约谈), written warning or referral (HOLD_ACCOUNTABLE)."""
    record = services.accountability_record(
        actor=request.auth,
        deciding_org=payload.deciding_org_id,
        kind=payload.kind,
        subject=payload.subject_id,
        reason=payload.reason,
        decided_on=payload.decided_on,
        person_name=payload.person_name,
        person_position=payload.person_position,
        hazard=payload.hazard_id,
        notice=payload.notice_id,
    )
    return Status(201, _record_detail(request, record.pk))


@router.post(
    "/supervision/accountability/{record_id}/follow-up",
    response={200: AccountabilityDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def accountability_follow_up(request, record_id: DbId, payload: FollowUpIn):
    """Write or rewrite the follow-up (audited); the principal of the school may only read."""
    selectors.require_accountability_reader(request.auth)
    record = selectors.accountability_get(actor=request.auth, record_id=record_id)
    services.accountability_follow_up(
        actor=request.auth, record=record, follow_up=payload.follow_up
    )
    return _record_detail(request, record_id)
