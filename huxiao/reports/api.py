"""The reports API: one router made of each area's."""

from ninja import Router

from huxiao.reports.dashboard_api import router as dashboard_router
from huxiao.reports.monthly_api import router as monthly_router
from huxiao.reports.report_api import router as report_router

router = Router()
router.add_router("/", report_router)
router.add_router("/", dashboard_router)
router.add_router("/", monthly_router)
