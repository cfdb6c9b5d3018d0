"""Writes of the four-party directory (issue 9 item 1; §3 1; ADR 0032 "Directory").

Order of checks: the school or contact is found through the actor's read scope (out of
reach is Http404, by the callers); then the right — MANAGE_HEALTH on the school and the
party among `editable_parties` (PermissionDenied → 403); then the input (ValidationError by
field → 400, nothing written). Every write is audited in its transaction.

Field rules:
- name: required, at most 50 characters; title (role): at most 100;
- phone: a mainland mobile number (1[3-9] and 11 digits; +86 dropped) or a landline with
  its area code (0311-85213120). Spaces, full-width digits and dashes of any kind are
  accepted and the number is stored normalised ("13812345678", "0311-85213120");
- first to call: one per party — marking a contact first to call takes the mark from the
  others of its party (each change audited); a party's first contact gets it, and when the
  contact marked leaves the party (removed, or moved to another party) the party's next
  contact by order takes it. A contact moved to another party keeps the mark only if it
  is that party's first contact (or is marked in the same change);
- order: a whole number from 0 to 999; empty puts the contact last of its party;
- organization: one of `organization_choices` for the party; not given → the party's
  default (the school's health centre, the town government, the school's education
  office, the school itself).
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_delete, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.health import directory_selectors as sel
from huxiao.health.choices import Party
from huxiao.health.models import HealthContact
from huxiao.orgs.models import Organization
from huxiao.people import validation as v

MAX_ORDER = 999
ORDER_STEP = 10
_MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_LANDLINE = re.compile(r"^(0\d{2,3})-(\d{7,8})$")
_LANDLINE_PLAIN = re.compile(r"^0\d{9,11}$")
_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−"), "-")
PHONE_MESSAGE = _(
    "Enter a mobile number (11 digits starting with 1) or a landline with its area code, "
    "e.g. 0311-85213120."
)
# Sentinel: the caller did not say which organization (the party's default is used).
DEFAULT = object()
FIELDS = ("party", "name", "title", "phone", "is_primary", "sort_order", "organization_id")


# ------------------------------------------------------------------ field rules


def clean_directory_phone(value) -> str:
    """A mainland mobile number or a landline with its area code, normalised."""
    text = unicodedata.normalize("NFKC", str(value or "")).translate(_DASHES)
    text = re.sub(r"[\s.]", "", text)
    if not text:
        raise ValidationError(_("This field is required."), code="required")
    # "(0311)85213120" is the area code written in brackets.
    bracketed = re.match(r"^\((0\d{2,3})\)-?(\d{7,8})$", text)
    if bracketed:
        text = f"{bracketed[1]}-{bracketed[2]}"
    mobile = _MOBILE.match(text.replace("-", ""))
    if mobile:
        return mobile[1]
    if _LANDLINE.match(text):
        return text
    if _LANDLINE_PLAIN.match(text):
        # 010 and 02x are the three-digit area codes; every other one has four digits.
        cut = 3 if text.startswith(("010", "02")) else 4
        if 7 <= len(text) - cut <= 8:
            return f"{text[:cut]}-{text[cut:]}"
    raise ValidationError(PHONE_MESSAGE, code="phone")


def clean_party(value) -> str:
    text = str(value or "").strip()
    if text not in Party.values:
        raise ValidationError(_("Choose one of the four parties."), code="choice")
    return text


def clean_order(value) -> int | None:
    """0–999, or None (the contact goes last of its party)."""
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, bool):
        raise ValidationError(_("Enter a whole number from 0 to 999."), code="invalid")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not re.fullmatch(r"\d{1,6}", text) or int(text) > MAX_ORDER:
        raise ValidationError(_("Enter a whole number from 0 to 999."), code="invalid")
    return int(text)


def clean_title(value) -> str:
    text = v.clean_text(value, max_length=100)
    if "\n" in text:
        raise ValidationError(_("Write the role on one line."), code="line")
    return text


CLEANERS = {
    "party": clean_party,
    "name": v.clean_name,
    "title": clean_title,
    "phone": clean_directory_phone,
    "is_primary": v.clean_required_bool,
    "sort_order": clean_order,
}


def _clean(errors: v.FieldErrors, given: dict) -> dict:
    unknown = set(given) - set(CLEANERS) - {"organization_id"}
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    return {
        name: errors.run(name, CLEANERS[name], value)
        for name, value in given.items()
        if name in CLEANERS
    }


def _organization(errors: v.FieldErrors, school, party: str | None, value) -> int | None:
    """The organization to link: the party's default, or one of its choices."""
    if party is None:
        return None
    if value is DEFAULT:
        return sel.default_organization_id(school, party)
    if value is None or value == "":
        return None
    try:
        number = int(value) if not isinstance(value, bool) else 0
    except (TypeError, ValueError):
        number = 0
    if number not in {o.pk for o in sel.organization_choices(school, party)}:
        errors.add(
            "organization_id",
            _("Choose an organization of this party near the school."),
        )
        return None
    return number


