"""A few high-risk persons for the demo township's police station (大杨树派出所).

`load_demo_register()` runs after `load_demo_township()` (it needs the station, its schools
and the demo logins `police` and `officer`). Demo mode only. Idempotent: a person is keyed
by the station and the keyed hash of their resident ID number, created with their measures,
follow-ups and gate hit when missing, and otherwise left as the demo users may have edited
them. Dates are relative to today, so reviews fall due and follow-ups look recent whenever
the demo is loaded.

Like the township, seed rows are not audited one by one; one sealed audit row (object type
of the register, so no general trail lists it) records a run that created something.
Everything is fictional.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record
from huxiao.core import crypto
from huxiao.core.idcard import make_id_number
from huxiao.core.roles import OrgKind
from huxiao.demo.township import DemoModeOff
from huxiao.intel import phonetic
from huxiao.intel.choices import PersonStatus
from huxiao.intel.models import (
    ControlMeasure,
    FollowUp,
    HighRiskPerson,
    ScreeningHit,
    register_id_hash,
)
from huxiao.orgs.models import Organization

STATION_NAME = "大杨树派出所"
ID_REGION = "130123"


@dataclass(frozen=True)
class DemoPerson:
    name: str
    born: dt.date
    sequence: int  # odd for men, even for women (GB 11643)
    category: str
    risk_level: str
    schools: tuple[str, ...]
    address: str
    notes: str
    officer: str  # demo username
    review_in_days: int  # negative: overdue
    measures: tuple[tuple[str, int, str], ...] = ()  # (kind, started days ago, notes)
    follow_ups: tuple[
        tuple[int, str, str, str], ...
    ] = ()  # (days ago, method, assessment, finding)
    held_days_ago: int | None = None  # a gate hit at the first school, that many days ago
    closed_reason: str = ""


PEOPLE = (
    DemoPerson(
        "马德福", dt.date(1968, 4, 12), 131, "mental_illness", "high",
        ("大杨树实验幼儿园", "大杨树中心小学"), "示范县大杨树镇红星村三组17号",
        "精神分裂症，2019年曾持刀伤人。现由其兄监护，服药不规律时情绪易激动。", "officer", -2,
        measures=(("stabilisation", 400, "落实监护人看管责任，与村委会签订监护协议。"),
                  ("monitoring", 120, "社区民警每周上门一次，村网格员每日了解情况。")),
        follow_ups=((40, "home_visit", "stable", "在家务农，按时服药，监护人在场。"),
                    (9, "via_contacts", "attention", "村干部反映近一周夜间外出，服药情况不明。")),
    ),
    DemoPerson(
        "孙建军", dt.date(1975, 9, 3), 253, "revenge_threat", "high",
        ("大杨树镇中学",), "示范县大杨树镇育才路41号",
        "2026年9月其子在校体育课受伤，赔偿协商未果，曾在校门口扬言“让学校付出代价”。", "police", 3,
        measures=(("counselling", 60, "派出所、学校、司法所三方调解，已达成初步赔偿意向。"),),
        follow_ups=((20, "phone", "attention", "对赔偿数额仍有不满，情绪较上月平稳。"),
                    (4, "home_visit", "stable", "已签调解协议，表示不再到学校吵闹。")),
        held_days_ago=12,
    ),
    DemoPerson(
        "韩志强", dt.date(1982, 11, 20), 375, "drug_user", "medium",
        ("阳光幼儿园",), "示范县大杨树镇大杨树村东街31号",
        "社区戒毒人员，住所距阳光幼儿园约200米。", "officer", 12,
        measures=(("monitoring", 200, "社区戒毒，每月尿检。"),),
        follow_ups=((18, "home_visit", "stable", "本月尿检阴性，在镇上物流点打零工。"),),
    ),
    DemoPerson(
        "冯永贵", dt.date(1960, 2, 8), 417, "no_livelihood", "medium",
        ("大杨树第二小学",), "示范县大杨树镇西环路8号",
        "独居，无固定收入，欠外债较多，常在校门口附近徘徊。", "officer", -5,
        measures=(("counselling", 90, "协调民政办理临时救助，联系其女儿定期探望。"),),
        follow_ups=((35, "home_visit", "stable", "已领到临时救助金，情绪好转。"),),
    ),
    DemoPerson(
        "董海涛", dt.date(1990, 7, 15), 539, "hostile_to_society", "high",
        ("大杨树中心小学", "大杨树镇中学"), "示范县大杨树镇幸福路77号",
        "多次在网络发帖发泄对社会不满，有针对学校的过激言论（网安部门推送）。", "police", 1,
        measures=(("monitoring", 30, "网络巡查重点关注，落实家属稳控。"),),
        follow_ups=((6, "home_visit", "attention", "本人否认有过激意图，家属承诺看管。"),),
    ),
    DemoPerson(
        "于桂兰", dt.date(1972, 12, 2), 642, "petitioner", "low",
        ("红星村小学",), "示范县大杨树镇红星村五组3号",
        "因宅基地纠纷多次上访，曾到学校门口拉横幅。", "officer", 30,
        follow_ups=((100, "home_visit", "stable", "纠纷已由镇政府调处解决。"),),
        closed_reason="risk_resolved",
    ),
)  # fmt: skip


def _user(username: str):
    return get_user_model().objects.filter(username=username).first()


def _create(spec: DemoPerson, *, station, schools: dict, today: dt.date) -> HighRiskPerson:
    number = make_id_number(ID_REGION, spec.born, spec.sequence)
    officer = _user(spec.officer)
    commander = _user("police")
    person = HighRiskPerson(
        station=station,
        gender="male" if spec.sequence % 2 else "female",
        category=spec.category,
        risk_level=spec.risk_level,
        responsible_officer=officer,
        next_review_on=today + dt.timedelta(days=spec.review_in_days),
        created_by=commander,
    )
    person.set_name(spec.name, phonetic.encode(phonetic.name_key(spec.name)))
    person.set_id_number(number)
    person.set_birth_date(spec.born)
    person.set_address(spec.address)
    person.set_notes(spec.notes)
    if spec.closed_reason:
        person.status = PersonStatus.CLOSED
        person.closed_reason = spec.closed_reason
        person.closed_at = timezone.now() - dt.timedelta(days=60)
        person.closed_by = commander
    person.save()
    person.related_schools.set([schools[name] for name in spec.schools if name in schools])
    for kind, days_ago, notes in spec.measures:
        ControlMeasure.objects.create(
            person=person,
            kind=kind,
            started_on=today - dt.timedelta(days=days_ago),
            responsible=officer,
            notes_encrypted=crypto.encrypt(notes),
            created_by=officer,
        )
    for days_ago, method, assessment, finding in spec.follow_ups:
        FollowUp.objects.create(
            person=person,
            on=today - dt.timedelta(days=days_ago),
            method=method,
            assessment=assessment,
            finding_encrypted=crypto.encrypt(finding),
            by=officer,
        )
    first_school = schools.get(spec.schools[0]) if spec.schools else None
    if spec.held_days_ago is not None and first_school is not None:
        ScreeningHit.objects.create(
            person=person,
            school=first_school,
            at=timezone.now() - dt.timedelta(days=spec.held_days_ago, hours=3),
            match="id_number",
            screened_by_label="门岗",
        )
    return person


def load_demo_register(*, today: dt.date | None = None, stdout=None) -> dict:
    """Create the demo station's register entries that are missing; return
    {"created": n, "total": n}. Refuses with DemoModeOff (the township's) unless
    settings.DEMO_MODE is on; does nothing if the demo township has not been loaded.
    `stdout`, if given, receives one summary line."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    today = today or timezone.localdate()
    station = Organization.objects.filter(kind=OrgKind.POLICE_STATION, name=STATION_NAME).first()
    if station is None:
        return {"created": 0, "total": 0}
    schools = {
        school.name: school
        for school in Organization.objects.schools().filter(police_station=station)
    }
    created = 0
    with transaction.atomic():
        for spec in PEOPLE:
            number = make_id_number(ID_REGION, spec.born, spec.sequence)
            exists = HighRiskPerson.objects.filter(
                station=station, id_number_hash=register_id_hash(number)
            ).exists()
            if not exists:
                _create(spec, station=station, schools=schools, today=today)
                created += 1
        if created:
            audit_record(
                actor=None,
                action=AuditAction.IMPORT,
                object_type=HighRiskPerson._meta.label_lower,
                object_repr="demo register loaded",
                changes={"created": created},
            )
    total = HighRiskPerson.objects.filter(station=station).count()
    if stdout is not None:
        stdout.write(f"  high-risk persons: {total} (+{created} new)\n")
    return {"created": created, "total": total}
