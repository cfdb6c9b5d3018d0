"""Fixtures of the campaign area's tests, on top of `sworld` (tests/conftest.py): the town's
education office (`edu`, who runs the campaigns) over 本园 (`principal`, `security`, the
guard and the teacher) and 同镇学校 (`principal2`); `gov` (the town's governance office) and
`county` (the county's) review from outside; the police take no part.

A controllable clock: services take `now=`; `TODAY` is a Monday, and `at(day(n))` a moment
on the n-th day after it. Pages and the API run on the real clock, so their campaigns are
made relative to the real local date (`real_campaign`).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.supervision import campaign_services as cs
from huxiao.supervision.campaign_models import CampaignItem, CampaignSchool
from huxiao.supervision.choices import CampaignResult

TODAY = dt.date(2025, 3, 3)
ITEMS = [
    {"text": "专职保安员配备到位", "reference": "§1 二(一)一"},
    {"text": "防冲撞设施完好", "reference": "§1 二(一)二"},
    {"text": "一键报警联网测试", "reference": "§2 8"},
]


def day(n: int, base: dt.date = TODAY) -> dt.date:
    return base + dt.timedelta(days=n)


def at(when: dt.date, hhmm: str = "09:00") -> dt.datetime:
    hour, minute = hhmm.split(":")
    return timezone.make_aware(dt.datetime.combine(when, dt.time(int(hour), int(minute))))


def make_campaign(
    w,
    *,
    base: dt.date = TODAY,
    schools=None,
    items=None,
    start=True,
    actor=None,
    due=(7, 14, 30),
    title="春季护校安园专项自查",
):
    """A campaign of the town's education office over 本园 and 同镇学校 (created on `base`),
    started unless `start` is False."""
    now = at(base, "08:00")
    campaign = cs.campaign_create(
        actor=actor or w.users["edu"],
        title=title,
        self_check_due=day(due[0], base),
        spot_check_due=day(due[1], base),
        acceptance_due=day(due[2], base),
        items=ITEMS if items is None else items,
        schools=[w.school.pk, w.other_school.pk] if schools is None else schools,
        now=now,
    )
    if start:
        campaign = cs.campaign_start(actor=actor or w.users["edu"], campaign=campaign, now=now)
    return campaign


def real_today() -> dt.date:
    return timezone.localdate()


def real_campaign(w, **kwargs):
    return make_campaign(w, base=real_today(), **kwargs)


def entry_of(campaign, school) -> CampaignSchool:
    return CampaignSchool.objects.select_related("campaign", "school").get(
        campaign=campaign, school=school
    )


def items_of(campaign) -> list[CampaignItem]:
    return list(campaign.items.order_by("order", "id"))


def answer_all(w, campaign, *, school=None, actor=None, gaps=(), now=None, owner=None):
    """Answer every item of the school (meets, or a gap for the 0-based indexes in `gaps`,
    owned by the security officer, due in 5 days)."""
    school = school or w.school
    actor = actor or w.users["principal" if school == w.school else "principal2"]
    now = now or at(TODAY, "10:00")
    today = timezone.localtime(now).date()
    entry = entry_of(campaign, school)
    for index, item in enumerate(items_of(campaign)):
        if index in gaps:
            cs.campaign_answer(
                actor=actor,
                entry=entry,
                item=item,
                result=CampaignResult.GAP,
                note="缺少",
                gap_owner=owner or w.users["security"],
                gap_deadline=day(5, today),
                now=now,
            )
        else:
            cs.campaign_answer(
                actor=actor, entry=entry, item=item, result=CampaignResult.MEETS, now=now
            )
    return entry_of(campaign, school)


def advance(w, campaign, to: str, *, school=None, gaps=(), now=None, reviewer="edu"):
    """Move a school of a started campaign along the happy path up to `to`."""
    school = school or w.school
    now = now or at(TODAY, "11:00")
    leader = w.users["principal" if school == w.school else "principal2"]
    steps = ["submitted", "spot_checked", "accepted"]
    entry = answer_all(w, campaign, school=school, actor=leader, gaps=gaps, now=now)
    for step in steps[: steps.index(to) + 1]:
        if step == "submitted":
            entry = cs.entry_submit(actor=leader, entry=entry, now=now)
        elif step == "spot_checked":
            entry = cs.entry_spot_check(
                actor=w.users[reviewer], entry=entry, note="抽查一致", now=now
            )
        else:
            entry = cs.entry_accept(actor=w.users[reviewer], entry=entry, now=now)
    return entry


@pytest.fixture
def campaign(sworld):
    """A started campaign on the test clock's Monday."""
    return make_campaign(sworld)
