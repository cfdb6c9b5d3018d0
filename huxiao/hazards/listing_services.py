"""Writes of listed supervision (挂牌督办), issue 6 item 3, ADR 0026 ("Listed supervision
and surroundings tasks").

A governance coordinator (`list_supervision` at the school) puts a hazard, or a prominent
problem of a school that is not one hazard, under the supervision of one of their offices,
with a reason, requirements and a deadline counted down in public. A **major** hazard is
listed by the platform itself when it is reported (`listing_auto_for_major`, called by
`hazard_services.hazard_report`): the school's town governance office supervises it, by the
hazard's deadline or in 30 days. The supervising side edits the listing (reference number,
requirements, deadline, public or not) and lifts it (摘牌) with a note; while the listed
hazard is not verified and closed, lifting needs an explicit "lift anyway". Once it is
closed the listing awaits lifting (待摘牌): the supervising office is told once
(`listing_hazard_closed`, called when the hazard is verified, and the daily job as a
catch-up) and the countdown and reminders stop. A hazard reopened after its listing was
lifted may be listed again: at most one listing of a hazard is active.

Order of checks in every write: scope (404), right (403), state (`ListingRefused`, 409),
input (400). Every write is audited; the school's principals are notified (after commit).
`listings_remind` is the daily job: due within three days, or overdue, each listing tells
its school's principals (overdue: the supervising office too), once a day at most; a
listing whose hazard is closed reminds no one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import SCHOOL_KINDS, Action, OrgKind, Role, role_allows
from huxiao.core.scoping import can, memberships_of, school_filter_for_org
from huxiao.hazards import listing_selectors as selectors
from huxiao.hazards.choices import HazardLevel, HazardStatus, ListingStatus
from huxiao.hazards.hazard_services import clean_deadline, local_today
from huxiao.hazards.models import Hazard, ListedSupervision
from huxiao.orgs.models import Membership, Organization
from huxiao.people import validation as v

# A listing due within this many days reminds the school every morning.
REMIND_DAYS = 3
# A major hazard reported without a deadline is listed for this many days.
AUTO_DEADLINE_DAYS = 30
# The roles that hold LIST_SUPERVISION (the governance coordinators): the supervising
# office's people to tell when a listing is overdue.
SUPERVISING_ROLES = (Role.GOVERNANCE_COORDINATOR,)


class ListingRefused(ValidationError):
    """A write the listing's state (or its hazard's) does not allow; views answer 409."""

    def __init__(self, message):
        super().__init__(message, code="transition")


# ------------------------------------------------------------------ who


def actor_supervising_offices(actor) -> list[Organization]:
    """Every active office (not a school) where the actor's role allows
    `list_supervision`: town offices before county ones."""
    offices: dict[int, Organization] = {}
    for m in memberships_of(actor):
        org = m.organization
        if org.pk in offices or not org.is_active or org.kind in SCHOOL_KINDS:
            continue
        if role_allows(m.role, Action.LIST_SUPERVISION, county_level=org.is_county_level):
            offices[org.pk] = org
    return sorted(offices.values(), key=lambda o: (o.town_id is None, o.pk))


def supervising_offices_of(actor, school) -> list[Organization]:
    """The actor's offices through which a listing at the school may be made: those whose
    scope covers the school; the school's own town first, then the county."""
    offices = [
        org
        for org in actor_supervising_offices(actor)
        if Organization.objects.filter(school_filter_for_org(org), pk=school.pk).exists()
    ]
    return sorted(offices, key=lambda o: (o.town_id != school.town_id, o.pk))


def may_manage(actor, listing: ListedSupervision) -> bool:
    """Edit and lift: the supervising organization's coordinators, or the county's (the
    level above), as long as they hold `list_supervision` at the school."""
    if not can(actor, Action.LIST_SUPERVISION, listing.school_id):
        return False
    for m in memberships_of(actor):
        org = m.organization
        if not role_allows(m.role, Action.LIST_SUPERVISION, county_level=org.is_county_level):
            continue
        if org.pk == listing.supervising_org_id:
            return True
        if org.is_county_level and org.region_id == listing.school.region_id:
            return True
    return False


def has_active_listing(hazard_id: int) -> bool:
    """Whether the hazard is under an active listing (a lifted one does not count: a
    reopened hazard may be listed again)."""
    return ListedSupervision.objects.filter(
        hazard_id=hazard_id, status=ListingStatus.ACTIVE
    ).exists()


