"""Excel exports of the intel list pages (issue 10 item 5, ADR 0033): warning signs,
early warnings and school cases, each from the page's scoped selector and filters.

The high-risk persons register is not exported here: its own export (`intel:register_export`,
commanders only, ID numbers masked, one read row per record) streams the file without
storing it, and a stored report file would keep register data outside its encryption."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.core.names import person_name
from huxiao.intel import cases_selectors, warnings_selectors
from huxiao.intel.cases_choices import CaseStatus
from huxiao.intel.cases_views import case_filters
from huxiao.intel.warnings_choices import SignStatus
from huxiao.intel.warnings_views import sign_filters
from huxiao.reports.export_filters import yes
from huxiao.reports.exports import Table, register_export

CHUNK = 1000


def _status_heading(status: str, choices) -> list[str]:
    return [f"{_('Status')}: {choices(status).label}"] if status else []


def signs_table(actor, query) -> Table:
    status = sign_filters(actor, query)["status"]
    signs = warnings_selectors.warning_sign_list(actor=actor, status=status)
    rows = (
        (
            s.pk,
            s.reported_at,
            s.school.name,
            s.get_category_display(),
            s.get_status_display(),
            s.get_time_node_display() if s.time_node else "",
            s.description,
            s.attachment_count,
            s.feedback,
        )
        for s in signs.iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[
            _("Number"),
            _("Reported at"),
            _("School"),
            _("Category"),
            _("Status"),
            _("Time node"),
            _("Description"),
            _("Attachments"),
            _("Police feedback"),
        ],
        rows=rows,
        heading=_status_heading(status, SignStatus),
    )


def _early_warning_views(actor):
    """Every warning the page would list, a page of the selector at a time."""
    offset = 0
    while True:
        batch = warnings_selectors.early_warning_list(actor=actor, limit=CHUNK, offset=offset)
        yield from batch
        if len(batch) < CHUNK:
            return
        offset += CHUNK


def early_warnings_table(actor, query) -> Table:
    warnings_selectors.require_early_access(actor)

    def rows():
        now = timezone.now()
        for view in _early_warning_views(actor):
            w = view.warning
            yield (
                w.pk,
                w.issued_at,
                w.title,
                w.get_level_display(),
                w.issuer.name,
                w.valid_from,
                w.valid_until,
                yes(not w.valid_until > now),
                len(view.recipients),
                view.acknowledged,
                "、".join(r.school.name for r in view.pending),
            )

    return Table(
        columns=[
            _("Number"),
            _("Issued at"),
            _("Title"),
            _("Level"),
            _("Issued by"),
            _("Valid from"),
            _("Valid until"),
            _("Expired"),
            _("Schools"),
            _("Acknowledged"),
            _("Not acknowledged yet"),
        ],
        rows=rows(),
    )


def cases_table(actor, query) -> Table:
    _levels, status, school_id = case_filters(actor, query)
    cases = cases_selectors.case_list(actor=actor, status=status, school_id=school_id)
    rows = (
        (
            c.pk,
            c.registered_at,
            c.title,
            c.school.name,
            c.get_status_display(),
            c.get_category_display(),
            person_name(c.officer),
        )
        for c in cases.iterator(chunk_size=CHUNK)
    )
    return Table(
        columns=[
            _("Number"),
            _("Registered at"),
            _("Title"),
            _("School"),
            _("Status"),
            _("Category"),
            _("Dedicated officer"),
        ],
        rows=rows,
        heading=_status_heading(status, CaseStatus),
    )


register_export("intel.signs", title=gettext_lazy("Warning signs"), table=signs_table)
register_export(
    "intel.early_warnings", title=gettext_lazy("Early warnings"), table=early_warnings_table
)
register_export("intel.cases", title=gettext_lazy("School cases"), table=cases_table)