# ------------------------------------------------------------------ rights


def require_party(actor, school, *parties: str) -> None:
    """MANAGE_HEALTH on the school, and every party given among those `actor` may edit."""
    require(actor, Action.MANAGE_HEALTH, school.pk)
    allowed = sel.editable_parties(actor, school)
    if any(p not in allowed for p in parties if p in Party.values):
        raise PermissionDenied(
            _("You may change only the health centre's contacts of the schools you serve.")
        )


def _lock_party(school_id: int, party: str) -> list[HealthContact]:
    return list(
        HealthContact.objects.select_for_update()
        .filter(school_id=school_id, party=party)
        .order_by("pk")
    )


def _next_order(school_id: int, party: str, exclude: int | None = None) -> int:
    top = (
        HealthContact.objects.filter(school_id=school_id, party=party)
        .exclude(pk=exclude)
        .aggregate(top=Max("sort_order"))["top"]
    )
    return min(MAX_ORDER, 0 if top is None else top + ORDER_STEP)


def _unmark_others(*, actor, contact: HealthContact) -> None:
    """One first-to-call per party: the others of the party lose the mark (audited)."""
    for other in HealthContact.objects.filter(
        school_id=contact.school_id, party=contact.party, is_primary=True
    ).exclude(pk=contact.pk):
        before = snapshot(other)
        other.is_primary = False
        other.updated_by = acting_user(actor)
        other.save(update_fields=["is_primary", "updated_by", "updated_at"])
        audit_update(actor=actor, obj=other, before=before, school=contact.school_id)


def _pass_the_mark(*, actor, school_id: int, party: str) -> None:
    """A party with contacts keeps one first to call: when the one marked has left it, the
    first remaining contact by order takes the mark (audited)."""
    rows = list(
        HealthContact.objects.select_for_update()
        .filter(school_id=school_id, party=party)
        .order_by("sort_order", "pk")
    )
    if not rows or any(c.is_primary for c in rows):
        return
    first = rows[0]
    before = snapshot(first)
    first.is_primary = True
    first.updated_by = acting_user(actor)
    first.save(update_fields=["is_primary", "updated_by", "updated_at"])
    audit_update(actor=actor, obj=first, before=before, school=school_id)


# ------------------------------------------------------------------ writes


@transaction.atomic
def health_contact_create(
    *,
    actor,
    school: Organization,
    party,
    name,
    phone,
    title="",
    is_primary=False,
    sort_order=None,
    organization_id=DEFAULT,
) -> HealthContact:
    """Add a named contact to the school's directory."""
    require(actor, Action.MANAGE_HEALTH, school.pk)
    errors = v.FieldErrors()
    cleaned = _clean(
        errors,
        {
            "party": party,
            "name": name,
            "title": title,
            "phone": phone,
            "is_primary": is_primary,
            "sort_order": sort_order,
        },
    )
    if cleaned["party"]:
        require_party(actor, school, cleaned["party"])
    org_id = _organization(errors, school, cleaned["party"], organization_id)
    errors.raise_if_any()
    siblings = _lock_party(school.pk, cleaned["party"])
    if cleaned["sort_order"] is None:
        cleaned["sort_order"] = _next_order(school.pk, cleaned["party"])
    if not siblings:
        cleaned["is_primary"] = True  # the only contact of its party is the one to call
    contact = HealthContact.objects.create(
        school=school, organization_id=org_id, updated_by=acting_user(actor), **cleaned
    )
    audit_create(actor=actor, obj=contact, school=school.pk)
    if contact.is_primary:
        _unmark_others(actor=actor, contact=contact)
    return contact


