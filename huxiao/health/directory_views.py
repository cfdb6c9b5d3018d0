"""Pages of the four-party directory (issue 9 item 1; §3 1; ADR 0032 "Directory"). Parse →
call a selector/service → render.

Readers: everybody of the school and the offices with a health action there (never the
police: 403). Editors: MANAGE_HEALTH holders, each for the parties they may edit (the
health centre's officers: the health-centre entries of the schools they serve). A school
or contact out of reach is 404; a change the role does not allow 403; a form with errors
400 with the errors in place and nothing written; a success redirects to the directory.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from huxiao.health import directory_selectors as sel
from huxiao.health import directory_services as services
from huxiao.health.choices import Party
from huxiao.health.directory import tel_href
from huxiao.health.directory_forms import ContactForm, edit_initial

NAV = "health"


def _parties_or_403(actor, school) -> frozenset[str]:
    parties = sel.editable_parties(actor, school)
    if not parties:
        raise PermissionDenied(_("Your role does not allow this action."))
    return parties


def _groups(school, contacts, parties) -> list[dict]:
    """The contacts party by party, each marked editable or not."""
    by_party: dict[str, list] = {p: [] for p in Party.values}
    for contact in contacts:
        contact.href = tel_href(contact.phone)
        contact.editable = contact.party in parties
        by_party.setdefault(contact.party, []).append(contact)
    return [
        {
            "party": party,
            "label": label,
            "contacts": by_party[party],
            "editable": party in parties,
        }
        for party, label in Party.choices
    ]


@login_required
@require_safe
def directory(request, school_id: int):
    """The school's four-party directory: what every health page shows, and for editors
    the contacts with their forms."""
    school = sel.school_get(actor=request.user, school_id=school_id)
    parties = sel.editable_parties(request.user, school)
    contacts = sel.contact_list(school)
    missing = [
        label for party, label in Party.choices if not any(c.party == party for c in contacts)
    ]
    return render(
        request,
        "health/directory_page.html",
        {
            "school": school,
            "groups": _groups(school, contacts, parties),
            "parties": parties,
            "can_edit": bool(parties),
            "missing": missing,
            "may_fill": bool(parties) and any(p in parties for p in _empty(contacts)),
            "export_query": f"school={school.pk}",
            "nav_active": NAV,
        },
    )


def _empty(contacts) -> set[str]:
    return set(Party.values) - {c.party for c in contacts}


def _form_page(request, school, form, *, contact=None, status=200):
    return render(
        request,
        "health/directory_form.html",
        {"school": school, "form": form, "contact": contact, "nav_active": NAV},
        status=status,
    )


def _submit(request, form, call) -> bool:
    """Run the service with the form's data; its errors go on the form."""
    if not form.is_valid():
        return False
    try:
        call(**form.service_kwargs())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True


@login_required
@require_http_methods(["GET", "POST"])
def contact_new(request, school_id: int):
    school = sel.school_get(actor=request.user, school_id=school_id)
    parties = _parties_or_403(request.user, school)
    wanted = request.GET.get("party")
    initial = {
        "party": wanted if wanted in parties else sorted(parties, key=sel.PARTY_ORDER.get)[0]
    }
    form = ContactForm(request.POST or None, initial=initial, school=school, parties=parties)
    if request.method == "POST":
        if _submit(
            request,
            form,
            lambda **data: services.health_contact_create(
                actor=request.user, school=school, **data
            ),
        ):
            messages.success(request, _("Contact added."))
            return redirect("health:directory", school.pk)
        return _form_page(request, school, form, status=400)
    return _form_page(request, school, form)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request, contact_id: int):
    contact = sel.contact_get(actor=request.user, contact_id=contact_id)
    school = contact.school
    parties = _parties_or_403(request.user, school)
    if contact.party not in parties:
        raise PermissionDenied(_("You may change only the health centre's contacts."))
    form = ContactForm(
        request.POST or None, initial=edit_initial(contact), school=school, parties=parties
    )
    if request.method == "POST":
        if _submit(
            request,
            form,
            lambda **data: services.health_contact_update(
                actor=request.user, contact=contact, **data
            ),
        ):
            messages.success(request, _("Saved."))
            return redirect("health:directory", school.pk)
        return _form_page(request, school, form, contact=contact, status=400)
    return _form_page(request, school, form, contact=contact)


@login_required
@require_POST
def contact_delete(request, contact_id: int):
    contact = sel.contact_get(actor=request.user, contact_id=contact_id)
    services.health_contact_delete(actor=request.user, contact=contact)
    messages.success(request, _("Contact removed."))
    return redirect("health:directory", contact.school_id)


@login_required
@require_POST
def directory_fill(request, school_id: int):
    """Add each party's organization switchboard where the party has no contact yet."""
    school = sel.school_get(actor=request.user, school_id=school_id)
    added = services.health_contacts_fill(actor=request.user, school=school)
    if added:
        messages.success(
            request,
            ngettext(
                "%(count)s switchboard number added.",
                "%(count)s switchboard numbers added.",
                len(added),
            )
            % {"count": len(added)},
        )
    else:
        messages.info(request, _("Nothing to add: every party has a contact or no number."))
    return redirect("health:directory", school.pk)


urlpatterns = [
    path("schools/<int:school_id>/directory/", directory, name="directory"),
    path("schools/<int:school_id>/directory/new/", contact_new, name="directory_new"),
    path("schools/<int:school_id>/directory/fill/", directory_fill, name="directory_fill"),
    path("directory/<int:contact_id>/edit/", contact_edit, name="directory_edit"),
    path("directory/<int:contact_id>/delete/", contact_delete, name="directory_delete"),
]
