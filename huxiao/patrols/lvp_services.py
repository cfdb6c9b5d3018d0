"""Writes of legal vice-principal (法制副校长) assignments (ADR 0020).

The station commander (`assign_lvp`) appoints an officer of the school's police station.
The assignment record is the source of truth; the officer's LEGAL_VICE_PRINCIPAL membership
at the station follows it: granted (or re-activated) with the first active assignment, its
title naming the schools, and ended with the last one. Memberships at a school carry school
roles only (ROLES_BY_KIND), which is why the post is held at the station.

The membership grants no actions of its own (core/roles.py): the officer works through their
commander/officer membership at the station. It is still kept tidy — an assignment counts
only while its term runs and while the officer is police of the station — and the daily
`lvp_sweep` ends assignments whose term has passed (ADR 0020, addendum)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from huxiao.audit.services import audit_create, audit_update, snapshot
from huxiao.core.names import acting_user
from huxiao.core.permissions import require
from huxiao.core.roles import Action, Role
from huxiao.core.scoping import clear_scope_cache
from huxiao.orgs.models import Membership, Organization
from huxiao.patrols.lvp_selectors import lvp_current_q, lvp_today
from huxiao.patrols.models import LegalVicePrincipal
from huxiao.people import validation as v

# The official title of the post, stored as data like the other membership titles ("所长").
LVP_TITLE_SUFFIX = "法制副校长"
EARLIEST_TERM = dt.date(2000, 1, 1)
LATEST_TERM = dt.date(2100, 12, 31)
# The reason the daily sweep writes when a term runs out; data in Chinese, like the title.
TERM_ENDED_REASON = "任期届满"


def lvp_title(school_names) -> str:
    return "、".join(sorted(school_names)) + LVP_TITLE_SUFFIX


def officer_belongs_to_station(user, station: Organization) -> bool:
    """An active commander or officer membership at the station itself. Not a campus police
    post's: the LVP membership is held at the station and gives the station's scope, which
    must not be wider than what the officer already had (ADR 0020)."""
    return Membership.objects.filter(
        user=user,
        is_active=True,
        role__in=[Role.POLICE_COMMANDER, Role.POLICE_OFFICER],
        organization=station,
        organization__is_active=True,
    ).exists()


def lvp_membership_sync(
    *, actor, officer, station: Organization, today: dt.date | None = None
) -> Membership | None:
    """Make the officer's LVP membership at `station` match their current assignments.

    It is active only while the officer holds a current assignment there (not ended, term
    not passed) and is still an active commander or officer of the station: the post must
    never outlast the officer's own police membership."""
    today = today or lvp_today()
    active = []
    if officer.is_active and officer_belongs_to_station(officer, station):
        active = list(
            LegalVicePrincipal.objects.filter(
                lvp_current_q(today), officer=officer, station=station
            ).select_related("school")
        )
    membership = Membership.objects.filter(
        user=officer, organization=station, role=Role.LEGAL_VICE_PRINCIPAL
    ).first()
    if active:
        title = lvp_title(a.school.name for a in active)[:100]
        if membership is None:
            membership = Membership.objects.create(
                user=officer,
                organization=station,
                role=Role.LEGAL_VICE_PRINCIPAL,
                title=title,
            )
            audit_create(actor=actor, obj=membership)
        elif not membership.is_active or membership.title != title:
            before = snapshot(membership)
            membership.is_active = True
            membership.title = title
            membership.save(update_fields=["is_active", "title"])
            audit_update(actor=actor, obj=membership, before=before)
    elif membership is not None and membership.is_active:
        before = snapshot(membership)
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        audit_update(actor=actor, obj=membership, before=before)
    clear_scope_cache(officer)
    return membership


def _term_end_moment(term_end: dt.date, now: dt.datetime) -> dt.datetime:
    """The last moment of the term's last day (local time), never later than now."""
    last = timezone.make_aware(dt.datetime.combine(term_end, dt.time.max))
    return min(last, now)


def _expire_due(*, now: dt.datetime, today: dt.date, school=None) -> list[LegalVicePrincipal]:
    """End (as the system) the active assignments whose term ended before `today`; the caller
    re-syncs the memberships. Locked and re-checked: two runs end nothing twice."""
    due = LegalVicePrincipal.objects.filter(ended_at__isnull=True, term_end__lt=today)
    if school is not None:
        due = due.filter(school=school)
    ended = []
    for assignment in due.select_for_update().order_by("pk"):
        before = snapshot(assignment)
        assignment.ended_at = _term_end_moment(assignment.term_end, now)
        assignment.end_reason = TERM_ENDED_REASON
        assignment.save(update_fields=["ended_at", "end_reason"])
        audit_update(actor=None, obj=assignment, before=before, school=assignment.school_id)
        ended.append(assignment)
    return ended


