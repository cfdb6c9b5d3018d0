"""The demo campaign (huxiao.supervision.campaign_demo): demo mode only, through the real
services, idempotent, and scoped like the real thing. Loading the township takes a few
seconds, so the loaded demo is checked in one test."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from huxiao.audit.models import AuditEvent
from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.notify.models import Notification
from huxiao.supervision import campaign_selectors as sel
from huxiao.supervision.campaign_demo import (
    KINDERGARTEN,
    MIDDLE,
    PRIMARY,
    PRIVATE_KG,
    TITLE,
    load_demo_campaigns,
)
from huxiao.supervision.campaign_models import Campaign, CampaignAnswer, CampaignEvent
from huxiao.supervision.choices import CampaignSchoolStatus, CampaignStatus, GapStatus

User = get_user_model()
ES = CampaignSchoolStatus
pytestmark = pytest.mark.django_db


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_campaigns()
    assert not Campaign.objects.exists()


def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_campaigns() == {"campaigns": 0, "schools": 0}


def test_the_demo_campaign(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    result = load_demo_campaigns()
    assert result == {"campaigns": 1, "schools": 6}
    campaign = Campaign.objects.get(title=TITLE)
    assert campaign.status == CampaignStatus.RUNNING and campaign.owner.name == "大杨树镇中心学校"
    edu = User.objects.get(username="edu")
    entries = {e.school.name: e for e in sel.campaign_entries(actor=edu, campaign=campaign)}
    assert entries[PRIVATE_KG].status == ES.ACCEPTED
    assert entries[MIDDLE].status == ES.SUBMITTED and entries[MIDDLE].gaps_open == 1
    assert entries[PRIMARY].status == ES.RETURNED
    kg = entries[KINDERGARTEN]
    assert kg.status == ES.SELF_CHECKING
    assert (kg.answered, kg.gaps_open, kg.gaps_fixed, kg.gaps_overdue) == (6, 2, 1, 1)
    assert {
        e.status
        for name, e in entries.items()
        if name not in (PRIVATE_KG, MIDDLE, PRIMARY, KINDERGARTEN)
    } == {ES.SELF_CHECKING}
    assert CampaignEvent.objects.filter(entry__campaign=campaign).exists()
    assert AuditEvent.objects.filter(object_type="supervision.campaignanswer").exists()
    # The reminders of today reached the school leaders and the overdue gap's owner.
    assert Notification.objects.filter(event_type="campaigns.gap_overdue").exists()
    assert Notification.objects.filter(event_type="campaigns.self_check_due_soon").exists()
    # As the demo users see it.
    principal = User.objects.get(username="principal")
    mine = sel.campaign_entries(actor=principal, campaign=campaign)
    assert [e.school.name for e in mine] == [KINDERGARTEN]
    gap = CampaignAnswer.objects.get(entry=entries[MIDDLE], gap_status=GapStatus.OPEN)
    assert gap.gap_owner.username == "middle.principal"

    # Idempotent: a second run writes nothing.
    counts = (
        CampaignEvent.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )
    assert load_demo_campaigns() == {"campaigns": 0, "schools": 0}
    assert (
        CampaignEvent.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    ) == counts
