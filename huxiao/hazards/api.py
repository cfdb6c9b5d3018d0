"""The inspections and hazards API (issue 6): one router made of each area's."""

from ninja import Router

from huxiao.hazards.hazard_api import router as hazard_router
from huxiao.hazards.inspection_api import router as inspection_router
from huxiao.hazards.listing_api import router as listing_router
from huxiao.hazards.task_api import router as task_router
from huxiao.hazards.template_api import router as template_router

router = Router()
router.add_router("/", template_router)
router.add_router("/", inspection_router)
# Before the hazards' routes: "/hazards/listings" must not be read as a hazard id.
router.add_router("/", listing_router)
router.add_router("/", task_router)
router.add_router("/", hazard_router)
