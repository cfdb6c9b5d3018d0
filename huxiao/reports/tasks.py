"""Background work of reports: each task only calls a service."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from huxiao.reports import services

logger = logging.getLogger(__name__)


@db_task()
def report_build_task(report_id: int) -> None:
    services.report_build(report_id)


@db_periodic_task(crontab(minute="*/10"))
def reports_fail_stale_task() -> None:
    failed = services.reports_fail_stale()
    if failed:
        logger.warning("failed %s report job(s) whose worker stopped", failed)
