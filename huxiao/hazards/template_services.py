"""Writes of checklist templates (ADR 0026, "Templates").

- A published version is never changed: inspections point at it and their scores must not
  move. Editing means a new version (a draft) of the same code, or a copy under a new code.
- Shipped templates (no owner) are only copied.
- Only the template managers (MANAGE_TEMPLATES) of the owning office edit, publish or
  discard its drafts; a copy belongs to the copier's office.
- Publishing makes the version current and unsets the previous current one in the same
  transaction (one current version per code, enforced by a partial unique constraint).
Every write leaves an audit row in its transaction.
"""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from huxiao.audit.models import AuditAction
from huxiao.audit.services import (
    audit_create,
    audit_delete,
    audit_record,
    audit_update,
    snapshot,
)
from huxiao.hazards.choices import HazardCategory, TemplateKind
from huxiao.hazards.models import ChecklistTemplate, TemplateItem, TemplateSection
from huxiao.hazards.template_selectors import manager_offices
from huxiao.people import validation as v

MAX_SCORE_PER_ITEM = Decimal(100)
MAX_SECTIONS = 50
MAX_ITEMS = 200


# ------------------------------------------------------------------ rules


def _owning_office(actor, template: ChecklistTemplate):
    """The actor's office that owns `template`, or PermissionDenied."""
    for office in manager_offices(actor):
        if office.pk == template.owner_id:
            return office
    raise PermissionDenied(_("Only the office that owns this checklist may change it."))


def _require_draft(actor, template: ChecklistTemplate) -> None:
    """A draft of one of the actor's offices; published and shipped ones are refused with
    the reason, so the user knows to copy or make a new version instead."""
    if template.owner_id is None:
        raise ValidationError(
            _("Checklists shipped with the platform cannot be edited; make a copy instead.")
        )
    _owning_office(actor, template)
    if template.is_published:
        raise ValidationError(
            _("A published version cannot be changed; make a new version and edit that instead.")
        )


def _lock(template: ChecklistTemplate) -> ChecklistTemplate:
    """Re-read under a row lock: a publish racing an edit must not change a published
    version."""
    return ChecklistTemplate.objects.select_for_update().get(pk=template.pk)


def _clean_score(errors: v.FieldErrors, value) -> Decimal | None:
    try:
        score = Decimal(str(value).strip()) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        score = None
        errors.add("max_score", _("Enter the score as a number, e.g. 2 or 2.5."))
        return None
    if score is None:
        errors.add("max_score", _("This field is required."))
    elif not score.is_finite():
        errors.add("max_score", _("Enter the score as a number, e.g. 2 or 2.5."))
    elif score < 0 or score > MAX_SCORE_PER_ITEM:
        errors.add(
            "max_score",
            _("The score must be between 0 and %(max)s.") % {"max": MAX_SCORE_PER_ITEM},
        )
    elif score != score.quantize(Decimal("0.1")):
        errors.add("max_score", _("Use at most one decimal place."))
    else:
        return score.quantize(Decimal("0.1"))
    return None


def _clean_item(**fields) -> dict:
    errors = v.FieldErrors()
    cleaned = {
        "text": errors.run("text", v.clean_text, fields.get("text"), max_length=500, required=True),
        "guidance": errors.run("guidance", v.clean_text, fields.get("guidance"), max_length=2000),
        "reference": errors.run("reference", v.clean_text, fields.get("reference"), max_length=100),
        "max_score": _clean_score(errors, fields.get("max_score")),
        "photo_required": bool(fields.get("photo_required")),
    }
    category = fields.get("category") or HazardCategory.OTHER
    if category not in HazardCategory.values:
        errors.add("category", _("Choose one of the listed categories."))
    cleaned["category"] = category
    errors.raise_if_any()
    return cleaned


def _clean_title(value) -> str:
    errors = v.FieldErrors()
    title = errors.run("title", v.clean_text, value, max_length=200, required=True)
    errors.raise_if_any()
    return title


def _clean_name(value) -> str:
    errors = v.FieldErrors()
    name = errors.run("name", v.clean_text, value, max_length=100, required=True)
    errors.raise_if_any()
    return name


def _audit_template(actor, template, action, **changes) -> None:
    audit_record(actor=actor, action=action, obj=template, changes=changes)


# ------------------------------------------------------------------ copies and versions


