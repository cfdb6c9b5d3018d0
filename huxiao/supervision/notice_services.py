"""Writes of notices (通报表扬 / 通报批评) and accountability records (约谈, written warnings,
referrals), issue 6 item 5, ADR 0027 "Notices and accountability".

Notices. An education or governance office (a member with ASSESS) drafts a notice; its
subjects and recipients are organizations in the office's own scope (the schools it
supervises and the other organizations of its town, or of the county for a county office).
A draft's receipts are its addressees: nobody sees it or is told before it is published.
Publishing adds the subjects to the recipients (a criticised school is always told), freezes
the text (corrections are a new notice) and notifies every member of each recipient
organization in one batch. A public criticism carries `improve_by` (after today); after it
passes, an unresolved criticism is flagged to the issuer by the daily `notices_remind`
until the issuer records how it was turned round (`notice_resolve`).

Accountability. A governance office (HOLD_ACCOUNTABLE) records an interview, a written
warning or a referral about a school or organization in its scope; the record is fixed
except for its follow-up text, which may be rewritten later (audited).

Out of scope is "not found" (Http404); a visible record the actor may not change is 403
(PermissionDenied); a move the state does not allow raises `NoticeStateRefused` (409 in
pages and API); bad input is a ValidationError with field messages (400).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.audit.services import audit_create, audit_record, audit_update, build_event, diff
from huxiao.audit.services import snapshot as _snapshot
from huxiao.core.names import acting_user
from huxiao.core.roles import SCHOOL_KINDS, Action, OrgKind, Role, role_allows
from huxiao.core.scoping import memberships_of, school_filter_for_org
from huxiao.orgs.models import Membership, Organization
from huxiao.people import validation as v
from huxiao.supervision.choices import AccountabilityKind, NoticeKind, NoticeStatus, RunStatus
from huxiao.supervision.models import Accountability, AssessmentRun, Notice, NoticeReceipt

ISSUING_KINDS = frozenset({OrgKind.EDUCATION_OFFICE, OrgKind.GOVERNANCE_OFFICE})
# A criticism's deadline is set at most a year ahead, like a rectification deadline.
MAX_IMPROVE_DAYS = 365
MAX_TEXT = 10000


class NoticeStateRefused(ValidationError):
    """A change the notice's state does not allow (e.g. editing a published notice). `code`
    is "state"; pages and the API answer 409 with the message."""

    def __init__(self, message):
        super().__init__(message, code="state")


# ------------------------------------------------------------------ helpers


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now()).date()


def _message(template, params: dict | None = None) -> str:
    """A notification text in the platform's language, whoever triggered it."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(template) % (params or {})


def _offices(actor, action: str) -> list[Organization]:
    """The active education/governance offices where the actor's role allows `action`,
    each once, by name."""
    seen: dict[int, Organization] = {}
    for m in memberships_of(actor):
        org = m.organization
        if (
            org.kind in ISSUING_KINDS
            and org.is_active
            and role_allows(m.role, action, county_level=org.is_county_level)
        ):
            seen.setdefault(org.pk, org)
    return sorted(seen.values(), key=lambda o: (o.name, o.pk))


def issuing_offices(actor) -> list[Organization]:
    """Offices the actor may issue notices for (ASSESS)."""
    return _offices(actor, Action.ASSESS)


def deciding_offices(actor) -> list[Organization]:
    """Offices the actor may record accountability for (HOLD_ACCOUNTABLE)."""
    return _offices(actor, Action.HOLD_ACCOUNTABLE)


def office_scope_q(office: Organization, prefix: str = "") -> Q:
    """The organizations an office may name (as a filter on Organization, or through
    `prefix`, e.g. "subject__"): the schools it supervises and the other active
    organizations of its town (of the county for a county office), never itself."""
    schools = school_filter_for_org(office)
    if prefix:
        schools = Q(**{f"{prefix}{k}": val for k, val in schools.children})
    others = (
        Q(**{f"{prefix}town_id": office.town_id})
        if office.town_id
        else Q(**{f"{prefix}region_id": office.region_id})
    )
    return (
        (Q(**{f"{prefix}kind__in": list(SCHOOL_KINDS)}) & schools)
        | (~Q(**{f"{prefix}kind__in": list(SCHOOL_KINDS)}) & others)
    ) & ~Q(**{f"{prefix}pk": office.pk})


