"""A month of inspections and hazards (隐患排查整改, issue 6, ADR 0026) for the demo township.

`load_demo_hazards()` runs after `load_demo_township()` (it needs the schools of 大杨树镇, the
offices and the demo logins `principal`, `guard`, `teacher`, `principal2`, `officer`,
`police`, `edu` and `gov`) and uses the checklists shipped by migration 0002. Demo mode
only. Everything goes through the real services (plan, answer with photos, sign off, a
hazard from each failed item, assign, start, submit with evidence, send back, verify, the
escalation job), so scores, timelines, audit rows and notifications are the real ones.
The services take `now=`, so each step is made on its day of the last month; a deadline
that is past today was valid on the day it was set (the services refuse a past deadline),
and the daily escalation job is then run for yesterday and today, as it would have run, so
the overdue hazards show their escalation.

What a visitor of `make run` finds (T is today):

- **Inspections** (/hazards/inspections/): two monthly self-checks of 大杨树实验幼儿园 by
  its principal (`principal`, T−27 and T−2); an announced police inspection of 大杨树中心小学 by
  the station (`officer` with `police`, six measures, T−20); an unannounced central-school
  inspection of 大杨树镇中学 by `edu` (GB/T 29315 key areas, T−13); a governance inspection
  of the surroundings of 阳光幼儿园 by `gov` (T−8). All signed off with their scores, photos
  on the photo-required items, and printable reports.
- **Hazards** (/hazards/hazards/), from those findings and reported directly:
  - at the kindergarten, as `principal` sees them: two closed ones (one sent back once
    before it was accepted: see its timeline), one assigned to `guard` (who can start it),
    one reported by the police (`officer`) waiting for an owner (assign it), one under
    rectification by `teacher` three days overdue (escalated to the principal, then to the
    supervising office), and one submitted by `guard` with evidence that `edu` can verify
    and close, or send back;
  - at 大杨树中心小学 (`principal2`): one closed after the police verified it, one under
    rectification and overdue (escalated twice);
  - at 大杨树镇中学: one **major** hazard (dormitory) and one overdue canteen hazard, both
    waiting for the school (no demo login there), the overdue one escalated to `edu`;
  - at 阳光幼儿园: a street stall at the gate reported by `gov`, overdue since yesterday
    (escalated to the principal).
- **Notifications**: the escalation notices reach `principal`, `principal2`, `teacher` and
  `edu`; the moves notified their owners and reporters as usual.

Idempotent: an inspection is keyed by school, kind and its summary; a hazard reported
directly by school and title; a spec whose record exists is skipped whole (its hazards and
their steps with it), so edits made during a demo survive a restart. A run that creates
nothing writes nothing (the escalation runs only after a run that created hazards; on
`make run` the daily job does the rest). Dates are relative to `today`, so a fresh database
always shows the last month. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from huxiao.core.roles import OrgKind
from huxiao.demo.township import DemoModeOff
from huxiao.hazards import hazard_services, inspection_services
from huxiao.hazards.choices import AnswerResult, HazardCategory, HazardLevel, InspectionKind
from huxiao.hazards.models import ChecklistTemplate, Hazard, Inspection, TemplateItem
from huxiao.orgs.models import Organization

KINDERGARTEN = "大杨树实验幼儿园"
PRIMARY = "大杨树中心小学"
MIDDLE = "大杨树镇中学"
PRIVATE_KG = "阳光幼儿园"
OFFICES = {
    "station": (OrgKind.POLICE_STATION, "大杨树派出所"),
    "edu": (OrgKind.EDUCATION_OFFICE, "大杨树镇中心学校"),
    "gov": (OrgKind.GOVERNANCE_OFFICE, "大杨树镇综治办"),
}
USERNAMES = ("principal", "guard", "teacher", "principal2", "officer", "police", "edu", "gov")

P, F, NA = AnswerResult.PASS, AnswerResult.FAIL, AnswerResult.NOT_APPLICABLE


@dataclass(frozen=True)
class Step:
    """One move of a hazard: `move` of hazard_services.MOVES made by `actor` on day T−`day`
    at `time`. `owner`/`deadline` (days from today, negative = past) only for "assign"."""

    move: str
    actor: str
    day: int
    time: str
    note: str = ""
    owner: str = ""
    deadline: int | None = None


@dataclass(frozen=True)
class Finding:
    """A failed item of an inspection (found by the start of its text), the inspector's
    note, and the hazard raised from it (with its deadline in days from today)."""

    item: str
    note: str
    title: str = ""
    level: str = HazardLevel.GENERAL
    deadline: int | None = None
    steps: tuple[Step, ...] = ()
    score: str | None = None


@dataclass(frozen=True)
class DemoInspection:
    school: str
    kind: str
    template: str
    office: str  # key of OFFICES, or "" for the school's self-check
    planner: str
    inspectors: tuple[str, ...]
    day: int
    summary: str  # also the key: one demo inspection per (school, kind, summary)
    unannounced: bool = False
    findings: tuple[Finding, ...] = ()
    not_applicable: tuple[str, ...] = ()
    partial: tuple[tuple[str, str, str], ...] = ()  # (item, score, note) of a weak pass


@dataclass(frozen=True)
class DemoHazard:
    school: str
    reporter: str
    day: int
    time: str
    category: str
    title: str  # also the key, with the school
    description: str
    level: str = HazardLevel.GENERAL
    deadline: int | None = None
    steps: tuple[Step, ...] = field(default=())


_NOT_BOARDING = ("宿舍夜间巡查",)

INSPECTIONS = (
    DemoInspection(
        school=KINDERGARTEN,
        kind=InspectionKind.SELF_CHECK,
        template="monthly-self-check",
        office="",
        planner="principal",
        inspectors=("principal",),
        day=27,
        summary="上月自查：防冲撞设施未按时启用、本月疏散演练未开展，已登记隐患并指定责任人整改。",
        not_applicable=_NOT_BOARDING,
        findings=(
            Finding(
                item="防冲撞设施完好并按时启用",
                note="早上入园时段东门升降柱未升起，门卫称遥控器电池没电。",
                title="东门防冲撞升降柱入园时段未启用",
                deadline=None,
                steps=(
                    Step(
                        "assign",
                        "principal",
                        27,
                        "10:20",
                        owner="guard",
                        deadline=-20,
                        note="更换遥控器电池，入园、放学时段按时升起升降柱，建立启用登记。",
                    ),
                    Step("start", "guard", 26, "07:40", note="已更换电池，开始登记启用情况。"),
                    Step(
                        "submit",
                        "guard",
                        22,
                        "16:30",
                        note="升降柱已恢复正常，连续五天入园、放学时段按时启用，附登记表照片。",
                    ),
                    Step(
                        "verify",
                        "edu",
                        21,
                        "09:10",
                        note="现场查看升降柱启用正常，登记完整，同意销号。",
                    ),
                ),
            ),
            Finding(
                item="本月开展疏散演练，有记录和照片",
                note="本学期尚未开展疏散演练。",
                title="本月未开展应急疏散演练",
                steps=(
                    Step(
                        "assign",
                        "principal",
                        27,
                        "10:25",
                        owner="teacher",
                        deadline=-17,
                        note="由小一班班主任牵头制定方案，组织全园应急疏散演练。",
                    ),
                    Step("start", "teacher", 25, "14:00", note="演练方案已拟定。"),
                    Step("submit", "teacher", 19, "16:00", note="已开展全园疏散演练，附方案。"),
                    Step(
                        "reject",
                        "edu",
                        18,
                        "10:00",
                        note="只有演练方案，没有演练过程的照片和总结，请补充。",
                    ),
                    Step(
                        "submit",
                        "teacher",
                        16,
                        "15:20",
                        note="补充演练现场照片、签到表和演练总结。",
                    ),
                    Step("verify", "edu", 15, "09:30", note="材料齐全，同意销号。"),
                ),
            ),
        ),
    ),
    DemoInspection(
        school=KINDERGARTEN,
        kind=InspectionKind.SELF_CHECK,
        template="monthly-self-check",
        office="",
        planner="principal",
        inspectors=("principal",),
        day=2,
        summary="本月自查：小二班门口灭火器压力不足，已指定门卫负责更换；其余项目符合要求。",
        not_applicable=_NOT_BOARDING,
        partial=(("外来人员、车辆登记完整", "3", "个别送货车辆未登记离园时间。"),),
        findings=(
            Finding(
                item="消防器材在有效期内，疏散通道畅通",
                note="小二班门口灭火器压力表指针在红区。",
                title="小二班门口灭火器压力不足",
                steps=(
                    Step(
                        "assign",
                        "principal",
                        2,
                        "11:05",
                        owner="guard",
                        deadline=12,
                        note="联系消防器材公司充装或更换，同时全园排查灭火器压力。",
                    ),
                ),
            ),
        ),
    ),
    DemoInspection(
        school=PRIMARY,
        kind=InspectionKind.POLICE,
        template="six-measures",
        office="station",
        planner="officer",
        inspectors=("officer", "police"),
        day=20,
        summary="派出所月度检查：专职保安员配备不足、一键报警未与派出所联网测试，责令限期整改。",
        not_applicable=("寄宿制校园",),
        findings=(
            Finding(
                item="按规定数量聘用专职门卫和保安员",
                note="在校学生600余人，仅有专职保安员1名，且无保安员证。",
                title="专职保安员配备不足、未持证上岗",
                steps=(
                    Step(
                        "assign",
                        "principal2",
                        20,
                        "15:00",
                        owner="principal2",
                        deadline=-6,
                        note="向镇中心学校申请增配保安员1名，现有保安员参加培训取证。",
                    ),
                    Step("start", "principal2", 19, "08:30", note="已提交增配申请。"),
                ),
            ),
            Finding(
                item="技防系统按国家标准建设",
                note="视频监控未与派出所联网，门卫室一键报警从未测试。",
                title="视频监控和一键报警未与派出所联网",
                steps=(
                    Step(
                        "assign",
                        "principal2",
                        20,
                        "15:05",
                        owner="principal2",
                        deadline=-10,
                        note="联系技防公司与派出所接警平台联调。",
                    ),
                    Step("start", "principal2", 19, "09:00"),
                    Step(
                        "submit",
                        "principal2",
                        12,
                        "17:00",
                        note="已与派出所接警平台联调，测试报警三次均正常，附测试记录。",
                    ),
                    Step("verify", "officer", 11, "10:00", note="接警平台收到测试报警，同意销号。"),
                ),
            ),
        ),
    ),
    DemoInspection(
        school=MIDDLE,
        kind=InspectionKind.CENTRAL_SCHOOL,
        template="key-areas-gbt29315",
        office="edu",
        planner="edu",
        inspectors=("edu",),
        day=13,
        unannounced=True,
        summary="中心学校暗访：男生宿舍楼消防通道堆放杂物（重大隐患），食堂留样不全，限期整改。",
        findings=(
            Finding(
                item="疏散通道畅通",
                note="男生宿舍楼一楼安全出口被床板和杂物堵塞，夜间上锁。",
                title="男生宿舍楼安全出口堵塞、夜间上锁",
                level=HazardLevel.MAJOR,
                deadline=10,
            ),
            Finding(
                item="食品留样48小时以上",
                note="昨日午餐留样缺两个品种，留样记录未签字。",
                title="食堂食品留样不全、记录未签字",
                deadline=-4,
            ),
        ),
    ),
    DemoInspection(
        school=PRIVATE_KG,
        kind=InspectionKind.GOVERNANCE,
        template="surroundings",
        office="gov",
        planner="gov",
        inspectors=("gov",),
        day=8,
        summary="综治办周边环境检查：园门口早晚有流动摊点占道经营，已责成园方会同城管整治。",
        findings=(
            Finding(
                item="校门口及周边道路无占道经营摊点",
                note="入园、离园时段园门口有两个早点摊点占道经营。",
                title="园门口早晚流动摊点占道经营",
                deadline=-1,
            ),
        ),
    ),
)

DIRECT_HAZARDS = (
    DemoHazard(
        school=KINDERGARTEN,
        reporter="officer",
        day=4,
        time="18:10",
        category=HazardCategory.SURROUNDINGS,
        title="幼儿园东门外路灯损坏，放学时段照明不足",
        description="巡逻发现东门外两盏路灯不亮，冬季放学时天色已暗，接送家长和幼儿看不清路面。",
    ),
    DemoHazard(
        school=KINDERGARTEN,
        reporter="principal",
        day=12,
        time="09:00",
        category=HazardCategory.PHYSICAL,
        title="小一班教室窗户限位器损坏",
        description="小一班教室两扇窗户限位器脱落，窗户可完全推开，存在幼儿坠落风险。",
        steps=(
            Step("assign", "principal", 12, "09:10", owner="teacher", deadline=-3,
                 note="报后勤采购限位器，安装前窗户用绳固定，班级老师看管。"),
            Step("start", "teacher", 10, "08:20", note="已临时固定窗户，等待采购。"),
        ),
    ),
    DemoHazard(
        school=KINDERGARTEN,
        reporter="teacher",
        day=6,
        time="10:30",
        category=HazardCategory.EQUIPMENT,
        title="户外滑梯护栏螺丝松动",
        description="户外活动区大型滑梯二层平台护栏有三颗螺丝松动，护栏晃动。",
        steps=(
            Step("assign", "principal", 6, "11:00", owner="guard", deadline=3,
                 note="暂停使用滑梯，门卫负责紧固并检查其他大型玩具。"),
            Step("start", "guard", 5, "14:00", note="滑梯已围挡暂停使用。"),
            Step("submit", "guard", 1, "16:40",
                 note="已更换全部松动螺丝并加装防松垫片，其他大型玩具检查无异常。"),
        ),
    ),
)  # fmt: skip


# ------------------------------------------------------------------ small helpers


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def demo_png(rgb=(120, 144, 156), width=64, height=48) -> bytes:
    """A small, valid PNG of one colour: the demo's stand-in for a phone photo."""
    row = b"\x00" + bytes(rgb) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(row * height))
        + _png_chunk(b"IEND", b"")
    )


