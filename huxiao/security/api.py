"""The security API: one router made of each area's."""

from ninja import Router

from huxiao.security.compliance_api import router as compliance_router
from huxiao.security.defence_api import router as defence_router
from huxiao.security.equipment_api import router as equipment_router
from huxiao.security.personnel_api import router as personnel_router

router = Router()
router.add_router("/", defence_router)
router.add_router("/", compliance_router)
router.add_router("/", personnel_router)
router.add_router("/", equipment_router)