def scope_organizations(office: Organization):
    """Active organizations the office may name as subjects or recipients, schools first."""
    return (
        Organization.objects.filter(office_scope_q(office), is_active=True)
        .only("pk", "name", "kind", "town_id", "region_id")
        .order_by("kind", "name", "pk")
    )


def _choose_office(offices: list[Organization], office, field: str):
    """The office named by the caller (object or id) among the actor's, or the only one."""
    if office is None:
        if len(offices) == 1:
            return offices[0]
        raise ValidationError({field: [_("Choose the office on whose behalf you act.")]})
    office_id = office if isinstance(office, int) else getattr(office, "pk", None)
    for candidate in offices:
        if candidate.pk == office_id:
            return candidate
    raise ValidationError({field: [_("Choose one of your own offices.")]})


def _ids(values) -> list[int]:
    result = []
    for value in values or ():
        pk = value if isinstance(value, int) else getattr(value, "pk", value)
        try:
            result.append(int(pk))
        except (TypeError, ValueError):
            result.append(-1)
    return sorted(set(result))


def _members(org_ids, *, roles=None, exclude_user=None) -> dict[int, list[int]]:
    """organization id → the ids of its active members (optionally of some roles)."""
    qs = Membership.objects.filter(
        organization_id__in=list(org_ids), is_active=True, user__is_active=True
    )
    if roles is not None:
        qs = qs.filter(role__in=list(roles))
    result: dict[int, set[int]] = defaultdict(set)
    for org_id, user_id in qs.values_list("organization_id", "user_id"):
        if exclude_user is None or user_id != exclude_user:
            result[org_id].add(user_id)
    return {org_id: sorted(users) for org_id, users in result.items()}


def _roles_allowing(action: str) -> list[str]:
    from huxiao.core.roles import ROLE_ACTIONS

    return [role for role, actions in ROLE_ACTIONS.items() if action in actions]


# ------------------------------------------------------------------ notices: reading rights


def notice_visible_q(actor) -> Q:
    """Notices the actor may see: those of the offices where they may issue notices (drafts
    too), and published ones addressed to an organization they belong to."""
    if getattr(actor, "is_superuser", False):
        return Q()
    memberships = memberships_of(actor)
    issuers = {o.pk for o in issuing_offices(actor)}
    own = {m.organization_id for m in memberships}
    received = NoticeReceipt.objects.filter(organization_id__in=own).values("notice_id")
    return Q(issuer_id__in=issuers) | Q(status=NoticeStatus.PUBLISHED, pk__in=received)


def may_manage_notice(actor, notice: Notice) -> bool:
    """Drafting, publishing and resolving belong to the issuing office."""
    return any(o.pk == notice.issuer_id for o in issuing_offices(actor))


def _lock_notice(actor, notice) -> Notice:
    notice_id = notice if isinstance(notice, int) else notice.pk
    locked = (
        Notice.objects.select_for_update(of=("self",))
        .filter(notice_visible_q(actor), pk=notice_id)
        .select_related("issuer")
        .first()
    )
    if locked is None:
        raise Http404
    return locked


def _require_manager(actor, notice: Notice) -> None:
    if not may_manage_notice(actor, notice):
        raise PermissionDenied(_("Only the issuing office can change this notice."))


def _require_draft(notice: Notice) -> None:
    if notice.status != NoticeStatus.DRAFT:
        raise NoticeStateRefused(
            _(
                "This notice has been published and can no longer be changed; "
                "issue a new notice to correct it."
            )
        )


# ------------------------------------------------------------------ notices: validation


def clean_improve_by(value, *, now=None, required: bool = False) -> dt.date | None:
    """A date (or YYYY-MM-DD) after today, at most MAX_IMPROVE_DAYS ahead."""
    if value in (None, ""):
        if required:
            raise ValidationError(
                _("A public criticism needs the date by which things must be put right."),
                code="required",
            )
        return None
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid_date") from None
    today = local_today(now)
    if value <= today:
        raise ValidationError(
            _("The date to put things right must be after today."), code="past_date"
        )
    latest = today + dt.timedelta(days=MAX_IMPROVE_DAYS)
    if value > latest:
        raise ValidationError(
            _("Set the date at most a year ahead (until %(latest)s).")
            % {"latest": latest.isoformat()},
            code="far_date",
        )
    return value


