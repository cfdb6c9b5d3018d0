"""The demo's cameras, video patrols and legal vice-principal: demo mode only, idempotent,
consistent with the township's membership of `officer`."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from huxiao.core.roles import Role
from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.orgs.models import Membership
from huxiao.patrols import video_selectors
from huxiao.patrols.models import Camera, LegalVicePrincipal, VideoPatrol
from huxiao.patrols.video_demo import load_demo_video

pytestmark = pytest.mark.django_db
TODAY = dt.date(2025, 3, 12)


def test_refuses_without_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_video()
    assert not Camera.objects.exists()


def test_demo_video(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    officer = get_user_model().objects.get(username="officer")
    membership = Membership.objects.get(user=officer, role=Role.LEGAL_VICE_PRINCIPAL)
    title = membership.title
    first = load_demo_video(today=TODAY)
    assert first["cameras"] == 12 and first["created"]["cameras"] == 12
    assert first["video_patrols"] == 3
    assert first["lvp_assignments"] == 1
    lvp = LegalVicePrincipal.objects.get()
    assert lvp.officer == officer and lvp.school.name == "大杨树实验幼儿园"
    assert lvp.station_id == membership.organization_id
    membership.refresh_from_db()
    assert membership.title == title and membership.is_active
    # A second run writes nothing; the township loader keeps the membership as it was.
    second = load_demo_video(today=TODAY)
    assert second["created"] == {}
    load_demo_township()
    membership.refresh_from_db()
    assert membership.title == title and membership.is_active
    assert VideoPatrol.objects.filter(observations__needs_follow_up=True).exists()
    # Scoped like the real thing: the principal sees only the kindergarten's cameras.
    principal = get_user_model().objects.get(username="principal")
    assert {c.school.name for c in video_selectors.camera_list(actor=principal)} == {
        "大杨树实验幼儿园"
    }
