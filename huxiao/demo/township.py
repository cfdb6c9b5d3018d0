"""The demo township: 示范县 · 大杨树镇, its schools, offices, people and demo logins.

`load_demo_township()` builds it; `manage.py demo` calls it. Only in demo mode
(`settings.DEMO_MODE`, env HUXIAO_DEMO=1), because it sets a published password.

Idempotent, by natural keys:
- the skeleton — county, towns, organizations, demo users, memberships, classes and their
  head teachers — is created when missing and put back to its canonical values otherwise;
- the people — staff, certificates, children, guardians — are created when missing and
  otherwise left as the demo users may have edited them. Staff are keyed by (school, name);
  children by class: a class that already has children keeps its roster, an empty class is
  filled. So a second run writes nothing, and a run after a demo session repairs only what
  was deleted.

Everything is generated from fixed seeds (one per school), so two databases loaded on the
same day hold the same names, classes and ID numbers. Ages follow the current school year,
so birth dates move with the calendar; that is why children are keyed by class and not by
ID number.

Seed data is not audited row by row (it is system seeding, not anybody's change); one
`import` audit row records each run that changed something.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import models, transaction
from django.utils import timezone

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record
from huxiao.core import crypto
from huxiao.core.idcard import make_id_number
from huxiao.core.roles import ROLES_BY_KIND, OrgKind, Role
from huxiao.core.scoping import clear_scope_cache
from huxiao.orgs.models import Membership, Organization, Ownership, Region, SchoolStage, Town
from huxiao.people.choices import BackgroundCheck, Gender, Relationship, StaffRole
from huxiao.people.models import Certificate, Child, Guardian, SchoolClass, Staff

DEMO_PASSWORD = "huxiao-demo"  # noqa: S105 - published on purpose; demo mode only
# The demo password is public, so a fixed salt hides nothing; it makes the stored hash
# predictable, so a re-run compares strings instead of paying one PBKDF2 per user.
_DEMO_PASSWORD_SALT = "huxiaodemotownship"
SEED = "huxiao-demo-township-v1"
REGION_CODE = "130123"
ID_REGION = REGION_CODE  # residents are registered in the county itself
AUDIT_OBJECT_TYPE = "demo.township"


class DemoModeOff(Exception):
    """The demo township is only loaded when settings.DEMO_MODE is on."""


# ---------------------------------------------------------------------------------------
# The township, as data
# ---------------------------------------------------------------------------------------

COUNTY = {"name": "示范县", "code": REGION_CODE}
TOWNS = {
    "dys": {"name": "大杨树镇", "code": "130123101"},
    # A second, small town so that town scope (police, offices) differs from county scope.
    "lh": {"name": "柳河镇", "code": "130123102"},
}


@dataclass(frozen=True)
class OfficeSpec:
    key: str
    name: str
    kind: str
    town: str | None  # None: county level
    short_name: str = ""
    address: str = ""
    phone: str = ""
    parent: str | None = None


OFFICES = (
    OfficeSpec(key="county_gov", name="示范县委政法委综治中心", short_name="县综治中心",
               kind=OrgKind.GOVERNANCE_OFFICE, town=None,
               address="示范县人民路1号", phone="0311-85010110"),
    OfficeSpec(key="station", name="大杨树派出所", short_name="大杨树所",
               kind=OrgKind.POLICE_STATION, town="dys",
               address="示范县大杨树镇建设路18号", phone="0311-85213110"),
    OfficeSpec(key="post", name="大杨树派出所校园警务室", short_name="校园警务室",
               kind=OrgKind.POLICE_POST, town="dys", parent="station",
               address="示范县大杨树镇幸福路6号（中心小学东侧）", phone="0311-85213119"),
    OfficeSpec(key="edu", name="大杨树镇中心学校", short_name="中心学校",
               kind=OrgKind.EDUCATION_OFFICE, town="dys",
               address="示范县大杨树镇文化街2号", phone="0311-85213201"),
    OfficeSpec(key="gov", name="大杨树镇综治办", short_name="镇综治办",
               kind=OrgKind.GOVERNANCE_OFFICE, town="dys",
               address="示范县大杨树镇政府街1号", phone="0311-85213022"),
    OfficeSpec(key="health", name="大杨树卫生院", short_name="卫生院",
               kind=OrgKind.HEALTH_CENTRE, town="dys",
               address="示范县大杨树镇健康路9号", phone="0311-85213120"),
    OfficeSpec(key="government", name="大杨树镇人民政府", short_name="镇政府",
               kind=OrgKind.GOVERNMENT, town="dys",
               address="示范县大杨树镇政府街1号", phone="0311-85213000"),
    # Departments that take surroundings tasks (§2 13; ADR 0026).
    OfficeSpec(key="market", name="大杨树市场监管所", short_name="市场监管所",
               kind=OrgKind.DEPARTMENT, town="dys",
               address="示范县大杨树镇建设路26号", phone="0311-85213315"),
    OfficeSpec(key="traffic", name="县交警大队大杨树中队", short_name="交警中队",
               kind=OrgKind.DEPARTMENT, town="dys",
               address="示范县大杨树镇幸福路2号", phone="0311-85213122"),
    OfficeSpec(key="lh_station", name="柳河派出所", short_name="柳河所",
               kind=OrgKind.POLICE_STATION, town="lh",
               address="示范县柳河镇河东路3号", phone="0311-85318110"),
)  # fmt: skip

_KG_GRADES = (("小班", 3), ("中班", 4), ("大班", 5))
_PRIMARY_GRADES = tuple(
    (f"{grade}年级", age) for grade, age in zip("一二三四五六", range(6, 12), strict=True)
)
_MIDDLE_GRADES = (("七年级", 12), ("八年级", 13), ("九年级", 14))
_CN_NUMBERS = "一二三四五六七八九十"


@dataclass(frozen=True)
class SchoolSpec:
    key: str
    name: str
    kind: str
    stage: str
    town: str
    police_station: str
    classes_per_grade: int
    class_size: tuple[int, int]  # inclusive range
    ownership: str = Ownership.PUBLIC
    is_boarding: bool = False
    is_registered: bool = True
    operator: str = "示范县教育和体育局"
    landlord: str = ""
    short_name: str = ""
    address: str = ""
    phone: str = ""
    # Links to the town's offices; the far town has only its police station.
    linked: tuple[str, ...] = ("edu", "health")
    police_post: str | None = None

    @property
    def grades(self) -> tuple[tuple[str, int], ...]:
        if self.stage == SchoolStage.KINDERGARTEN:
            return _KG_GRADES
        if self.stage == SchoolStage.MIDDLE:
            return _MIDDLE_GRADES
        return _PRIMARY_GRADES

    def class_name(self, grade: str, index: int) -> str:
        if self.stage == SchoolStage.KINDERGARTEN:
            return f"{grade[0]}{_CN_NUMBERS[index]}班"  # 小一班
        if self.stage == SchoolStage.MIDDLE:
            return f"{grade}{index + 1}班"  # 七年级1班
        return f"{grade}{_CN_NUMBERS[index]}班"  # 一年级一班


_KG, _SCHOOL = OrgKind.KINDERGARTEN, OrgKind.SCHOOL
SCHOOLS = (
    SchoolSpec(
        key="kg", name="大杨树实验幼儿园", short_name="实验幼儿园",
        kind=_KG, stage=SchoolStage.KINDERGARTEN, town="dys",
        police_station="station", police_post="post",
        classes_per_grade=3, class_size=(26, 30),
        address="示范县大杨树镇幸福路8号", phone="0311-85213301",
    ),
    SchoolSpec(
        key="primary", name="大杨树中心小学", short_name="中心小学",
        kind=_SCHOOL, stage=SchoolStage.PRIMARY, town="dys",
        police_station="station", police_post="post",
        classes_per_grade=3, class_size=(34, 38),
        address="示范县大杨树镇幸福路6号", phone="0311-85213302",
    ),
    SchoolSpec(
        key="middle", name="大杨树镇中学", short_name="镇中学",
        kind=_SCHOOL, stage=SchoolStage.MIDDLE, town="dys", is_boarding=True,
        police_station="station", police_post="post",
        classes_per_grade=3, class_size=(38, 42),
        address="示范县大杨树镇育才路15号", phone="0311-85213303",
    ),
    SchoolSpec(
        key="private_kg", name="阳光幼儿园", short_name="阳光幼儿园",
        kind=_KG, stage=SchoolStage.KINDERGARTEN, town="dys",
        police_station="station",
        classes_per_grade=2, class_size=(23, 27),
        ownership=Ownership.PRIVATE,
        operator="示范县阳光教育咨询有限公司（法定代表人 孙丽华）",
        # Rented premises: §2 3 makes the landlord answerable too.
        landlord="大杨树村村民 王建军（房屋出租人）",
        address="示范县大杨树镇大杨树村东街23号", phone="15831126688",
    ),
    SchoolSpec(
        key="primary2", name="大杨树第二小学", short_name="二小",
        kind=_SCHOOL, stage=SchoolStage.PRIMARY, town="dys",
        police_station="station",
        classes_per_grade=2, class_size=(28, 32),
        address="示范县大杨树镇西环路31号", phone="0311-85213304",
    ),
    SchoolSpec(
        key="village", name="红星村小学", short_name="红星小学",
        kind=_SCHOOL, stage=SchoolStage.PRIMARY, town="dys",
        police_station="station",
        classes_per_grade=1, class_size=(15, 21),
        address="示范县大杨树镇红星村村委会南100米", phone="0311-85213305",
    ),
    SchoolSpec(
        key="far", name="柳河镇中心小学", short_name="柳河小学",
        kind=_SCHOOL, stage=SchoolStage.PRIMARY, town="lh",
        police_station="lh_station", linked=(),
        classes_per_grade=1, class_size=(23, 27),
        address="示范县柳河镇学府路5号", phone="0311-85318301",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class DemoUser:
    username: str
    last_name: str
    first_name: str
    gender: str
    memberships: tuple[tuple[str, str, str], ...]  # (organization key, role, title)
    # The staff record of a school login: (school key, staff role, class it heads or "").
    staff: tuple[str, str, str] | None = None

    @property
    def full_name(self) -> str:
        return self.last_name + self.first_name


_M, _F = Gender.MALE, Gender.FEMALE
# username, surname, given name, gender, (organization, role, title)…, own staff record
DEMO_USERS = (
    DemoUser("county", "孙", "立新", _M,
             (("county_gov", Role.GOVERNANCE_COORDINATOR, "综治中心主任"),)),
    DemoUser("police", "赵", "志刚", _M, (("station", Role.POLICE_COMMANDER, "所长"),)),
    DemoUser("officer", "陈", "伟", _M,
             (("station", Role.POLICE_OFFICER, "社区民警"),
              # Memberships at a school carry school roles only (ROLES_BY_KIND), so the
              # legal vice-principal post is held at the station and named in the title.
              ("station", Role.LEGAL_VICE_PRINCIPAL, "大杨树实验幼儿园法制副校长"))),
    DemoUser("principal", "刘", "芳", _F, (("kg", Role.PRINCIPAL, "园长"),),
             staff=("kg", StaffRole.PRINCIPAL, "")),
    DemoUser("guard", "张", "国强", _M, (("kg", Role.GUARD, "门卫"),),
             staff=("kg", StaffRole.GUARD, "")),
    DemoUser("teacher", "李", "静", _F, (("kg", Role.TEACHER, "小一班班主任"),),
             staff=("kg", StaffRole.TEACHER, "小一班")),
    # The kindergarten's health staff member (保健医): checks, the epidemic reporter (issue 9).
    DemoUser("nurse", "郭", "秀兰", _F, (("kg", Role.HEALTH_STAFF, "保健医"),),
             staff=("kg", StaffRole.HEALTH_STAFF, "")),
    DemoUser("principal2", "王", "建华", _M, (("primary", Role.PRINCIPAL, "校长"),),
             staff=("primary", StaffRole.PRINCIPAL, "")),
    DemoUser("edu", "周", "文明", _M, (("edu", Role.EDUCATION_SUPERVISOR, "安全督导专干"),)),
    DemoUser("gov", "吴", "海燕", _F, (("gov", Role.GOVERNANCE_COORDINATOR, "综治办主任"),)),
    DemoUser("health", "郑", "晓梅", _F, (("health", Role.HEALTH_OFFICER, "公共卫生科科长"),)),
    DemoUser("middle.principal", "钱", "建国", _M, (("middle", Role.PRINCIPAL, "校长"),),
             staff=("middle", StaffRole.PRINCIPAL, "")),
    DemoUser("sunshine.principal", "何", "丽", _F, (("private_kg", Role.PRINCIPAL, "园长"),),
             staff=("private_kg", StaffRole.PRINCIPAL, "")),
    DemoUser("market", "马", "晓东", _M, (("market", Role.GOVERNMENT_LIAISON, "所长"),)),
    DemoUser("traffic", "韩", "磊", _M, (("traffic", Role.GOVERNMENT_LIAISON, "中队长"),)),
)  # fmt: skip

# Staff whose background check is still pending, by (school, post, index within the post),
# so that the follow-up of background checks has something to show.
_PENDING_CHECKS = {
    ("private_kg", StaffRole.GUARD, 1),
    ("private_kg", StaffRole.CHILDCARE, 0),
    ("primary2", StaffRole.TEACHER, -1),
    ("middle", StaffRole.COOK, 1),
}
# The one guard licence that runs out within 30 days (the certificate-expiry reminder).
_EXPIRING_LICENCE = ("private_kg", 0)

# ---------------------------------------------------------------------------------------
# Names, phones and ID numbers
# ---------------------------------------------------------------------------------------

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎"
)
# Rough frequency: the big four surnames are far more common in a northern township.
_SURNAME_WEIGHTS = tuple(
    9 if i < 4 else 5 if i < 10 else 3 if i < 25 else 1 for i in range(len(_SURNAMES))
)
_GIVEN = {
    ("child", _M): "浩宇轩子博文杰俊明磊鹏晨睿泽铭豪天一航凯瑞嘉乐思成旭阳昊然奕辰哲远毅智",
    ("child", _F): "欣怡梓涵诗雨佳琪萱悦彤可馨婷雅静妍媛语晴菲淑思梦若嘉瑶璐露雪颖倩玥诺",
    ("adult", _M): "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁建国志海峰东亮永健立兵",
    ("adult", _F): "芳娜敏静丽艳娟霞燕玲丹萍红莉琳颖慧洁晶梅雪倩英春华秀",
    ("elder", _M): "建国德福庆长志永振明春树林富贵学文忠发仁义山",
    ("elder", _F): "桂兰秀英珍凤玉华芬淑琴荣梅霞翠云花莲",
}
_MOBILE_PREFIXES = tuple(
    [f"13{d}" for d in range(10)]
    + [f"15{d}" for d in (0, 1, 2, 3, 5, 6, 7, 8, 9)]
    + [f"18{d}" for d in range(10)]
)


def _person_name(rng: random.Random, surname: str, generation: str, gender: str) -> str:
    chars = _GIVEN[(generation, gender)]
    two_chars = rng.random() < (0.65 if generation == "child" else 0.5)
    given = "".join(rng.sample(chars, 2)) if two_chars else rng.choice(chars)
    return surname + given


def _surname(rng: random.Random) -> str:
    return rng.choices(_SURNAMES, weights=_SURNAME_WEIGHTS)[0]


def _random_day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _born_in(rng: random.Random, first_year: int, last_year: int) -> dt.date:
    return _random_day(rng, dt.date(first_year, 1, 1), dt.date(last_year, 12, 31))


class _Phones:
    """Distinct 11-digit mobile numbers (13x/15x/18x)."""

    def __init__(self):
        self.used: set[str] = set()

    def new(self, rng: random.Random) -> str:
        while True:
            number = rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            if number not in self.used:
                self.used.add(number)
                return number


class _IdNumbers:
    """Valid resident ID numbers, distinct across the whole township.

    The sequence's parity carries the gender (GB 11643: odd for men, even for women).
    """

    def __init__(self):
        self.used: set[str] = set()

    def new(
        self,
        rng: random.Random,
        born: dt.date,
        gender: str,
        *,
        taken_hashes: set[str] | frozenset[str] = frozenset(),
    ) -> str:
        """`taken_hashes`: lookup hashes already stored, which the new number must avoid."""
        start = rng.randrange(500) * 2 + (1 if gender == Gender.MALE else 0)
        for step in range(500):
            sequence = (start + 2 * step) % 1000
            if sequence == 0:  # 000 is not issued
                continue
            number = make_id_number(ID_REGION, born, sequence)
            if number in self.used:
                continue
            if taken_hashes and crypto.lookup_hash(number) in taken_hashes:
                continue
            self.used.add(number)
            return number
        raise RuntimeError(f"no free ID sequence left for {born}")


def _school_year_start(today: dt.date) -> int:
    return today.year if today.month >= 9 else today.year - 1


def _birth_window(school_year: int, age: int) -> tuple[dt.date, dt.date]:
    """Children who are `age` on 1 September of the school year (the enrolment cut-off)."""
    return dt.date(school_year - age - 1, 9, 2), dt.date(school_year - age, 9, 1)


# ---------------------------------------------------------------------------------------
# The plan (pure: no database)
# ---------------------------------------------------------------------------------------


@dataclass
class _GuardianPlan:
    name: str
    relationship: str
    phone: str
    id_number: str
    is_primary: bool


@dataclass
class _ChildPlan:
    class_name: str
    name: str
    gender: str
    born: dt.date
    id_number: str
    guardians: list[_GuardianPlan]


@dataclass
class _StaffPlan:
    name: str
    role: str
    phone: str
    id_number: str
    background_check: str = BackgroundCheck.PASSED
    background_checked_on: dt.date | None = None
    heads_class: str = ""
    username: str = ""
    certificates: list[dict] = field(default_factory=list)


@dataclass
class _SchoolPlan:
    spec: SchoolSpec
    classes: list[tuple[str, str]]  # (grade, name)
    staff: list[_StaffPlan]
    children: list[_ChildPlan]


class _Planner:
    """Draws the township's people; one random stream per school and purpose."""

    def __init__(self, today: dt.date):
        self.today = today
        self.school_year = _school_year_start(today)
        self.phones = _Phones()
        self.ids = _IdNumbers()

    def school(self, spec: SchoolSpec) -> _SchoolPlan:
        classes = [
            (grade, spec.class_name(grade, index))
            for grade, _ in spec.grades
            for index in range(spec.classes_per_grade)
        ]
        return _SchoolPlan(
            spec=spec,
            classes=classes,
            staff=self._staff(spec, classes),
            children=self._children(spec),
        )

    def _children(self, spec: SchoolSpec) -> list[_ChildPlan]:
        rng = random.Random(f"{SEED}:{spec.key}:children")
        children = []
        for grade, age in spec.grades:
            earliest, latest = _birth_window(self.school_year, age)
            for index in range(spec.classes_per_grade):
                class_name = spec.class_name(grade, index)
                for _ in range(rng.randint(*spec.class_size)):
                    gender = Gender.MALE if rng.random() < 0.52 else Gender.FEMALE
                    born = _random_day(rng, earliest, latest)
                    family = _surname(rng)
                    children.append(
                        _ChildPlan(
                            class_name=class_name,
                            name=_person_name(rng, family, "child", gender),
                            gender=gender,
                            born=born,
                            id_number=self.ids.new(rng, born, gender),
                            guardians=self._guardians(rng, family, born),
                        )
                    )
        return children

    def _guardians(self, rng: random.Random, family: str, child_born: dt.date) -> list:
        mother_family = _surname(rng)
        roll = rng.random()
        if roll < 0.60:
            who = [Relationship.MOTHER, Relationship.FATHER]
        elif roll < 0.75:  # the father works away from home
            who = [Relationship.MOTHER, Relationship.GRANDMOTHER]
        elif roll < 0.85:  # both parents away: a left-behind child (留守儿童)
            who = [Relationship.GRANDMOTHER, Relationship.GRANDFATHER]
        elif roll < 0.93:
            who = [Relationship.MOTHER]
        elif roll < 0.97:
            who = [Relationship.FATHER]
        else:
            who = [Relationship.GRANDMOTHER]
        year = child_born.year
        guardians = []
        for position, relationship in enumerate(who):
            paternal = relationship in (Relationship.FATHER, Relationship.GRANDFATHER)
            gender = Gender.MALE if paternal else Gender.FEMALE
            elder = relationship in (Relationship.GRANDFATHER, Relationship.GRANDMOTHER)
            if elder:
                born = _born_in(rng, year - 60, year - 46)
                surname = family if paternal else _surname(rng)
            else:
                born = _born_in(rng, year - 38, year - 22)
                surname = family if paternal else mother_family
            guardians.append(
                _GuardianPlan(
                    name=_person_name(rng, surname, "elder" if elder else "adult", gender),
                    relationship=relationship,
                    phone=self.phones.new(rng),
                    id_number=self.ids.new(rng, born, gender),
                    is_primary=position == 0,
                )
            )
        return guardians

    def _staff(self, spec: SchoolSpec, classes: list[tuple[str, str]]) -> list[_StaffPlan]:
        rng = random.Random(f"{SEED}:{spec.key}:staff")
        today = self.today
        demo = {
            (u.staff[1], u.staff[2]): u for u in DEMO_USERS if u.staff and u.staff[0] == spec.key
        }
        used_names = {u.full_name for u in DEMO_USERS}
        kindergarten = spec.stage == SchoolStage.KINDERGARTEN

        def person(role: str, heads_class: str = "") -> _StaffPlan:
            demo_user = demo.pop((role, heads_class), None)
            if role in (StaffRole.GUARD, StaffRole.SECURITY_OFFICER):
                female_share = 0.05
            elif kindergarten or role == StaffRole.HEALTH_STAFF:
                female_share = 0.9  # kindergarten and clinic staff are mostly women
            else:
                female_share = 0.6
            gender = Gender.FEMALE if rng.random() < female_share else Gender.MALE
            oldest, youngest = (1963, 1978) if role == StaffRole.GUARD else (1968, 2001)
            born = _born_in(rng, oldest, youngest)
            name = _person_name(rng, _surname(rng), "adult", gender)
            while name in used_names:
                name = _person_name(rng, _surname(rng), "adult", gender)
            if demo_user is not None:
                name, gender = demo_user.full_name, demo_user.gender
            used_names.add(name)
            return _StaffPlan(
                name=name,
                role=role,
                phone=self.phones.new(rng),
                id_number=self.ids.new(rng, born, gender),
                background_checked_on=today - dt.timedelta(days=rng.randrange(30, 700)),
                heads_class=heads_class,
                username=demo_user.username if demo_user else "",
            )

        staff = [person(StaffRole.TEACHER, name) for _, name in classes]
        for role, count in _staff_roles(spec, len(classes)):
            staff += [person(role) for _ in range(count)]
        if demo:
            raise ValueError(f"demo logins without a staff record at {spec.name}: {list(demo)}")

        by_role: dict[str, list[_StaffPlan]] = {}
        for member in staff:
            by_role.setdefault(member.role, []).append(member)
        for school_key, role, index in _PENDING_CHECKS:
            if school_key == spec.key:
                member = by_role[role][index]
                member.background_check = BackgroundCheck.PENDING
                member.background_checked_on = None

        for index, guard in enumerate(by_role[StaffRole.GUARD]):
            if (spec.key, index) == _EXPIRING_LICENCE:
                expires = today + dt.timedelta(days=21)
            else:
                expires = today + dt.timedelta(days=rng.randrange(120, 1100))
            guard.certificates.append(
                {
                    "kind": "保安员证",
                    "number": f"冀公保{rng.randrange(10**8):08d}",
                    "issued_on": today - dt.timedelta(days=rng.randrange(400, 2500)),
                    "expires_on": expires,
                }
            )
        for member in by_role[StaffRole.HEALTH_STAFF]:
            issued = today - dt.timedelta(days=rng.randrange(30, 200))
            member.certificates.append(
                {
                    "kind": "健康证",
                    "number": f"示卫健{rng.randrange(10**6):06d}",
                    "issued_on": issued,
                    "expires_on": issued + dt.timedelta(days=365),
                }
            )
        return staff