def lvp_sweep(*, now: dt.datetime | None = None) -> dict:
    """The daily job: end the assignments whose term has passed, and bring every officer's
    LVP membership back in line with their assignments and police memberships (an officer
    who left the station keeps no LVP membership). Idempotent."""
    now = now or timezone.now()
    today = lvp_today(now)
    with transaction.atomic():
        ended = _expire_due(now=now, today=today)
    active_before = set(
        Membership.objects.filter(role=Role.LEGAL_VICE_PRINCIPAL, is_active=True).values_list(
            "user_id", "organization_id"
        )
    )
    pairs = active_before | set(
        LegalVicePrincipal.objects.filter(lvp_current_q(today)).values_list(
            "officer_id", "station_id"
        )
    )
    pairs |= {(a.officer_id, a.station_id) for a in ended}
    users = get_user_model().objects.in_bulk({user_id for user_id, _station in pairs})
    stations = Organization.objects.in_bulk({station_id for _user, station_id in pairs})
    deactivated = []
    for user_id, station_id in sorted(pairs):
        with transaction.atomic():
            membership = lvp_membership_sync(
                actor=None, officer=users[user_id], station=stations[station_id], today=today
            )
        if (user_id, station_id) in active_before and not membership.is_active:
            deactivated.append(membership.pk)
    return {"ended": [a.pk for a in ended], "inactive_memberships": deactivated}


def _clean_term(errors: v.FieldErrors, term_start, term_end) -> None:
    for field, day in (("term_start", term_start), ("term_end", term_end)):
        if day is not None and not isinstance(day, dt.date):
            errors.add(field, _("Enter a date as YYYY-MM-DD, e.g. 2025-03-01."))
        elif day is not None and not EARLIEST_TERM <= day <= LATEST_TERM:
            errors.add(
                field,
                _("Choose a date between %(earliest)s and %(latest)s.")
                % {"earliest": EARLIEST_TERM.isoformat(), "latest": LATEST_TERM.isoformat()},
            )
    if term_start is None:
        errors.add("term_start", _("This field is required."))
    if (
        not errors.errors
        and term_end is not None
        and term_start is not None
        and term_end <= term_start
    ):
        errors.add("term_end", _("The term must end after it starts."))


@transaction.atomic
def lvp_assign(
    *,
    actor,
    school: Organization,
    officer,
    term_start: dt.date,
    appointment_no: str,
    term_end: dt.date | None = None,
    now: dt.datetime | None = None,
) -> LegalVicePrincipal:
    """Appoint `officer` legal vice-principal of `school`; one active per school."""
    require(actor, Action.ASSIGN_LVP, school.pk)
    now = now or timezone.now()
    today = lvp_today(now)
    errors = v.FieldErrors()
    station = school.police_station
    if station is None:
        errors.add("school_id", _("This school has no police station assigned."))
    elif officer is None or not officer_belongs_to_station(officer, station):
        # Generic: do not reveal who works where outside the actor's station.
        errors.add("officer_id", _("Choose an officer of the school's police station."))
    _clean_term(errors, term_start, term_end)
    if not errors.errors and term_end is not None and term_end < today:
        errors.add(
            "term_end", _("This term has already ended; enter a term that is still running.")
        )
    appointment_no = errors.run(
        "appointment_no", v.clean_text, appointment_no, max_length=60, required=True
    )
    # A predecessor whose term has run out is ended now, so that the successor can be
    # appointed the day after without waiting for the nightly sweep.
    for expired in _expire_due(now=now, today=today, school=school):
        lvp_membership_sync(
            actor=None, officer=expired.officer, station=expired.station, today=today
        )
    if LegalVicePrincipal.objects.filter(school=school, ended_at__isnull=True).exists():
        errors.add(
            "school_id",
            _("This school already has a legal vice-principal; end that assignment first."),
        )
    errors.raise_if_any()
    try:
        with transaction.atomic():
            assignment = LegalVicePrincipal.objects.create(
                school=school,
                station=station,
                officer=officer,
                term_start=term_start,
                term_end=term_end,
                appointment_no=appointment_no,
                created_by=acting_user(actor),
            )
    except IntegrityError:
        # Two commanders at once: the partial unique constraint keeps one.
        raise ValidationError(
            {
                "school_id": [
                    _("This school already has a legal vice-principal; end that assignment first.")
                ]
            }
        ) from None
    audit_create(actor=actor, obj=assignment, school=school.pk)
    lvp_membership_sync(actor=actor, officer=officer, station=station, today=today)
    return assignment


@transaction.atomic
def lvp_end(
    *, actor, assignment: LegalVicePrincipal, reason: str = "", now=None
) -> LegalVicePrincipal:
    """End an assignment; the officer's LVP membership ends with their last one."""
    require(actor, Action.ASSIGN_LVP, assignment.school_id)
    errors = v.FieldErrors()
    if assignment.ended_at is not None:
        errors.add("__all__", _("This assignment has already ended."))
    reason = errors.run("reason", v.clean_text, reason, max_length=200)
    errors.raise_if_any()
    assignment = LegalVicePrincipal.objects.select_for_update().get(pk=assignment.pk)
    if assignment.ended_at is not None:
        raise ValidationError({"__all__": [_("This assignment has already ended.")]})
    before = snapshot(assignment)
    assignment.ended_at = now or timezone.now()
    assignment.end_reason = reason or ""
    assignment.save(update_fields=["ended_at", "end_reason"])
    audit_update(actor=actor, obj=assignment, before=before, school=assignment.school_id)
    lvp_membership_sync(actor=actor, officer=assignment.officer, station=assignment.station)
    return assignment
