"""The drills API: one router made of each area's."""

from ninja import Router

from huxiao.drills.activity_api import router as activity_router
from huxiao.drills.compliance_api import router as compliance_router
from huxiao.drills.drill_api import router as drill_router

router = Router()
router.add_router("/", activity_router)
router.add_router("/", drill_router)
router.add_router("/", compliance_router)