@transaction.atomic
def health_contact_update(*, actor, contact: HealthContact, **changes) -> HealthContact:
    """Change the fields given (FIELDS). A contact moved to another party is linked to that
    party's default organization unless `organization_id` is given."""
    school = contact.school
    require_party(actor, school, contact.party)
    contact = HealthContact.objects.select_for_update().get(pk=contact.pk)
    errors = v.FieldErrors()
    cleaned = _clean(errors, changes)
    party = cleaned.get("party", contact.party) if "party" not in errors.errors else None
    if party and party != contact.party:
        require_party(actor, school, party)
    if "organization_id" in changes:
        cleaned["organization_id"] = _organization(
            errors, school, party, changes["organization_id"]
        )
    elif party and party != contact.party:
        cleaned["organization_id"] = sel.default_organization_id(school, party)
    errors.raise_if_any()
    old_party = contact.party
    if party != old_party:
        others = [c for c in _lock_party(school.pk, party) if c.pk != contact.pk]
        if cleaned.get("sort_order") is None:
            cleaned["sort_order"] = _next_order(school.pk, party, exclude=contact.pk)
        if "is_primary" not in cleaned:
            # The mark belongs to the party, not the person: it does not travel along.
            cleaned["is_primary"] = not others
    elif "sort_order" in cleaned and cleaned["sort_order"] is None:
        cleaned["sort_order"] = _next_order(school.pk, party, exclude=contact.pk)
    before = snapshot(contact)
    for key, value in cleaned.items():
        setattr(contact, key, value)
    if snapshot(contact) == before:
        return contact
    contact.updated_by = acting_user(actor)
    contact.save()
    audit_update(actor=actor, obj=contact, before=before, school=school.pk)
    if contact.is_primary:
        _unmark_others(actor=actor, contact=contact)
    if contact.party != old_party and before["is_primary"]:
        _pass_the_mark(actor=actor, school_id=school.pk, party=old_party)
    return contact


@transaction.atomic
def health_contact_delete(*, actor, contact: HealthContact) -> None:
    """Remove a contact (someone who left, a number no longer in use)."""
    require_party(actor, contact.school, contact.party)
    audit_delete(actor=actor, obj=contact, school=contact.school_id)
    contact.delete()
    if contact.is_primary:
        _pass_the_mark(actor=actor, school_id=contact.school_id, party=contact.party)


@transaction.atomic
def health_contacts_fill(*, actor, school: Organization) -> list[HealthContact]:
    """Add each party's organization switchboard as a contact, for the parties the actor
    may edit that have no contact yet and whose organization has a valid phone. Returns
    the contacts added (none twice: a second run adds nothing)."""
    require(actor, Action.MANAGE_HEALTH, school.pk)
    parties = sel.editable_parties(actor, school)
    if not parties:
        raise PermissionDenied(_("Your role does not allow this action."))
    # Two editors pressing the button together must not add the switchboards twice.
    Organization.objects.select_for_update().filter(pk=school.pk).first()
    taken = set(HealthContact.objects.filter(school_id=school.pk).values_list("party", flat=True))
    added = []
    for party, org in sel.party_organizations(school).items():
        if party not in parties or party in taken or org is None:
            continue
        try:
            phone = clean_directory_phone(org.phone)
        except ValidationError:
            continue
        contact = HealthContact.objects.create(
            school=school,
            party=party,
            organization=org,
            name=(org.short_name or org.name)[:50],
            title=gettext("Switchboard"),
            phone=phone,
            is_primary=True,
            sort_order=0,
            updated_by=acting_user(actor),
        )
        audit_create(actor=actor, obj=contact, school=school.pk)
        added.append(contact)
    return added
