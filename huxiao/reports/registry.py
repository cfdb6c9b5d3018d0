"""What each kind of report is: how it is built and who besides its requester may read it
(ADR 0033). The areas register themselves when their module is imported:

    registry.register(ReportKind.MONTHLY, build=build_monthly, may_view=monthly_may_view)

`build(report, progress) -> Built` runs in the task queue with the report's language active;
`progress(percent, stage)` writes the progress shown on the report's page. A builder that
cannot build for a reason the user can act on raises `ReportFailed(message)`.

`may_view(user, report) -> bool` decides for everybody but the requester (who always may,
as long as the report's own check does not refuse them: see `selectors.report_visible`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

# Modules that register kinds; a module that does not exist yet is skipped.
BUILDER_MODULES = (
    "huxiao.reports.monthly_builders",
    "huxiao.reports.document_builders",
    "huxiao.reports.exports",
)


class ReportFailed(Exception):
    """A build that cannot succeed, with a message for the user (in their language)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass
class Built:
    """What a builder produced. `filename` is the stem (no extension) of the download."""

    filename: str
    pdf: bytes | None = None
    xlsx: bytes | None = None
    rows: int | None = None


@dataclass(frozen=True)
class KindSpec:
    kind: str
    build: Callable
    may_view: Callable
    # Re-checked for the requester too: may they still see the subject/area? Default: yes.
    requester_may_view: Callable | None = None


_KINDS: dict[str, KindSpec] = {}


def register(kind: str, *, build: Callable, may_view: Callable, requester_may_view=None) -> None:
    _KINDS[str(kind)] = KindSpec(str(kind), build, may_view, requester_may_view)


def get(kind: str) -> KindSpec | None:
    return _KINDS.get(str(kind))


def load_builders() -> None:
    for name in BUILDER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
