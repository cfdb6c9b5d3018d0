"""REST handlers of assessment and ranking (ADR 0027 "Assessment and ranking"): parse →
call a selector/service → return, with the same rights as the pages.

Someone who may assess nowhere gets 403 on the assessors' routes; a scheme, run, school or
veto out of reach is 404, exactly like one that does not exist; a write the state refuses
(published, revoked, switched off) is 409 with the reason in `detail`; bad input is 400
with the fields in `errors`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import Http404
from ninja import Router, Schema, Status

from huxiao.core.api import DbId, ErrorOut, api, paginate
from huxiao.core.names import person_name
from huxiao.core.scoping import can
from huxiao.orgs.models import Organization
from huxiao.supervision import assessment_selectors as sel
from huxiao.supervision import assessment_services as services
from huxiao.supervision import indicators as registry
from huxiao.supervision.choices import PeriodKind, Rating, RunStatus

router = Router(tags=["supervision"])
PREFIX = "/supervision/assessment"


# ------------------------------------------------------------------ schemas


class SourceOut(Schema):
    key: str
    label: str
    description: str
    available: bool
    params: dict


class IndicatorOut(Schema):
    id: int
    name: str
    source: str
    source_label: str
    available: bool
    weight: Decimal
    params: dict


class SchemeOut(Schema):
    id: int
    name: str
    description: str
    owner_id: int
    owner_name: str
    period_kind: str
    excellent_from: Decimal
    good_from: Decimal
    pass_from: Decimal
    is_active: bool
    may_manage: bool
    has_published_runs: bool
    indicators: list[IndicatorOut]


class IndicatorIn(Schema):
    id: DbId | None = None
    name: str = ""
    source: str
    weight: Decimal
    params: dict = {}


class SchemeIn(Schema):
    name: str
    owner_id: DbId | None = None
    description: str = ""
    period_kind: PeriodKind = PeriodKind.MONTH
    excellent_from: Decimal = Decimal(90)
    good_from: Decimal = Decimal(80)
    pass_from: Decimal = Decimal(60)
    is_active: bool = True
    indicators: list[IndicatorIn]


class RunOut(Schema):
    id: int
    scheme_id: int
    scheme_name: str
    period_start: dt.date
    period_end: dt.date
    status: str
    computed_at: str
    computed_by: str
    published_at: str | None
    duration_ms: int


class RunList(Schema):
    count: int
    items: list[RunOut]


class CellOut(Schema):
    indicator_id: int
    name: str
    value: str | None
    score: str | None
    no_data: bool


class ResultOut(Schema):
    school_id: int
    school_name: str
    town_id: int | None
    town_name: str
    score: str | None
    max_score: str
    rank: int | None
    rating: str
    rating_label: str
    vetoed: bool
    indicators: list[CellOut]


class TownOut(Schema):
    town_id: int
    town_name: str
    score: str | None
    rank: int | None
    schools: int
    vetoed_schools: int


class ResultsOut(Schema):
    run: RunOut
    ranked: int
    count: int
    items: list[ResultOut]
    towns: list[TownOut]


class SchoolResultOut(Schema):
    run: RunOut
    ranked: int
    town_score: str | None
    result: ResultOut
    veto_reasons: list[str]


class ComputeIn(Schema):
    date: dt.date


class ManualScoreIn(Schema):
    indicator_id: DbId
    school_id: DbId
    percent: Decimal | None = None
    note: str = ""


class ManualScoresIn(Schema):
    date: dt.date
    scores: list[ManualScoreIn]


class SavedOut(Schema):
    saved: int


class VetoIn(Schema):
    school_id: DbId
    date: dt.date
    period_kind: PeriodKind = PeriodKind.MONTH
    reason: str


class RevokeIn(Schema):
    reason: str


class VetoOut(Schema):
    id: int
    school_id: int
    school_name: str
    period_start: dt.date
    period_end: dt.date
    reason: str
    decided_by_org: str
    decided_at: str
    revoked_at: str | None
    revoke_reason: str


# ------------------------------------------------------------------ payloads


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _str(value) -> str | None:
    return str(value) if value is not None else None


def scheme_payload(scheme, actor) -> dict:
    indicators = []
    for ind in sel.scheme_indicators(scheme):
        source = registry.get_source(ind.source)
        indicators.append(
            {
                "id": ind.pk,
                "name": ind.name,
                "source": ind.source,
                "source_label": str(source.label) if source else ind.source,
                "available": bool(source and source.available),
                "weight": ind.weight,
                "params": ind.params or {},
            }
        )
    return {
        "id": scheme.pk,
        "name": scheme.name,
        "description": scheme.description,
        "owner_id": scheme.owner_id,
        "owner_name": scheme.owner.name,
        "period_kind": scheme.period_kind,
        "excellent_from": scheme.excellent_from,
        "good_from": scheme.good_from,
        "pass_from": scheme.pass_from,
        "is_active": scheme.is_active,
        "may_manage": sel.may_manage(actor, scheme),
        "has_published_runs": sel.has_published_runs(scheme),
        "indicators": indicators,
    }


def run_payload(run) -> dict:
    return {
        "id": run.pk,
        "scheme_id": run.scheme_id,
        "scheme_name": run.scheme.name,
        "period_start": run.period_start,
        "period_end": run.period_end,
        "status": run.status,
        "computed_at": run.computed_at.isoformat(),
        "computed_by": person_name(run.computed_by) if run.computed_by_id else "",
        "published_at": _iso(run.published_at),
        "duration_ms": run.duration_ms,
    }


def result_payload(result, indicators) -> dict:
    return {
        "school_id": result.school_id,
        "school_name": result.school.name,
        "town_id": result.town_id,
        "town_name": result.town.name if result.town_id else "",
        "score": _str(result.score),
        "max_score": str(result.max_score),
        "rank": result.rank,
        "rating": result.rating,
        "rating_label": str(Rating(result.rating).label) if result.rating else "",
        "vetoed": result.vetoed,
        "indicators": [c.__dict__ for c in sel.cells_of(result, indicators)],
    }


def veto_payload(veto) -> dict:
    return {
        "id": veto.pk,
        "school_id": veto.school_id,
        "school_name": veto.school.name,
        "period_start": veto.period_start,
        "period_end": veto.period_end,
        "reason": veto.reason,
        "decided_by_org": veto.decided_by_org.name,
        "decided_at": veto.decided_at.isoformat(),
        "revoked_at": _iso(veto.revoked_at),
        "revoke_reason": veto.revoke_reason,
    }


def _refused(request, exc: services.AssessmentRefused):
    return api.create_response(request, {"detail": exc.messages[0], "errors": {}}, status=409)


# ------------------------------------------------------------------ reads


@router.get(f"{PREFIX}/sources", response={200: list[SourceOut], 403: ErrorOut})
def source_list(request):
    """The indicator sources a scheme may name (`available` false: no data yet)."""
    sel.require_assessor(request.auth)
    return [
        {
            "key": s.key,
            "label": str(s.label),
            "description": str(s.description),
            "available": s.available,
            "params": {
                name: {"default": p.default, "min": p.minimum, "max": p.maximum}
                for name, p in s.params.items()
            },
        }
        for s in registry.sources()
    ]


@router.get(f"{PREFIX}/schemes", response={200: list[SchemeOut], 403: ErrorOut})
def scheme_list(request):
    return [scheme_payload(s, request.auth) for s in sel.scheme_list(actor=request.auth)]


@router.get(
    f"{PREFIX}/schemes/{{scheme_id}}", response={200: SchemeOut, 403: ErrorOut, 404: ErrorOut}
)
def scheme_detail(request, scheme_id: DbId):
    return scheme_payload(sel.scheme_get(actor=request.auth, scheme_id=scheme_id), request.auth)


@router.get(f"{PREFIX}/runs", response={200: RunList, 403: ErrorOut, 404: ErrorOut})
def run_list(
    request,
    scheme_id: DbId | None = None,
    status: RunStatus | None = None,
    limit: int = 50,
    offset: int = 0,
):
    """Runs of the schemes the caller reads, newest period first."""
    scheme = sel.scheme_get(actor=request.auth, scheme_id=scheme_id) if scheme_id else None
    qs = sel.run_list(actor=request.auth, scheme=scheme)
    if status:
        qs = qs.filter(status=status)
    return paginate(qs, limit=limit, offset=offset, row=run_payload)


@router.get(
    f"{PREFIX}/runs/{{run_id}}/results",
    response={200: ResultsOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def run_results(
    request, run_id: DbId, town_id: DbId | None = None, limit: int = 200, offset: int = 0
):
    """The ranking: the caller's schools (ranks of the whole scheme), unranked last, and
    the towns. `limit` is clamped to 1–1000."""
    run = sel.run_get(actor=request.auth, run_id=run_id)
    indicators = sel.scheme_indicators(run.scheme)
    qs = sel.run_results(actor=request.auth, run=run, town_id=town_id)
    limit = max(1, min(limit, 1000))
    offset = max(0, min(offset, 10**9))
    return {
        "run": run_payload(run),
        "ranked": sel.ranked_count(run),
        "count": qs.count(),
        "items": [result_payload(r, indicators) for r in qs[offset : offset + limit]],
        "towns": [
            {
                "town_id": t.town_id,
                "town_name": t.town.name,
                "score": _str(t.score),
                "rank": t.rank,
                "schools": t.schools,
                "vetoed_schools": t.vetoed_schools,
            }
            for t in sel.run_towns(actor=request.auth, run=run)
        ],
    }


@router.get(
    f"{PREFIX}/schools/{{school_id}}/results",
    response={200: list[SchoolResultOut], 404: ErrorOut},
)
def school_results(request, school_id: DbId):
    """A school's own published results (whoever may view the school): its score, rank
    position, breakdown, veto reasons and its town's mean — no other school's."""
    items = sel.school_results(actor=request.auth, school_id=school_id)
    return [
        {
            "run": run_payload(item.run),
            "ranked": item.ranked,
            "town_score": _str(item.town_score),
            "result": {
                **result_payload(item.result, []),
                "indicators": [c.__dict__ for c in item.cells],
            },
            "veto_reasons": [v.reason for v in item.vetoes],
        }
        for item in items
    ]


@router.get(f"{PREFIX}/vetoes", response={200: list[VetoOut], 403: ErrorOut})
def veto_list(request, school_id: DbId | None = None):
    return [veto_payload(v) for v in sel.veto_list(actor=request.auth, school_id=school_id)[:500]]


# ------------------------------------------------------------------ writes

_WRITE = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.post(f"{PREFIX}/schemes", response={201: SchemeOut, **_WRITE})
def scheme_create(request, payload: SchemeIn):
    """A new scheme of one of the caller's assessing offices; weights must total 100."""
    sel.require_assessor(request.auth)
    scheme = services.scheme_create(
        actor=request.auth,
        owner=payload.owner_id,
        name=payload.name,
        description=payload.description,
        period_kind=payload.period_kind,
        excellent_from=payload.excellent_from,
        good_from=payload.good_from,
        pass_from=payload.pass_from,
        is_active=payload.is_active,
        indicators=[i.model_dump() for i in payload.indicators],
    )
    return Status(201, scheme_payload(scheme, request.auth))