def _copy_content(source: ChecklistTemplate, target: ChecklistTemplate) -> int:
    sections = list(source.sections.order_by("order", "id").prefetch_related("items"))
    items = []
    for order, section in enumerate(sections, start=1):
        new_section = TemplateSection.objects.create(
            template=target, order=order, title=section.title
        )
        items.extend(
            TemplateItem(
                section=new_section,
                order=i_order,
                text=item.text,
                guidance=item.guidance,
                reference=item.reference,
                max_score=item.max_score,
                photo_required=item.photo_required,
                category=item.category,
            )
            for i_order, item in enumerate(
                sorted(section.items.all(), key=lambda i: (i.order, i.pk)), start=1
            )
        )
    TemplateItem.objects.bulk_create(items)
    return len(items)


def _new_code(source_code: str, office_id: int) -> str:
    base = slugify(source_code)[:36] or "checklist"
    while True:
        code = f"{base}-o{office_id}-{secrets.token_hex(3)}"[:60]
        if not ChecklistTemplate.objects.filter(code=code).exists():
            return code


@transaction.atomic
def template_copy(*, actor, template: ChecklistTemplate, name: str, office=None):
    """A draft copy of `template` under a new code, owned by the actor's office (`office`
    when the actor manages several)."""
    offices = manager_offices(actor)
    if not offices:
        raise PermissionDenied(_("Your role does not allow this action."))
    if office is None:
        office = offices[0]
    elif office.pk not in {o.pk for o in offices}:
        raise PermissionDenied(_("Your role does not allow this action."))
    # Another office's draft is not shared: only published versions or one's own drafts.
    if not template.is_published and template.owner_id not in {o.pk for o in offices}:
        raise PermissionDenied(_("Your role does not allow this action."))
    name = _clean_name(name)
    copy = ChecklistTemplate.objects.create(
        code=_new_code(template.code, office.pk),
        version=1,
        name=name,
        kind=template.kind or TemplateKind.CUSTOM,
        description=template.description,
        owner=office,
        based_on=template,
        created_by=actor,
    )
    items = _copy_content(template, copy)
    audit_create(actor=actor, obj=copy)
    _audit_template(actor, copy, AuditAction.UPDATE, copied_from=template.pk, items=items)
    return copy


@transaction.atomic
def template_new_version(*, actor, template: ChecklistTemplate) -> ChecklistTemplate:
    """A draft of the next version of the checklist, with the content of `template`."""
    if template.owner_id is None:
        raise ValidationError(
            _("Checklists shipped with the platform cannot be edited; make a copy instead.")
        )
    office = _owning_office(actor, template)
    versions = ChecklistTemplate.objects.select_for_update().filter(code=template.code)
    draft = versions.filter(is_published=False).order_by("-version").first()
    if draft is not None:
        raise ValidationError(
            _("Version %(version)s of this checklist is already a draft; edit or publish it first.")
            % {"version": draft.version}
        )
    next_version = (versions.aggregate(top=Max("version"))["top"] or 0) + 1
    new = ChecklistTemplate.objects.create(
        code=template.code,
        version=next_version,
        name=template.name,
        kind=template.kind,
        description=template.description,
        owner=office,
        based_on=template,
        created_by=actor,
    )
    items = _copy_content(template, new)
    audit_create(actor=actor, obj=new)
    _audit_template(actor, new, AuditAction.UPDATE, new_version_of=template.pk, items=items)
    return new


@transaction.atomic
def template_update(*, actor, template, name, description="") -> ChecklistTemplate:
    template = _lock(template)
    _require_draft(actor, template)
    errors = v.FieldErrors()
    name = errors.run("name", v.clean_text, name, max_length=100, required=True)
    description = errors.run("description", v.clean_text, description, max_length=2000)
    errors.raise_if_any()
    before = snapshot(template)
    template.name = name
    template.description = description
    template.save(update_fields=["name", "description"])
    audit_update(actor=actor, obj=template, before=before)
    return template


@transaction.atomic
def template_publish(*, actor, template: ChecklistTemplate) -> ChecklistTemplate:
    """Publish a draft and make it the current version of its checklist."""
    # Lock every version of the code: two publishes of the same checklist queue up.
    list(ChecklistTemplate.objects.select_for_update().filter(code=template.code))
    template = ChecklistTemplate.objects.get(pk=template.pk)
    _require_draft(actor, template)
    sections = list(template.sections.order_by("order", "id").prefetch_related("items"))
    empty = [s.title for s in sections if not s.items.all()]
    if not any(s.items.all() for s in sections):
        raise ValidationError(_("Add at least one item before publishing."))
    if empty:
        raise ValidationError(
            _("Add items to these sections or remove them: %(titles)s")
            % {"titles": "、".join(empty)}
        )
    now = timezone.now()
    previous = ChecklistTemplate.objects.filter(code=template.code, is_current=True).first()
    if previous is not None:
        before = snapshot(previous)
        # Unset first: the partial unique constraint allows one current row per code.
        previous.is_current = False
        previous.save(update_fields=["is_current"])
        audit_update(actor=actor, obj=previous, before=before)
    before = snapshot(template)
    template.is_published = True
    template.is_current = True
    template.published_at = now
    template.save(update_fields=["is_published", "is_current", "published_at"])
    audit_update(actor=actor, obj=template, before=before)
    return template