def _clean_orgs(errors: v.FieldErrors, field: str, office: Organization, ids) -> list[int]:
    ids = _ids(ids)
    if not ids:
        return []
    found = set(
        Organization.objects.filter(office_scope_q(office), is_active=True, pk__in=ids).values_list(
            "pk", flat=True
        )
    )
    if found != set(ids):
        # The same words for an organization out of scope and one that does not exist.
        errors.add(field, _("Choose organizations within your office's scope."))
    return sorted(found)


def runs_for(office: Organization):
    """Published assessment runs with results for schools the office supervises."""
    from huxiao.supervision.models import AssessmentResult

    schools = Organization.objects.schools().filter(school_filter_for_org(office)).values("pk")
    with_results = AssessmentResult.objects.filter(school_id__in=schools).values("run_id")
    return (
        AssessmentRun.objects.filter(status=RunStatus.PUBLISHED, pk__in=with_results)
        .select_related("scheme")
        .order_by("-period_start", "-published_at", "-id")
    )


def _clean_run(errors: v.FieldErrors, office: Organization, run):
    if run in (None, ""):
        return None
    run_id = run if isinstance(run, int) else getattr(run, "pk", None)
    found = runs_for(office).filter(pk=run_id).first() if run_id else None
    if found is None:
        errors.add("run", _("Choose a published assessment of schools in your scope."))
    return found


def _clean_notice(
    *, office, kind, title, body, reference, improve_by, subjects, recipients, run, now
) -> dict:
    errors = v.FieldErrors()
    if kind not in NoticeKind.values:
        errors.add("kind", _("Choose commendation or public criticism."))
    title = errors.run("title", v.clean_text, title, max_length=200, required=True)
    body = errors.run("body", v.clean_text, body, max_length=MAX_TEXT, required=True)
    reference = errors.run("reference", v.clean_text, reference, max_length=60)
    if reference and "\n" in reference:
        errors.add("reference", _("The reference number is one line."))
    improve_by = errors.run("improve_by", clean_improve_by, improve_by, now=now)
    if improve_by is not None and kind == NoticeKind.COMMENDATION:
        errors.add("improve_by", _("Only a public criticism has a date to put things right."))
    subject_ids = _clean_orgs(errors, "subjects", office, subjects)
    recipient_ids = _clean_orgs(errors, "recipients", office, recipients)
    run = _clean_run(errors, office, run)
    errors.raise_if_any()
    return {
        "kind": kind,
        "title": title,
        "body": body,
        "reference": reference or "",
        "improve_by": improve_by,
        "subject_ids": subject_ids,
        "recipient_ids": recipient_ids,
        "run": run,
    }


def _state(notice: Notice) -> dict:
    """The audit picture of a notice, with its subjects and addressees."""
    data = _snapshot(notice)
    data["subjects"] = sorted(notice.subjects.values_list("pk", flat=True))
    data["recipients"] = sorted(notice.receipts.values_list("organization_id", flat=True))
    return data


def _set_addressees(notice: Notice, subject_ids, recipient_ids) -> None:
    notice.subjects.set(subject_ids)
    current = set(notice.receipts.values_list("organization_id", flat=True))
    wanted = set(recipient_ids)
    notice.receipts.filter(organization_id__in=current - wanted).delete()
    NoticeReceipt.objects.bulk_create(
        [
            NoticeReceipt(notice=notice, organization_id=org_id)
            for org_id in sorted(wanted - current)
        ]
    )


# ------------------------------------------------------------------ notices: writes


@transaction.atomic
def notice_draft(
    *,
    actor,
    kind,
    title,
    body,
    reference="",
    improve_by=None,
    subjects=(),
    recipients=(),
    run=None,
    issuer=None,
    now=None,
) -> Notice:
    """Draft a notice on behalf of one of the actor's offices (ASSESS). `subjects` and
    `recipients` are organizations (or ids) in the office's scope; both may still be
    empty in a draft."""
    now = now or timezone.now()
    offices = issuing_offices(actor)
    if not offices:
        raise PermissionDenied(_("Your role does not allow this action."))
    office = _choose_office(offices, issuer, "issuer")
    data = _clean_notice(
        office=office,
        kind=kind,
        title=title,
        body=body,
        reference=reference,
        improve_by=improve_by,
        subjects=subjects,
        recipients=recipients,
        run=run,
        now=now,
    )
    notice = Notice.objects.create(
        kind=data["kind"],
        title=data["title"],
        body=data["body"],
        reference=data["reference"],
        improve_by=data["improve_by"],
        run=data["run"],
        issuer=office,
        status=NoticeStatus.DRAFT,
        created_by=acting_user(actor),
    )
    _set_addressees(notice, data["subject_ids"], data["recipient_ids"])
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=notice, changes={"after": _state(notice)}
    )
    return notice


