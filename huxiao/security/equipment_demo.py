"""Protective equipment of the demo township (issue 7 item 2; ADR 0028 "Equipment").

`load_demo_equipment()` runs after `load_demo_township()` (and best after
`load_demo_personnel()`). Demo mode only. The county 示范县 gets the shipped list of eight
items; each school with a principal login records its stock through the real services as
its principal, with today's date.

What a visitor finds (T is today) under /security/schools/<id>/equipment/:

- **大杨树实验幼儿园**: all eight items, in good condition, checked a week ago; a helmet, a
  stab-resistant vest and a pair of cut-resistant gloves issued to each of its two guards;
- **大杨树中心小学**: pepper spray used up in a drill and not restocked (missing); the
  shields worn but usable;
- **大杨树镇中学**: a steel fork broken and only one strong flashlight of two (both
  highlighted);
- **阳光幼儿园**: complete (the vest and fork its self-check found missing were bought).

大杨树第二小学, 红星村小学 and 柳河镇中心小学 (no principal login) have recorded nothing: every
item shows as missing.

Idempotent: a school that has any stock recorded is left alone. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.demo.township import REGION_CODE, DemoModeOff
from huxiao.orgs.models import Organization, Region
from huxiao.people.choices import StaffRole
from huxiao.people.models import Staff
from huxiao.security import equipment_services as services
from huxiao.security.choices import Condition
from huxiao.security.defaults import ensure_equipment_types
from huxiao.security.models import SchoolEquipment
from huxiao.security.personnel_demo import KINDERGARTEN, MIDDLE, PRIMARY, PRINCIPALS, PRIVATE_KG

FULL = {
    "helmet": 2,
    "shield": 2,
    "steel_fork": 2,
    "stab_vest": 2,
    "cut_gloves": 2,
    "rubber_baton": 2,
    "flashlight": 2,
    "pepper_spray": 2,
}
# school → {item key: (quantity, condition, note)} overriding the full set in good order.
CHANGES = {
    KINDERGARTEN: {},
    PRIMARY: {
        "pepper_spray": (0, Condition.GOOD, "上月应急演练中用完，尚未补充。"),
        "shield": (2, Condition.WORN, "表面有划痕，可正常使用。"),
    },
    MIDDLE: {
        "steel_fork": (2, Condition.BROKEN, "一把钢叉手柄断裂，待更换。"),
        "flashlight": (1, Condition.GOOD, "另一支丢失。"),
    },
    PRIVATE_KG: {"stab_vest": (2, Condition.GOOD, "自查后新购。")},
}
# Items issued to each guard at the kindergarten, about seven months ago.
ISSUED = ("helmet", "stab_vest", "cut_gloves")


def load_demo_equipment(stdout=None, *, today: dt.date | None = None) -> dict:
    """Record the stock of the demo schools that have none; return {"schools": n,
    "items": n, "issues": n} written by this run. Refuses with DemoModeOff unless
    settings.DEMO_MODE is on; does nothing without the demo township."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"schools": 0, "items": 0, "issues": 0}
    region = Region.objects.filter(code=REGION_CODE).first()
    if region is None:
        return created
    today = today or timezone.localdate()
    items = {item.key: item for item in ensure_equipment_types(region)}
    schools = {
        s.name: s
        for s in Organization.objects.schools().filter(
            region=region, name__in=list(CHANGES), is_active=True
        )
    }
    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in=list(PRINCIPALS.values()), is_active=True
        )
    }
    for name, changes in CHANGES.items():
        school, actor = schools.get(name), users.get(PRINCIPALS[name])
        if school is None or actor is None:
            continue
        if SchoolEquipment.objects.filter(school=school).exists():
            continue
        with transaction.atomic():
            for key, quantity in FULL.items():
                if key not in items:
                    continue  # the county changed its list
                quantity, condition, note = changes.get(key, (quantity, Condition.GOOD, ""))
                services.stock_set(
                    actor=actor,
                    school=school,
                    equipment_type=items[key],
                    quantity=quantity,
                    condition=condition,
                    last_checked_on=today - dt.timedelta(days=7),
                    notes=note,
                    today=today,
                )
                created["items"] += 1
            if name == KINDERGARTEN:
                guards = Staff.objects.filter(
                    school=school, role=StaffRole.GUARD, is_active=True
                ).order_by("pk")
                for index, guard in enumerate(guards):
                    for key in ISSUED:
                        # Never more than the stock (a demo user may have added guards).
                        if key in items and items[key].per_guard and index < FULL[key]:
                            services.equipment_issue(
                                actor=actor,
                                school=school,
                                equipment_type=items[key],
                                staff=guard,
                                quantity=1,
                                issued_on=today - dt.timedelta(days=210),
                                today=today,
                            )
                            created["issues"] += 1
        created["schools"] += 1
        if stdout is not None:
            stdout.write(f"  {name}: protective equipment recorded\n")
    return created
