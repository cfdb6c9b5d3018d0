"""REST handlers for classes, children, guardians and staff: parse → call → return."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Status

from huxiao.core.api import DbId, paginate
from huxiao.core.roles import Action
from huxiao.orgs.models import Organization
from huxiao.people import selectors, services
from huxiao.people.models import Child, SchoolClass, Staff
from huxiao.people.schemas import (
    ChildIn,
    ChildOut,
    ChildPage,
    ChildPatch,
    ClassIn,
    ClassOut,
    ClassPage,
    ClassPatch,
    GuardianIn,
    GuardianOut,
    GuardianPage,
    GuardianPatch,
    IdNumberOut,
    StaffIn,
    StaffOut,
    StaffPage,
    StaffPatch,
    child_row,
)

router = Router(tags=["people"])


def _referenced(model, actor, pk, field: str):
    """A record named in a request body: out of scope reads as unknown, never as forbidden."""
    if pk is None:
        return None
    obj = model.objects.visible_to(actor, Action.VIEW).filter(pk=pk).first()
    if obj is None:
        raise ValidationError({field: [_("Unknown or inaccessible record.")]})
    return obj


def _school(actor, school_id):
    school = _referenced(Organization, actor, school_id, "school_id")
    if school is not None and not school.is_school:
        raise ValidationError({"school_id": [_("This organization is not a school.")]})
    return school


# ------------------------------------------------------------------ classes


@router.get("/classes", response=ClassPage)
def class_list(request, school_id: DbId | None = None, limit: int = 50, offset: int = 0):
    qs = selectors.class_list(actor=request.auth, school_id=school_id)
    return paginate(qs, limit=limit, offset=offset)


@router.post("/classes", response={201: ClassOut})
def class_create(request, payload: ClassIn):
    actor = request.auth
    school_class = services.class_create(
        actor=actor,
        school=_school(actor, payload.school_id),
        name=payload.name,
        grade=payload.grade,
        head_teacher=_referenced(Staff, actor, payload.head_teacher_id, "head_teacher_id"),
    )
    return Status(201, school_class)


@router.get("/classes/{class_id}", response=ClassOut)
def class_detail(request, class_id: DbId):
    return selectors.class_get(actor=request.auth, class_id=class_id)


@router.patch("/classes/{class_id}", response=ClassOut)
def class_patch(request, class_id: DbId, payload: ClassPatch):
    actor = request.auth
    school_class = selectors.class_get(actor=actor, class_id=class_id)
    changes = payload.dict(exclude_unset=True)
    if "head_teacher_id" in changes:
        changes["head_teacher"] = _referenced(
            Staff, actor, changes.pop("head_teacher_id"), "head_teacher_id"
        )
    return services.class_update(actor=actor, school_class=school_class, **changes)


@router.delete("/classes/{class_id}", response={204: None})
def class_delete(request, class_id: DbId):
    school_class = selectors.class_get(actor=request.auth, class_id=class_id)
    services.class_delete(actor=request.auth, school_class=school_class)
    return Status(204, None)


# ------------------------------------------------------------------ children


@router.get("/children", response=ChildPage)
def child_list(
    request,
    school_id: DbId | None = None,
    class_id: DbId | None = None,
    search: str = "",
    limit: int = 50,
    offset: int = 0,
):
    qs = selectors.child_list(
        actor=request.auth, school_id=school_id, class_id=class_id, search=search[:50]
    )
    return paginate(qs, limit=limit, offset=offset, row=child_row)


@router.post("/children", response={201: ChildOut})
def child_create(request, payload: ChildIn):
    actor = request.auth
    child = services.child_create(
        actor=actor,
        school_class=_referenced(SchoolClass, actor, payload.class_id, "class_id"),
        name=payload.name,
        gender=payload.gender,
        id_number=payload.id_number,
        birth_date=payload.birth_date,
    )
    return Status(201, child)


@router.get("/children/{child_id}", response=ChildOut)
def child_detail(request, child_id: DbId):
    return selectors.child_get(actor=request.auth, child_id=child_id)


@router.patch("/children/{child_id}", response=ChildOut)
def child_patch(request, child_id: DbId, payload: ChildPatch):
    actor = request.auth
    child = selectors.child_get(actor=actor, child_id=child_id)
    changes = payload.dict(exclude_unset=True)
    if "class_id" in changes:
        changes["school_class"] = _referenced(
            SchoolClass, actor, changes.pop("class_id"), "class_id"
        )
    return services.child_update(actor=actor, child=child, **changes)


@router.delete("/children/{child_id}", response={204: None})
def child_delete(request, child_id: DbId):
    child = selectors.child_get(actor=request.auth, child_id=child_id)
    services.child_delete(actor=request.auth, child=child)
    return Status(204, None)


@router.post("/children/{child_id}/id-number", response=IdNumberOut)
def child_id_number(request, response: HttpResponse, child_id: DbId, purpose: str = ""):
    """The full resident ID number; the read is logged.

    POST, not GET: a reveal is an audited act, so a link or a prefetch must not cause one,
    and session callers go through the CSRF check.
    """
    child = selectors.child_get(actor=request.auth, child_id=child_id)
    number = services.child_reveal_id_number(actor=request.auth, child=child, purpose=purpose[:200])
    response["Cache-Control"] = "no-store"
    return {"id_number": number}


# ------------------------------------------------------------------ guardians


@router.get("/guardians", response=GuardianPage)
def guardian_list(request, child_id: DbId | None = None, limit: int = 50, offset: int = 0):
    qs = selectors.guardian_list(actor=request.auth, child_id=child_id)
    return paginate(qs, limit=limit, offset=offset)


@router.post("/guardians", response={201: GuardianOut})
def guardian_create(request, payload: GuardianIn):
    actor = request.auth
    data = payload.dict()
    child = _referenced(Child, actor, data.pop("child_id"), "child_id")
    return Status(201, services.guardian_create(actor=actor, child=child, **data))


@router.get("/guardians/{guardian_id}", response=GuardianOut)
def guardian_detail(request, guardian_id: DbId):
    return selectors.guardian_get(actor=request.auth, guardian_id=guardian_id)


@router.patch("/guardians/{guardian_id}", response=GuardianOut)
def guardian_patch(request, guardian_id: DbId, payload: GuardianPatch):
    guardian = selectors.guardian_get(actor=request.auth, guardian_id=guardian_id)
    return services.guardian_update(
        actor=request.auth, guardian=guardian, **payload.dict(exclude_unset=True)
    )


@router.delete("/guardians/{guardian_id}", response={204: None})
def guardian_delete(request, guardian_id: DbId):
    guardian = selectors.guardian_get(actor=request.auth, guardian_id=guardian_id)
    services.guardian_delete(actor=request.auth, guardian=guardian)
    return Status(204, None)


# ------------------------------------------------------------------ staff


@router.get("/staff", response=StaffPage)
def staff_list(
    request, school_id: DbId | None = None, role: str = "", limit: int = 50, offset: int = 0
):
    qs = selectors.staff_list(actor=request.auth, school_id=school_id, role=role[:32])
    return paginate(qs, limit=limit, offset=offset)


@router.post("/staff", response={201: StaffOut})
def staff_create(request, payload: StaffIn):
    actor = request.auth
    data = payload.dict()
    school = _school(actor, data.pop("school_id"))
    return Status(201, services.staff_create(actor=actor, school=school, **data))


@router.get("/staff/{staff_id}", response=StaffOut)
def staff_detail(request, staff_id: DbId):
    return selectors.staff_get(actor=request.auth, staff_id=staff_id)


@router.patch("/staff/{staff_id}", response=StaffOut)
def staff_patch(request, staff_id: DbId, payload: StaffPatch):
    staff = selectors.staff_get(actor=request.auth, staff_id=staff_id)
    return services.staff_update(
        actor=request.auth, staff=staff, **payload.dict(exclude_unset=True)
    )


@router.delete("/staff/{staff_id}", response={204: None})
def staff_delete(request, staff_id: DbId):
    staff = selectors.staff_get(actor=request.auth, staff_id=staff_id)
    services.staff_delete(actor=request.auth, staff=staff)
    return Status(204, None)