@transaction.atomic
def notice_update(
    *,
    actor,
    notice,
    kind,
    title,
    body,
    reference="",
    improve_by=None,
    subjects=(),
    recipients=(),
    run=None,
    now=None,
) -> Notice:
    """Change a draft (the whole of it); a published notice is refused."""
    now = now or timezone.now()
    notice = _lock_notice(actor, notice)
    _require_manager(actor, notice)
    _require_draft(notice)
    data = _clean_notice(
        office=notice.issuer,
        kind=kind,
        title=title,
        body=body,
        reference=reference,
        improve_by=improve_by,
        subjects=subjects,
        recipients=recipients,
        run=run,
        now=now,
    )
    before = _state(notice)
    for field in ("kind", "title", "body", "reference", "improve_by", "run"):
        setattr(notice, field, data[field])
    notice.save()
    _set_addressees(notice, data["subject_ids"], data["recipient_ids"])
    changed = diff(before, _state(notice))
    if changed:
        audit_record(
            actor=actor, action=AuditAction.UPDATE, obj=notice, changes={"fields": changed}
        )
    return notice


@transaction.atomic
def notice_discard(*, actor, notice) -> None:
    """Delete a draft (with its addressees); a published notice stays for ever."""
    notice = _lock_notice(actor, notice)
    _require_manager(actor, notice)
    _require_draft(notice)
    state = _state(notice)
    audit_record(actor=actor, action=AuditAction.DELETE, obj=notice, changes={"before": state})
    notice.receipts.all().delete()
    notice.delete()


@transaction.atomic
def notice_publish(*, actor, notice, now=None) -> Notice:
    """Publish a draft: the subjects join the recipients, the text is frozen, and every
    member of each recipient organization is notified (one batch, after commit)."""
    now = now or timezone.now()
    notice = _lock_notice(actor, notice)
    _require_manager(actor, notice)
    _require_draft(notice)
    office = notice.issuer
    subject_ids = sorted(notice.subjects.values_list("pk", flat=True))
    recipient_ids = sorted(notice.receipts.values_list("organization_id", flat=True))
    errors = v.FieldErrors()
    if not notice.reference:
        errors.add("reference", _("Give the notice its reference number before publishing."))
    elif (
        Notice.objects.filter(
            issuer=office, reference=notice.reference, status=NoticeStatus.PUBLISHED
        )
        .exclude(pk=notice.pk)
        .exists()
    ):
        errors.add("reference", _("Your office has already published a notice with this number."))
    if not subject_ids:
        errors.add("subjects", _("Name the schools or organizations the notice is about."))
    if notice.kind == NoticeKind.CRITICISM:
        errors.run("improve_by", clean_improve_by, notice.improve_by, now=now, required=True)
    # Scope is checked again: an organization may have moved town since the draft.
    _clean_orgs(errors, "subjects", office, subject_ids)
    _clean_orgs(errors, "recipients", office, recipient_ids)
    errors.raise_if_any()

    before = _state(notice)
    _set_addressees(notice, subject_ids, sorted(set(recipient_ids) | set(subject_ids)))
    notice.status = NoticeStatus.PUBLISHED
    notice.published_at = now
    notice.published_by = acting_user(actor)
    try:
        with transaction.atomic():
            notice.save()
    except IntegrityError:
        # Another draft with the same number was published in the meantime.
        raise ValidationError(
            {"reference": [_("Your office has already published a notice with this number.")]}
        ) from None
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=notice,
        changes={"fields": diff(before, _state(notice))},
    )
    _notify_published(notice, actor=actor)
    return notice


