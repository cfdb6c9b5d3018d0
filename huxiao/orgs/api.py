from __future__ import annotations

import datetime as dt

from ninja import Router, Schema
from pydantic import ConfigDict

from huxiao.core.api import DbId, paginate
from huxiao.orgs import selectors, services
from huxiao.orgs.models import Organization

router = Router(tags=["organizations"])


class SchoolOut(Schema):
    id: int
    name: str
    kind: str
    stage: str
    town_id: int | None
    town_name: str | None
    is_boarding: bool
    ownership: str
    is_registered: bool
    operator: str
    landlord: str
    enrolment: int
    police_station_id: int | None
    police_post_id: int | None
    education_office_id: int | None
    health_centre_id: int | None
    address: str
    phone: str
    updated_at: dt.datetime

    @staticmethod
    def resolve_town_name(obj):
        return obj.town.name if obj.town_id else None


class SchoolPage(Schema):
    count: int
    items: list[SchoolOut]


class SchoolPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    short_name: str | None = None
    address: str | None = None
    phone: str | None = None
    stage: str | None = None
    is_boarding: bool | None = None
    ownership: str | None = None
    is_registered: bool | None = None
    operator: str | None = None
    landlord: str | None = None
    enrolment: int | None = None


@router.get("/schools", response=SchoolPage)
def school_list(request, town_id: DbId | None = None, limit: int = 50, offset: int = 0):
    qs = selectors.school_list(actor=request.auth, town_id=town_id)
    return paginate(qs, limit=limit, offset=offset)


@router.get("/schools/{school_id}", response=SchoolOut)
def school_detail(request, school_id: DbId):
    return selectors.school_get(actor=request.auth, school_id=school_id)


@router.patch("/schools/{school_id}", response=SchoolOut)
def school_patch(request, school_id: DbId, payload: SchoolPatch):
    school = selectors.school_get(actor=request.auth, school_id=school_id)
    changes = payload.dict(exclude_unset=True)
    services.school_update(actor=request.auth, school=school, **changes)
    return Organization.objects.select_related("town").get(pk=school.pk)
