"""The gate's API (issue 5): one router made of each area's."""

from ninja import Router

from huxiao.access.pass_api import router as pass_router
from huxiao.access.pickup_api import router as pickup_router
from huxiao.access.report_api import router as report_router
from huxiao.access.visitor_api import router as visitor_router

router = Router()
router.add_router("/", visitor_router)
router.add_router("/", pass_router)
router.add_router("/", pickup_router)
router.add_router("/", report_router)