def _notify_published(notice: Notice, *, actor) -> None:
    from huxiao.notify.services import notify_send_many

    org_ids = sorted(notice.receipts.values_list("organization_id", flat=True))
    members = _members(org_ids, exclude_user=getattr(actor, "pk", None))
    title = (
        _("Public criticism: %(title)s")
        if notice.kind == NoticeKind.CRITICISM
        else _("Commendation: %(title)s")
    )
    params = {
        "title": notice.title,
        "issuer": notice.issuer.name,
        "reference": notice.reference,
        "date": notice.improve_by.isoformat() if notice.improve_by else "",
    }
    body = (
        _("%(issuer)s, %(reference)s. To be put right by %(date)s.")
        if notice.improve_by
        else _("%(issuer)s, %(reference)s.")
    )
    notify_send_many(
        dict(
            organizations=[org_id],
            event_type="supervision.notice_published",
            title=_message(title, params),
            body=_message(body, params),
            payload={"notice_id": notice.pk, "kind": notice.kind},
            recipients=members.get(org_id, []),
            dedupe_key=f"supervision.notice:{notice.pk}:{org_id}",
        )
        for org_id in org_ids
    )


@transaction.atomic
def notice_mark_read(*, actor, notice, now=None) -> list[NoticeReceipt]:
    """The actor has read the notice for their organization(s) among its recipients; the
    first reader of each organization is kept, a second read changes nothing."""
    now = now or timezone.now()
    notice = _lock_notice(actor, notice)
    if notice.status != NoticeStatus.PUBLISHED:
        raise NoticeStateRefused(_("A draft cannot be marked as read."))
    own = {m.organization_id for m in memberships_of(actor)}
    receipts = list(
        NoticeReceipt.objects.select_for_update()
        .filter(notice=notice, organization_id__in=own)
        .order_by("organization_id")
    )
    if not receipts:
        raise PermissionDenied(
            _("Only members of an organization the notice was published to can mark it read.")
        )
    for receipt in receipts:
        if receipt.read_at is not None:
            continue
        before = _snapshot(receipt)
        receipt.read_at = now
        receipt.read_by = acting_user(actor)
        receipt.save(update_fields=["read_at", "read_by"])
        audit_update(actor=actor, obj=receipt, before=before)
    return receipts


@transaction.atomic
def notice_resolve(*, actor, notice, resolution, now=None) -> Notice:
    """The issuer records that a public criticism's problems were turned round; the daily
    reminder stops. The published text itself does not change."""
    now = now or timezone.now()
    notice = _lock_notice(actor, notice)
    _require_manager(actor, notice)
    if notice.status != NoticeStatus.PUBLISHED or notice.kind != NoticeKind.CRITICISM:
        raise NoticeStateRefused(_("Only a published public criticism can be resolved."))
    if notice.resolved_at is not None:
        raise NoticeStateRefused(_("This criticism has already been resolved."))
    errors = v.FieldErrors()
    resolution = errors.run("resolution", v.clean_text, resolution, max_length=2000, required=True)
    errors.raise_if_any()
    before = _snapshot(notice)
    notice.resolved_at = now
    notice.resolved_by = acting_user(actor)
    notice.resolution = resolution
    notice.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    audit_update(actor=actor, obj=notice, before=before)

    from huxiao.notify.services import notify_send_many

    subject_ids = sorted(notice.subjects.values_list("pk", flat=True))
    members = _members(subject_ids, exclude_user=getattr(actor, "pk", None))
    params = {"title": notice.title}
    notify_send_many(
        dict(
            organizations=[org_id],
            event_type="supervision.notice_resolved",
            title=_message(_("Criticism resolved: %(title)s"), params),
            body=_message(_("The issuing office has recorded that things were put right."), {}),
            payload={"notice_id": notice.pk},
            recipients=members.get(org_id, []),
            dedupe_key=f"supervision.notice_resolved:{notice.pk}:{org_id}",
        )
        for org_id in subject_ids
    )
    return notice


# ------------------------------------------------------------------ the daily reminder


def overdue_criticisms(today: dt.date):
    """Published, unresolved criticisms whose date to put things right has passed."""
    return Notice.objects.filter(
        kind=NoticeKind.CRITICISM,
        status=NoticeStatus.PUBLISHED,
        resolved_at__isnull=True,
        improve_by__lt=today,
    )


