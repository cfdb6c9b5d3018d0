"""Writes of contraband interceptions at the gate (issue 5, ADR 0024; §2 5: no knife or
flammable item gets in).

Recorded by the gate (`register_visitor`). Every interception is notified to the police of
the school's station and post (their inbox and the station's channels), after commit; the
row keeps when the police were told (`police_notified_at`).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from huxiao.access import photos
from huxiao.access.choices import CarrierKind, ContrabandCategory, Handling
from huxiao.access.models import Interception, Visit
from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action, role_allows
from huxiao.orgs.models import Membership
from huxiao.people import validation as v

EVENT_INTERCEPTION = "access.interception"


def station_police(school) -> list:
    """Police of the school's station and post who follow up what the gate reports."""
    org_ids = [i for i in (school.police_station_id, school.police_post_id) if i]
    if not org_ids:
        return []
    return [
        m.user
        for m in Membership.objects.filter(
            organization_id__in=org_ids, is_active=True, user__is_active=True
        ).select_related("user")
        if role_allows(m.role, Action.HANDLE_WARNING)
    ]


def _notify_police(interception: Interception, now: dt.datetime) -> bool:
    from huxiao.notify.services import notify_send

    school = interception.school
    recipients = station_police(school)
    if not school.police_station_id and not recipients:
        return False
    # Rendered in the platform's language (the police read Chinese), not the guard's.
    with translation.override(settings.LANGUAGE_CODE):
        names = {
            "school": school.name,
            "category": str(ContrabandCategory(interception.category).label),
            "item": interception.item,
        }
        title = gettext("Prohibited item stopped at %(school)s: %(category)s") % names
        body = gettext("%(item)s, carried by %(carrier)s; handling: %(handling)s.") % {
            "item": interception.item,
            "carrier": " ".join(
                p
                for p in (
                    str(CarrierKind(interception.carrier_kind).label),
                    interception.carrier_name,
                )
                if p
            ),
            "handling": str(Handling(interception.handling).label),
        }
    sent = notify_send(
        organizations=[i for i in (school.police_station_id,) if i],
        event_type=EVENT_INTERCEPTION,
        title=title,
        body=body,
        payload={
            "id": interception.pk,
            "school_id": school.pk,
            "category": interception.category,
            "url": reverse("access:contraband_detail", args=[interception.pk]),
        },
        recipients=recipients,
        dedupe_key=f"access.interception:{interception.pk}",
    )
    return sent is not None


@transaction.atomic
def interception_record(
    *,
    actor,
    school,
    category: str,
    item: str,
    carrier_kind: str,
    handling: str,
    carrier_name: str = "",
    visit=None,
    note: str = "",
    photo: bytes | None = None,
    now: dt.datetime | None = None,
) -> Interception:
    """Record a prohibited item stopped at the gate and tell the station's police."""
    require(actor, Action.REGISTER_VISITOR, school.pk)
    now = now or timezone.now()
    errors = v.FieldErrors()
    if category not in ContrabandCategory.values:
        errors.add("category", _("Select a valid choice."))
    if carrier_kind not in CarrierKind.values:
        errors.add("carrier_kind", _("Select a valid choice."))
    if handling not in Handling.values:
        errors.add("handling", _("Select a valid choice."))
    item = errors.run("item", v.clean_text, item, max_length=100, required=True)
    carrier_name = errors.run("carrier_name", v.clean_text, carrier_name, max_length=50)
    note = errors.run("note", v.clean_text, note, max_length=500)
    found_visit = None
    if visit not in (None, ""):
        try:
            visit_id = int(getattr(visit, "pk", visit))
        except (TypeError, ValueError):
            visit_id = 0
        # Only a visit of this school; another school's is "unknown" like a missing one.
        found_visit = Visit.objects.filter(school=school, pk=visit_id).first()
        if found_visit is None:
            errors.add("visit", _("Unknown visit."))
    interception = Interception(
        school=school,
        at=now,
        category=category,
        item=item or "",
        carrier_kind=carrier_kind,
        carrier_name=carrier_name or (found_visit.name if found_visit else ""),
        visit=found_visit,
        handling=handling,
        note=note or "",
        recorded_by=acting_user(actor),
    )
    try:
        photos.set_photo(interception, photo)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add("photo", message)
    errors.raise_if_any()
    interception.save()
    audit_create(actor=actor, obj=interception)
    if _notify_police(interception, now):
        interception.police_notified_at = now
        interception.save(update_fields=["police_notified_at"])
    return interception


@transaction.atomic
def interception_update_handling(
    *, actor, interception: Interception, handling: str, note: str | None = None
) -> Interception:
    """Record what became of the item (returned on leaving, handed to the police …)."""
    require(actor, Action.REGISTER_VISITOR, interception.school_id)
    errors = v.FieldErrors()
    if handling not in Handling.values:
        errors.add("handling", _("Select a valid choice."))
    if note is not None:
        note = errors.run("note", v.clean_text, note, max_length=500)
    errors.raise_if_any()
    before = snapshot(interception)
    interception.handling = handling
    if note is not None:
        interception.note = note or ""
    interception.save(update_fields=["handling", "note"])
    audit_update(actor=actor, obj=interception, before=before)
    return interception
