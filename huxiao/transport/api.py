"""The transport API: one router made of each area's."""

from ninja import Router

from huxiao.transport.fleet_api import router as fleet_router
from huxiao.transport.inspection_api import router as inspection_router
from huxiao.transport.route_api import router as route_router
from huxiao.transport.trip_api import router as trip_router

router = Router()
router.add_router("/", fleet_router)
router.add_router("/", route_router)
router.add_router("/", inspection_router)
router.add_router("/", trip_router)