def may_list_hazard(actor, hazard: Hazard) -> bool:
    """The hazard page's "list under supervision" action."""
    return (
        hazard.status != HazardStatus.CLOSED
        and can(actor, Action.LIST_SUPERVISION, hazard.school_id)
        and not has_active_listing(hazard.pk)
    )


def town_governance_office(school) -> Organization | None:
    """The governance office of the school's town (the lowest id if there are several)."""
    if not school.town_id:
        return None
    return (
        Organization.objects.filter(
            kind=OrgKind.GOVERNANCE_OFFICE, town_id=school.town_id, is_active=True
        )
        .order_by("pk")
        .first()
    )


# ------------------------------------------------------------------ helpers


def _message(template, params: dict) -> str:
    """A notification or timeline text in the platform's language, whoever triggered it."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % params


def clean_reference(value) -> str:
    """An optional document number such as 挂督〔2026〕3号 (one line, ≤ 60 characters)."""
    text = v.clean_text(value, max_length=60)
    if "\n" in text:
        raise ValidationError(_("The reference number is one line."), code="reference")
    return text


def _principals(school_id: int) -> list[int]:
    return list(
        Membership.objects.filter(
            organization_id=school_id, role=Role.PRINCIPAL, is_active=True, user__is_active=True
        ).values_list("user_id", flat=True)
    )


def _coordinators(org_ids) -> dict[int, set[int]]:
    result: dict[int, set[int]] = defaultdict(set)
    for org_id, user_id in Membership.objects.filter(
        organization_id__in=list(org_ids),
        role__in=SUPERVISING_ROLES,
        is_active=True,
        user__is_active=True,
    ).values_list("organization_id", "user_id"):
        result[org_id].add(user_id)
    return result


def _params(listing: ListedSupervision) -> dict:
    return {
        "title": listing.title,
        "school": listing.school.name,
        "org": listing.supervising_org.name,
        "deadline": listing.deadline.isoformat(),
    }


def _notify(listing, *, event_type, title, body, recipients, actor=None, organizations=()):
    """Inbox notifications of one write; never the person who made it."""
    users = {pk for pk in recipients if pk}
    if actor is not None and getattr(actor, "pk", None) in users:
        users.discard(actor.pk)
    if not users and not organizations:
        return
    from huxiao.notify.services import notify_send

    params = _params(listing)
    notify_send(
        organizations=list(organizations),
        event_type=event_type,
        title=_message(title, params),
        body=_message(body, params) if body else "",
        payload={
            "listing_id": listing.pk,
            "school_id": listing.school_id,
            "hazard_id": listing.hazard_id,
        },
        recipients=sorted(users),
    )


def _lock(actor, listing: ListedSupervision) -> ListedSupervision:
    locked = (
        selectors.visible_listings(actor, ListedSupervision.objects.select_for_update(of=("self",)))
        .select_related("school", "supervising_org", "hazard")
        .filter(pk=listing.pk)
        .first()
    )
    if locked is None:
        raise Http404
    return locked


def _save(*, actor, now, notify_office: bool = False, **fields) -> ListedSupervision:
    listing = ListedSupervision.objects.create(
        listed_by=acting_user(actor), listed_at=now, status=ListingStatus.ACTIVE, **fields
    )
    audit_create(actor=actor, obj=listing)
    recipients = _principals(listing.school_id)
    if notify_office:
        recipients += sorted(
            _coordinators([listing.supervising_org_id])[listing.supervising_org_id]
        )
    _notify(
        listing,
        event_type="listings.listed",
        title=_("%(school)s placed under listed supervision: %(title)s"),
        body=_("Supervised by %(org)s. Rectify by %(deadline)s and report to them."),
        recipients=recipients,
        actor=actor,
    )
    return listing


# ------------------------------------------------------------------ create


@transaction.atomic
def listing_create(
    *,
    actor,
    school=None,
    hazard=None,
    title: str = "",
    reason: str = "",
    requirements: str = "",
    deadline=None,
    reference: str = "",
    supervising_org=None,
    is_public: bool = True,
    now=None,
) -> ListedSupervision:
    """Place a hazard (or, without one, a prominent problem of `school`) under listed
    supervision. `supervising_org` defaults to the actor's office for the school (the
    town's before the county's); a given one must be such an office of the actor."""
    now = now or timezone.now()
    if hazard is not None:
        hazard = (
            Hazard.objects.select_for_update(of=("self",))
            .visible_to(actor, Action.VIEW)
            .select_related("school")
            .filter(pk=hazard.pk)
            .first()
        )
        if hazard is None:
            raise Http404
        if school is not None and school.pk != hazard.school_id:
            raise ValidationError({"hazard": [_("The hazard is of another school.")]})
        school = hazard.school
    if school is None or not can(actor, Action.VIEW, school.pk):
        raise Http404
    require(actor, Action.LIST_SUPERVISION, school.pk)
    if school.kind not in SCHOOL_KINDS:
        raise ValidationError({"school_id": [_("This organization is not a school.")]})
    if hazard is not None:
        if has_active_listing(hazard.pk):
            raise ListingRefused(
                _("This hazard is already under an active listed supervision; lift it first.")
            )
        if hazard.status == HazardStatus.CLOSED:
            raise ListingRefused(
                _("A verified and closed hazard cannot be listed; reopen it first.")
            )
    errors = v.FieldErrors()
    title = errors.run(
        "title",
        v.clean_text,
        title or (hazard.title if hazard is not None else ""),
        max_length=200,
        required=True,
    )
    reason = errors.run("reason", v.clean_text, reason, max_length=4000, required=True)
    requirements = errors.run("requirements", v.clean_text, requirements, max_length=4000)
    reference = errors.run("reference", clean_reference, reference)
    deadline = errors.run("deadline", clean_deadline, deadline, now=now, required=True)
    offices = supervising_offices_of(actor, school)
    if supervising_org is None:
        if offices:
            supervising_org = offices[0]
        else:
            errors.add(
                "supervising_org",
                _("You hold no office that may supervise this school."),
            )
    else:
        supervising_org = next((o for o in offices if o.pk == supervising_org.pk), None)
        if supervising_org is None:
            errors.add(
                "supervising_org",
                _("Choose one of your offices that covers this school."),
            )
    if (
        reference
        and supervising_org is not None
        and ListedSupervision.objects.filter(
            supervising_org=supervising_org, reference=reference
        ).exists()
    ):
        errors.add("reference", _("This reference number is already used by your office."))
    errors.raise_if_any()
    return _save(
        actor=actor,
        now=now,
        school=school,
        hazard=hazard,
        title=title,
        reason=reason,
        requirements=requirements or "",
        deadline=deadline,
        reference=reference or "",
        supervising_org=supervising_org,
        is_public=bool(is_public),
    )


def listing_auto_for_major(*, hazard: Hazard, now=None) -> ListedSupervision | None:
    """List a major hazard by the platform's rule (inside the caller's transaction): the
    school's town governance office supervises it, by the hazard's deadline or in
    AUTO_DEADLINE_DAYS days. Nothing when the hazard is not major, under an active
    listing or closed, or when the town has no governance office (the hazard page says so). The
    listing is the platform's (no `listed_by`, audited as "system"), not the reporter's:
    a school member who reports a major hazard does not hold `list_supervision`."""
    if hazard.level != HazardLevel.MAJOR or hazard.status == HazardStatus.CLOSED:
        return None
    if has_active_listing(hazard.pk):
        return None
    school = hazard.school
    office = town_governance_office(school)
    if office is None:
        return None
    now = now or timezone.now()
    deadline = hazard.deadline or local_today(now) + dt.timedelta(days=AUTO_DEADLINE_DAYS)
    return _save(
        actor=None,
        now=now,
        notify_office=True,
        school=school,
        hazard=hazard,
        title=hazard.title[:200],
        reason=_message(_("A major hazard: listed automatically when it was reported."), {}),
        requirements=_message(
            _(
                "Rectify the hazard by the deadline, submit the rectification with evidence "
                "for verification, and report progress to the supervising office."
            ),
            {},
        ),
        deadline=deadline,
        reference="",
        supervising_org=office,
        is_public=True,
    )


# ------------------------------------------------------------------ edit and lift


@transaction.atomic
def listing_update(
    *,
    actor,
    listing: ListedSupervision,
    reference=None,
    requirements=None,
    deadline=None,
    is_public=None,
    now=None,
) -> ListedSupervision:
    """The supervising side completes or changes an active listing (e.g. the reference
    number and requirements of an automatic one, a new deadline). Fields left as None
    are kept."""
    now = now or timezone.now()
    listing = _lock(actor, listing)
    if not may_manage(actor, listing):
        raise PermissionDenied(_("Only the supervising office may change this listing."))
    if listing.status != ListingStatus.ACTIVE:
        raise ListingRefused(_("A lifted listing can no longer be changed."))
    errors = v.FieldErrors()
    if reference is not None:
        reference = errors.run("reference", clean_reference, reference)
        if (
            reference
            and ListedSupervision.objects.filter(
                supervising_org_id=listing.supervising_org_id, reference=reference
            )
            .exclude(pk=listing.pk)
            .exists()
        ):
            errors.add("reference", _("This reference number is already used by your office."))
    if requirements is not None:
        requirements = errors.run("requirements", v.clean_text, requirements, max_length=4000)
    if deadline not in (None, "") and deadline != listing.deadline:
        deadline = errors.run("deadline", clean_deadline, deadline, now=now, required=True)
    else:
        deadline = None
    errors.raise_if_any()
    before = snapshot(listing)
    previous_deadline = listing.deadline
    if reference is not None:
        listing.reference = reference
    if requirements is not None:
        listing.requirements = requirements
    if deadline is not None:
        listing.deadline = deadline
    if is_public is not None:
        listing.is_public = bool(is_public)
    listing.save()
    audit_update(actor=actor, obj=listing, before=before)
    if listing.deadline != previous_deadline:
        _notify(
            listing,
            event_type="listings.deadline",
            title=_("New deadline of a listed supervision: %(title)s"),
            body=_("%(school)s: rectify by %(deadline)s (supervised by %(org)s)."),
            recipients=_principals(listing.school_id),
            actor=actor,
        )
    return listing


@transaction.atomic
def listing_lift(
    *, actor, listing: ListedSupervision, note: str, lift_anyway: bool = False, now=None
) -> ListedSupervision:
    """摘牌: the supervising side lifts an active listing with a note. While the listed
    hazard is not verified and closed this is refused unless `lift_anyway` is set; the
    note is then the reason, and the lifting note says the hazard was still open."""
    now = now or timezone.now()
    listing = _lock(actor, listing)
    if not may_manage(actor, listing):
        raise PermissionDenied(_("Only the supervising office may lift this listing."))
    if listing.status != ListingStatus.ACTIVE:
        raise ListingRefused(_("This listing has already been lifted."))
    hazard_open = listing.hazard is not None and listing.hazard.status != HazardStatus.CLOSED
    if hazard_open and not lift_anyway:
        raise ListingRefused(
            _message(
                _(
                    "The listed hazard is not closed yet (%(status)s). Have it verified and "
                    "closed first, or lift anyway and give the reason in the note."
                ),
                {"status": listing.hazard.get_status_display()},
            )
        )
    errors = v.FieldErrors()
    note = errors.run("note", v.clean_text, note, max_length=1800, required=True)
    errors.raise_if_any()
    if hazard_open:
        note = _message(
            _("Lifted while the hazard was still open (%(status)s): %(note)s"),
            {"status": listing.hazard.get_status_display(), "note": note},
        )
    before = snapshot(listing)
    listing.status = ListingStatus.LIFTED
    listing.lifted_by = acting_user(actor)
    listing.lifted_at = now
    listing.lift_note = note
    listing.save()
    audit_update(actor=actor, obj=listing, before=before)
    _notify(
        listing,
        event_type="listings.lifted",
        title=_("Listed supervision lifted: %(title)s"),
        body=_("%(org)s has lifted the listed supervision of %(school)s."),
        recipients=_principals(listing.school_id),
        actor=actor,
    )
    return listing


# ------------------------------------------------------------------ the listed hazard is closed


def _closed_key(listing: ListedSupervision) -> str:
    """Once per listing and closure of its hazard (a hazard reopened and closed again
    under the same listing is told again)."""
    closed_at = listing.hazard.closed_at
    stamp = closed_at.isoformat() if closed_at is not None else "closed"
    return f"listings.closed:{listing.pk}:{stamp}"


def _closed_messages(listings: list[ListedSupervision]) -> list[dict]:
    if not listings:
        return []
    coordinators = _coordinators({listing.supervising_org_id for listing in listings})
    messages = []
    for listing in listings:
        params = _params(listing)
        messages.append(
            dict(
                organizations=[listing.supervising_org_id],
                event_type="listings.hazard_closed",
                title=_message(_("Listed hazard closed, awaiting lifting: %(title)s"), params),
                body=_message(
                    _(
                        "%(school)s: the hazard under the listed supervision of %(org)s has "
                        "been verified and closed. Lift the listing with a note."
                    ),
                    params,
                ),
                payload={
                    "listing_id": listing.pk,
                    "school_id": listing.school_id,
                    "hazard_id": listing.hazard_id,
                },
                recipients=sorted(coordinators[listing.supervising_org_id]),
                dedupe_key=_closed_key(listing),
            )
        )
    return messages


def _awaiting(qs) -> list[ListedSupervision]:
    return list(
        qs.filter(status=ListingStatus.ACTIVE, hazard__status=HazardStatus.CLOSED)
        .select_related("school", "supervising_org", "hazard")
        .order_by("pk")
    )


def listing_hazard_closed(*, hazard: Hazard) -> list[int]:
    """The hazard of an active listing has been verified and closed: the listing now
    awaits lifting (待摘牌); tell the supervising office's coordinators, once (dedupe
    key). Called by `hazard_services.hazard_verify` inside its transaction (sent after
    commit); the daily job catches up on any closure not told yet. Returns the ids of the
    listings concerned."""
    from huxiao.notify.services import notify_send_many

    listings = _awaiting(ListedSupervision.objects.filter(hazard_id=hazard.pk))
    notify_send_many(_closed_messages(listings))
    return [listing.pk for listing in listings]


# ------------------------------------------------------------------ the daily reminder


def listings_remind(*, now: dt.datetime | None = None) -> dict:
    """Remind of active listings due within REMIND_DAYS days (the school's principals) or
    past their deadline (the principals and the supervising office's coordinators), one
    notification per listing per day. A listing whose hazard is verified and closed
    awaits lifting and reminds no one; the supervising office is told of it once
    ("awaiting", the catch-up of `listing_hazard_closed`). Returns the ids of the
    listings concerned by this run: a second run the same day sends nothing and returns
    empty lists."""
    from huxiao.notify.models import Notification
    from huxiao.notify.services import notify_send_many

    now = now or timezone.now()
    today = local_today(now)
    listings = list(
        ListedSupervision.objects.filter(
            status=ListingStatus.ACTIVE,
            deadline__lte=today + dt.timedelta(days=REMIND_DAYS),
        )
        .filter(Q(hazard__isnull=True) | ~Q(hazard__status=HazardStatus.CLOSED))
        .select_related("school", "supervising_org")
        .order_by("deadline", "pk")
    )
    awaiting = _awaiting(ListedSupervision.objects.all())
    keys = {listing.pk: f"listings.remind:{listing.pk}:{today.isoformat()}" for listing in listings}
    closed_keys = {listing.pk: _closed_key(listing) for listing in awaiting}
    sent = set(
        Notification.objects.filter(
            dedupe_key__in=[*keys.values(), *closed_keys.values()]
        ).values_list("dedupe_key", flat=True)
    )
    listings = [listing for listing in listings if keys[listing.pk] not in sent]
    awaiting = [listing for listing in awaiting if closed_keys[listing.pk] not in sent]
    result = {"near": [], "overdue": [], "awaiting": [listing.pk for listing in awaiting]}
    if not listings:
        notify_send_many(_closed_messages(awaiting))
        return result
    principals: dict[int, set[int]] = defaultdict(set)
    for org_id, user_id in Membership.objects.filter(
        organization_id__in={listing.school_id for listing in listings},
        role=Role.PRINCIPAL,
        is_active=True,
        user__is_active=True,
    ).values_list("organization_id", "user_id"):
        principals[org_id].add(user_id)
    overdue = [listing for listing in listings if listing.deadline < today]
    coordinators = _coordinators({listing.supervising_org_id for listing in overdue})
    messages = []
    for listing in listings:
        params = _params(listing)
        n = (listing.deadline - today).days
        params["n"] = abs(n)
        payload = {"listing_id": listing.pk, "school_id": listing.school_id}
        if n < 0:
            result["overdue"].append(listing.pk)
            messages.append(
                dict(
                    organizations=[listing.school_id, listing.supervising_org_id],
                    event_type="listings.overdue",
                    title=_message(
                        _("Listed supervision overdue by %(n)s day(s): %(title)s"), params
                    ),
                    body=_message(
                        _("%(school)s was to rectify by %(deadline)s (supervised by %(org)s)."),
                        params,
                    ),
                    payload=payload,
                    recipients=sorted(
                        principals[listing.school_id] | coordinators[listing.supervising_org_id]
                    ),
                    dedupe_key=keys[listing.pk],
                )
            )
        else:
            result["near"].append(listing.pk)
            messages.append(
                dict(
                    organizations=[listing.school_id],
                    event_type="listings.due",
                    title=_message(
                        _("Listed supervision due today: %(title)s")
                        if n == 0
                        else _("Listed supervision due in %(n)s day(s): %(title)s"),
                        params,
                    ),
                    body=_message(
                        _("%(school)s: rectify by %(deadline)s and report to %(org)s."), params
                    ),
                    payload=payload,
                    recipients=sorted(principals[listing.school_id]),
                    dedupe_key=keys[listing.pk],
                )
            )
    notify_send_many(messages + _closed_messages(awaiting))
    return result
