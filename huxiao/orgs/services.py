"""Writes of organizations and memberships."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core.permissions import require
from huxiao.core.roles import ROLES_BY_KIND, Action, OrgKind
from huxiao.core.scoping import clear_scope_cache
from huxiao.orgs.models import Membership, Organization
from huxiao.people.validation import clean_text

SCHOOL_DETAIL_FIELDS = (
    "name",
    "short_name",
    "address",
    "phone",
    "stage",
    "is_boarding",
    "ownership",
    "is_registered",
    "operator",
    "landlord",
    "enrolment",
)
# The school facts the security compliance rules read (staffing by enrolment, boarding).
_COMPLIANCE_FACTS = ("enrolment", "is_boarding", "kind", "is_active")
_LINKS = {
    "police_station": OrgKind.POLICE_STATION,
    "police_post": OrgKind.POLICE_POST,
    "education_office": OrgKind.EDUCATION_OFFICE,
    "health_centre": OrgKind.HEALTH_CENTRE,
}


@transaction.atomic
def school_update(*, actor, school: Organization, **changes) -> Organization:
    """Edit a school's details and links. Unknown fields are refused, not ignored."""
    require(actor, Action.EDIT_ORG, school.pk)
    errors: dict[str, list] = {}
    unknown = set(changes) - set(SCHOOL_DETAIL_FIELDS) - set(_LINKS)
    for field in sorted(unknown):
        errors.setdefault(field, []).append(_("This field cannot be changed here."))
    if "name" in changes and not str(changes["name"] or "").strip():
        errors.setdefault("name", []).append(_("This field is required."))
        changes.pop("name")
    for field, kind in _LINKS.items():
        target = changes.get(field)
        if target is not None and (target.kind != kind or target.region_id != school.region_id):
            errors.setdefault(field, []).append(_("Choose an organization of the right kind."))
    if "enrolment" in changes:
        try:
            changes["enrolment"] = int(changes["enrolment"])
            if not 0 <= changes["enrolment"] <= 2_147_483_647:
                raise ValueError
        except (TypeError, ValueError, OverflowError):
            errors.setdefault("enrolment", []).append(_("Enter a whole number, 0 or more."))
    for field in ("is_boarding", "is_registered"):
        if field in changes and not isinstance(changes[field], bool):
            errors.setdefault(field, []).append(_("This field is required."))
    for field in ("stage", "ownership"):
        if field in changes:
            allowed = {c for c, _label in Organization._meta.get_field(field).choices}
            if changes[field] not in allowed | {""}:
                errors.setdefault(field, []).append(_("Select a valid choice."))
    for field in ("name", "short_name", "address", "phone", "operator", "landlord"):
        if field in changes:
            limit = Organization._meta.get_field(field).max_length
            try:
                changes[field] = clean_text(changes[field], max_length=limit)
            except ValidationError as exc:
                errors.setdefault(field, []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    before = snapshot(school)
    facts_before = [getattr(school, name) for name in _COMPLIANCE_FACTS]
    for key, value in changes.items():
        setattr(school, key, value)
    school.save()
    audit_update(actor=actor, obj=school, before=before)
    if [getattr(school, name) for name in _COMPLIANCE_FACTS] != facts_before:
        # Imported here: the security app imports the orgs app.
        from huxiao.security.compliance import reevaluate_on_commit

        reevaluate_on_commit([school.pk])
    return school


@transaction.atomic
def membership_grant(*, actor, user, organization: Organization, role: str, title="") -> Membership:
    """Give a user a role in an organization (system or administrators)."""
    if actor is not None and not getattr(actor, "is_superuser", False):
        raise ValidationError(_("Only administrators manage memberships in this version."))
    if role not in ROLES_BY_KIND.get(organization.kind, ()):
        raise ValidationError(
            {"role": [_("This role does not exist in this kind of organization.")]}
        )
    membership, created = Membership.objects.get_or_create(
        user=user, organization=organization, role=role, defaults={"title": title}
    )
    if created:
        audit_create(
            actor=actor, obj=membership, school=organization.pk if organization.is_school else None
        )
    clear_scope_cache(user)
    return membership
