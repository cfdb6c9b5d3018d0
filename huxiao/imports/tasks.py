"""Background work of roster imports; each task only loads its job and calls a service."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from huxiao.core import request_context
from huxiao.imports import services
from huxiao.imports.models import ImportJob

logger = logging.getLogger(__name__)


@db_task()
def import_job_validate_task(job_id: int) -> None:
    job = ImportJob.objects.select_related("school").filter(pk=job_id).first()
    if job is None:
        return
    services.import_job_validate(job=job)


@db_task()
def import_job_commit_task(job_id: int, actor_id: int, request_id: str = "", ip: str = "") -> None:
    job = ImportJob.objects.select_related("school").filter(pk=job_id).first()
    if job is None:
        return
    actor = get_user_model().objects.filter(pk=actor_id, is_active=True).first()
    # Audit rows of the import carry the id of the request that confirmed it.
    token = request_context.set_current(
        request_context.RequestContext(request_id=request_id, ip=ip, path="task:import")
    )
    try:
        if actor is None:
            services.import_job_fail(
                actor=None, job=job, message=_("The account that confirmed this import is gone.")
            )
            return
        try:
            services.import_job_commit(actor=actor, job=job)
        except ValidationError as exc:
            # Not ready any more: a repeated task for a job already imported or failed.
            logger.warning("import job %s not imported: %s", job_id, exc)
        except PermissionDenied:
            # The role was removed between confirming and running.
            services.import_job_fail(
                actor=actor,
                job=job,
                message=_("Your role no longer allows this import. Nothing was imported."),
            )
    finally:
        request_context.reset(token)


@db_periodic_task(crontab(minute="*/10"))
def import_jobs_fail_stale_task() -> None:
    failed = services.import_jobs_fail_stale()
    if failed:
        logger.warning("failed %s import job(s) whose worker stopped", failed)
