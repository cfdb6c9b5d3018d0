"""The demo township's leading group (领导小组) and its meetings (issue 6 item 6, ADR 0027).

`load_demo_meetings()` runs after `load_demo_township()` (it needs 大杨树镇's government,
governance office, police station, central school and health centre, and the demo logins
`gov`, `police`, `edu` and `health`). Demo mode only. Everything goes through the real
services with `now=` on its day (set up the group, add members, plan, record with
decisions, start, report progress, report done, close, the daily escalation), so timelines,
audit rows and notifications are the real ones.

What a visitor of `make run` finds (T is today):

- **大杨树镇护校安园工作领导小组**, kept by 大杨树镇综治办 (`gov`): the deputy mayor (组长)
  and the head of the public-security office of the town government (named persons, no
  login), `police` (副组长), `gov` (head of the group's office), `edu` and `health`;
- a **joint meeting** held on T−20 with minutes and three action items:
  - 大杨树镇中心学校 (`edu`): a hazard sweep of every school — reported done and closed by
    `gov`;
  - 大杨树派出所 (`police`): gate posts at peak hours — in progress, with a progress note;
  - 大杨树卫生院 (`health`): canteen food-safety checks — in progress, three days overdue,
    escalated to the health centre's leaders and then to the group's office;
- a **leading-group meeting** planned for T+7, with the members invited.

Idempotent: the group is keyed by its town, members by (name, organization), meetings by
title within the group; what exists is left as the demo users may have edited it. Dates are
relative to today. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.core.names import person_name
from huxiao.core.roles import OrgKind
from huxiao.demo.township import DemoModeOff
from huxiao.orgs.models import Organization
from huxiao.supervision import meeting_services as services
from huxiao.supervision.choices import GroupPosition, MeetingKind
from huxiao.supervision.meeting_models import GroupMember, LeadingGroup, Meeting

GROUP_NAME = "大杨树镇护校安园工作领导小组"
ORGS = {
    "gov": (OrgKind.GOVERNANCE_OFFICE, "大杨树镇综治办"),
    "government": (OrgKind.GOVERNMENT, "大杨树镇人民政府"),
    "station": (OrgKind.POLICE_STATION, "大杨树派出所"),
    "edu": (OrgKind.EDUCATION_OFFICE, "大杨树镇中心学校"),
    "health": (OrgKind.HEALTH_CENTRE, "大杨树卫生院"),
}
USERNAMES = ("gov", "police", "edu", "health")
JOINT_TITLE = "护校安园联席会议（春季开学安全形势研判）"
PLANNED_TITLE = "领导小组月度例会"

# (name or username, organization key, job title, position, duties)
MEMBERS = (
    ("马建军", "government", "副镇长", GroupPosition.LEADER, "全面负责护校安园工作"),
    ("police", "station", "派出所所长", GroupPosition.DEPUTY, "校园及周边治安防控、护学岗"),
    ("gov", "gov", "综治办主任", GroupPosition.OFFICE_HEAD, "领导小组办公室日常工作、督办落实"),
    ("edu", "edu", "安全督导专干", GroupPosition.MEMBER, "学校安全管理与隐患排查整改"),
    ("health", "health", "公共卫生科科长", GroupPosition.MEMBER, "学校卫生防疫与食品安全指导"),
    ("孙德胜", "government", "镇政府平安建设办公室主任", GroupPosition.MEMBER, "校园周边环境整治协调"),
)  # fmt: skip

JOINT_MINUTES = """会议由副镇长马建军主持，派出所、综治办、中心学校、卫生院及镇政府有关负责同志参加。

一、通报了春季开学以来全镇学校安全形势：中心学校牵头开展的月度排查发现隐患 11 处，已整改 4 处；派出所上下学高峰护学岗覆盖 4 所学校，尚有 2 所未覆盖。
二、研判了当前风险点：学校周边流动摊贩回潮、部分学校食堂从业人员健康证过期、寄宿制学校夜间巡查记录不全。
三、会议议定以下事项，由各责任单位按期落实，领导小组办公室（镇综治办）跟踪督办：
1. 中心学校对全镇学校开展一次安全隐患全面排查，建立台账；
2. 派出所实现全镇学校上下学高峰护学岗全覆盖；
3. 卫生院对全镇学校食堂开展食品安全专项检查。"""

# (decision, organization key, responsible username, deadline in days from the meeting,
#  steps: (move, username, days after the meeting, note))
DECISIONS = (
    (
        "对全镇学校开展一次安全隐患全面排查，建立隐患台账并按期整改。",
        "edu", "edu", 15,
        (
            ("start", "edu", 1, "已制定排查方案，分三组入校。"),
            ("submit", "edu", 9, "6 所学校全部排查完毕，台账已报镇综治办。"),
            ("close", "gov", 11, "台账已核，转入日常整改跟踪。"),
        ),
    ),
    (
        "实现全镇学校上下学高峰护学岗全覆盖，每日早晚高峰警力或辅警到岗。",
        "station", "police", 30,
        (
            ("start", "police", 2, "已协调 2 名辅警，阳光幼儿园、红星村小学先行。"),
            ("progress", "police", 12, "阳光幼儿园已覆盖，红星村小学待村委会配合设岗。"),
        ),
    ),
    (
        "对全镇学校食堂开展食品安全专项检查，重点核查从业人员健康证。",
        "health", "health", 17,
        (("start", "health", 3, "已检查 3 所学校食堂。"),),
    ),
)  # fmt: skip


class _Clock:
    """Local datetimes relative to today, never after now."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.today = timezone.localtime(now).date()

    def at(self, days_from_today: int, hhmm: str) -> dt.datetime:
        hour, minute = (int(part) for part in hhmm.split(":"))
        day = self.today + dt.timedelta(days=days_from_today)
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
        return min(moment, self.now) if days_from_today <= 0 else moment


