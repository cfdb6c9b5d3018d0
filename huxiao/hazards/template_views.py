"""Pages of checklist templates (ADR 0026, "Templates"): parse → call → render.

Everyone who may view or inspect a school reads the published checklists; the template
managers of an education or governance office copy them and edit their own office's drafts.
A draft of another office is 404, like a checklist that does not exist."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.hazards import template_selectors as selectors
from huxiao.hazards import template_services as services
from huxiao.hazards.choices import HazardCategory, TemplateKind

ITEM_FIELDS = ("text", "guidance", "reference", "max_score", "category")


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _item_fields(post) -> dict:
    fields = {name: post.get(name, "") for name in ITEM_FIELDS}
    fields["photo_required"] = post.get("photo_required") == "on"
    return fields


def _back_to_editor(template):
    return redirect("hazards:template_edit", template_id=template.pk)


def _call(request, template, call, success: str):
    """Run a draft edit; a refusal is shown as a message on the editor, nothing written."""
    try:
        call()
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, success)
    return _back_to_editor(template)


def list_kind(actor, query) -> str:
    """The list's kind filter (the page and its export); 403 for a user who may neither
    view nor inspect."""
    selectors.require_template_reader(actor)
    kind = query.get("kind", "")
    return kind if kind in TemplateKind.values else ""


@login_required
@require_safe
def template_list(request):
    kind = list_kind(request.user, request.GET)
    return render(
        request,
        "hazards/templates/list.html",
        {
            "templates": selectors.template_list(actor=request.user, kind=kind or None),
            "drafts": selectors.template_drafts(actor=request.user),
            "can_manage": bool(selectors.manager_offices(request.user)),
            "kinds": TemplateKind.choices,
            "kind": kind,
            "nav_active": "hazards_templates",
        },
    )


@login_required
@require_safe
def template_detail(request, template_id: int):
    selectors.require_template_reader(request.user)
    template = selectors.template_get(actor=request.user, template_id=template_id)
    managed = selectors.manager_office_ids(request.user)
    return render(
        request,
        "hazards/templates/detail.html",
        {
            "template": template,
            "versions": selectors.template_versions(actor=request.user, template=template),
            "can_copy": bool(managed),
            "can_edit": selectors.can_edit(request.user, template),
            "can_new_version": template.owner_id in managed and template.is_published,
            "nav_active": "hazards_templates",
        },
    )


@login_required
@require_POST
def template_copy(request, template_id: int):
    selectors.require_template_manager(request.user)
    template = selectors.template_get(actor=request.user, template_id=template_id, content=False)
    name = request.POST.get("name", "").strip()
    if not name:
        # The list's one-tap copy sends no name; a long default is cut, a typed one never.
        name = (_("Copy of %(name)s") % {"name": template.name})[:100]
    try:
        copy = services.template_copy(actor=request.user, template=template, name=name)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("hazards:template_detail", template_id=template.pk)
    messages.success(request, _("Copied. Edit the draft, then publish it."))
    return _back_to_editor(copy)


@login_required
@require_POST
def template_new_version(request, template_id: int):
    selectors.require_template_manager(request.user)
    template = selectors.template_get(actor=request.user, template_id=template_id, content=False)
    try:
        draft = services.template_new_version(actor=request.user, template=template)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("hazards:template_detail", template_id=template.pk)
    messages.success(request, _("New version created as a draft."))
    return _back_to_editor(draft)


def _draft_or_detail(request, template_id: int):
    """The draft to edit, or None with a redirect to its read-only page."""
    selectors.require_template_manager(request.user)
    template = selectors.template_get(actor=request.user, template_id=template_id)
    if not selectors.can_edit(request.user, template):
        messages.error(
            request,
            _(
                "Only drafts of your own office can be edited; copy this checklist or make a new "
                "version."
            ),
        )
        return template, redirect("hazards:template_detail", template_id=template.pk)
    return template, None


@login_required
@require_http_methods(["GET", "POST"])
def template_edit(request, template_id: int):
    """The draft editor: name and description, sections and their items."""
    template, refused = _draft_or_detail(request, template_id)
    if refused:
        return refused
    if request.method == "POST":
        return _call(
            request,
            template,
            lambda: services.template_update(
                actor=request.user,
                template=template,
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
            ),
            _("Saved."),
        )
    return render(
        request,
        "hazards/templates/edit.html",
        {
            "template": template,
            "categories": HazardCategory.choices,
            "nav_active": "hazards_templates",
        },
    )


@login_required
@require_POST
def template_publish(request, template_id: int):
    template, refused = _draft_or_detail(request, template_id)
    if refused:
        return refused
    try:
        services.template_publish(actor=request.user, template=template)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return _back_to_editor(template)
    messages.success(request, _("Published; new inspections use this version."))
    return redirect("hazards:template_detail", template_id=template.pk)


@login_required
@require_POST
def template_discard(request, template_id: int):
    template, refused = _draft_or_detail(request, template_id)
    if refused:
        return refused
    try:
        services.template_discard(actor=request.user, template=template)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return _back_to_editor(template)
    messages.success(request, _("Draft deleted."))
    return redirect("hazards:template_list")


@login_required
@require_POST
def section_add(request, template_id: int):
    template, refused = _draft_or_detail(request, template_id)
    if refused:
        return refused
    return _call(
        request,
        template,
        lambda: services.section_add(
            actor=request.user, template=template, title=request.POST.get("title", "")
        ),
        _("Section added."),
    )


@login_required
@require_POST
def section_change(request, section_id: int, op: str):
    selectors.require_template_manager(request.user)
    section = selectors.section_get(actor=request.user, section_id=section_id)
    template = section.template
    calls = {
        "edit": lambda: services.section_update(
            actor=request.user, section=section, title=request.POST.get("title", "")
        ),
        "remove": lambda: services.section_remove(actor=request.user, section=section),
        "move": lambda: services.section_move(
            actor=request.user, section=section, direction=request.POST.get("direction", "")
        ),
        "add-item": lambda: services.item_add(
            actor=request.user, section=section, **_item_fields(request.POST)
        ),
    }
    if op not in calls:
        raise Http404
    return _call(request, template, calls[op], _("Saved."))


@login_required
@require_POST
def item_change(request, item_id: int, op: str):
    selectors.require_template_manager(request.user)
    item = selectors.item_get(actor=request.user, item_id=item_id)
    template = item.section.template
    calls = {
        "edit": lambda: services.item_update(
            actor=request.user, item=item, **_item_fields(request.POST)
        ),
        "remove": lambda: services.item_remove(actor=request.user, item=item),
        "move": lambda: services.item_move(
            actor=request.user, item=item, direction=request.POST.get("direction", "")
        ),
    }
    if op not in calls:
        raise Http404
    return _call(request, template, calls[op], _("Saved."))


urlpatterns = [
    path("templates/", template_list, name="template_list"),
    path("templates/<int:template_id>/", template_detail, name="template_detail"),
    path("templates/<int:template_id>/copy/", template_copy, name="template_copy"),
    path(
        "templates/<int:template_id>/new-version/",
        template_new_version,
        name="template_new_version",
    ),
    path("templates/<int:template_id>/edit/", template_edit, name="template_edit"),
    path("templates/<int:template_id>/publish/", template_publish, name="template_publish"),
    path("templates/<int:template_id>/discard/", template_discard, name="template_discard"),
    path("templates/<int:template_id>/sections/add/", section_add, name="template_section_add"),
    path(
        "templates/sections/<int:section_id>/<str:op>/",
        section_change,
        name="template_section",
    ),
    path("templates/items/<int:item_id>/<str:op>/", item_change, name="template_item"),
]
