"""Review reminders of the high-risk persons register: an hourly job; the service sends at
most one reminder per officer per day and nothing at night (services.REMIND_FROM_HOUR)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from huxiao.intel.services import register_reviews_remind


@db_periodic_task(crontab(minute="7"))
def register_review_reminders() -> int:
    return register_reviews_remind()


@db_periodic_task(crontab(minute="*/5"))
def early_warnings_chase() -> int:
    """Remind schools that have not acknowledged an early warning (ADR 0019)."""
    from huxiao.intel.warnings_services import early_warnings_chase as chase

    return chase()
