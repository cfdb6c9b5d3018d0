"""Excel export of the import job list (issue 10 item 5, ADR 0033): the jobs of the
schools the user imports into, from the page's scoped selector — every job, not the
page's latest 50. No roster content: file name, counts and status, as on the page."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huxiao.core.names import person_name
from huxiao.imports import selectors
from huxiao.reports.exports import Table, register_export


def import_jobs_table(actor, query) -> Table:
    if not selectors.importable_schools(actor=actor).exists():
        # The page lists jobs only to those who may import (an exporter sees no list).
        raise PermissionDenied
    jobs = selectors.import_job_list(actor=actor)
    rows = (
        (
            job.pk,
            job.created_at,
            job.school.name,
            job.get_kind_display(),
            job.original_filename,
            job.get_status_display(),
            job.total_rows,
            job.error_count,
            job.created_count,
            person_name(job.created_by),
        )
        for job in jobs.iterator(chunk_size=1000)
    )
    return Table(
        columns=[
            _("Number"),
            _("Uploaded"),
            _("School"),
            _("Roster"),
            _("File"),
            _("Status"),
            _("Rows"),
            _("Errors"),
            _("Created"),
            _("Uploaded by"),
        ],
        rows=rows,
    )


register_export("imports.jobs", title=gettext_lazy("Roster imports"), table=import_jobs_table)
