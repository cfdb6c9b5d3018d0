"""Fixtures of the notices and accountability tests, on top of `sworld`
(huxiao/supervision/tests/conftest.py): a controllable clock and notices of the town's
education office (`edu`) about the kindergarten (`sworld.school`).

- `nworld`: `sworld` plus `gov_office` (the town's governance office) and `county_office`;
- `draft` / `criticism`: a draft / published public criticism of the kindergarten by the
  education office, published to every school of the town and the governance office,
  published on MONDAY and to be put right by MONDAY + 7.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.core.roles import OrgKind
from huxiao.orgs.models import Organization
from huxiao.supervision import notice_services as ns
from huxiao.supervision.choices import AccountabilityKind, NoticeKind

MONDAY = dt.date(2025, 3, 3)


def at(day: dt.date, hhmm: str = "09:00") -> dt.datetime:
    hour, minute = hhmm.split(":")
    return timezone.make_aware(dt.datetime.combine(day, dt.time(int(hour), int(minute))))


def day(n: int) -> dt.date:
    return MONDAY + dt.timedelta(days=n)


def make_draft(w, *, actor=None, kind=NoticeKind.CRITICISM, now=None, **kwargs):
    kwargs.setdefault("title", "关于本园安全工作落实不力的通报批评")
    kwargs.setdefault("body", "经督导检查，本园门卫值守不到位。")
    kwargs.setdefault("reference", "测试教〔2025〕1号")
    kwargs.setdefault("subjects", [w.school.pk])
    kwargs.setdefault("recipients", [w.school.pk, w.other_school.pk, w.gov_office.pk])
    if kind == NoticeKind.CRITICISM:
        kwargs.setdefault("improve_by", day(7))
    return ns.notice_draft(
        actor=actor or w.users["edu"], kind=kind, now=now or at(MONDAY), **kwargs
    )


def publish(w, notice, *, actor=None, now=None):
    return ns.notice_publish(
        actor=actor or w.users["edu"], notice=notice, now=now or at(MONDAY, "10:00")
    )


def record(w, *, actor=None, subject=None, now=None, **kwargs):
    kwargs.setdefault("kind", AccountabilityKind.INTERVIEW)
    kwargs.setdefault("reason", "隐患逾期未整改，约谈园长。")
    kwargs.setdefault("decided_on", MONDAY)
    kwargs.setdefault("person_name", "刘芳")
    kwargs.setdefault("person_position", "园长")
    return ns.accountability_record(
        actor=actor or w.users["gov"],
        subject=subject or w.school,
        now=now or at(MONDAY, "15:00"),
        **kwargs,
    )


@pytest.fixture
def nworld(sworld):
    w = sworld
    w.gov_office = Organization.objects.get(kind=OrgKind.GOVERNANCE_OFFICE, town=w.town)
    w.county_office = Organization.objects.get(kind=OrgKind.GOVERNANCE_OFFICE, town=None)
    return w


@pytest.fixture
def draft(nworld):
    return make_draft(nworld)


@pytest.fixture
def criticism(nworld, draft):
    return publish(nworld, draft)
