"""The gate report as an .xlsx workbook, one sheet per section (issue 5, item 8).

Written like the roster export (`imports.workbook.export_bytes`): a write-only workbook, so
memory stays flat for a quarter's log; user text defused with `spreadsheet_safe` so that a
visitor called "=HYPERLINK(…)" stays text. ID numbers only masked, no photo, nothing of the
register (the screening is "clear" or "held"). Every export leaves an audit row with the
range and the row count of each sheet.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable

import openpyxl
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from huxiao.access.choices import (
    CarrierKind,
    ContrabandCategory,
    Direction,
    Handling,
    PassKind,
    RefusalReason,
    ReleaseMethod,
    ScanResult,
    VehiclePurpose,
    VisitPurpose,
    VisitStatus,
)
from huxiao.access.report_selectors import REPORT_ACTION, GateReport, screening_label
from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record
from huxiao.core.permissions import require
from huxiao.imports.columns import spreadsheet_safe

REPORT_OBJECT_TYPE = "access.gatereport"


def _label(choices, value) -> str:
    if not value:
        return ""
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _when(value: dt.datetime | None):
    """Local wall-clock time without a zone: what Excel can show and sort."""
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None, microsecond=0)


def _cell(value):
    return spreadsheet_safe(value) if isinstance(value, str) else value


def _summary_rows(report: GateReport) -> Iterable[list]:
    t = report.totals
    yield [_("School"), report.school.name]
    yield [_("From"), report.start]
    yield [_("To"), report.end]
    yield [_("Exported at"), _when(timezone.now())]
    for key, label in summary_labels():
        yield [label, t[key]]


def summary_labels() -> list[tuple[str, str]]:
    return [
        ("visits", _("Number of visits")),
        ("held", _("Visitors held at the gate")),
        ("still_inside", _("Visitors not checked out")),
        ("vehicles", _("Vehicle entries")),
        ("scans_accepted", _("Pass scans accepted")),
        ("scans_refused", _("Pass scans refused")),
        ("interceptions", _("Prohibited items intercepted")),
        ("releases", _("Children handed over")),
        ("delegate_releases", _("Handed over to a delegate")),
        ("refusals", _("Refused pick-ups")),
        ("not_collected", _("Children not collected in time")),
    ]


def _visit_rows(report: GateReport) -> Iterable[list]:
    for v in report.visits.iterator(chunk_size=1000):
        yield [
            _when(v.checked_in_at),
            _when(v.checked_out_at),
            v.name,
            v.id_number_masked,
            _label(VisitPurpose, v.purpose),
            v.purpose_note,
            v.host.name if v.host else "",
            screening_label(v.screening),
            _label(VisitStatus, v.status),
            v.checked_in_by_label,
        ]


def _vehicle_rows(report: GateReport) -> Iterable[list]:
    for m in report.vehicles.iterator(chunk_size=1000):
        yield [
            _when(m.entered_at),
            _when(m.exited_at),
            m.plate,
            m.driver_name,
            _label(VehiclePurpose, m.purpose),
            m.gate_pass.holder_name if m.gate_pass else "",
            m.note,
        ]


def _scan_rows(report: GateReport) -> Iterable[list]:
    for s in report.scans.iterator(chunk_size=1000):
        p = s.gate_pass
        yield [
            _when(s.at),
            _label(Direction, s.direction),
            _label(ScanResult, s.result),
            _label(RefusalReason, s.reason),
            p.holder_name if p else "",
            _label(PassKind, p.kind) if p else "",
            p.plate if p else "",
            s.scanned_by_label,
        ]


def _interception_rows(report: GateReport) -> Iterable[list]:
    for i in report.interceptions.iterator(chunk_size=1000):
        yield [
            _when(i.at),
            _label(ContrabandCategory, i.category),
            i.item,
            _label(CarrierKind, i.carrier_kind),
            i.carrier_name,
            _label(Handling, i.handling),
            _when(i.police_notified_at),
            i.note,
        ]


def _purpose_rows(report: GateReport) -> Iterable[list]:
    for row in report.by_purpose:
        yield [_label(VisitPurpose, row["purpose"]), row["visits"], row["held"]]


def _host_rows(report: GateReport) -> Iterable[list]:
    for row in report.by_host:
        yield [row["host__name"] or _("No host"), row["visits"]]


def _refusal_rows(report: GateReport) -> Iterable[list]:
    for r in report.refusals.iterator(chunk_size=1000):
        yield [
            _when(r.at),
            _label(RefusalReason, r.reason),
            r.child.name if r.child else "",
            r.child.school_class.name if r.child and r.child.school_class else "",
            r.adult_name,
            r.by_label,
        ]


def _not_collected_rows(report: GateReport) -> Iterable[list]:
    for n in report.not_collected.iterator(chunk_size=1000):
        yield [
            n.on_date,
            n.child.name,
            n.child.school_class.name if n.child.school_class else "",
            _when(n.flagged_at),
            _when(n.collected_at),
            n.collected_by or "",
        ]


def _delegate_rows(report: GateReport) -> Iterable[list]:
    for r in report.delegate_releases.iterator(chunk_size=1000):
        yield [
            _when(r.released_at),
            r.child.name,
            r.school_class.name if r.school_class else "",
            r.adult_name,
            r.delegate.relationship if r.delegate else "",
            _label(ReleaseMethod, r.method),
            r.released_by_label,
        ]


def sheets() -> list[tuple[str, str, list[str], Callable[[GateReport], Iterable[list]]]]:
    """(key, sheet title, headers, rows) of each sheet, in the order of the page."""
    return [
        ("summary", _("Overview"), [_("Item"), _("Value")], _summary_rows),
        (
            "visits",
            _("Visitors"),
            [
                _("Time in"),
                _("Time out"),
                _("Name"),
                _("Resident ID number"),
                _("Purpose"),
                _("Purpose details"),
                _("Host"),
                _("Screening"),
                _("Status"),
                _("Registered by"),
            ],
            _visit_rows,
        ),
        (
            "vehicles",
            _("Vehicles"),
            [
                _("Time in"),
                _("Time out"),
                _("Plate"),
                _("Driver"),
                _("Purpose"),
                _("Pass holder"),
                _("Note"),
            ],
            _vehicle_rows,
        ),
        (
            "scans",
            _("Pass scans"),
            [
                _("At"),
                _("Direction"),
                _("Result"),
                _("Reason"),
                _("Pass holder"),
                _("Kind"),
                _("Plate"),
                _("Scanned by"),
            ],
            _scan_rows,
        ),
        (
            "interceptions",
            _("Interceptions"),
            [
                _("At"),
                _("Category"),
                _("Item"),
                _("Carried by"),
                _("Name of the person"),
                _("Handling"),
                _("Police notified at"),
                _("Note"),
            ],
            _interception_rows,
        ),
        (
            "by_purpose",
            _("By purpose"),
            [_("Purpose"), _("Number of visits"), _("On hold")],
            _purpose_rows,
        ),
        ("by_host", _("By host"), [_("Host"), _("Number of visits")], _host_rows),
        (
            "refusals",
            _("Refused pick-ups"),
            [
                _("At"),
                _("Reason"),
                _("Child"),
                _("Class"),
                _("Code of"),
                _("At the gate"),
            ],
            _refusal_rows,
        ),
        (
            "not_collected",
            _("Not collected"),
            [
                _("Date"),
                _("Child"),
                _("Class"),
                _("Flagged at"),
                _("Collected at"),
                _("Collected by"),
            ],
            _not_collected_rows,
        ),
        (
            "delegate_releases",
            _("Delegate releases"),
            [
                _("Released at"),
                _("Child"),
                _("Class"),
                _("Delegate"),
                _("Relationship"),
                _("Method"),
                _("Released by"),
            ],
            _delegate_rows,
        ),
    ]


def gate_report_export(*, actor, report: GateReport) -> bytes:
    """The report as .xlsx bytes; audited (who, which school, which days, how many rows)."""
    require(actor, REPORT_ACTION, report.school.pk)
    workbook = openpyxl.Workbook(write_only=True)
    counts: dict[str, int] = {}
    for key, title, headers, rows in sheets():
        # Sheet names: at most 31 characters (Excel's limit).
        sheet = workbook.create_sheet(title[:31])
        for index, header in enumerate(headers, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = max(12, len(header) * 2 + 4)
        sheet.append(headers)
        count = 0
        for row in rows(report):
            sheet.append([_cell(value) for value in row])
            count += 1
        if key != "summary":
            counts[key] = count
    buffer = io.BytesIO()
    workbook.save(buffer)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.EXPORT,
            object_type=REPORT_OBJECT_TYPE,
            object_repr=str(_("Gate report")),
            school=report.school,
            changes={
                "from": report.start.isoformat(),
                "to": report.end.isoformat(),
                "rows": counts,
            },
        )
    return buffer.getvalue()