def load_demo_meetings(*, today: dt.date | None = None, stdout=None) -> dict:
    """Create what is missing of the demo group and its meetings; return what this run
    created. Refuses with DemoModeOff unless settings.DEMO_MODE is on; does nothing without
    the demo township."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"groups": 0, "members": 0, "meetings": 0, "actions": 0, "escalated": 0}
    users = {
        u.username: u
        for u in get_user_model().objects.filter(username__in=USERNAMES, is_active=True)
    }
    orgs = {}
    for key, (kind, name) in ORGS.items():
        org = Organization.objects.filter(kind=kind, name=name, is_active=True).first()
        if org is not None:
            orgs[key] = org
    if len(users) < len(USERNAMES) or len(orgs) < len(ORGS):
        return created

    now = timezone.now()
    if today is not None and today != timezone.localdate(now):
        now = timezone.make_aware(dt.datetime.combine(today, dt.time(12, 0)))
    clock = _Clock(now)
    keeper = users["gov"]
    with transaction.atomic():
        group = LeadingGroup.objects.filter(town_id=orgs["gov"].town_id).first()
        if group is None:
            group = services.group_create(
                actor=keeper,
                owner=orgs["gov"],
                name=GROUP_NAME,
                established_on=clock.today.replace(month=1, day=1) - dt.timedelta(days=365),
                duties=(
                    "统筹全镇护校安园工作，研究部署学校及周边治安综合治理，"
                    "协调解决重大问题，督促各成员单位履行职责。"
                ),
                now=clock.at(-40, "09:00"),
            )
            created["groups"] += 1
        created["members"] += _members(group, orgs, users, keeper, clock)
        if not Meeting.objects.filter(group=group, title=JOINT_TITLE).exists():
            created["actions"] += _joint_meeting(group, orgs, users, keeper, clock)
            created["meetings"] += 1
            # The daily job, as it ran yesterday and runs today.
            for when in (clock.at(-1, "07:35"), clock.now):
                result = services.actions_escalate(now=when)
                created["escalated"] += len(result["level_1"]) + len(result["level_2"])
        if not Meeting.objects.filter(group=group, title=PLANNED_TITLE).exists():
            services.meeting_plan(
                actor=keeper,
                group=group,
                kind=MeetingKind.LEADING_GROUP,
                title=PLANNED_TITLE,
                starts_at=clock.at(7, "15:00"),
                location="镇政府三楼会议室",
                chair="马建军",
                agenda="一、通报上次联席会议议定事项落实情况；\n二、研究校园周边流动摊贩整治方案。",
                invitees=[f"g{m.pk}" for m in group.members.filter(is_active=True)],
                now=clock.at(-1, "10:00"),
            )
            created["meetings"] += 1
    if stdout is not None:
        stdout.write(
            f"  leading group: +{created['groups']} group, +{created['members']} members, "
            f"+{created['meetings']} meetings, +{created['actions']} action items, "
            f"{created['escalated']} escalation steps\n"
        )
    return created


def _members(group, orgs, users, keeper, clock) -> int:
    added = 0
    for who, org_key, title, position, duties in MEMBERS:
        org = orgs[org_key]
        user = users.get(who)
        name = person_name(user) if user else who
        existing = GroupMember.objects.filter(group=group, organization=org, is_active=True)
        if existing.filter(user=user).exists() if user else existing.filter(name=name).exists():
            continue
        if position in (GroupPosition.LEADER, GroupPosition.OFFICE_HEAD) and (
            GroupMember.objects.filter(group=group, is_active=True, position=position).exists()
        ):
            position = GroupPosition.MEMBER
        services.member_add(
            actor=keeper,
            group=group,
            organization_id=org.pk,
            user_id=user.pk if user else None,
            name="" if user else name,
            title=title,
            position=position,
            duties=duties,
            now=clock.at(-40, "09:30"),
        )
        added += 1
    return added


def _joint_meeting(group, orgs, users, keeper, clock) -> int:
    day = -20
    meeting = services.meeting_plan(
        actor=keeper,
        group=group,
        kind=MeetingKind.JOINT,
        title=JOINT_TITLE,
        starts_at=clock.at(day, "09:30"),
        location="镇政府三楼会议室",
        chair="马建军",
        agenda="一、通报开学以来学校安全形势；\n二、研判风险点；\n三、议定近期重点工作。",
        invitees=[f"g{m.pk}" for m in group.members.filter(is_active=True)],
        now=clock.at(day - 5, "10:00"),
    )
    absent = list(meeting.attendees.filter(name="孙德胜").values_list("pk", flat=True))
    services.meeting_record(
        actor=keeper,
        meeting=meeting,
        minutes=JOINT_MINUTES,
        absent_ids=absent,
        actions=[
            {
                "decision": decision,
                "owner_org_id": orgs[org_key].pk,
                "owner_id": users[owner].pk,
                "deadline": clock.today + dt.timedelta(days=day + deadline),
            }
            for decision, org_key, owner, deadline, _steps in DECISIONS
        ],
        now=clock.at(day, "16:00"),
    )
    items = list(meeting.actions.order_by("id"))
    for item, (*_rest, steps) in zip(items, DECISIONS, strict=True):
        for move, username, after, note in steps:
            actor, when = users[username], clock.at(day + after, "10:00")
            if move == "start":
                item = services.action_start(actor=actor, item=item, note=note, now=when)
            elif move == "progress":
                item = services.action_progress(actor=actor, item=item, note=note, now=when)
            elif move == "submit":
                item = services.action_submit(actor=actor, item=item, note=note, now=when)
            elif move == "close":
                item = services.action_close(actor=actor, item=item, note=note, now=when)
    return len(items)
