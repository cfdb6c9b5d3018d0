"""The supervision API (issue 6, items 4–6): one router made of each area's."""

from ninja import Router

from huxiao.supervision.assessment_api import router as assessment_router
from huxiao.supervision.campaign_api import router as campaign_router
from huxiao.supervision.meeting_api import router as meeting_router
from huxiao.supervision.notice_api import router as notice_router

router = Router()
router.add_router("/", campaign_router)
router.add_router("/", assessment_router)
router.add_router("/", meeting_router)
router.add_router("/", notice_router)
