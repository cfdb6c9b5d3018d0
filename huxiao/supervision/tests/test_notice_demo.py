"""The demo notices and interview (huxiao.supervision.notice_demo): demo mode only, through
the real services, idempotent, and seen by the right demo logins."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.supervision import notice_selectors as sel
from huxiao.supervision.choices import NoticeKind, NoticeStatus
from huxiao.supervision.models import Accountability, Notice
from huxiao.supervision.notice_demo import PRIMARY, load_demo_notices

User = get_user_model()


def _fresh(username: str):
    return User.objects.get(username=username)  # no cached scope


@pytest.mark.django_db
def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_notices()
    assert not Notice.objects.exists()


@pytest.mark.django_db
def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_notices() == {"notices": 0, "accountability": 0}


@pytest.mark.django_db
def test_demo_notices_load_once_and_stay_in_scope(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    assert load_demo_notices() == {"notices": 2, "accountability": 1}
    assert load_demo_notices() == {"notices": 0, "accountability": 0}

    criticism = Notice.objects.get(kind=NoticeKind.CRITICISM)
    commendation = Notice.objects.get(kind=NoticeKind.COMMENDATION)
    assert {criticism.status, commendation.status} == {NoticeStatus.PUBLISHED}
    assert criticism.improve_by is not None and sel.days_left(criticism) == 11
    assert [s.name for s in criticism.subjects.all()] == [PRIMARY]
    assert commendation.receipts.filter(read_by__username="principal").exists()

    principal2 = _fresh("principal2")
    assert sel.notice_list(actor=principal2).filter(pk=criticism.pk).exists()
    assert not sel.notice_list(actor=_fresh("police")).exists()
    interview = Accountability.objects.get()
    assert interview.notice_id == criticism.pk and interview.decided_by_org.name == "大杨树镇综治办"
    assert sel.accountability_list(actor=principal2).get() == interview
    assert not sel.accountability_list(actor=_fresh("principal")).exists()