@transaction.atomic
def notices_remind(*, now: dt.datetime | None = None) -> dict:
    """Tell each issuing office, once a day, which of its criticisms are past their date
    and unresolved. A second run the same day (or a second worker) does nothing."""
    now = now or timezone.now()
    today = local_today(now)
    candidates = list(
        overdue_criticisms(today)
        .filter(Q(reminded_on__isnull=True) | Q(reminded_on__lt=today))
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("issuer")
        .order_by("issuer_id", "improve_by", "pk")
    )
    result = {"flagged": [n.pk for n in candidates]}
    if not candidates:
        return result
    Notice.objects.filter(pk__in=result["flagged"]).update(reminded_on=today)
    AuditEvent.objects.bulk_create(
        [
            build_event(
                actor=None,
                action=AuditAction.UPDATE,
                obj=notice,
                changes={"fields": {"reminded_on": [_iso(notice.reminded_on), today.isoformat()]}},
                at=now,
            )
            for notice in candidates
        ],
        batch_size=1000,
    )
    per_issuer: dict[int, list[Notice]] = defaultdict(list)
    for notice in candidates:
        per_issuer[notice.issuer_id].append(notice)
    members = _members(per_issuer, roles=_roles_allowing(Action.ASSESS))
    from huxiao.notify.services import notify_send_many

    notify_send_many(
        dict(
            organizations=[issuer_id],
            event_type="supervision.notice_overdue",
            title=_message(
                _("%(n)s public criticism(s) past the date to put things right"),
                {"n": len(notices)},
            ),
            body=_message(
                _("Not yet resolved: %(titles)s"),
                {"titles": "；".join(f"{n.title}（{_iso(n.improve_by)}）" for n in notices[:10])},
            ),
            payload={"notice_ids": [n.pk for n in notices]},
            recipients=members.get(issuer_id, []),
            dedupe_key=f"supervision.notice_overdue:{issuer_id}:{today.isoformat()}",
        )
        for issuer_id, notices in per_issuer.items()
    )
    return result


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# ------------------------------------------------------------------ accountability


def accountability_visible_q(actor) -> Q:
    """Records the actor may see: those about organizations in the scope of an office where
    they hold HOLD_ACCOUNTABLE (and those their office decided), and, read-only, those about
    a school they are the principal of."""
    if getattr(actor, "is_superuser", False):
        return Q()
    q = Q(pk__in=[])
    for office in deciding_offices(actor):
        q |= office_scope_q(office, "subject__") | Q(decided_by_org_id=office.pk)
    principal_of = [
        m.organization_id
        for m in memberships_of(actor)
        if m.role == Role.PRINCIPAL and m.organization.kind in SCHOOL_KINDS
    ]
    if principal_of:
        q |= Q(subject_id__in=principal_of)
    return q


def may_manage_accountability(actor, record: Accountability) -> bool:
    """Those who hold HOLD_ACCOUNTABLE over the subject (or decided the record) may write
    its follow-up; the school's principal only reads it."""
    if getattr(actor, "is_superuser", False):
        return True
    for office in deciding_offices(actor):
        if record.decided_by_org_id == office.pk:
            return True
        if Organization.objects.filter(office_scope_q(office), pk=record.subject_id).exists():
            return True
    return False


def clean_decided_on(value, *, now=None) -> dt.date:
    if value in (None, ""):
        raise ValidationError(_("Give the date of the decision."), code="required")
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            raise ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid_date") from None
    if value > local_today(now):
        raise ValidationError(_("The date cannot be in the future."), code="future_date")
    if value.year < 2000:
        raise ValidationError(_("Enter a date from 2000 on."), code="old_date")
    return value


