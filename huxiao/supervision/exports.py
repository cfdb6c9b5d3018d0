"""Excel exports of the supervision list pages (issue 10 item 5; ADR 0033): self-check
campaigns, notices, accountability records, action items, assessment schemes, a ranking,
one-vote vetoes and a leading group's progress reports. Each parses its filters with the
page's own function (`*_filters` in the views) and reads through the same scoped selector;
every page of a paginated list is exported."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.core.names import person_name
from huxiao.reports.export_filters import id_param
from huxiao.reports.exports import Table, register_export
from huxiao.supervision import (
    assessment_selectors,
    campaign_selectors,
    meeting_selectors,
    notice_selectors,
)
from huxiao.supervision.assessment_views import ranking_filters, veto_school_param
from huxiao.supervision.campaign_views import campaign_filters
from huxiao.supervision.choices import NoticeStatus
from huxiao.supervision.meeting_views import action_filters
from huxiao.supervision.notice_services import issuing_offices, local_today
from huxiao.supervision.notice_views import accountability_filters, notice_filters

CHUNK = 500


def _chosen(form) -> list[str]:
    """'Label: value' of each filter the page's form applied (the workbook's heading)."""
    if not form.is_bound or not form.is_valid():
        return []
    lines = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if value in (None, "", False):
            continue
        choices = dict(getattr(field, "choices", []) or [])
        shown = choices.get(value, choices.get(str(value), value))
        lines.append(f"{field.label}: {_('Yes') if value is True else shown}")
    return lines


def campaign_table(actor, query) -> Table:
    form, status = campaign_filters(actor, query)
    campaigns = campaign_selectors.campaign_list(actor=actor, status=status)
    return Table(
        columns=[
            _("ID"),
            _("Title"),
            _("Status"),
            _("Organizer"),
            _("Schools"),
            _("Schools accepted"),
            _("Self-check due"),
            _("Acceptance due"),
        ],
        rows=(
            (
                c.pk,
                c.title,
                c.get_status_display(),
                c.owner.name,
                c.school_count,
                c.accepted_count,
                c.self_check_due,
                c.acceptance_due,
            )
            for c in campaigns.iterator(chunk_size=CHUNK)
        ),
        heading=_chosen(form),
    )


def notice_table(actor, query) -> Table:
    form, filters, _can_issue = notice_filters(actor, query)
    notices = notice_selectors.notice_list(actor=actor, filters=filters)
    today = local_today()
    issuers = {o.pk for o in issuing_offices(actor)}

    def state(n) -> str:
        if notice_selectors.is_overdue(n, today):
            return _("Past the date, not resolved")
        return _("Put right") if n.resolved_at else ""

    def read_by(n) -> str:
        # As on the page: the read count is the issuing office's to see.
        if n.issuer_id in issuers and n.status == NoticeStatus.PUBLISHED:
            return f"{n.read_count}/{n.recipient_count}"
        return ""

    return Table(
        columns=[
            _("ID"),
            _("Title"),
            _("Kind"),
            _("Status"),
            _("Issuer"),
            _("Reference number"),
            _("Published"),
            _("Put right by"),
            _("Put right"),
            _("Unread"),
            _("Read by"),
        ],
        rows=(
            (
                n.pk,
                n.title,
                n.get_kind_display(),
                n.get_status_display(),
                n.issuer.name,
                n.reference,
                n.published_at,
                n.improve_by,
                state(n),
                _("Unread") if n.status == NoticeStatus.PUBLISHED and n.unread_here else "",
                read_by(n),
            )
            for n in notices.iterator(chunk_size=CHUNK)
        ),
        heading=_chosen(form),
    )


def accountability_table(actor, query) -> Table:
    form, filters = accountability_filters(actor, query)
    records = notice_selectors.accountability_list(actor=actor, filters=filters)
    return Table(
        columns=[
            _("ID"),
            _("Subject"),
            _("Town"),
            _("Kind"),
            _("Date"),
            _("Decided by"),
            _("Person"),
            _("Position"),
            _("Reason"),
        ],
        rows=(
            (
                r.pk,
                r.subject.name,
                r.subject.town.name if r.subject.town else "",
                r.get_kind_display(),
                r.decided_on,
                r.decided_by_org.name,
                r.person_name,
                r.person_position,
                r.reason,
            )
            for r in records.iterator(chunk_size=CHUNK)
        ),
        heading=_chosen(form),
    )


def action_table(actor, query) -> Table:
    form, filters = action_filters(actor, query)
    today = meeting_selectors.local_today()
    items = meeting_selectors.action_list(actor=actor, filters=filters, today=today)
    yes, no = _("Yes"), _("No")
    return Table(
        columns=[
            _("ID"),
            _("Decision"),
            _("Status"),
            _("Overdue"),
            _("Organization"),
            _("Owner"),
            _("Deadline"),
            _("Meeting"),
            _("Leading group"),
        ],
        rows=(
            (
                a.pk,
                a.decision,
                a.get_status_display(),
                yes if meeting_selectors.is_overdue(a, today) else no,
                a.owner_org.name,
                person_name(a.owner) if a.owner else "",
                a.deadline,
                a.meeting.title,
                a.meeting.group.name,
            )
            for a in items.iterator(chunk_size=CHUNK)
        ),
        heading=_chosen(form),
    )


def scheme_table(actor, query) -> Table:
    schemes = assessment_selectors.scheme_list(actor=actor)
    yes, no = _("Yes"), _("No")
    return Table(
        columns=[
            _("ID"),
            _("Name"),
            _("In use"),
            _("Owner"),
            _("Period"),
            _("Rankings published"),
        ],
        rows=(
            (
                s.pk,
                s.name,
                yes if s.is_active else no,
                s.owner.name,
                s.get_period_kind_display(),
                s.published_runs,
            )
            for s in schemes.iterator(chunk_size=CHUNK)
        ),
    )


def ranking_table(actor, query) -> Table:
    """One ranking (`run`, the page's path) with the page's town filter; every page."""
    run_id = id_param(query.get("run"))
    if run_id is None:
        raise Http404
    run = assessment_selectors.run_get(actor=actor, run_id=run_id)
    _towns, form, town_id = ranking_filters(actor, run, query)
    indicators = assessment_selectors.scheme_indicators(run.scheme)
    results = assessment_selectors.run_results(actor=actor, run=run, town_id=town_id)
    period = assessment_selectors.period_of(run.scheme.period_kind, run.period_start)
    no_data = _("No data")

    def rows():
        for r in results.iterator(chunk_size=CHUNK):
            cells = assessment_selectors.cells_of(r, indicators)
            yield (
                r.school_id,
                r.rank,
                r.school.name,
                no_data if r.score is None else r.score,
                r.get_rating_display() if r.rating else "",
                _("Vetoed") if r.vetoed else "",
                *[no_data if c.no_data else c.value for c in cells],
                r.town.name if r.town else "",
            )

    return Table(
        columns=[
            _("ID"),
            _("Rank"),
            _("School"),
            _("Score"),
            _("Rating"),
            _("One-vote veto"),
            *[f"{ind.name} (%) · {ind.weight}" for ind in indicators],
            _("Town"),
        ],
        rows=rows(),
        heading=[
            f"{run.scheme.name} · {period.label} · {run.get_status_display()}",
            *_chosen(form),
        ],
    )


def veto_table(actor, query) -> Table:
    school_id = veto_school_param(query)
    vetoes = assessment_selectors.veto_list(actor=actor, school_id=school_id)

    def revoked(v):
        return timezone.localtime(v.revoked_at).date() if v.revoked_at else None

    return Table(
        columns=[
            _("ID"),
            _("School"),
            _("Period start"),
            _("Period end"),
            _("Status"),
            _("Reason"),
            _("Decided by"),
            _("Decided at"),
            _("Recorded by"),
            _("Revoked on"),
            _("Reason for revoking"),
        ],
        rows=(
            (
                v.pk,
                v.school.name,
                v.period_start,
                v.period_end,
                _("Revoked") if v.revoked_at else _("In force"),
                v.reason,
                v.decided_by_org.name,
                v.decided_at,
                person_name(v.decided_by) if v.decided_by else "",
                revoked(v),
                v.revoke_reason,
            )
            for v in vetoes.iterator(chunk_size=CHUNK)
        ),
    )


def progress_report_table(actor, query) -> Table:
    """A leading group's progress reports (`group`, the page's path)."""
    meeting_selectors.require_area(actor)
    group_id = id_param(query.get("group"))
    if group_id is None:
        raise Http404
    group = meeting_selectors.group_get(actor=actor, group_id=group_id)
    reports = meeting_selectors.report_list(actor=actor, group=group)
    return Table(
        columns=[_("ID"), _("Period start"), _("Period end"), _("Sent at"), _("Sent by")],
        rows=(
            (
                r.pk,
                r.period_start,
                r.period_end,
                r.sent_at,
                person_name(r.sent_by) if r.sent_by else "",
            )
            for r in reports.iterator(chunk_size=CHUNK)
        ),
        heading=[group.name],
    )


register_export(
    "supervision.campaigns", title=gettext_lazy("Self-check campaigns"), table=campaign_table
)
register_export("supervision.notices", title=gettext_lazy("Notices"), table=notice_table)
register_export(
    "supervision.accountability", title=gettext_lazy("Accountability"), table=accountability_table
)
register_export("supervision.actions", title=gettext_lazy("Action items"), table=action_table)
register_export("supervision.schemes", title=gettext_lazy("Assessment schemes"), table=scheme_table)
register_export("supervision.ranking", title=gettext_lazy("Ranking"), table=ranking_table)
register_export("supervision.vetoes", title=gettext_lazy("One-vote veto"), table=veto_table)
register_export(
    "supervision.progress_reports",
    title=gettext_lazy("Progress reports to the government"),
    table=progress_report_table,
)