@router.post(f"{PREFIX}/schemes/{{scheme_id}}/compute", response={201: RunOut, **_WRITE})
def compute(request, scheme_id: DbId, payload: ComputeIn):
    """Compute the period containing `date` as a draft (replacing the period's draft)."""
    scheme = sel.scheme_get(actor=request.auth, scheme_id=scheme_id)
    try:
        run = services.assessment_compute(actor=request.auth, scheme=scheme, day=payload.date)
    except services.AssessmentRefused as exc:
        return _refused(request, exc)
    return Status(201, run_payload(run))


@router.post(f"{PREFIX}/schemes/{{scheme_id}}/manual-scores", response={200: SavedOut, **_WRITE})
def manual_scores(request, scheme_id: DbId, payload: ManualScoresIn):
    """Scores by hand for the period containing `date` (percent null removes one)."""
    scheme = sel.scheme_get(actor=request.auth, scheme_id=scheme_id)
    saved = services.manual_scores_save(
        actor=request.auth,
        scheme=scheme,
        day=payload.date,
        entries=[
            {
                "indicator_id": s.indicator_id,
                "school_id": s.school_id,
                "percent": s.percent,
                "note": s.note,
            }
            for s in payload.scores
        ],
    )
    return {"saved": saved}


@router.post(f"{PREFIX}/runs/{{run_id}}/publish", response={200: RunOut, **_WRITE})
def publish(request, run_id: DbId):
    """Publish a draft of an ended period; it never changes afterwards."""
    run = sel.run_get(actor=request.auth, run_id=run_id)
    try:
        run = services.assessment_publish(actor=request.auth, run=run)
    except services.AssessmentRefused as exc:
        return _refused(request, exc)
    return run_payload(run)


@router.post(f"{PREFIX}/vetoes", response={201: VetoOut, **_WRITE})
def veto_record(request, payload: VetoIn):
    """一票否决 for the month, quarter or year containing `date`, with a reason."""
    sel.require_assessor(request.auth)
    school = Organization.objects.filter(pk=payload.school_id).first()
    if school is None or not can(request.auth, "view", school.pk):
        raise Http404
    try:
        veto = services.veto_record(
            actor=request.auth,
            school=school,
            day=payload.date,
            period_kind=payload.period_kind,
            reason=payload.reason,
        )
    except services.AssessmentRefused as exc:
        return _refused(request, exc)
    return Status(201, veto_payload(veto))


@router.post(f"{PREFIX}/vetoes/{{veto_id}}/revoke", response={200: VetoOut, **_WRITE})
def veto_revoke(request, veto_id: DbId, payload: RevokeIn):
    sel.require_assessor(request.auth)
    veto = sel.veto_get(actor=request.auth, veto_id=veto_id)
    try:
        veto = services.veto_revoke(actor=request.auth, veto=veto, reason=payload.reason)
    except services.AssessmentRefused as exc:
        return _refused(request, exc)
    return veto_payload(veto)
