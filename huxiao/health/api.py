"""The health API: one router made of each area's."""

from ninja import Router

from huxiao.health.case_api import router as case_router
from huxiao.health.check_api import router as check_router
from huxiao.health.directory_api import router as directory_router
from huxiao.health.response_api import router as response_router
from huxiao.health.surveillance_api import router as surveillance_router

router = Router()
router.add_router("/", check_router)
router.add_router("/", surveillance_router)
router.add_router("/", case_router)
router.add_router("/", response_router)
router.add_router("/", directory_router)
