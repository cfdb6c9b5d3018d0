"""Writes of inspections (issue 6 item 2, ADR 0026 "Inspections"): plan, start, answer item
by item with notes and photos, sign off with a score, and turn a failed item into a hazard.

Who: `INSPECT` at the school. School leaders (principal, security officer) inspect only
their own school, and only as a self-check; outside inspectors (education, governance,
police) never plan a self-check. Only the inspectors of an inspection (or its planner)
answer and sign it off. A signed-off inspection is read-only. Every write is atomic and
audited in the same transaction. Services take `now=` so tests control the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_record, audit_update, snapshot
from huxiao.core.permissions import require
from huxiao.core.roles import POLICE_KINDS, SCHOOL_KINDS, Action, OrgKind, role_allows
from huxiao.core.scoping import memberships_of, school_filter_for_org
from huxiao.hazards import hazard_services
from huxiao.hazards.choices import (
    AnswerResult,
    HazardLevel,
    InspectionKind,
    InspectionStatus,
    PhotoKind,
)
from huxiao.hazards.models import (
    ChecklistTemplate,
    Hazard,
    HazardPhoto,
    Inspection,
    InspectionAnswer,
    TemplateItem,
)
from huxiao.orgs.models import Organization
from huxiao.patrols.services import PHOTO_TYPES, clean_photo
from huxiao.people import validation as v

EARLIEST_PLANNED = dt.date(2000, 1, 1)
# Inspections are planned for the coming school year at most; later dates are typing mistakes.
MAX_DAYS_AHEAD = 365
MAX_PHOTOS_PER_ANSWER = 6
MAX_INSPECTORS = 20

# Which organizations may run which kind of inspection (a self-check is the school's own).
KIND_ORG_KINDS = {
    InspectionKind.POLICE: POLICE_KINDS,
    InspectionKind.CENTRAL_SCHOOL: frozenset({OrgKind.EDUCATION_OFFICE}),
    InspectionKind.GOVERNANCE: frozenset({OrgKind.GOVERNANCE_OFFICE}),
    InspectionKind.JOINT: frozenset(
        {*POLICE_KINDS, OrgKind.EDUCATION_OFFICE, OrgKind.GOVERNANCE_OFFICE}
    ),
    InspectionKind.SELF_CHECK: SCHOOL_KINDS,
}


class _Errors(v.FieldErrors):
    """FieldErrors that keep each error's code (tests and the API read the code)."""

    def run(self, field: str, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            for error in getattr(exc, "error_list", [exc]):
                self.add(field, error)
            return None


class SignOffRefused(ValidationError):
    """Sign-off refused because the inspection is incomplete. `unanswered` and
    `missing_photos` are the items concerned, in checklist order."""

    def __init__(self, messages, *, unanswered, missing_photos):
        super().__init__(messages, code="incomplete")
        self.unanswered = unanswered
        self.missing_photos = missing_photos


def _local_today(now: dt.datetime | None) -> dt.date:
    return timezone.localtime(now or timezone.now()).date()


# ------------------------------------------------------------------ who inspects


def _org_covers(org, school) -> bool:
    if org.kind in SCHOOL_KINDS:
        return org.pk == school.pk
    return Organization.objects.filter(school_filter_for_org(org), pk=school.pk).exists()


def inspecting_orgs(actor, school, kind: str | None = None) -> list[Organization]:
    """The organizations through which `actor` may inspect `school` (optionally: run an
    inspection of `kind`), from their active memberships whose role allows INSPECT."""
    orgs: dict[int, Organization] = {}
    for membership in memberships_of(actor):
        org = membership.organization
        if org.pk in orgs or not role_allows(membership.role, Action.INSPECT):
            continue
        if kind is not None and org.kind not in KIND_ORG_KINDS.get(kind, ()):
            continue
        if _org_covers(org, school):
            orgs[org.pk] = org
    return list(orgs.values())


def may_inspect(actor, school) -> bool:
    return bool(getattr(actor, "is_superuser", False) or inspecting_orgs(actor, school))


def is_member_of_school(person, school_id: int) -> bool:
    """Does `person` hold an active membership of the school itself (whatever their other
    memberships)?"""
    return any(m.organization_id == school_id for m in memberships_of(person))


def is_inspector_of(actor, inspection: Inspection) -> bool:
    """Is `actor` named on (or the planner of) the inspection, and independent of the
    school unless it is the school's own self-check?"""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    if inspection.kind != InspectionKind.SELF_CHECK and is_member_of_school(
        actor, inspection.school_id
    ):
        # An outside inspection is never filled or signed off from inside the school.
        return False
    if inspection.created_by_id == actor.pk:
        return True
    return inspection.inspectors.filter(pk=actor.pk).exists()


def _require_inspector(actor, inspection: Inspection) -> None:
    require(actor, Action.INSPECT, inspection.school_id)
    if not is_inspector_of(actor, inspection):
        raise PermissionDenied(_("Only the inspectors of this inspection may do this."))


def may_raise_findings(actor, inspection: Inspection) -> bool:
    """May `actor` turn the inspection's findings into hazards? Its inspectors and planner
    (from outside the school, unless it is a self-check); for a self-check also the
    school's leaders. The inspected school never writes up an outside inspector's finding."""
    if getattr(actor, "is_superuser", False):
        return True
    if is_inspector_of(actor, inspection) and may_inspect(actor, inspection.school):
        return True
    return inspection.kind == InspectionKind.SELF_CHECK and bool(
        inspecting_orgs(actor, inspection.school, InspectionKind.SELF_CHECK)
    )


def require_may_raise_findings(actor, inspection: Inspection) -> None:
    if not may_raise_findings(actor, inspection):
        raise PermissionDenied(
            _("Only the inspectors of this inspection may register its findings as hazards.")
        )


def _require_editable(inspection: Inspection) -> None:
    if inspection.is_signed_off:
        raise ValidationError(
            _("This inspection has been signed off and can no longer be changed."),
            code="signed_off",
        )


# ------------------------------------------------------------------ plan


def _clean_planned_on(value, now) -> dt.date:
    day = v.clean_date(value, required=True)
    latest = _local_today(now) + dt.timedelta(days=MAX_DAYS_AHEAD)
    if day < EARLIEST_PLANNED:
        raise ValidationError(_("The planned date is too far in the past."), code="too_early")
    if day > latest:
        raise ValidationError(
            _("Plan inspections at most a year ahead (until %(latest)s).")
            % {"latest": latest.isoformat()},
            code="too_late",
        )
    return day


def _clean_template(template) -> ChecklistTemplate:
    if not isinstance(template, ChecklistTemplate):
        raise ValidationError(_("Choose a checklist."), code="required")
    if not template.is_published:
        raise ValidationError(
            _("This checklist is a draft; publish it before inspecting with it."),
            code="draft",
        )
    if not TemplateItem.objects.filter(section__template=template).exists():
        raise ValidationError(_("This checklist has no items."), code="empty")
    return template


@transaction.atomic
def inspection_plan(
    *,
    actor,
    school: Organization,
    template: ChecklistTemplate,
    kind: str,
    planned_on,
    unannounced: bool = False,
    inspectors: Iterable = (),
    organization: Organization | None = None,
    now: dt.datetime | None = None,
) -> Inspection:
    """Plan an inspection of `school` against a published checklist version."""
    require(actor, Action.INSPECT, school.pk)
    errors = _Errors()
    if not school.is_school:
        errors.add("school", _("This organization is not a school."))
    if kind not in InspectionKind.values:
        errors.add("kind", _("Choose the kind of inspection."))
    template = errors.run("template", _clean_template, template)
    planned_on = errors.run("planned_on", _clean_planned_on, planned_on, now)
    errors.raise_if_any()

    if kind == InspectionKind.SELF_CHECK and unannounced:
        raise ValidationError({"unannounced": [_("A school's self-check cannot be unannounced.")]})
    orgs = inspecting_orgs(actor, school, kind)
    if not orgs:
        if kind == InspectionKind.SELF_CHECK:
            raise PermissionDenied(_("Only the school itself runs its self-check."))
        if inspecting_orgs(actor, school, InspectionKind.SELF_CHECK):
            raise PermissionDenied(_("School leaders may only plan their school's self-check."))
        raise PermissionDenied(_("Your organization does not run this kind of inspection."))
    if organization is None:
        organization = orgs[0]
    elif organization.pk not in {org.pk for org in orgs}:
        raise ValidationError(
            {"organization": [_("You do not inspect this school on behalf of that organization.")]}
        )

    people = list(dict.fromkeys(inspectors or ()))
    if not people:
        people = [actor]
    if len(people) > MAX_INSPECTORS:
        raise ValidationError(
            {"inspectors": [_("At most %(n)s inspectors.") % {"n": MAX_INSPECTORS}]}
        )
    # Named by number only: the planner may name any user id, and the refusal must not
    # tell them who that is.
    unfit = [
        person
        for person in people
        if not getattr(person, "is_active", False) or not may_inspect(person, school)
    ]
    if unfit:
        raise ValidationError(
            {
                "inspectors": [
                    _("Inspector %(ids)s cannot inspect this school.")
                    % {"ids": "、".join(f"#{p.pk}" for p in unfit)}
                ]
            }
        )
    if kind != InspectionKind.SELF_CHECK:
        insiders = [person for person in people if is_member_of_school(person, school.pk)]
        if insiders:
            raise ValidationError(
                {
                    "inspectors": [
                        _(
                            "Inspector %(ids)s belongs to the inspected school and may only "
                            "inspect its self-check."
                        )
                        % {"ids": "、".join(f"#{p.pk}" for p in insiders)}
                    ]
                }
            )

    inspection = Inspection.objects.create(
        school=school,
        template=template,
        kind=kind,
        unannounced=bool(unannounced),
        organization=organization,
        planned_on=planned_on,
        created_by=actor,
    )
    inspection.inspectors.set(people)
    # A planned unannounced inspection must not show in the school's audit trail (its
    # leaders may read it): its rows are filed under the inspecting organization, and the
    # rows from the start on under the school (ADR 0026, "Review fixes").
    audit_school = organization if inspection.unannounced else None
    audit_create(actor=actor, obj=inspection, school=audit_school)
    audit_record(
        actor=actor,
        action="update",
        obj=inspection,
        school=audit_school,
        changes={"inspectors": [p.pk for p in people]},
    )
    return inspection


# ------------------------------------------------------------------ start and answer


def _start(actor, inspection: Inspection, now) -> None:
    before = snapshot(inspection)
    inspection.status = InspectionStatus.IN_PROGRESS
    inspection.started_at = now or timezone.now()
    inspection.save(update_fields=["status", "started_at"])
    audit_update(actor=actor, obj=inspection, before=before)


@transaction.atomic
def inspection_start(
    *, actor, inspection: Inspection, now: dt.datetime | None = None
) -> Inspection:
    """Begin filling the checklist. An unannounced inspection becomes visible to the school
    from this moment."""
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    _require_inspector(actor, inspection)
    _require_editable(inspection)
    if inspection.status == InspectionStatus.PLANNED:
        _start(actor, inspection, now)
    return inspection


def _clean_result(value) -> str:
    if value not in AnswerResult.values:
        raise ValidationError(_("Choose meets, does not meet or not applicable."), code="result")
    return value


def _clean_score(value, item: TemplateItem, result: str) -> Decimal:
    if result == AnswerResult.NOT_APPLICABLE:
        return Decimal(0)
    if value is None or value == "":
        return item.max_score if result == AnswerResult.PASS else Decimal(0)
    try:
        score = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(_("Enter the score as a number."), code="score") from None
    if not score.is_finite():
        raise ValidationError(_("Enter the score as a number."), code="score")
    if not Decimal(0) <= score <= item.max_score:
        raise ValidationError(
            _("The score must be between 0 and %(max)s.") % {"max": item.max_score},
            code="score_range",
        )
    # Quantize only once the range is known: "1e30" would overflow the context's precision.
    try:
        one_decimal = score.quantize(Decimal("0.1"))
    except InvalidOperation:
        raise ValidationError(
            _("Enter the score with at most one decimal."), code="score"
        ) from None
    if score != one_decimal:
        raise ValidationError(_("Enter the score with at most one decimal."), code="score")
    return score


def _photo_name(photo) -> str:
    head = photo.read(16)
    photo.seek(0)
    suffix = next((s for m, s in PHOTO_TYPES.items() if head.startswith(m)), ".jpg")
    return f"finding{suffix}"


@transaction.atomic
def inspection_answer(
    *,
    actor,
    inspection: Inspection,
    item: TemplateItem,
    result: str,
    note: str = "",
    score=None,
    photos: Iterable = (),
    now: dt.datetime | None = None,
) -> InspectionAnswer:
    """Record (or change, until sign-off) the answer to one item. A pass scores the item's
    maximum and a fail 0 unless a score is given; not applicable is left out of the score.
    The first answer starts a planned inspection."""
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    _require_inspector(actor, inspection)
    _require_editable(inspection)
    now = now or timezone.now()
    if item is None or item.section.template_id != inspection.template_id:
        raise ValidationError({"item": [_("This item is not on this inspection's checklist.")]})
    errors = _Errors()
    result = errors.run("result", _clean_result, result)
    note = errors.run("note", v.clean_text, note, max_length=1000)
    if result is not None:
        score = errors.run("score", _clean_score, score, item, result)
    cleaned_photos = []
    for photo in photos or ():
        cleaned = errors.run("photos", clean_photo, photo)
        if cleaned is not None:
            cleaned_photos.append(cleaned)
    errors.raise_if_any()

    answer = InspectionAnswer.objects.filter(inspection=inspection, item=item).first()
    existing_photos = answer.photos.count() if answer else 0
    if existing_photos + len(cleaned_photos) > MAX_PHOTOS_PER_ANSWER:
        raise ValidationError(
            {"photos": [_("At most %(n)s photos per item.") % {"n": MAX_PHOTOS_PER_ANSWER}]}
        )
    if (
        answer is not None
        and answer.result != result
        and Hazard.objects.filter(answer=answer).exists()
    ):
        # The signed-off report must not say "meets" on the item its hazard came from.
        raise ValidationError(
            {
                "result": [
                    _(
                        "A hazard has been registered from this item; its result can no "
                        "longer be changed."
                    )
                ]
            },
            code="has_hazard",
        )
    if inspection.status == InspectionStatus.PLANNED:
        _start(actor, inspection, now)
    fields = {"result": result, "note": note, "score": score}
    if answer is None:
        answer = InspectionAnswer.objects.create(
            inspection=inspection, item=item, answered_by=actor, answered_at=now, **fields
        )
        audit_create(actor=actor, obj=answer)
    else:
        before = snapshot(answer)
        for name, value in fields.items():
            setattr(answer, name, value)
        answer.answered_by = actor
        answer.answered_at = now
        answer.save()
        audit_update(actor=actor, obj=answer, before=before)
    for photo in cleaned_photos:
        stored = HazardPhoto(
            school_id=inspection.school_id,
            answer=answer,
            kind=PhotoKind.FINDING,
            uploaded_by=actor,
        )
        stored.file.save(_photo_name(photo), photo, save=False)
        stored.save()
        audit_create(actor=actor, obj=stored)
    return answer


@transaction.atomic
def inspection_photo_delete(*, actor, photo: HazardPhoto) -> None:
    """Remove a finding photo of an answer, until sign-off (a wrong shot happens)."""
    answer = photo.answer
    if answer is None:
        raise ValidationError(_("This photo is not part of an inspection."), code="not_answer")
    inspection = Inspection.objects.select_for_update().get(pk=answer.inspection_id)
    _require_inspector(actor, inspection)
    _require_editable(inspection)
    if photo.hazard_id:
        raise ValidationError(
            _("This photo belongs to a hazard already and stays on record."), code="in_hazard"
        )
    audit_record(actor=actor, action="delete", obj=photo, changes={"before": snapshot(photo)})
    photo.file.delete(save=False)
    photo.delete()


# ------------------------------------------------------------------ sign off


def photo_needed(answer: InspectionAnswer | None, item: TemplateItem) -> bool:
    """A photo-required item needs a photo on every applicable answer, pass or fail: the
    photo is the evidence that the inspector looked (ADR 0026, "Inspections")."""
    return (
        item.photo_required and answer is not None and answer.result != AnswerResult.NOT_APPLICABLE
    )


def inspection_progress(inspection: Inspection) -> dict:
    """Items of the checklist with their answers: what is unanswered, what lacks a photo, and
    the score so far (sum of scores over the applicable items' maxima)."""
    items = list(
        TemplateItem.objects.filter(section__template_id=inspection.template_id)
        .select_related("section")
        .order_by("section__order", "section_id", "order", "id")
    )
    answers = {
        a.item_id: a
        for a in InspectionAnswer.objects.filter(inspection=inspection).prefetch_related("photos")
    }
    unanswered, missing_photos = [], []
    score = max_score = Decimal(0)
    for item in items:
        answer = answers.get(item.pk)
        if answer is None:
            unanswered.append(item)
            continue
        if photo_needed(answer, item) and not answer.photos.all():
            missing_photos.append(item)
        if answer.result != AnswerResult.NOT_APPLICABLE:
            score += answer.score
            max_score += item.max_score
    return {
        "items": items,
        "answers": answers,
        "unanswered": unanswered,
        "missing_photos": missing_photos,
        "score": score,
        "max_score": max_score,
    }


def _item_list(items) -> str:
    shown = [item.text[:40] for item in items[:10]]
    if len(items) > 10:
        shown.append("…")
    return "；".join(shown)


@transaction.atomic
def inspection_sign_off(
    *, actor, inspection: Inspection, summary: str = "", now: dt.datetime | None = None
) -> Inspection:
    """Sign off a complete inspection: every item answered, every required photo taken.
    The score is stored and the inspection becomes read-only."""
    inspection = Inspection.objects.select_for_update().get(pk=inspection.pk)
    _require_inspector(actor, inspection)
    _require_editable(inspection)
    errors = _Errors()
    summary = errors.run("summary", v.clean_text, summary, max_length=4000)
    errors.raise_if_any()
    progress = inspection_progress(inspection)
    unanswered, missing = progress["unanswered"], progress["missing_photos"]
    if unanswered or missing:
        messages = []
        if unanswered:
            messages.append(
                _("%(n)s items are not answered yet: %(items)s.")
                % {"n": len(unanswered), "items": _item_list(unanswered)}
            )
        if missing:
            messages.append(
                _("%(n)s items need a photo: %(items)s.")
                % {"n": len(missing), "items": _item_list(missing)}
            )
        raise SignOffRefused(messages, unanswered=unanswered, missing_photos=missing)
    before = snapshot(inspection)
    inspection.status = InspectionStatus.SIGNED_OFF
    inspection.signed_off_at = now or timezone.now()
    inspection.signed_off_by = actor
    inspection.score = progress["score"]
    inspection.max_score = progress["max_score"]
    inspection.summary = summary
    if inspection.started_at is None:
        inspection.started_at = inspection.signed_off_at
    inspection.save()
    audit_update(actor=actor, obj=inspection, before=before)
    return inspection


# ------------------------------------------------------------------ findings become hazards


def _clean_level(value) -> str:
    if value not in HazardLevel.values:
        raise ValidationError(_("Choose general or major."), code="level")
    return value


@transaction.atomic
def finding_to_hazard(
    *,
    actor,
    answer: InspectionAnswer,
    title: str | None = None,
    level: str = HazardLevel.GENERAL,
    deadline=None,
    now: dt.datetime | None = None,
):
    """Register a failed item as a hazard in one step: the item's category, its text and the
    inspector's note, the inspection and the answer; the answer's photos go with it. Allowed
    before and after sign-off (raising a hazard does not change the inspection). Only the
    inspection's inspectors and planner may do it (for a self-check also the school's
    leaders): the hazard's level, title and deadline are the inspector's call."""
    answer = (
        InspectionAnswer.objects.select_for_update()
        .select_related("inspection__school", "item")
        .get(pk=answer.pk)
    )
    inspection = answer.inspection
    require(actor, Action.REPORT_HAZARD, inspection.school_id)
    require_may_raise_findings(actor, inspection)
    if answer.result != AnswerResult.FAIL:
        raise ValidationError(
            _("Only an item that does not meet the requirement becomes a hazard."),
            code="not_failed",
        )
    if hasattr(answer, "hazard") and answer.hazard is not None:
        raise ValidationError(
            _("A hazard has already been registered for this item."), code="duplicate"
        )
    errors = _Errors()
    title = errors.run("title", v.clean_text, title or answer.item.text[:200], max_length=200)
    level = errors.run("level", _clean_level, level)
    errors.raise_if_any()
    description = answer.item.text
    if answer.note:
        description = f"{description}\n{answer.note}"
    hazard = hazard_services.hazard_report(
        actor=actor,
        school=inspection.school,
        category=answer.item.category,
        level=level,
        title=title,
        description=description,
        deadline=deadline,
        inspection=inspection,
        answer=answer,
        photos=(),
        now=now,
    )
    # hazard_report links the answer's finding photos to the hazard (one file, two links).
    return hazard
