"""The inspections and hazards API (issue 6): one router made of each area's."""

from ninja import Router

from huxiao.hazards.hazard_api import router as hazard_router
from huxiao.hazards.inspection_api import router as inspection_router
from huxiao.hazards.template_api import router as template_router

router = Router()
router.add_router("/", template_router)
router.add_router("/", inspection_router)
router.add_router("/", hazard_router)
