"""Reads of import jobs and of the schools a user may import into or export from."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from huxiao.core.permissions import require
from huxiao.core.roles import Action
from huxiao.imports.models import ImportJob
from huxiao.orgs.models import Organization


def import_job_list(*, actor) -> QuerySet[ImportJob]:
    """Jobs of the schools where the actor may import; the rows hold roster previews."""
    return (
        ImportJob.objects.visible_to(actor, Action.IMPORT_ROSTER)
        .select_related("school", "created_by")
        .defer("file_encrypted", "rows_encrypted", "errors", "preview")
    )


def import_job_get(*, actor, job_id: int) -> ImportJob:
    """404 outside the actor's schools (as if it did not exist), 403 for a role that may see
    the school but not import into it."""
    job = get_object_or_404(
        ImportJob.objects.visible_to(actor, Action.VIEW)
        .select_related("school", "created_by")
        .defer("file_encrypted", "rows_encrypted"),
        pk=job_id,
    )
    require(actor, Action.IMPORT_ROSTER, job.school_id)
    return job


def importable_schools(*, actor) -> QuerySet[Organization]:
    return Organization.objects.visible_to(actor, Action.IMPORT_ROSTER).schools().order_by("name")


def exportable_schools(*, actor) -> QuerySet[Organization]:
    return Organization.objects.visible_to(actor, Action.EXPORT_ROSTER).schools().order_by("name")
