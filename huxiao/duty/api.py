"""The duty API: one router made of each area's."""

from ninja import Router

from huxiao.duty.checkpoint_api import router as checkpoint_router
from huxiao.duty.duty_api import router as duty_router
from huxiao.duty.gap_api import router as gap_router
from huxiao.duty.monitoring_api import router as monitoring_router
from huxiao.duty.rounds_api import router as rounds_router

router = Router()
router.add_router("/", checkpoint_router)
router.add_router("/", rounds_router)
router.add_router("/", duty_router)
router.add_router("/", monitoring_router)
router.add_router("/", gap_router)
