"""PDF documents of one record (issue 10 item 4, ADR 0033): the closing report of an
emergency incident, the inspection report and the hazard rectification notice (整改通知书).

Each is the PDF of the app's own printable page: the same selector loads the record as the
person who asked for it (so the same scope), the same context function of the app's view
(`incident_report_context`, `inspection_report_context`, `hazard_notice_context`) gathers
what it shows, and a template under `reports/pdf/` lays it out for A4.

- Request (`document_request`): whoever may see the record may ask for its PDF; out of
  scope or junk is 404, a role that sees no such records anywhere is 403 where the app's
  page says so. Two requests for the same record while one is waiting or running share one
  job (dedupe key: the record's id).
- Build: the record is read again as the requester, in the task queue; a requester who has
  lost access (membership ended, account disabled, record gone) gets a failed job with a
  message, not a PDF.
- An open incident gets an interim report, marked as a draft on every page (the closing
  report proper needs the closing summary); an inspection not yet signed off likewise.
  Whether the stored PDF was a draft is kept in `params["draft"]`.
- Seeing a stored document: whoever may see its record now (`may_view`), the requester
  included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.core.names import person_name
from huxiao.core.roles import Action
from huxiao.reports import registry, services
from huxiao.reports.models import Report, ReportKind
from huxiao.reports.pdf import render_pdf

MAX_ID = 2**63 - 1
LOST_ACCESS = gettext_lazy(
    "You can no longer see this record (it was removed or is outside your area now), so "
    "its document was not generated."
)
# Visibility answers kept for the rest of the request, inside the scope cache so that
# `clear_scope_cache` (memberships changed) forgets them too.
_SCOPE_CACHE_ATTR = "_huxiao_scope_cache"


# ------------------------------------------------------------------ the three records


def _incident_load(actor, subject_id: int):
    from huxiao.incidents import selectors

    return selectors.incident_get(actor=actor, incident_id=subject_id)


def _incident_visible(actor, subject_id: int) -> bool:
    from huxiao.incidents import rules
    from huxiao.incidents.models import Incident

    # The scope of incidents.selectors.incident_get, without its joins.
    return Incident.objects.visible_to(actor, rules.VIEW_ACTION).filter(pk=subject_id).exists()


def _incident_context(incident) -> dict:
    from huxiao.incidents.views import incident_report_context

    return incident_report_context(incident)


def _inspection_load(actor, subject_id: int):
    from huxiao.hazards import inspection_selectors as selectors

    selectors.require_any(actor, Action.VIEW)
    return selectors.inspection_get(actor=actor, inspection_id=subject_id)


def _inspection_visible(actor, subject_id: int) -> bool:
    from huxiao.hazards import inspection_selectors as selectors

    # inspection_base hides an unannounced inspection from the school until it starts.
    return selectors.inspection_base(actor).filter(pk=subject_id).exists()


def _inspection_context(inspection) -> dict:
    from huxiao.hazards.inspection_views import inspection_report_context

    return inspection_report_context(inspection)


def _hazard_load(actor, subject_id: int):
    from huxiao.hazards import hazard_selectors as selectors

    selectors.require_any(actor, Action.VIEW)
    return selectors.hazard_get(actor=actor, hazard_id=subject_id)


def _hazard_visible(actor, subject_id: int) -> bool:
    from huxiao.hazards.models import Hazard

    # The scope of hazards.hazard_selectors.hazard_get, without its prefetches.
    return Hazard.objects.visible_to(actor, Action.VIEW).filter(pk=subject_id).exists()


def _hazard_context(hazard) -> dict:
    from huxiao.hazards.hazard_views import hazard_notice_context

    return hazard_notice_context(hazard)


@dataclass(frozen=True)
class Document:
    slug: str  # in the request URL
    kind: str  # ReportKind
    heading: object  # lazy: the document's name, its title and file name start with it
    template: str
    load: Callable  # (actor, subject_id) -> record; Http404 / PermissionDenied
    visible: Callable  # (actor, subject_id) -> bool, never raises
    context: Callable  # record -> the printable page's context
    is_draft: Callable  # record -> bool
    page_url: str  # URL name of the record's page (one argument: its id)


DOCUMENTS: dict[str, Document] = {
    doc.slug: doc
    for doc in (
        Document(
            slug="incident",
            kind=ReportKind.INCIDENT,
            heading=gettext_lazy("Emergency incident report"),
            template="reports/pdf/incident.html",
            load=_incident_load,
            visible=_incident_visible,
            context=_incident_context,
            is_draft=lambda incident: incident.is_open,
            page_url="incidents:detail",
        ),
        Document(
            slug="inspection",
            kind=ReportKind.INSPECTION,
            heading=gettext_lazy("Inspection report"),
            template="reports/pdf/inspection.html",
            load=_inspection_load,
            visible=_inspection_visible,
            context=_inspection_context,
            is_draft=lambda inspection: not inspection.is_signed_off,
            page_url="hazards:inspection_detail",
        ),
        Document(
            slug="hazard_notice",
            kind=ReportKind.HAZARD_NOTICE,
            heading=gettext_lazy("Hazard rectification notice"),
            template="reports/pdf/hazard_notice.html",
            load=_hazard_load,
            visible=_hazard_visible,
            context=_hazard_context,
            is_draft=lambda hazard: False,
            page_url="hazards:hazard_detail",
        ),
    )
}
BY_KIND: dict[str, Document] = {str(doc.kind): doc for doc in DOCUMENTS.values()}


def document_for_slug(slug) -> Document:
    doc = DOCUMENTS.get(str(slug))
    if doc is None:
        raise Http404(_("There is no such document."))
    return doc


def parse_subject_id(raw) -> int:
    """A record id from a URL or a form: a positive integer the database can hold; anything
    else is 404 (like a record that does not exist)."""
    text = str(raw)
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        raise Http404(_("There is no such record."))
    value = int(text)
    if not 0 < value <= MAX_ID:
        raise Http404(_("There is no such record."))
    return value


def _title(doc: Document, record, *, draft: bool) -> str:
    title = f"{doc.heading} · {record.school.name} · {_('No.')} {record.pk}"
    if draft:
        title = f"{title} ({_('draft')})"
    return title[:200]


def _filename(doc: Document, record, *, draft: bool) -> str:
    stem = f"{doc.heading}-{record.school.name}-{record.pk}"
    if draft:
        stem = f"{stem}-{_('draft')}"
    return stem


# ------------------------------------------------------------------ request


def document_request(*, actor, slug, subject_id) -> tuple[Report, bool]:
    """Queue the PDF of one record for `actor`; (report, created). Http404 for an unknown
    document, a junk id or a record the actor may not see; PermissionDenied where the app's
    page answers 403 (a role that sees no such records)."""
    doc = document_for_slug(slug)
    record = doc.load(actor, parse_subject_id(subject_id))
    school = record.school
    draft = doc.is_draft(record)
    return services.report_request(
        actor=actor,
        kind=doc.kind,
        title=_title(doc, record, draft=draft),
        region_id=school.region_id,
        town_id=school.town_id,
        school_id=school.pk,
        subject_id=record.pk,
        params={"draft": draft},
        dedupe_key=f"{record.pk}",
    )


def document_list(*, actor, slug, subject_id: int) -> list[Report]:
    """The stored documents of one record the actor may see, newest first."""
    from huxiao.reports import selectors

    doc = document_for_slug(slug)
    return selectors.report_list(actor=actor, kind=doc.kind, subject_id=subject_id)


# ------------------------------------------------------------------ who may see a document


def subject_visible(user, kind, subject_id) -> bool:
    """May `user` see the record of a document (its kind and subject id)? Never raises."""
    doc = BY_KIND.get(str(kind))
    if doc is None or subject_id is None:
        return False
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    cache = getattr(user, _SCOPE_CACHE_ATTR, None)
    if cache is None:
        cache = {}
        setattr(user, _SCOPE_CACHE_ATTR, cache)
    key = ("reports.documents", doc.kind, subject_id)
    if key not in cache:
        try:
            cache[key] = bool(doc.visible(user, subject_id))
        except (Http404, PermissionDenied):
            cache[key] = False
    return cache[key]


def document_may_view(user, report: Report) -> bool:
    return subject_visible(user, report.kind, report.subject_id)


# ------------------------------------------------------------------ build


def _builder(doc: Document) -> Callable:
    def build(report: Report, progress) -> registry.Built:
        actor = report.requested_by
        if actor is None or not actor.is_active or report.subject_id is None:
            raise registry.ReportFailed(LOST_ACCESS)
        progress(10, _("Reading the record"))
        try:
            record = doc.load(actor, report.subject_id)
        except (Http404, PermissionDenied):
            raise registry.ReportFailed(LOST_ACCESS) from None
        draft = doc.is_draft(record)
        context = doc.context(record)
        progress(40, _("Laying out the PDF"))
        generated_at = timezone.localtime()
        context.update(
            title=_title(doc, record, draft=draft),
            heading=str(doc.heading),
            draft=draft,
            generated_at=generated_at,
            generated_by=person_name(actor),
            generated_note=_("Generated by %(name)s on %(time)s · HuXiao")
            % {"name": person_name(actor), "time": generated_at.strftime("%Y-%m-%d %H:%M")},
        )
        pdf = render_pdf(doc.template, context)
        progress(90, _("Storing the PDF"))
        # What was built is what the list shows: the state may have changed since the request.
        Report.objects.filter(pk=report.pk).update(
            title=context["title"], params={**(report.params or {}), "draft": draft}
        )
        return registry.Built(filename=_filename(doc, record, draft=draft), pdf=pdf)

    return build


for _doc in DOCUMENTS.values():
    registry.register(
        _doc.kind,
        build=_builder(_doc),
        may_view=document_may_view,
        requester_may_view=document_may_view,
    )
