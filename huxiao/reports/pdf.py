"""PDF rendering with WeasyPrint and embedded CJK fonts (ADR 0033).

`render_pdf(template_name, context)` renders a Django template that extends
`reports/pdf/base.html` and returns the PDF bytes. The fonts are the system's Noto CJK
(Debian `fonts-noto-cjk`, installed by `scripts/install-report-tools.sh`, which `make run`
and CI call); WeasyPrint subsets and embeds them, so the PDF shows the same on a machine
without them. With no CJK font on the machine the report fails with a clear message instead
of a PDF full of empty boxes.

Templates may not load anything from the network: the URL fetcher refuses every URL but
`data:` (images are inlined as data URIs or SVG), so a report never waits on a dead CDN and
user text in a report cannot make the server fetch anything.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from huxiao.reports.registry import ReportFailed

CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Serif CJK SC", "Noto Sans SC", "Source Han Sans SC")
NO_FONT_MESSAGE = _(
    "No Chinese font is installed on the server, so the PDF cannot be made. The "
    "administrator runs scripts/install-report-tools.sh (Debian: fonts-noto-cjk)."
)


@functools.cache
def cjk_font_installed() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    out = subprocess.run(  # noqa: S603 - a fixed command, no user input
        [fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=20, check=False
    ).stdout
    return any(family in out for family in CJK_FAMILIES)


def html_to_pdf(html: str) -> bytes:
    if not cjk_font_installed():
        raise ReportFailed(NO_FONT_MESSAGE)
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"}, timeout=1, allow_redirects=False)
    return HTML(string=html, url_fetcher=fetcher, base_url="/").write_pdf()


def render_pdf(template_name: str, context: dict) -> bytes:
    return html_to_pdf(render_to_string(template_name, context))
