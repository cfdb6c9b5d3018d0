"""Excel exports of list pages (issue 10 item 5, ADR 0033).

Each app registers its lists in its own `exports.py` (found by autodiscovery):

    from huxiao.reports.exports import Table, register_export

    def hazard_table(actor, query) -> Table:
        rows = hazard_selectors.hazard_list(actor=actor, **filters_from(query))  # scoped
        return Table(columns=[...], rows=(... for h in rows), school=...)

    register_export("hazards.hazards", title=_("Hazards"), table=hazard_table)

`table(actor, query)` must use **the same scoped selector and filters as the page** (so the
export holds exactly what the page lists, and nothing out of scope) and must show what the
page shows (ID numbers masked as on the page). It raises Http404/PermissionDenied exactly
like the page; its rows are produced lazily. It is called twice: once in the request (to
refuse at once what the page would refuse) and once in the task queue, as the requester,
with the scope they have then.

The page shows the button with `{% load reports_tags %}{% export_button "hazards.hazards" %}`;
it posts the page's query string. Every export leaves an audit row (EXPORT) with the list,
its filters and the row count.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record
from huxiao.reports import registry
from huxiao.reports.models import Report, ReportKind
from huxiao.reports.xlsx import Sheet, workbook_bytes

MAX_QUERY = 2000
EXPORT_OBJECT_TYPE = "reports.export"


@dataclass
class Table:
    columns: Sequence[str]
    rows: Iterable[Sequence]
    # The school when the list is one school's (the report and its audit row name it).
    school: object | None = None
    # Lines that say what the list holds (filters), shown above the header.
    heading: Sequence[str] = field(default_factory=list)
    # Rows expected, when cheap to know (for the progress bar).
    count: int | None = None


@dataclass(frozen=True)
class ExportSpec:
    name: str
    title: object
    table: Callable[[object, QueryDict], Table]


_EXPORTS: dict[str, ExportSpec] = {}
_discovered = False


def register_export(name: str, *, title, table: Callable[[object, QueryDict], Table]) -> None:
    _EXPORTS[name] = ExportSpec(name, title, table)


def discover() -> None:
    global _discovered
    if not _discovered:
        _discovered = True
        autodiscover_modules("exports")


def get_export(name: str) -> ExportSpec | None:
    discover()
    return _EXPORTS.get(name)


def export_names() -> list[str]:
    discover()
    return sorted(_EXPORTS)


def parse_query(query: str) -> QueryDict:
    if len(query) > MAX_QUERY:
        raise ValidationError(_("The list's filters are too long to export."))
    return QueryDict(query.lstrip("?"))


def table_for(actor, spec: ExportSpec, query: str) -> Table:
    """The list as `actor` sees it; Http404/PermissionDenied as on the page."""
    return spec.table(actor, parse_query(query))


def _region_id(actor, table: Table) -> int | None:
    if table.school is not None:
        return table.school.region_id
    from huxiao.core.scoping import memberships_of

    for m in memberships_of(actor):
        return m.organization.region_id
    return None


def export_request(*, actor, name: str, query: str) -> tuple[Report, bool]:
    """Queue the export of list `name` with the page's query string. Http404 for an unknown
    list or one the user may not see; ValidationError for unusable filters."""
    from huxiao.reports.services import report_request

    spec = get_export(name)
    if spec is None:
        raise Http404
    query = query.lstrip("?")
    table = table_for(actor, spec, query)  # refuses now what the page refuses
    region_id = _region_id(actor, table)
    if region_id is None:
        raise PermissionDenied
    stamp = timezone.localdate().isoformat()
    return report_request(
        actor=actor,
        kind=ReportKind.EXPORT,
        title=f"{spec.title} {stamp}",
        region_id=region_id,
        school_id=getattr(table.school, "pk", None),
        export_name=name,
        params={"query": query},
        # The query can be longer than the key: its digest tells two filters apart.
        dedupe_key=f"{actor.pk}:{name}:{hashlib.sha256(query.encode()).hexdigest()}",
    )


def _build(report: Report, progress) -> registry.Built:
    spec = get_export(report.export_name)
    actor = report.requested_by
    if spec is None or actor is None or not actor.is_active:
        raise registry.ReportFailed(gettext_lazy("This list can no longer be exported."))
    query = report.params.get("query", "")
    try:
        table = table_for(actor, spec, query)
    except (Http404, PermissionDenied, ValidationError):
        raise registry.ReportFailed(
            gettext_lazy("You may no longer see this list, so it was not exported.")
        ) from None
    progress(5, _("Reading the list"))

    def on_row(n: int) -> None:
        if table.count:
            progress(5 + 90 * n / max(table.count, 1), _("%(n)s rows written") % {"n": n})

    heading = [
        str(spec.title),
        *[str(line) for line in table.heading],
        _("Exported by %(name)s at %(when)s")
        % {
            "name": report.requested_by_name,
            "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        },
    ]
    data, rows = workbook_bytes(
        [Sheet(title=str(spec.title), columns=table.columns, rows=table.rows, heading=heading)],
        on_row=on_row,
    )
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type=EXPORT_OBJECT_TYPE,
        object_id=report.export_name,
        object_repr=str(spec.title),
        school=table.school,
        changes={"list": report.export_name, "query": query, "rows": rows},
    )
    return registry.Built(filename=report.title, xlsx=data, rows=rows)


def _requester_may_view(user, report: Report) -> bool:
    spec = get_export(report.export_name)
    if spec is None:
        return False
    try:
        table_for(user, spec, report.params.get("query", ""))
    except (Http404, PermissionDenied, ValidationError):
        return False
    return True


registry.register(
    ReportKind.EXPORT,
    build=_build,
    may_view=lambda user, report: False,  # an export is its requester's alone
    requester_may_view=_requester_may_view,
)
