"""REST handlers of patrol rounds (issue 7 item 7; ADR 0029 "Rounds").

- POST /duty/scans {"code", "note"?}: the same service as the scan page (`KEEP_DUTY`):
  201 with the round's progress when a scan was recorded, 200 when the checkpoint was
  already on the round (nothing written); an unknown, retired or other school's code is 404
  with a sentence saying so.
- GET /duty/rounds?school_id=&date=: one day of a school (`VIEW`): counted rounds against
  the rule, and each round with its scans.
- POST /duty/rounds/{id}/finish: the guard ends the round; 409 when it has already ended.
"""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ConfigDict, Field

from huxiao.core.api import DbId, ErrorOut
from huxiao.core.api import api as root_api
from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.duty import rounds_selectors as selectors
from huxiao.duty import rounds_services as services
from huxiao.duty.checkpoint_selectors import require_any, school_get
from huxiao.duty.duty_selectors import check_date

router = Router(tags=["duty: patrol rounds"])


class ScanIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=500, description="The plate's code, or the URL its QR carries")
    note: str = Field("", max_length=5000)


class ScanRowOut(Schema):
    checkpoint_id: int
    checkpoint: str
    scanned_at: str


class LeftOut(Schema):
    checkpoint_id: int
    checkpoint: str


class RoundOut(Schema):
    id: int
    school_id: int
    guard: str
    guard_id: int | None
    started_at: str
    finished_at: str | None
    is_night: bool
    counted: bool | None
    scans: list[ScanRowOut]


class ScanOut(Schema):
    round: RoundOut
    checkpoint_id: int
    checkpoint: str
    duplicate: bool
    finished: bool
    position: int
    total: int
    left: list[LeftOut]


class DayOut(Schema):
    school_id: int
    date: dt.date
    required: int
    night_required: int
    day_rounds: int
    night_rounds: int
    missed: bool
    rounds: list[RoundOut]


def _scan_rows(scans) -> list[dict]:
    return [
        {
            "checkpoint_id": s.checkpoint_id,
            "checkpoint": s.checkpoint.name,
            "scanned_at": s.scanned_at.isoformat(),
        }
        for s in scans
    ]


def round_payload(rnd, scans=None) -> dict:
    return {
        "id": rnd.pk,
        "school_id": rnd.school_id,
        "guard": person_name(rnd.guard),
        "guard_id": rnd.guard_id,
        "started_at": rnd.started_at.isoformat(),
        "finished_at": rnd.finished_at.isoformat() if rnd.finished_at else None,
        "is_night": rnd.is_night,
        "counted": getattr(rnd, "counted", None),
        "scans": _scan_rows(scans if scans is not None else rnd.scans.all()),
    }


def _refused(request, refused: services.RoundRefused):
    return root_api.create_response(
        request, {"detail": refused.messages[0], "errors": {}}, status=409
    )


@router.post(
    "/duty/scans",
    response={200: ScanOut, 201: ScanOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
)
def scan_create(request, payload: ScanIn):
    require_any(request.auth, Action.KEEP_DUTY)
    try:
        outcome = services.checkpoint_scan(actor=request.auth, code=payload.code, note=payload.note)
    except services.CheckpointUnknown as unknown:
        raise HttpError(404, str(unknown.message)) from None
    body = {
        "round": round_payload(outcome.round, outcome.scanned),
        "checkpoint_id": outcome.checkpoint.pk,
        "checkpoint": outcome.checkpoint.name,
        "duplicate": outcome.duplicate,
        "finished": outcome.finished,
        "position": outcome.position,
        "total": outcome.total,
        "left": [{"checkpoint_id": c.pk, "checkpoint": c.name} for c in outcome.left],
    }
    return Status(200 if outcome.duplicate else 201, body)


@router.get("/duty/rounds", response={200: DayOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def rounds_of_day(request, school_id: DbId, date: dt.date | None = None):
    require_any(request.auth, Action.VIEW)
    school = school_get(actor=request.auth, school_id=school_id)
    check_date(date, "date")
    day = date or selectors.local_today()
    row = selectors.rounds_on(actor=request.auth, school=school, day=day)
    return {
        "school_id": school.pk,
        "date": day,
        "required": row.required,
        "night_required": row.night_required,
        "day_rounds": row.day_rounds,
        "night_rounds": row.night_rounds,
        "missed": row.missed,
        "rounds": [round_payload(r) for r in row.rounds],
    }


@router.post(
    "/duty/rounds/{round_id}/finish",
    response={200: RoundOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def round_finish(request, round_id: DbId):
    require_any(request.auth, Action.KEEP_DUTY)
    rnd = selectors.round_get(actor=request.auth, round_id=round_id)
    try:
        services.round_finish(actor=request.auth, round=rnd)
    except services.RoundRefused as refused:
        return _refused(request, refused)
    return round_payload(selectors.round_get(actor=request.auth, round_id=rnd.pk))