@transaction.atomic
def template_discard(*, actor, template: ChecklistTemplate) -> None:
    """Delete a draft (never a published version: inspections may point at it)."""
    template = _lock(template)
    _require_draft(actor, template)
    audit_delete(actor=actor, obj=template)
    template.delete()


# ------------------------------------------------------------------ sections


def _locked_draft_of(actor, template) -> ChecklistTemplate:
    template = _lock(template)
    _require_draft(actor, template)
    return template


@transaction.atomic
def section_add(*, actor, template: ChecklistTemplate, title: str) -> TemplateSection:
    template = _locked_draft_of(actor, template)
    title = _clean_title(title)
    if template.sections.count() >= MAX_SECTIONS:
        raise ValidationError(
            _("A checklist has at most %(limit)s sections.") % {"limit": MAX_SECTIONS}
        )
    top = template.sections.aggregate(top=Max("order"))["top"] or 0
    section = TemplateSection.objects.create(template=template, order=top + 1, title=title)
    audit_create(actor=actor, obj=section)
    return section


@transaction.atomic
def section_update(*, actor, section: TemplateSection, title: str) -> TemplateSection:
    _locked_draft_of(actor, section.template)
    title = _clean_title(title)
    before = snapshot(section)
    section.title = title
    section.save(update_fields=["title"])
    audit_update(actor=actor, obj=section, before=before)
    return section


@transaction.atomic
def section_remove(*, actor, section: TemplateSection) -> None:
    _locked_draft_of(actor, section.template)
    audit_delete(actor=actor, obj=section)
    section.delete()


def _move(rows: list, target, direction: str) -> list:
    """Swap `target` with its neighbour and number the rows 1..n again."""
    if direction not in ("up", "down"):
        raise ValidationError(_("Choose up or down."))
    index = next(i for i, row in enumerate(rows) if row.pk == target.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
    changed = []
    for order, row in enumerate(rows, start=1):
        if row.order != order:
            row.order = order
            changed.append(row)
    return changed


@transaction.atomic
def section_move(*, actor, section: TemplateSection, direction: str) -> None:
    template = _locked_draft_of(actor, section.template)
    rows = list(template.sections.order_by("order", "id"))
    changed = _move(rows, section, direction)
    TemplateSection.objects.bulk_update(changed, ["order"])
    if changed:
        _audit_template(
            actor,
            template,
            AuditAction.UPDATE,
            section_order=[row.pk for row in rows],
        )


# ------------------------------------------------------------------ items


@transaction.atomic
def item_add(*, actor, section: TemplateSection, **fields) -> TemplateItem:
    template = _locked_draft_of(actor, section.template)
    cleaned = _clean_item(**fields)
    if TemplateItem.objects.filter(section__template=template).count() >= MAX_ITEMS:
        raise ValidationError(_("A checklist has at most %(limit)s items.") % {"limit": MAX_ITEMS})
    top = section.items.aggregate(top=Max("order"))["top"] or 0
    item = TemplateItem.objects.create(section=section, order=top + 1, **cleaned)
    audit_create(actor=actor, obj=item)
    return item


@transaction.atomic
def item_update(*, actor, item: TemplateItem, **fields) -> TemplateItem:
    _locked_draft_of(actor, item.section.template)
    cleaned = _clean_item(**fields)
    before = snapshot(item)
    for name, value in cleaned.items():
        setattr(item, name, value)
    item.save(update_fields=list(cleaned))
    audit_update(actor=actor, obj=item, before=before)
    return item


@transaction.atomic
def item_remove(*, actor, item: TemplateItem) -> None:
    _locked_draft_of(actor, item.section.template)
    audit_delete(actor=actor, obj=item)
    item.delete()


@transaction.atomic
def item_move(*, actor, item: TemplateItem, direction: str) -> None:
    template = _locked_draft_of(actor, item.section.template)
    rows = list(item.section.items.order_by("order", "id"))
    changed = _move(rows, item, direction)
    TemplateItem.objects.bulk_update(changed, ["order"])
    if changed:
        _audit_template(
            actor,
            template,
            AuditAction.UPDATE,
            item_order={str(item.section_id): [row.pk for row in rows]},
        )
