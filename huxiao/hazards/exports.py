"""Excel exports of the hazard list pages (issue 10 item 5, ADR 0033): hazards,
inspections, the listed-supervision board, surroundings tasks and checklist templates, each
from the page's scoped selector with the filters its form gives (a bad filter filters
nothing, as on the page). Every row of the list, not one page of it."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from huxiao.core.names import person_name
from huxiao.hazards import (
    hazard_selectors,
    hazard_views,
    inspection_selectors,
    inspection_views,
    listing_selectors,
    listing_views,
    task_selectors,
    task_views,
    template_selectors,
    template_views,
)
from huxiao.hazards.choices import HazardStatus, TemplateKind
from huxiao.hazards.hazard_services import local_today
from huxiao.reports.export_filters import form_heading, yes
from huxiao.reports.exports import Table, register_export

CHUNK = 2000


def hazards_table(actor, query) -> Table:
    form, filters, _data = hazard_views.list_filters(actor, query)
    today = local_today()
    hazards = hazard_selectors.hazard_list(actor=actor, filters=filters, today=today)
    rows = (
        (
            h.pk,
            h.title,
            h.school.name,
            h.get_status_display(),
            h.get_level_display(),
            h.get_category_display(),
            h.reported_at,
            h.deadline,
            yes(h.deadline and h.deadline < today and h.status != HazardStatus.CLOSED),
            person_name(h.owner),
            h.closed_at,
        )
        for h in hazards.iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[
            _("Number"),
            _("Title"),
            _("School"),
            _("Status"),
            _("Level"),
            _("Category"),
            _("Reported at"),
            _("Deadline"),
            _("Overdue"),
            _("Owner"),
            _("Closed at"),
        ],
        rows=rows,
        heading=form_heading(form),
    )


def inspections_table(actor, query) -> Table:
    form, filters = inspection_views.list_filters(actor, query)
    inspections = inspection_selectors.inspection_list(actor=actor, **filters)
    rows = (
        (
            i.pk,
            i.school.name,
            i.get_kind_display(),
            yes(i.unannounced),
            i.planned_on,
            i.template.name,
            i.get_status_display(),
            i.score,
            i.max_score,
            i.organization.name if i.organization_id else "",
        )
        for i in inspections.iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[
            _("Number"),
            _("School"),
            _("Kind"),
            _("Unannounced"),
            _("Planned date"),
            _("Checklist"),
            _("Status"),
            _("Score"),
            _("Full score"),
            _("Inspecting organization"),
        ],
        rows=rows,
        heading=form_heading(form),
    )


def countdown_text(c: dict) -> str:
    """The board's countdown (hazards/listings/_countdown.html) as text."""
    n = c["days"]
    return {
        "left": lambda: ngettext("%(n)s day left", "%(n)s days left", n) % {"n": n},
        "today": lambda: _("Due today"),
        "awaiting": lambda: _("Awaiting lifting"),
        "overdue": lambda: ngettext("%(n)s day overdue", "%(n)s days overdue", n) % {"n": n},
    }.get(c["state"], lambda: _("Lifted"))()


def listings_table(actor, query) -> Table:
    form, filters = listing_views.board_filters(actor, query)
    today = local_today()
    listings = listing_selectors.listing_list(actor=actor, filters=filters)
    rows = (
        (
            x.pk,
            x.school.name,
            x.school.town.name if x.school.town_id else "",
            x.title,
            x.reference,
            x.supervising_org.name,
            x.deadline,
            countdown_text(listing_selectors.countdown(x, today)),
            x.get_status_display(),
            x.hazard.get_status_display() if x.hazard_id else "",
            yes(x.is_public),
        )
        for x in listings.iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[
            _("Number"),
            _("School"),
            _("Town"),
            _("Problem"),
            _("Reference number"),
            _("Supervised by"),
            _("Deadline"),
            _("Countdown"),
            _("Status"),
            _("Hazard status"),
            _("On the public board"),
        ],
        rows=rows,
        heading=form_heading(form),
    )


def tasks_table(actor, query) -> Table:
    form, filters = task_views.list_filters(actor, query)
    today = local_today()
    tasks = task_selectors.task_list(actor=actor, filters=filters, today=today)
    rows = (
        (
            t.pk,
            t.title,
            t.school.name,
            t.department.name,
            t.location,
            t.get_status_display(),
            t.deadline,
            yes(t.deadline < today and t.status != "confirmed"),
            t.assigned_by_org.name,
            t.assigned_at,
        )
        for t in tasks.iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[
            _("Number"),
            _("Title"),
            _("School"),
            _("Department"),
            _("Location"),
            _("Status"),
            _("Deadline"),
            _("Overdue"),
            _("Given by"),
            _("Given at"),
        ],
        rows=rows,
        heading=form_heading(form),
    )


def templates_table(actor, query) -> Table:
    kind = template_views.list_kind(actor, query)
    drafts = template_selectors.template_drafts(actor=actor)
    in_use = template_selectors.template_list(actor=actor, kind=kind or None)
    shipped = _("Shipped with the platform")

    def rows():
        for t in drafts:
            yield (t.pk, t.name, t.get_kind_display(), t.version, _("Draft"), t.owner.name)
        for t in in_use:
            owner = t.owner.name if t.owner_id else shipped
            yield (t.pk, t.name, t.get_kind_display(), t.version, _("In use"), owner)

    heading = [f"{_('Kind')}: {TemplateKind(kind).label}"] if kind else []
    return Table(
        columns=[_("Number"), _("Name"), _("Kind"), _("Version"), _("State"), _("Owner")],
        rows=rows(),
        heading=heading,
    )


register_export("hazards.hazards", title=gettext_lazy("Hazards"), table=hazards_table)
register_export("hazards.inspections", title=gettext_lazy("Inspections"), table=inspections_table)
register_export("hazards.listings", title=gettext_lazy("Listed supervision"), table=listings_table)
register_export("hazards.tasks", title=gettext_lazy("Surroundings tasks"), table=tasks_table)
register_export(
    "hazards.templates", title=gettext_lazy("Checklist templates"), table=templates_table
)
