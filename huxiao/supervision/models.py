"""Supervision (issue 6, items 4–6; ADR 0027): self-check campaigns, assessment and ranking
with notices, accountability and the one-vote veto, the leading group and joint meetings.
Each area keeps its models in its own module; this module gathers them for Django."""

from huxiao.supervision.assessment_models import (  # noqa: F401
    Accountability,
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    Indicator,
    ManualScore,
    Notice,
    NoticeReceipt,
    TownResult,
    Veto,
)
from huxiao.supervision.campaign_models import (  # noqa: F401
    Campaign,
    CampaignAnswer,
    CampaignEvent,
    CampaignItem,
    CampaignSchool,
)
from huxiao.supervision.meeting_models import (  # noqa: F401
    ActionEvent,
    ActionItem,
    GroupMember,
    LeadingGroup,
    Meeting,
    MeetingAttendee,
    ProgressReport,
)
