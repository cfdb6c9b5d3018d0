"""The school gate of the demo kindergarten (大杨树实验幼儿园), so that the `guard` demo user
can run a morning and an afternoon at the gate on `make run`.

`load_demo_gate()` runs after `load_demo_township()` and `load_demo_register()` (it needs
the kindergarten, its classes, children and guardians, its staff, the demo logins `guard`,
`principal` and `teacher`, and the register's 马德福). Demo mode only. What it loads:

- the kindergarten's `GateSettings` (closing 18:00, dismissal 16:30, flagged after 30
  minutes, delegates until 14:00, records kept 180 days), created when missing;
- three visitors expected today, pre-registered by their hosts (`teacher` for herself,
  `principal` for herself and for the cook), each with a one-time QR invitation;
- two visits of the last school day (checked in and out by `guard`);
- a staff pass (the cook) and a vehicle pass (the food supplier's van), issued by
  `principal`;
- one entry on the school's blocklist (a parent barred by a protection order);
- a pick-up code for every authorised guardian of the kindergarten's children, with a
  **deterministic demo PIN** (below);
- a one-day delegate for one child of 小一班, named this morning, with its own PIN;
- releases of five children of 大一班 on the last school day, and one interception (a
  folding knife) that morning.

Demo PINs (public on purpose, like the demo password; real PINs are random and shown once):
two digits for the class (grade 小 1 / 中 2 / 大 3, then 一 1 / 二 2 / 三 3: 小一班 is 11,
大三班 is 33), two for the child's place in the class ordered by name (the order of the
class pages), two for the adult's place among the child's authorised adults (primary
guardian first). The first child of 小一班 is picked up by its first adult with 110101.
Today's delegate uses the child's class and place and 99. `python manage.py demo -v 2`
prints the PINs of 小一班, the delegate's and the test visitors.

Test visitors: 刘晓东 (`CLEAR_VISITOR_ID`) is on no list and gets a badge; 马德福
(`HELD_VISITOR_ID`, a record of the demo register) is the test visitor who will be held:
the guard sees only "请稍候，联系值班领导", the duty leader and the station's police get
the silent alert.

Idempotent: each record is keyed (a visit by school, name and day; a pass by school, kind
and holder; a code by its adult; a release by child and day; the interception by school
and item) and created only when missing, so edits made during a demo survive a restart;
the dated records (expected visitors, the last school day's visits and releases, the
delegate) follow the calendar, a run on another day adds that day's. Everything except
the bulk of the pick-up codes goes through the services, so audit rows and notifications
are the real ones; the codes are written directly (hundreds of them, with their demo PINs)
and one audit row records a run that created some. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from huxiao.access import codes, pass_services
from huxiao.access import contraband_services as contraband
from huxiao.access import pickup_services as pickup
from huxiao.access import visitor_services as visitors
from huxiao.access.choices import (
    CarrierKind,
    ContrabandCategory,
    Handling,
    PassKind,
    VisitPurpose,
)
from huxiao.access.models import (
    BlockedVisitor,
    GatePass,
    GateSettings,
    Interception,
    PickupCode,
    PickupDelegate,
    Release,
    Visit,
)
from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record
from huxiao.core import crypto
from huxiao.core.idcard import make_id_number
from huxiao.demo.township import DemoModeOff
from huxiao.orgs.models import Organization
from huxiao.people.choices import StaffRole
from huxiao.people.models import Child, SchoolClass, Staff

SCHOOL_NAME = "大杨树实验幼儿园"
ID_REGION = "130123"
AUDIT_OBJECT_TYPE = "access.pickupcode"

# The register's 马德福 (huxiao.intel.demo.PEOPLE[0]): the test visitor who will be held.
HELD_VISITOR_NAME = "马德福"
HELD_VISITOR_ID = make_id_number(ID_REGION, dt.date(1968, 4, 12), 131)
# On no list: checked in with a badge.
CLEAR_VISITOR_NAME = "刘晓东"
CLEAR_VISITOR_ID = make_id_number(ID_REGION, dt.date(1986, 5, 20), 17)
CLEAR_VISITOR_PHONE = "13833120517"

# (inviting demo user, host's staff role or "" for the inviting user, name, phone, purpose,
# details)
EXPECTED_TODAY = (
    ("teacher", "", "孙晓燕", "13931126605", VisitPurpose.INTERVIEW, "与班主任沟通孩子入园适应情况"),
    ("principal", "", "钱卫东", "13503112218", VisitPurpose.OFFICIAL, "县教育局秋季安全工作督查"),
    ("principal", StaffRole.COOK, "马金山", "13722316640", VisitPurpose.SUPPLIER, "送本周食材和消毒用品"),
)  # fmt: skip

# (name, born, sequence, phone, purpose, details, host's staff role, items, in, out)
LAST_DAY_VISITS = (
    ("冯建国", dt.date(1979, 3, 8), 35, "13613115502", VisitPurpose.REPAIR, "更换中二班教室灯管",
     StaffRole.SECURITY_OFFICER, "工具箱、人字梯", dt.time(9, 10), dt.time(10, 25)),
    ("陈秀英", dt.date(1958, 10, 21), 64, "15930128863", VisitPurpose.PARENT, "给孙子送感冒药",
     StaffRole.TEACHER, "药品一盒", dt.time(10, 40), dt.time(10, 52)),
)  # fmt: skip

BLOCKED = (
    "郝长顺",
    make_id_number(ID_REGION, dt.date(1984, 7, 2), 271),
    "人民法院人身安全保护令：禁止接近其子及幼儿园（离婚纠纷，2026年9月至2027年3月）",
)
STAFF_PASS_ROLE = StaffRole.COOK
VEHICLE_PASS = ("示范县绿源食品配送有限公司", "冀AD12345", "每日早间送菜，仅限后门卸货")
DELEGATE = ("周玉兰", "13785116630", "外婆", 2)  # name, phone, relationship, child's place
RELEASE_CLASS, RELEASES = "大一班", 5
INTERCEPTION = (
    ContrabandCategory.KNIFE,
    "折叠刀（刃长约9厘米）",
    CarrierKind.VISITOR,
    "送孩子的家长",
    Handling.RETURNED,
    "家长称用于削水果，已暂存门卫室，离园时归还并进行安全教育。",
    dt.time(7, 52),
)

_GRADE_DIGITS = {"小": "1", "中": "2", "大": "3"}
_INDEX_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6"}


def class_digits(school_class) -> str | None:
    """ "11" for 小一班 … "33" for 大三班; None for a class named otherwise."""
    name = school_class.name
    if len(name) >= 2 and name[0] in _GRADE_DIGITS and name[1] in _INDEX_DIGITS:
        return _GRADE_DIGITS[name[0]] + _INDEX_DIGITS[name[1]]
    return None


def class_children(school_class) -> list:
    """Active children in the order of the class pages (name, then id)."""
    return list(
        Child.objects.filter(school_class=school_class, is_active=True).order_by("name", "id")
    )


def child_adults(child) -> list:
    """The child's authorised adults, primary guardian first."""
    return list(child.guardians.filter(can_pick_up=True).order_by("-is_primary", "id"))


