"""The demo assessment (supervision.assessment_demo): demo mode only, through the real
services, a published ranking of the last full month and a draft of this one, idempotent.
Loading the township takes a few seconds, so the loaded demo is checked in one test."""

from __future__ import annotations

import pytest

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.hazards.demo import KINDERGARTEN, load_demo_hazards
from huxiao.notify.models import Notification
from huxiao.supervision import assessment_selectors as sel
from huxiao.supervision.assessment_demo import load_demo_assessment
from huxiao.supervision.choices import RunStatus
from huxiao.supervision.models import AssessmentRun, AssessmentScheme, ManualScore


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.mark.django_db
def test_refuses_outside_demo_mode_and_needs_the_township(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_assessment()
    settings.DEMO_MODE = True
    assert load_demo_assessment() == {"scheme": 0, "scores": 0, "published": 0, "drafts": 0}
    assert not AssessmentScheme.objects.exists()


@pytest.mark.django_db
def test_demo_assessment(settings, media):
    settings.DEMO_MODE = True
    load_demo_township()
    load_demo_hazards()
    done = load_demo_assessment()
    assert done["scheme"] == 1 and done["published"] == 1 and done["drafts"] == 1
    assert done["scores"] == 6
    scheme = AssessmentScheme.objects.get()
    today = sel.local_today()
    last = sel.previous_period("month", today)
    published = AssessmentRun.objects.get(status=RunStatus.PUBLISHED)
    draft = AssessmentRun.objects.get(status=RunStatus.DRAFT)
    assert published.period_start == last.start
    assert draft.period_start == sel.period_of("month", today).start
    assert published.results.count() == 6  # the six schools of 大杨树镇
    kg = published.results.get(school__name=KINDERGARTEN)
    assert kg.score is not None and kg.rank is not None
    assert ManualScore.objects.filter(period_start=last.start).count() == 6
    assert Notification.objects.filter(event_type="supervision.assessment_published").exists()
    # Idempotent: a second run writes nothing.
    assert load_demo_assessment() == {"scheme": 0, "scores": 0, "published": 0, "drafts": 0}
    assert AssessmentRun.objects.filter(scheme=scheme).count() == 2