_FINDING_RGB = (196, 72, 60)
_CHECK_RGB = (90, 140, 90)
_EVIDENCE_RGB = (60, 110, 180)


def _photo(name: str, rgb) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, demo_png(rgb), content_type="image/png")


class _Clock:
    """Local datetimes on days before `now`, never after it."""

    def __init__(self, now: dt.datetime):
        self.now = now
        self.today = timezone.localtime(now).date()

    def at(self, day: int, time: str, plus_minutes: int = 0) -> dt.datetime:
        hour, minute = (int(part) for part in time.split(":"))
        local = dt.datetime.combine(self.today - dt.timedelta(days=day), dt.time(hour, minute))
        moment = timezone.make_aware(local) + dt.timedelta(minutes=plus_minutes)
        return min(moment, self.now)

    def date(self, days_from_today: int | None) -> dt.date | None:
        if days_from_today is None:
            return None
        return self.today + dt.timedelta(days=days_from_today)


def _match(item: TemplateItem, prefixes) -> bool:
    return any(item.text.startswith(prefix) for prefix in prefixes)


# ------------------------------------------------------------------ the loader


def load_demo_hazards(*, today: dt.date | None = None, stdout=None) -> dict:
    """Create the demo inspections and hazards that are missing; return what this run
    created ({"inspections": n, "hazards": n, "escalated": n}).

    Refuses with DemoModeOff unless settings.DEMO_MODE is on; does nothing if the demo
    township or the shipped checklists are missing. `today` (local date) moves the whole
    month; by default it is today and the steps keep the real time of day as their
    ceiling."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"inspections": 0, "hazards": 0, "escalated": 0}
    # The data migration ships them; a database flushed since (a transactional test run)
    # has lost them, and the demo needs them: load what is missing (idempotent).
    from huxiao.hazards.shipped_templates import load_shipped_templates

    load_shipped_templates()
    users = {
        user.username: user
        for user in get_user_model().objects.filter(username__in=USERNAMES, is_active=True)
    }
    schools = {
        school.name: school
        for school in Organization.objects.schools().filter(
            name__in=(KINDERGARTEN, PRIMARY, MIDDLE, PRIVATE_KG)
        )
    }
    offices = {}
    for key, (kind, name) in OFFICES.items():
        office = Organization.objects.filter(kind=kind, name=name).first()
        if office is not None:
            offices[key] = office
    templates = {
        template.code: template
        for template in ChecklistTemplate.objects.filter(
            owner__isnull=True, is_current=True, is_published=True
        )
    }
    if len(users) < len(USERNAMES) or len(schools) < 4 or len(offices) < len(OFFICES):
        return created

    now = timezone.now()
    if today is not None and today != timezone.localdate(now):
        now = timezone.make_aware(dt.datetime.combine(today, dt.time(12, 0)))
    clock = _Clock(now)
    with transaction.atomic():
        for spec in INSPECTIONS:
            template = templates.get(spec.template)
            school = schools[spec.school]
            if (
                template is None
                or Inspection.objects.filter(
                    school=school, kind=spec.kind, summary=spec.summary
                ).exists()
            ):
                continue
            hazards = _inspect(spec, school, template, offices, users, clock)
            created["inspections"] += 1
            created["hazards"] += hazards
        for spec in DIRECT_HAZARDS:
            school = schools[spec.school]
            if Hazard.objects.filter(
                school=school, title=spec.title, inspection__isnull=True
            ).exists():
                continue
            _report(spec, school, users, clock)
            created["hazards"] += 1
        if created["hazards"]:
            # The daily job, as it would have run yesterday and runs today (07:30 on
            # `make run`): a hazard two days or more overdue reaches the supervising office.
            for when in (now - dt.timedelta(days=1), now):
                result = hazard_services.hazards_escalate(now=when)
                created["escalated"] += len(result["level_1"]) + len(result["level_2"])
    if stdout is not None:
        stdout.write(
            f"  hazards: +{created['inspections']} inspections, +{created['hazards']} hazards, "
            f"{created['escalated']} escalation steps\n"
        )
    return created


def _inspect(spec: DemoInspection, school, template, offices, users, clock: _Clock) -> int:
    """Plan, fill (a photo on every photo-required answer), sign off, raise the findings
    and move their hazards; return the number of hazards raised."""
    planner = users[spec.planner]
    started = clock.at(spec.day, "09:00")
    inspection = inspection_services.inspection_plan(
        actor=planner,
        school=school,
        template=template,
        kind=spec.kind,
        planned_on=clock.date(-spec.day),
        unannounced=spec.unannounced,
        inspectors=[users[name] for name in spec.inspectors],
        organization=offices[spec.office] if spec.office else None,
        now=clock.at(spec.day + 3, "16:00"),
    )
    items = list(
        TemplateItem.objects.filter(section__template=template).order_by(
            "section__order", "section_id", "order", "id"
        )
    )
    findings: dict[int, Finding] = {}
    for finding in spec.findings:
        item = next(it for it in items if _match(it, (finding.item,)) and it.pk not in findings)
        findings[item.pk] = finding
    partial = {prefix: (score, note) for prefix, score, note in spec.partial}
    answers = {}
    for index, item in enumerate(items):
        finding = findings.get(item.pk)
        score, note = next(
            (value for prefix, value in partial.items() if item.text.startswith(prefix)),
            (None, ""),
        )
        if finding is not None:
            result, note, score = F, finding.note, finding.score
        elif spec.not_applicable and _match(item, spec.not_applicable):
            result = NA
        else:
            result = P
        photos = ()
        if result != NA and (item.photo_required or finding is not None):
            rgb = _FINDING_RGB if finding is not None else _CHECK_RGB
            photos = [_photo(f"item-{index + 1}.png", rgb)]
        answers[item.pk] = inspection_services.inspection_answer(
            actor=users[spec.inspectors[index % len(spec.inspectors)]],
            inspection=inspection,
            item=item,
            result=result,
            note=note,
            score=score,
            photos=photos,
            now=started + dt.timedelta(minutes=2 * index),
        )
    signed_at = started + dt.timedelta(minutes=2 * len(items) + 10)
    inspection_services.inspection_sign_off(
        actor=planner, inspection=inspection, summary=spec.summary, now=signed_at
    )
    raised = 0
    for offset, (item_pk, finding) in enumerate(findings.items()):
        reported_at = signed_at + dt.timedelta(minutes=5 + offset)
        answer = answers[item_pk]
        hazard = inspection_services.finding_to_hazard(
            actor=planner,
            answer=answer,
            title=finding.title or None,
            level=finding.level,
            # A deadline set on the day of the finding; it may be past today (overdue).
            deadline=clock.date(finding.deadline),
            now=reported_at,
        )
        _steps(hazard, finding.steps, users, clock)
        raised += 1
    return raised


def _report(spec: DemoHazard, school, users, clock: _Clock) -> Hazard:
    hazard = hazard_services.hazard_report(
        actor=users[spec.reporter],
        school=school,
        category=spec.category,
        level=spec.level,
        title=spec.title,
        description=spec.description,
        deadline=clock.date(spec.deadline),
        photos=[_photo("finding.png", _FINDING_RGB)],
        now=clock.at(spec.day, spec.time),
    )
    _steps(hazard, spec.steps, users, clock)
    return hazard


def _steps(hazard: Hazard, steps: tuple[Step, ...], users, clock: _Clock) -> Hazard:
    for step in steps:
        actor, now = users[step.actor], clock.at(step.day, step.time)
        if step.move == "assign":
            hazard = hazard_services.hazard_assign(
                actor=actor,
                hazard=hazard,
                owner=users[step.owner],
                # Valid on the day it was set (services refuse a past deadline); by today
                # it may have passed, which is how the demo gets its overdue hazards.
                deadline=clock.date(step.deadline),
                plan=step.note,
                now=now,
            )
        elif step.move == "start":
            hazard = hazard_services.hazard_start(
                actor=actor, hazard=hazard, note=step.note, now=now
            )
        elif step.move == "submit":
            hazard = hazard_services.hazard_submit(
                actor=actor,
                hazard=hazard,
                note=step.note,
                photos=[_photo("evidence.png", _EVIDENCE_RGB)],
                now=now,
            )
        elif step.move == "verify":
            hazard = hazard_services.hazard_verify(
                actor=actor, hazard=hazard, note=step.note, now=now
            )
        elif step.move == "reject":
            hazard = hazard_services.hazard_reject(
                actor=actor, hazard=hazard, reason=step.note, now=now
            )
        else:  # pragma: no cover - the specs above use only these moves
            raise ValueError(step.move)
    return hazard
