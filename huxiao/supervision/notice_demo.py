"""Demo notices and accountability (issue 6 item 5, ADR 0027) for the demo township.

`load_demo_notices()` runs after `load_demo_township()` (and best after
`load_demo_hazards()`, whose overdue hazard at 大杨树中心小学 the interview links to). Demo
mode only; everything goes through the real services (draft, publish with notifications,
read marks, the accountability record), so audit rows and inbox messages are the real ones.

What a visitor of `make run` finds (T is today):

- a **public criticism** by 大杨树镇中心学校 (`edu`) of 大杨树中心小学, published on T−3 to
  every school of the town and the governance office, to be put right by T+11: `principal2`
  sees it with its countdown and can mark it read; `edu` sees who has read it and can
  record that things were put right;
- a **commendation** of 大杨树实验幼儿园 by the same office, published on T−5 and already
  read by `principal`;
- an **interview** (约谈) of the principal of 大杨树中心小学 by 大杨树镇综治办 (`gov`) on T−2,
  linked to the criticism (and to the overdue guard-staffing hazard when the demo hazards
  are loaded): `gov` writes its follow-up, `principal2` reads it.

Idempotent: a notice is keyed by its issuer and title, the interview by its
subject, kind and deciding office; what exists is left alone, so edits made during a demo survive a
restart. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.core.roles import OrgKind
from huxiao.demo.township import DemoModeOff
from huxiao.orgs.models import Organization
from huxiao.supervision import notice_services as services
from huxiao.supervision.choices import AccountabilityKind, NoticeKind
from huxiao.supervision.models import Accountability, Notice

KINDERGARTEN = "大杨树实验幼儿园"
PRIMARY = "大杨树中心小学"
EDU_OFFICE = "大杨树镇中心学校"
GOV_OFFICE = "大杨树镇综治办"
USERNAMES = ("edu", "gov", "principal", "principal2")
GUARD_HAZARD = "专职保安员配备不足、未持证上岗"

CRITICISM_TITLE = "关于大杨树中心小学安全保卫工作落实不力的通报批评"
CRITICISM_BODY = (
    "各学校（幼儿园）：\n"
    "本月督导检查和派出所检查发现，大杨树中心小学专职保安员配备不足、保安员未持证上岗，"
    "隐患整改超过期限仍未完成，校园安全防范存在明显漏洞。\n"
    "经研究，决定对大杨树中心小学予以通报批评。请该校对照《护校安园》要求，"
    "于规定日期前配齐持证保安员，完成整改并书面报告镇中心学校。\n"
    "各学校要引以为戒，举一反三，立即开展自查自纠。"
)
COMMENDATION_TITLE = "关于表扬大杨树实验幼儿园安全工作的通报"
COMMENDATION_BODY = (
    "各学校（幼儿园）：\n"
    "大杨树实验幼儿园坚持每月安全自查，隐患发现及时、整改彻底，"
    "门卫值守、护学岗和应急演练规范有序，在本月督导中表现突出。\n"
    "经研究，决定予以通报表扬。希望各学校学习借鉴其做法，切实筑牢校园安全防线。"
)
INTERVIEW_REASON = (
    "学校专职保安员配备不足、未持证上岗，派出所检查提出的隐患超过整改期限仍未完成，"
    "已被镇中心学校通报批评。依据护校安园责任制，对学校主要负责人进行约谈。"
)


def _at(today: dt.date, days_ago: int, hhmm: str) -> dt.datetime:
    hour, minute = (int(part) for part in hhmm.split(":"))
    return timezone.make_aware(
        dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(hour, minute))
    )


def load_demo_notices(*, today: dt.date | None = None, stdout=None) -> dict:
    """Create the demo notices and the interview that are missing; return what this run
    created ({"notices": n, "accountability": n}). Refuses with DemoModeOff unless
    settings.DEMO_MODE is on; does nothing if the demo township is missing."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"notices": 0, "accountability": 0}
    users = {
        user.username: user
        for user in get_user_model().objects.filter(username__in=USERNAMES, is_active=True)
    }
    schools = {
        school.name: school
        for school in Organization.objects.schools().filter(name__in=(KINDERGARTEN, PRIMARY))
    }
    edu = Organization.objects.filter(kind=OrgKind.EDUCATION_OFFICE, name=EDU_OFFICE).first()
    gov = Organization.objects.filter(kind=OrgKind.GOVERNANCE_OFFICE, name=GOV_OFFICE).first()
    if len(users) < len(USERNAMES) or len(schools) < 2 or edu is None or gov is None:
        return created

    today = today or timezone.localdate()
    year = today.year
    all_schools = [o.pk for o in services.scope_organizations(edu) if o.is_school]
    with transaction.atomic():
        criticism_ref = f"大杨树教〔{year}〕12号"
        criticism = Notice.objects.filter(issuer=edu, title=CRITICISM_TITLE).first()
        if criticism is None:
            criticism = services.notice_draft(
                actor=users["edu"],
                issuer=edu,
                kind=NoticeKind.CRITICISM,
                title=CRITICISM_TITLE,
                body=CRITICISM_BODY,
                reference=criticism_ref,
                improve_by=today + dt.timedelta(days=11),
                subjects=[schools[PRIMARY].pk],
                recipients=[*all_schools, gov.pk],
                now=_at(today, 3, "09:30"),
            )
            criticism = services.notice_publish(
                actor=users["edu"], notice=criticism, now=_at(today, 3, "10:00")
            )
            created["notices"] += 1

        commendation_ref = f"大杨树教〔{year}〕11号"
        if not Notice.objects.filter(issuer=edu, title=COMMENDATION_TITLE).exists():
            commendation = services.notice_draft(
                actor=users["edu"],
                issuer=edu,
                kind=NoticeKind.COMMENDATION,
                title=COMMENDATION_TITLE,
                body=COMMENDATION_BODY,
                reference=commendation_ref,
                subjects=[schools[KINDERGARTEN].pk],
                recipients=all_schools,
                now=_at(today, 5, "09:00"),
            )
            services.notice_publish(
                actor=users["edu"], notice=commendation, now=_at(today, 5, "09:30")
            )
            services.notice_mark_read(
                actor=users["principal"], notice=commendation, now=_at(today, 5, "11:20")
            )
            created["notices"] += 1

        decided_on = today - dt.timedelta(days=2)
        if not Accountability.objects.filter(
            subject=schools[PRIMARY], kind=AccountabilityKind.INTERVIEW, decided_by_org=gov
        ).exists():
            from huxiao.hazards.models import Hazard

            hazard = Hazard.objects.filter(school=schools[PRIMARY], title=GUARD_HAZARD).first()
            principal2 = users["principal2"]
            services.accountability_record(
                actor=users["gov"],
                deciding_org=gov,
                kind=AccountabilityKind.INTERVIEW,
                subject=schools[PRIMARY],
                person_name=f"{principal2.last_name}{principal2.first_name}" or "校长",
                person_position="校长",
                reason=INTERVIEW_REASON,
                decided_on=decided_on,
                hazard=hazard,
                notice=criticism if criticism.status == "published" else None,
                now=_at(today, 2, "15:00"),
            )
            created["accountability"] += 1
    if stdout is not None:
        stdout.write(
            f"  notices: +{created['notices']} notices, "
            f"+{created['accountability']} accountability records\n"
        )
    return created
