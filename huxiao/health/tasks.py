"""Periodic jobs of the health app (huey discovers `<app>.tasks`); each area keeps its own
module, imported here so that the worker registers them all."""

from huxiao.health import (  # noqa: F401 - imported to register their periodic tasks
    tasks_check,
    tasks_response,
    tasks_surveillance,
)