def _staff_roles(spec: SchoolSpec, class_count: int) -> list[tuple[str, int]]:
    """(post, how many) besides the head teachers."""
    roles = [(StaffRole.PRINCIPAL, 1)]
    if spec.stage == SchoolStage.KINDERGARTEN:
        roles += [(StaffRole.CHILDCARE, class_count), (StaffRole.COOK, 1)]
    else:
        roles += [
            (StaffRole.VICE_PRINCIPAL, 1 if class_count < 12 else 2),
            (StaffRole.TEACHER, max(2, class_count // 2)),  # subject teachers
        ]
    roles += [(StaffRole.GUARD, 2), (StaffRole.SECURITY_OFFICER, 1), (StaffRole.HEALTH_STAFF, 1)]
    if spec.is_boarding:
        roles += [(StaffRole.DORMITORY_MANAGER, 2), (StaffRole.COOK, 2)]
    return roles


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------


@dataclass
class _Tally:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, *, created: int = 0, updated: int = 0) -> None:
        if created:
            self.created[kind] = self.created.get(kind, 0) + created
        if updated:
            self.updated[kind] = self.updated.get(kind, 0) + updated

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _upsert(model, tally: _Tally, label: str, lookup: dict, values: dict):
    """get_or_create, then write only the fields that differ (no write when none does)."""
    obj = model.objects.filter(**lookup).order_by("pk").first()
    if obj is None:
        tally.add(label, created=1)
        return model.objects.create(**lookup, **values)
    changed = [
        name
        for name, value in values.items()
        if getattr(obj, model._meta.get_field(name).attname) != _raw(value)
    ]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        auto_now = [f.name for f in model._meta.concrete_fields if getattr(f, "auto_now", False)]
        obj.save(update_fields=[*changed, *auto_now])
        tally.add(label, updated=1)
    return obj


def _raw(value):
    return value.pk if isinstance(value, models.Model) else value


def _load_places(tally: _Tally) -> tuple[Region, dict[str, Town], dict[str, Organization]]:
    region = _upsert(Region, tally, "regions", {"code": COUNTY["code"]}, {"name": COUNTY["name"]})
    towns = {
        key: _upsert(
            Town, tally, "towns", {"code": town["code"]}, {"name": town["name"], "region": region}
        )
        for key, town in TOWNS.items()
    }
    orgs: dict[str, Organization] = {}
    for office in OFFICES:
        orgs[office.key] = _upsert(
            Organization,
            tally,
            "organizations",
            {"region": region, "name": office.name},
            {
                "kind": office.kind,
                "town": towns[office.town] if office.town else None,
                "parent": orgs[office.parent] if office.parent else None,
                "short_name": office.short_name,
                "address": office.address,
                "phone": office.phone,
                "is_active": True,
            },
        )
    return region, towns, orgs


def _load_school(plan: _SchoolPlan, region, towns, orgs, tally: _Tally) -> Organization:
    spec = plan.spec
    return _upsert(
        Organization,
        tally,
        "organizations",
        {"region": region, "name": spec.name},
        {
            "kind": spec.kind,
            "town": towns[spec.town],
            "parent": None,
            "short_name": spec.short_name,
            "address": spec.address,
            "phone": spec.phone,
            "is_active": True,
            "stage": spec.stage,
            "ownership": spec.ownership,
            "is_boarding": spec.is_boarding,
            "is_registered": spec.is_registered,
            "operator": spec.operator,
            "landlord": spec.landlord,
            "enrolment": len(plan.children),
            "police_station": orgs[spec.police_station],
            "police_post": orgs[spec.police_post] if spec.police_post else None,
            "education_office": orgs["edu"] if "edu" in spec.linked else None,
            "health_centre": orgs["health"] if "health" in spec.linked else None,
        },
    )


def _load_users(tally: _Tally) -> dict:
    try:
        password = make_password(DEMO_PASSWORD, salt=_DEMO_PASSWORD_SALT)
    except ValueError:
        # A hasher that makes its own salts (bcrypt): the hash then changes on every run.
        password = make_password(DEMO_PASSWORD)
    users = {}
    for demo_user in DEMO_USERS:
        user = _upsert(
            get_user_model(),
            tally,
            "users",
            {"username": demo_user.username},
            {
                "first_name": demo_user.first_name,
                "last_name": demo_user.last_name,
                "is_active": True,
                "password": password,
            },
        )
        users[demo_user.username] = user
    return users


def _load_memberships(users: dict, orgs: dict, tally: _Tally) -> None:
    for demo_user in DEMO_USERS:
        user = users[demo_user.username]
        for org_key, role, title in demo_user.memberships:
            organization = orgs[org_key]
            if role not in ROLES_BY_KIND[organization.kind]:
                raise ValueError(f"{role} cannot be held at a {organization.kind}")
            _upsert(
                Membership,
                tally,
                "memberships",
                {"user": user, "organization": organization, "role": role},
                {"title": title, "is_active": True},
            )
        clear_scope_cache(user)


def _load_classes(school, plan: _SchoolPlan, tally: _Tally) -> dict[str, SchoolClass]:
    existing = {c.name: c for c in SchoolClass.objects.filter(school=school)}
    missing = [
        SchoolClass(school=school, name=name, grade=grade)
        for grade, name in plan.classes
        if name not in existing
    ]
    SchoolClass.objects.bulk_create(missing)
    tally.add("classes", created=len(missing))
    regraded = []
    for grade, name in plan.classes:
        school_class = existing.get(name)
        if school_class is not None and school_class.grade != grade:
            school_class.grade = grade
            regraded.append(school_class)
    SchoolClass.objects.bulk_update(regraded, ["grade", "updated_at"])
    if missing or regraded:  # bulk writes send no signals: the stored compliance is stale
        from huxiao.drills.standings import touch

        touch([school.pk])
    tally.add("classes", updated=len(regraded))
    return {**existing, **{c.name: c for c in missing}}


def _load_staff(school, plan: _SchoolPlan, users: dict, tally: _Tally) -> dict[str, Staff]:
    existing = {}
    for staff in Staff.objects.filter(school=school).order_by("pk"):
        existing.setdefault(staff.name, staff)
    new = []
    for member in plan.staff:
        if member.name in existing:
            continue
        staff = Staff(
            school=school,
            user=users.get(member.username),
            name=member.name,
            role=member.role,
            phone=member.phone,
            background_check=member.background_check,
            background_checked_on=member.background_checked_on,
        )
        staff.set_id_number(member.id_number)
        new.append(staff)
    Staff.objects.bulk_create(new)
    tally.add("staff", created=len(new))
    by_name = {**existing, **{s.name: s for s in new}}

    # The demo logins' own staff records stay linked to them.
    relinked = []
    for member in plan.staff:
        staff = by_name[member.name]
        if member.username and staff.user_id != users[member.username].pk:
            staff.user = users[member.username]
            relinked.append(staff)
    Staff.objects.bulk_update(relinked, ["user", "updated_at"])
    tally.add("staff", updated=len(relinked))

    have = set(Certificate.objects.filter(staff__school=school).values_list("staff_id", "kind"))
    certificates = [
        Certificate(staff=by_name[member.name], **certificate)
        for member in plan.staff
        for certificate in member.certificates
        if (by_name[member.name].pk, certificate["kind"]) not in have
    ]
    Certificate.objects.bulk_create(certificates)
    tally.add("certificates", created=len(certificates))
    return by_name


def _load_head_teachers(classes: dict, staff: dict, plan: _SchoolPlan, tally: _Tally) -> None:
    changed = []
    for member in plan.staff:
        if member.heads_class:
            school_class = classes[member.heads_class]
            head = staff[member.name]
            if school_class.head_teacher_id != head.pk:
                school_class.head_teacher = head
                changed.append(school_class)
    SchoolClass.objects.bulk_update(changed, ["head_teacher", "updated_at"])
    tally.add("head_teachers", updated=len(changed))


def _load_children(school, classes: dict, plan: _SchoolPlan, ids: _IdNumbers, tally: _Tally):
    on_roll = Child.objects.filter(school=school)
    filled = set(on_roll.values_list("school_class_id", flat=True).distinct())
    to_fill = {name for name, c in classes.items() if c.pk not in filled}
    if not to_fill:
        return
    taken = set(on_roll.exclude(id_number_hash="").values_list("id_number_hash", flat=True))
    rng = random.Random(f"{SEED}:{plan.spec.key}:renumber")
    children, guardian_plans = [], []
    for planned in plan.children:
        if planned.class_name not in to_fill:
            continue
        number = planned.id_number
        if taken and crypto.lookup_hash(number) in taken:
            # Only after the school year moved on: ages shift, so an earlier child may hold
            # this number already. One number per school (Child's unique constraint).
            number = ids.new(rng, planned.born, planned.gender, taken_hashes=taken)
        child = Child(
            school=school,
            school_class=classes[planned.class_name],
            name=planned.name,
            gender=planned.gender,
            birth_date=planned.born,
        )
        child.set_id_number(number)
        children.append(child)
        guardian_plans.append(planned.guardians)
    Child.objects.bulk_create(children, batch_size=500)
    guardians = []
    for child, planned_guardians in zip(children, guardian_plans, strict=True):
        for planned in planned_guardians:
            guardian = Guardian(
                child=child,
                name=planned.name,
                relationship=planned.relationship,
                phone=planned.phone,
                can_pick_up=True,
                is_primary=planned.is_primary,
            )
            guardian.set_id_number(planned.id_number)
            guardians.append(guardian)
    Guardian.objects.bulk_create(guardians, batch_size=500)
    tally.add("children", created=len(children))
    tally.add("guardians", created=len(guardians))


def _totals(region: Region) -> dict[str, int]:
    schools = Organization.objects.schools().filter(region=region)
    usernames = [u.username for u in DEMO_USERS]
    return {
        "regions": Region.objects.filter(code=REGION_CODE).count(),
        "towns": Town.objects.filter(region=region).count(),
        "organizations": Organization.objects.filter(region=region).count(),
        "schools": schools.count(),
        "classes": SchoolClass.objects.filter(school__in=schools).count(),
        "staff": Staff.objects.filter(school__in=schools).count(),
        "certificates": Certificate.objects.filter(staff__school__in=schools).count(),
        "children": Child.objects.filter(school__in=schools).count(),
        "guardians": Guardian.objects.filter(child__school__in=schools).count(),
        "users": get_user_model().objects.filter(username__in=usernames).count(),
        "memberships": Membership.objects.filter(user__username__in=usernames).count(),
    }


def load_demo_township(stdout=None) -> dict:
    """Load (or repair) the demo township; return the totals and what this run wrote.

    Returns {"regions": …, "towns": …, …, "children": …, "created": {...}, "updated": {...}}:
    the totals of the demo county, then the rows this run created and updated (both empty
    on a second run). Refuses with DemoModeOff unless settings.DEMO_MODE is on.
    `stdout`, if given, receives one progress line per school.
    """
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    today = timezone.localdate()
    planner = _Planner(today)
    plans = [planner.school(spec) for spec in SCHOOLS]
    tally = _Tally()
    with transaction.atomic():
        region, towns, orgs = _load_places(tally)
        for plan in plans:
            orgs[plan.spec.key] = _load_school(plan, region, towns, orgs, tally)
        users = _load_users(tally)
        _load_memberships(users, orgs, tally)
        for plan in plans:
            school = orgs[plan.spec.key]
            classes = _load_classes(school, plan, tally)
            staff = _load_staff(school, plan, users, tally)
            _load_head_teachers(classes, staff, plan, tally)
            _load_children(school, classes, plan, planner.ids, tally)
            if stdout is not None:
                stdout.write(
                    f"  {school.name}: {len(plan.classes)} classes, {len(plan.children)} children\n"
                )
        if tally.changed:
            audit_record(
                actor=None,
                action=AuditAction.IMPORT,
                object_type=AUDIT_OBJECT_TYPE,
                object_repr="demo township loaded",
                changes={"created": tally.created, "updated": tally.updated},
            )
        totals = _totals(region)
    return {**totals, "created": tally.created, "updated": tally.updated}
