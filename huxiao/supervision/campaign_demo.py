"""A self-check campaign in progress (§2 二–三, ADR 0027 "Campaigns") for the demo township.

`load_demo_campaigns()` runs after `load_demo_township()` (it needs 大杨树镇中心学校 with its
supervisor `edu`, the schools of 大杨树镇, and the logins `principal`, `guard`, `teacher`
and `principal2`). Demo mode only. Everything goes through the real services with a clock
(`now=`): the campaign is created and started twelve days ago, and each school's steps are
made on their day, so dates, timelines, audit rows and notifications are the real ones.

What a visitor of `make run` finds (T is today) under /supervision/campaigns/:
"2026年秋季护校安园专项自查" of 大杨树镇中心学校, running over the six schools of the town,
eight items (the six measures of §1 二 and §2 7, 8, 13), self-check due T+3, spot check
T+10, final acceptance T+20:

- **阳光幼儿园**: accepted — one gap (the guard-room equipment) fixed, spot-checked by `edu`;
- **大杨树镇中学**: submitted with one open gap (video not networked to the police): `edu`
  can record the spot check, and sees acceptance refused until the gap is fixed;
- **大杨树中心小学** (`principal2`): returned by `edu` with a reason — change the answer and
  resubmit;
- **大杨树实验幼儿园** (`principal`): still self-checking — six of eight items answered, two
  gaps open (one owned by `guard` and overdue, one by `teacher`), one fixed by `guard`;
- 大杨树第二小学 and 红星村小学: not started.

The principals of 阳光幼儿园 and 大杨树镇中学 have no demo login: accounts without a usable
password (named after the schools' principal staff records) stand for them, so that their
self-checks are made through the services like everyone else's. The reminder job is run
once for today, so the schools due in three days and the owner of the overdue gap find
their reminders in the inbox.

Idempotent: the campaign is keyed by its title and office; if it exists nothing is done,
so changes made during a demo survive a restart. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.core.roles import OrgKind, Role
from huxiao.demo.township import DemoModeOff
from huxiao.orgs.models import Organization
from huxiao.supervision import campaign_services as services
from huxiao.supervision.campaign_models import Campaign, CampaignSchool
from huxiao.supervision.choices import CampaignResult

TITLE = "2026年秋季护校安园专项自查"
OFFICE = "大杨树镇中心学校"
KINDERGARTEN = "大杨树实验幼儿园"
PRIMARY = "大杨树中心小学"
MIDDLE = "大杨树镇中学"
PRIVATE_KG = "阳光幼儿园"
USERNAMES = ("edu", "principal", "guard", "teacher", "principal2")
# Schools whose principal has no demo login: (school, username of the stand-in account).
STAND_INS = ((MIDDLE, "middle.principal"), (PRIVATE_KG, "sunshine.principal"))

DESCRIPTION = (
    "按照《护校安园专项行动工作方案》和建立健全长效机制的要求，各校（园）对照以下项目开展自查，"
    "缺啥补啥、立行立改：发现的差距逐项明确责任人和完成时限，按期整改到位。中心学校会同派出所、"
    "镇综治办进行抽查，并组织最终验收。"
)
ITEMS = (
    ("专职保安员按标准配备，持证上岗", "§1 二(一)一"),
    ("门卫室配齐防暴器械并会使用", "§1 二(一)一"),
    ("校门口防冲撞设施完好，上学放学时段启用", "§1 二(一)二"),
    ("视频监控覆盖重点部位并与公安机关联网", "§1 二(一)三"),
    ("一键式紧急报警与派出所联网，本学期测试正常", "§2 8"),
    ("上学放学时段“护学岗”有人值守", "§1 二(三)"),
    ("本学期开展安全教育和应急疏散演练", "§2 7"),
    ("校园周边摊点、交通秩序整治到位", "§2 13"),
)
M, G, NA = CampaignResult.MEETS, CampaignResult.GAP, CampaignResult.NOT_APPLICABLE


@dataclass(frozen=True)
class Answer:
    """The answer to item `item` (1-based) on day T−`day`; a gap's owner and deadline (days
    from today) and, if it was fixed, on which day and how."""

    item: int
    result: str
    note: str = ""
    owner: str = ""
    deadline: int = 0
    fixed_day: int | None = None
    fixed_note: str = ""


def _all_meet(except_items=(), note="已对照检查，符合要求。") -> tuple[Answer, ...]:
    return tuple(Answer(i, M, note) for i in range(1, len(ITEMS) + 1) if i not in except_items)


SUNSHINE = (
    *_all_meet(except_items=(2,)),
    Answer(
        2,
        G,
        "门卫室缺少防刺背心和长柄钢叉各一件。",
        owner="sunshine.principal",
        deadline=-6,
        fixed_day=7,
        fixed_note="已采购防刺背心、长柄钢叉，登记入账并组织门卫演练使用。",
    ),
)
MIDDLE_ANSWERS = (
    *_all_meet(except_items=(4,)),
    Answer(
        4,
        G,
        "宿舍楼和食堂的12路监控尚未接入派出所视频平台。",
        owner="middle.principal",
        deadline=15,
    ),
)
PRIMARY_ANSWERS = _all_meet()
KINDERGARTEN_ANSWERS = (
    Answer(1, M, "两名专职保安员均持证上岗。"),
    Answer(
        2,
        G,
        "防暴头盔一顶破损。",
        owner="guard",
        deadline=-3,
        fixed_day=3,
        fixed_note="已更换新头盔。",
    ),
    Answer(3, G, "东门升降柱遥控失灵，早晚未能按时升起。", owner="guard", deadline=-2),
    Answer(4, M, "监控已于去年接入派出所平台。"),
    Answer(5, M, "本月3日与派出所联调测试正常。"),
    Answer(6, G, "下午放学时段护学岗无教师值守。", owner="teacher", deadline=5),
)
RETURN_REASON = "第5项“一键式紧急报警”标为符合，但未见本学期与派出所联调测试记录，请补充测试后据实填报并重新提交。"


class _Clock:
    def __init__(self, now: dt.datetime):
        self.now = now
        self.today = timezone.localtime(now).date()

    def at(self, day: int, time: str = "09:00") -> dt.datetime:
        hour, minute = (int(part) for part in time.split(":"))
        local = dt.datetime.combine(self.today - dt.timedelta(days=day), dt.time(hour, minute))
        return min(timezone.make_aware(local), self.now)

    def date(self, days_from_today: int) -> dt.date:
        return self.today + dt.timedelta(days=days_from_today)


def _stand_in(school: Organization, username: str):
    """The principal of a school other than the kindergarten (a township demo login)."""
    return get_user_model().objects.get(
        username=username, memberships__organization=school, memberships__role=Role.PRINCIPAL
    )


def load_demo_campaigns(stdout=None, *, today: dt.date | None = None) -> dict:
    """Create the demo campaign if it is missing; return {"campaigns": n, "schools": n}.

    Refuses with DemoModeOff unless settings.DEMO_MODE is on; does nothing without the demo
    township."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"campaigns": 0, "schools": 0}
    office = Organization.objects.filter(kind=OrgKind.EDUCATION_OFFICE, name=OFFICE).first()
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=USERNAMES, is_active=True)
    }
    if office is None or len(users) < len(USERNAMES):
        return created
    if Campaign.objects.filter(owner=office, title=TITLE).exists():
        return created
    schools = {
        s.name: s
        for s in Organization.objects.schools().filter(town_id=office.town_id, is_active=True)
    }
    if not all(name in schools for name in (KINDERGARTEN, PRIMARY, MIDDLE, PRIVATE_KG)):
        return created

    now = timezone.now()
    if today is not None and today != timezone.localdate(now):
        now = timezone.make_aware(dt.datetime.combine(today, dt.time(12, 0)))
    clock = _Clock(now)
    edu = users["edu"]
    with transaction.atomic():
        for school_name, username in STAND_INS:
            users[username] = _stand_in(schools[school_name], username)
        campaign = services.campaign_create(
            actor=edu,
            owner=office,
            title=TITLE,
            description=DESCRIPTION,
            self_check_due=clock.date(3),
            spot_check_due=clock.date(10),
            acceptance_due=clock.date(20),
            items=[{"text": text, "reference": ref} for text, ref in ITEMS],
            all_schools=True,
            now=clock.at(12, "08:30"),
        )
        services.campaign_start(actor=edu, campaign=campaign, now=clock.at(12, "09:00"))
        items = list(campaign.items.order_by("order", "id"))
        entries = {
            e.school.name: e
            for e in CampaignSchool.objects.filter(campaign=campaign).select_related("school")
        }

        def answer(school_name, actor_name, answers, day, time="10:00"):
            entry = entries[school_name]
            for spec in answers:
                services.campaign_answer(
                    actor=users[actor_name],
                    entry=entry,
                    item=items[spec.item - 1],
                    result=spec.result,
                    note=spec.note,
                    gap_owner=users.get(spec.owner),
                    gap_deadline=clock.date(spec.deadline) if spec.result == G else None,
                    now=clock.at(day, time),
                )

        def fix(school_name, answers):
            entry = entries[school_name]
            for spec in answers:
                if spec.fixed_day is None:
                    continue
                row = entry.answers.get(item=items[spec.item - 1])
                services.gap_fix(
                    actor=users[spec.owner],
                    answer=row,
                    note=spec.fixed_note,
                    now=clock.at(spec.fixed_day, "16:00"),
                )

        # 阳光幼儿园: answered, submitted, gap fixed, spot-checked, accepted.
        sunshine = users["sunshine.principal"]
        answer(PRIVATE_KG, "sunshine.principal", SUNSHINE, day=11)
        services.entry_submit(actor=sunshine, entry=entries[PRIVATE_KG], now=clock.at(10, "17:00"))
        fix(PRIVATE_KG, SUNSHINE)
        services.entry_spot_check(
            actor=edu,
            entry=entries[PRIVATE_KG],
            note="现场抽查门卫室器械、防冲撞设施和监控室值守，与自查情况一致；防暴器械已补齐。",
            now=clock.at(5, "10:30"),
        )
        services.entry_accept(
            actor=edu,
            entry=entries[PRIVATE_KG],
            note="各项达到要求，验收通过。",
            now=clock.at(3, "15:00"),
        )
        # 大杨树镇中学: submitted with an open gap.
        answer(MIDDLE, "middle.principal", MIDDLE_ANSWERS, day=4)
        services.entry_submit(
            actor=users["middle.principal"], entry=entries[MIDDLE], now=clock.at(2, "16:30")
        )
        # 大杨树中心小学: submitted, then returned with a reason.
        answer(PRIMARY, "principal2", PRIMARY_ANSWERS, day=9)
        services.entry_submit(
            actor=users["principal2"], entry=entries[PRIMARY], now=clock.at(8, "11:00")
        )
        services.entry_return(
            actor=edu, entry=entries[PRIMARY], reason=RETURN_REASON, now=clock.at(6, "09:40")
        )
        # 大杨树实验幼儿园: still self-checking, gaps open (one overdue) and one fixed.
        answer(KINDERGARTEN, "principal", KINDERGARTEN_ANSWERS, day=7, time="08:30")
        fix(KINDERGARTEN, KINDERGARTEN_ANSWERS)
        created["campaigns"] = 1
        created["schools"] = len(entries)
    services.campaigns_remind(now=now)
    if stdout is not None:
        stdout.write(f"  campaigns: +1 campaign over {created['schools']} schools\n")
    return created