def demo_pin(school_class, child_place: int, adult_place: int) -> str | None:
    digits = class_digits(school_class)
    if digits is None or not (0 < child_place < 100 and 0 < adult_place < 100):
        return None
    return f"{digits}{child_place:02d}{adult_place:02d}"


def _user(username):
    return get_user_model().objects.filter(username=username, is_active=True).first()


def last_school_day(today: dt.date) -> dt.date:
    day = today - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day


def _staff(school, role, user=None):
    found = Staff.objects.filter(school=school, is_active=True)
    found = found.filter(user=user) if user is not None else found.filter(role=role)
    return found.order_by("id").first()


def load_demo_gate(*, today: dt.date | None = None, stdout=None) -> dict:
    """Create the demo kindergarten's gate records that are missing; return what this run
    created (counts) and the demo credentials of the gate (test visitors, PINs).

    Refuses with DemoModeOff unless settings.DEMO_MODE is on; does nothing if the demo
    township has not been loaded. `stdout`, if given, receives a summary, the test
    visitors and the PINs of 小一班."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    empty = {"created": {}, "pins": [], "delegate_pin": None}
    school = Organization.objects.schools().filter(name=SCHOOL_NAME).first()
    users = {name: _user(name) for name in ("guard", "principal", "teacher")}
    if school is None or None in users.values():
        return empty
    today = today or timezone.localdate()
    last_day = last_school_day(today)
    created: dict[str, int] = {}

    def add(key, count=1):
        created[key] = created.get(key, 0) + count

    _ensure_register_person()
    with transaction.atomic():
        if not GateSettings.objects.filter(school=school).exists():
            GateSettings.objects.create(school=school)
            add("settings")
        add("expected", _expected_visitors(school, users, today))
        add("visits", _last_day_visits(school, users, last_day))
        add("passes", _passes(school, users, today))
        add("blocklist", _blocklist(school, users))
        add("codes", _pickup_codes(school, users))
        delegate_pin, made = _delegate(school, users, today)
        add("delegates", made)
        add("releases", _releases(school, users, last_day))
        add("interceptions", _interception(school, users, last_day))
    created = {key: count for key, count in created.items() if count}
    pins = demo_pins(school)
    if stdout is not None:
        _report(stdout, created, pins, delegate_pin)
    return {"created": created, "pins": pins, "delegate_pin": delegate_pin}


def _ensure_register_person() -> None:
    from huxiao.intel.demo import load_demo_register
    from huxiao.intel.models import HighRiskPerson, register_id_hash

    if not HighRiskPerson.objects.filter(id_number_hash=register_id_hash(HELD_VISITOR_ID)).exists():
        load_demo_register()


def _expected_visitors(school, users, today) -> int:
    made = 0
    for inviter, host_role, name, phone, purpose, note in EXPECTED_TODAY:
        if Visit.objects.filter(school=school, name=name, expected_on=today).exists():
            continue
        actor = users[inviter]
        host = _staff(school, host_role) if host_role else _staff(school, None, user=actor)
        if host is None:
            continue
        try:
            visitors.visit_pre_register(
                actor=actor,
                school=school,
                name=name,
                phone=phone,
                purpose=purpose,
                purpose_note=note,
                host=host.pk,
                expected_on=today.isoformat(),
            )
        except ValidationError:
            continue  # e.g. the host left: the demo goes on without this visitor
        made += 1
    return made


def _day_range(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = visitors.aware(day, dt.time(0, 0))
    return start, start + dt.timedelta(days=1)


def _last_day_visits(school, users, day) -> int:
    made = 0
    start, end = _day_range(day)
    for name, born, seq, phone, purpose, note, host_role, items, came, left in LAST_DAY_VISITS:
        if Visit.objects.filter(
            school=school, name=name, checked_in_at__gte=start, checked_in_at__lt=end
        ).exists():
            continue
        host = _staff(school, host_role)
        try:
            visit = visitors.visit_check_in(
                actor=users["guard"],
                school=school,
                name=name,
                id_number=make_id_number(ID_REGION, born, seq),
                phone=phone,
                purpose=purpose,
                purpose_note=note,
                host=host.pk if host else "",
                items=items,
                now=visitors.aware(day, came),
            )
            if visit.status == "inside":
                visitors.visit_check_out(
                    actor=users["guard"], visit=visit, now=visitors.aware(day, left)
                )
        except ValidationError:
            continue  # e.g. the same person is inside right now
        made += 1
    return made


def _passes(school, users, today) -> int:
    made = 0
    now = timezone.now()
    start = visitors.aware(today, dt.time(0, 0))
    until = start + dt.timedelta(days=365)
    cook = _staff(school, STAFF_PASS_ROLE)
    live = GatePass.objects.filter(school=school, revoked_at__isnull=True)
    if cook is not None and not live.filter(kind=PassKind.STAFF, staff=cook).exists():
        pass_services.pass_issue(
            actor=users["principal"],
            school=school,
            kind=PassKind.STAFF,
            staff=cook.pk,
            valid_from=start,
            valid_until=until,
            note="早班 6:00 到岗",
            now=now,
        )
        made += 1
    holder, plate, note = VEHICLE_PASS
    if not live.filter(kind=PassKind.VEHICLE, holder_name=holder).exists():
        pass_services.pass_issue(
            actor=users["principal"],
            school=school,
            kind=PassKind.VEHICLE,
            holder_name=holder,
            plate=plate,
            valid_from=start,
            valid_until=until,
            note=note,
            now=now,
        )
        made += 1
    return made


def _blocklist(school, users) -> int:
    name, number, reason = BLOCKED
    if BlockedVisitor.objects.filter(
        school=school, id_number_hash=crypto.lookup_hash(number)
    ).exists():
        return 0  # also when a demo user removed it: that was their choice
    visitors.blocked_visitor_add(
        actor=users["principal"], school=school, name=name, id_number=number, reason=reason
    )
    return 1


def _pickup_codes(school, users) -> int:
    """A code for every authorised adult without a live one, with its demo PIN (a random
    one, through the service, when the class is named otherwise or the PIN is taken)."""
    now = timezone.now()
    live = PickupCode.objects.filter(school=school, revoked_at__isnull=True)
    taken = set(live.values_list("pin_hash", flat=True))
    has_code = set(live.exclude(guardian=None).values_list("guardian_id", flat=True))
    new_codes, fallback = [], []
    for school_class in SchoolClass.objects.filter(school=school).order_by("name", "id"):
        for child_place, child in enumerate(class_children(school_class), start=1):
            for adult_place, guardian in enumerate(child_adults(child), start=1):
                if guardian.pk in has_code:
                    continue
                pin = demo_pin(school_class, child_place, adult_place)
                hashed = pickup.pin_hash(school.pk, pin) if pin else None
                if hashed is None or hashed in taken:
                    fallback.append(guardian)
                    continue
                taken.add(hashed)
                new_codes.append(
                    PickupCode(
                        school=school,
                        guardian=guardian,
                        pin_hash=hashed,
                        card_serial=codes.new_serial(),
                        secret_encrypted=crypto.encrypt(secrets.token_bytes(32).hex()),
                        issued_by=users["principal"],
                        issued_at=now,
                    )
                )
    PickupCode.objects.bulk_create(new_codes, batch_size=500)
    for guardian in fallback:
        pickup.pickup_code_issue(actor=users["principal"], guardian=guardian, now=now)
    made = len(new_codes) + len(fallback)
    if made:
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            object_type=AUDIT_OBJECT_TYPE,
            object_repr="demo pick-up codes loaded",
            school=school,
            changes={"created": made},
        )
    return made


def _has_pin(school, pin: str | None, **adult) -> bool:
    return (
        bool(pin)
        and PickupCode.objects.filter(
            school=school,
            revoked_at__isnull=True,
            pin_hash=pickup.pin_hash(school.pk, pin),
            **adult,
        ).exists()
    )


def demo_pins(school, class_name: str = "小一班") -> list[tuple[str, str, str, str]]:
    """(child, adult, relationship, PIN) of the class's adults whose live code still has its
    demo PIN (a code re-issued during the demo has a random one, shown once)."""
    school_class = SchoolClass.objects.filter(school=school, name=class_name).first()
    if school_class is None:
        return []
    rows = []
    for child_place, child in enumerate(class_children(school_class), start=1):
        for adult_place, guardian in enumerate(child_adults(child), start=1):
            pin = demo_pin(school_class, child_place, adult_place)
            if _has_pin(school, pin, guardian=guardian):
                rows.append((child.name, guardian.name, guardian.get_relationship_display(), pin))
    return rows


def _delegate(school, users, today) -> tuple[str | None, int]:
    """Today's delegate of the second child of 小一班 and its demo PIN (None when the PIN
    is not in force: taken, or the delegate was changed during the demo)."""
    name, phone, relationship, place = DELEGATE
    school_class = SchoolClass.objects.filter(school=school, name="小一班").first()
    children = class_children(school_class) if school_class else []
    if len(children) < place:
        return None, 0
    child = children[place - 1]
    pin = demo_pin(school_class, place, 99)
    delegate = PickupDelegate.objects.filter(child=child, on_date=today, name=name).first()
    made = 0
    if delegate is None:
        try:
            delegate, issued = pickup.delegate_add(
                actor=users["teacher"],
                child=child,
                name=name,
                phone=phone,
                relationship=relationship,
                now=visitors.aware(today, dt.time(7, 50)),  # named before the cut-off
            )
        except (ValidationError, pickup.PickupRefused):
            return None, 0
        made = 1
        # The demo PIN of an earlier day's delegate (useless since that day) passes on.
        PickupCode.objects.filter(
            school=school,
            revoked_at__isnull=True,
            pin_hash=pickup.pin_hash(school.pk, pin),
            delegate__on_date__lt=today,
        ).update(revoked_at=timezone.now())
        if not _has_pin(school, pin):
            PickupCode.objects.filter(pk=issued.code.pk).update(
                pin_hash=pickup.pin_hash(school.pk, pin)
            )
    return (pin if _has_pin(school, pin, delegate=delegate) else None), made


def _releases(school, users, day) -> int:
    school_class = SchoolClass.objects.filter(school=school, name=RELEASE_CLASS).first()
    if school_class is None:
        return 0
    made = 0
    for offset, child in enumerate(class_children(school_class)[:RELEASES]):
        if Release.objects.filter(child=child, on_date=day).exists():
            continue
        code = (
            PickupCode.objects.filter(school=school, guardian__child=child, revoked_at__isnull=True)
            .order_by("-guardian__is_primary", "guardian_id")
            .first()
        )
        if code is None:
            continue
        moment = visitors.aware(day, dt.time(16, 31 + 3 * offset))
        try:
            match = pickup.pickup_lookup(
                actor=users["guard"], school=school, text=pickup.card_text(code), now=moment
            )
            pickup.pickup_release(
                actor=users["guard"], school=school, token=match.token, now=moment
            )
        except (ValidationError, pickup.PickupRefused):
            continue
        made += 1
    return made


def _interception(school, users, day) -> int:
    category, item, carrier_kind, carrier, handling, note, at = INTERCEPTION
    if Interception.objects.filter(school=school, item=item).exists():
        return 0
    contraband.interception_record(
        actor=users["guard"],
        school=school,
        category=category,
        item=item,
        carrier_kind=carrier_kind,
        carrier_name=carrier,
        handling=handling,
        note=note,
        now=visitors.aware(day, at),
    )
    return 1


def _report(stdout, created, pins, delegate_pin) -> None:
    summary = ", ".join(f"+{count} {key}" for key, count in created.items()) or "nothing new"
    stdout.write(f"  gate of {SCHOOL_NAME}: {summary}\n")
    stdout.write(
        f"  gate test visitors: {CLEAR_VISITOR_NAME} {CLEAR_VISITOR_ID} (clear), "
        f"{HELD_VISITOR_NAME} {HELD_VISITOR_ID} (will be held)\n"
    )
    stdout.write(
        "  pick-up PINs: class (小一班 11 … 大三班 33) + child's place by name + adult's "
        f"place; today's delegate {delegate_pin or '—'}\n"
    )
    for child, adult, relationship, pin in pins:
        stdout.write(f"    小一班 {child:<4} {adult}（{relationship}）{pin}\n")