@transaction.atomic
def accountability_record(
    *,
    actor,
    kind,
    subject,
    reason,
    decided_on,
    person_name="",
    person_position="",
    hazard=None,
    notice=None,
    deciding_org=None,
    now=None,
) -> Accountability:
    """Record an interview (约谈), written warning or referral about a school or
    organization in the scope of the actor's governance office (HOLD_ACCOUNTABLE). A hazard
    must be of that school, a notice a published one about it."""
    now = now or timezone.now()
    offices = deciding_offices(actor)
    if not offices:
        raise PermissionDenied(_("Your role does not allow this action."))
    office = _choose_office(offices, deciding_org, "deciding_org")
    errors = v.FieldErrors()
    if kind not in AccountabilityKind.values:
        errors.add("kind", _("Choose interview, written warning or referral."))
    subject_id = subject if isinstance(subject, int) else getattr(subject, "pk", None)
    subject = (
        Organization.objects.filter(office_scope_q(office), is_active=True, pk=subject_id).first()
        if subject_id
        else None
    )
    if subject is None:
        errors.add("subject", _("Choose a school or organization within your office's scope."))
    reason = errors.run("reason", v.clean_text, reason, max_length=4000, required=True)
    decided_on = errors.run("decided_on", clean_decided_on, decided_on, now=now)
    person_name = errors.run("person_name", v.clean_text, person_name, max_length=100)
    person_position = errors.run("person_position", v.clean_text, person_position, max_length=100)
    for field, value in (("person_name", person_name), ("person_position", person_position)):
        if value and "\n" in value:
            errors.add(field, _("One line only."))
    hazard = _clean_hazard(errors, actor, hazard, subject)
    notice = _clean_linked_notice(errors, actor, notice, subject)
    errors.raise_if_any()
    record = Accountability.objects.create(
        kind=kind,
        subject=subject,
        person_name=person_name or "",
        person_position=person_position or "",
        reason=reason,
        decided_on=decided_on,
        decided_by_org=office,
        hazard=hazard,
        notice=notice,
        created_by=acting_user(actor),
    )
    audit_create(actor=actor, obj=record, school=subject.pk if subject.is_school else None)
    if subject.is_school:
        _notify_accountability(record, actor=actor)
    return record


def _clean_hazard(errors, actor, hazard, subject):
    if hazard in (None, ""):
        return None
    from huxiao.hazards.models import Hazard

    hazard_id = hazard if isinstance(hazard, int) else getattr(hazard, "pk", None)
    found = Hazard.objects.visible_to(actor, Action.VIEW).filter(pk=hazard_id).first()
    if found is None or subject is None or found.school_id != subject.pk:
        errors.add("hazard", _("Choose a hazard of the same school."))
        return None
    return found


def _clean_linked_notice(errors, actor, notice, subject):
    if notice in (None, ""):
        return None
    notice_id = notice if isinstance(notice, int) else getattr(notice, "pk", None)
    found = (
        Notice.objects.filter(notice_visible_q(actor), pk=notice_id, status=NoticeStatus.PUBLISHED)
        .filter(subjects__pk=subject.pk if subject is not None else -1)
        .first()
    )
    if found is None:
        errors.add("notice", _("Choose a published notice about the same school or organization."))
    return found


def _notify_accountability(record: Accountability, *, actor) -> None:
    from huxiao.notify.services import notify_send

    principals = _members([record.subject_id], roles=[Role.PRINCIPAL]).get(record.subject_id, [])
    if not principals:
        return
    params = {
        "kind": str(AccountabilityKind(record.kind).label),
        "school": record.subject.name,
        "office": record.decided_by_org.name,
    }
    notify_send(
        organizations=[],
        event_type="supervision.accountability",
        title=_message(_("%(kind)s: %(school)s"), params),
        body=_message(_("Recorded by %(office)s; see the record for the reason."), params),
        payload={"accountability_id": record.pk, "school_id": record.subject_id},
        recipients=[u for u in principals if u != getattr(actor, "pk", None)],
    )


def _lock_accountability(actor, record) -> Accountability:
    record_id = record if isinstance(record, int) else record.pk
    locked = (
        Accountability.objects.select_for_update(of=("self",))
        .filter(accountability_visible_q(actor), pk=record_id)
        .select_related("subject", "decided_by_org")
        .first()
    )
    if locked is None:
        raise Http404
    return locked


@transaction.atomic
def accountability_follow_up(*, actor, record, follow_up, now=None) -> Accountability:
    """Write (or rewrite) what came of the record; every version stays in the audit trail."""
    now = now or timezone.now()
    record = _lock_accountability(actor, record)
    if not may_manage_accountability(actor, record):
        raise PermissionDenied(_("Only the governance office can write the follow-up."))
    errors = v.FieldErrors()
    follow_up = errors.run("follow_up", v.clean_text, follow_up, max_length=4000, required=True)
    errors.raise_if_any()
    if follow_up == record.follow_up:
        return record
    before = _snapshot(record)
    record.follow_up = follow_up
    record.follow_up_at = now
    record.follow_up_by = acting_user(actor)
    record.save(update_fields=["follow_up", "follow_up_at", "follow_up_by"])
    audit_update(
        actor=actor,
        obj=record,
        before=before,
        school=record.subject_id if record.subject.is_school else None,
    )
    return record
