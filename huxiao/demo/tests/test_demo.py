"""The demo township: demo mode only, idempotent, realistic, and scoped like the real thing.

Loading 2,000 children takes a couple of seconds, so the loaded township is checked in one
test (django_db rolls back after each test).
"""

import datetime as dt
import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.core.idcard import birth_date_of, validate_id_number
from huxiao.core.roles import Role
from huxiao.core.scoping import visible_school_ids
from huxiao.demo.township import (
    AUDIT_OBJECT_TYPE,
    DEMO_PASSWORD,
    DEMO_USERS,
    REGION_CODE,
    DemoModeOff,
    load_demo_township,
)
from huxiao.health.models import Disinfection
from huxiao.orgs.models import Membership, Organization, Region, Town
from huxiao.patrols.demo import AUDIT_OBJECT_TYPE as PATROLS_AUDIT_OBJECT_TYPE
from huxiao.people.models import Certificate, Child, Guardian, SchoolClass, Staff

User = get_user_model()
USERNAMES = [u.username for u in DEMO_USERS]
TOWN_SCHOOLS = {
    "大杨树实验幼儿园",
    "大杨树中心小学",
    "大杨树镇中学",
    "阳光幼儿园",
    "大杨树第二小学",
    "红星村小学",
}
FAR_SCHOOL = "柳河镇中心小学"
MODELS = (
    Region,
    Town,
    Organization,
    Membership,
    User,
    Staff,
    Certificate,
    SchoolClass,
    Child,
    Guardian,
)


def _row_counts() -> dict:
    return {model.__name__: model.objects.count() for model in MODELS}


def _school_names(username: str) -> set[str]:
    user = User.objects.get(username=username)  # fresh instance: no cached scope
    ids = visible_school_ids(user, "view")
    return set(Organization.objects.filter(pk__in=ids).values_list("name", flat=True))


@pytest.mark.django_db
def test_refuses_without_demo_mode(settings):
    settings.DEMO_MODE = False
    before = {**_row_counts(), "AuditEvent": AuditEvent.objects.count()}
    with pytest.raises(CommandError, match="HUXIAO_DEMO=1"):
        call_command("demo", stdout=io.StringIO())
    with pytest.raises(DemoModeOff):
        load_demo_township()
    assert not Region.objects.filter(code=REGION_CODE).exists()
    assert not User.objects.filter(username__in=USERNAMES).exists()
    assert {**_row_counts(), "AuditEvent": AuditEvent.objects.count()} == before


@pytest.mark.django_db
def test_demo_township(settings):
    settings.DEMO_MODE = True
    assert not AuditEvent.objects.exists()

    first = load_demo_township()
    assert first["created"]["children"] == first["children"]
    assert 1800 <= Child.objects.count() <= 2200
    assert first["schools"] == 7
    counts = _row_counts()

    # A second run, through the command, writes nothing.
    out = io.StringIO()
    call_command("demo", stdout=out)
    assert "nothing changed" in out.getvalue()
    for username in USERNAMES:
        assert username in out.getvalue()
    again = load_demo_township()
    assert again["created"] == {} and again["updated"] == {}
    assert {k: v for k, v in again.items() if k not in ("created", "updated")} == {
        k: v for k, v in first.items() if k not in ("created", "updated")
    }
    assert _row_counts() == counts
    # One audit row per loader that wrote (the township above; the command's first run
    # added the gate posts and the register); none per seeded row, none for no-op runs.
    # The weekly visit rule and the legal vice-principal appointment record their own rows
    # as they always do, and so do the warnings and school cases, which go through their
    # services, and so does the gate's day (visits, passes, releases: huxiao.access.demo);
    # nothing is audited per seeded child, guardian, check-in or pick-up code.
    rows = list(AuditEvent.objects.order_by("pk").values_list("object_type", "action", "actor"))
    assert [row for row in rows if row[1] == "import"] == [
        (AUDIT_OBJECT_TYPE, "import", None),
        (PATROLS_AUDIT_OBJECT_TYPE, "import", None),
        ("intel.highriskperson", "import", None),
        ("demo.video", "import", None),
        ("access.pickupcode", "import", None),
        ("health.demo", "import", None),
    ], rows
    # The month of inspections and hazards (huxiao.hazards.demo) is made through the real
    # services too, so every answer, photo and move has its row: counted on their own.
    # So is the supervision demo (campaign, ranking, notices, meetings: huxiao.supervision).
    hazard_rows = [row for row in rows if row[0].startswith("hazards.")]
    supervision_rows = [row for row in rows if row[0].startswith("supervision.")]
    # So are the guards, equipment, defences, duty and rounds of issue 7.
    issue7_rows = [row for row in rows if row[0].startswith(("security.", "duty.", "people."))]
    # And the activities, drills, buses, trips and checks of issue 8 (services, except the
    # bulk of the term's weekly drills: one row each, no per-class rows).
    issue8_rows = [row for row in rows if row[0].startswith(("drills.", "transport."))]
    # And the health records of issue 9 (the directory, the case through every step and the
    # response through their services; the month of checks and absences in bulk: one row).
    issue9_rows = [row for row in rows if row[0].startswith("health.")]
    others = (
        len(rows)
        - len(hazard_rows)
        - len(supervision_rows)
        - len(issue7_rows)
        - len(issue8_rows)
        - len(issue9_rows)
    )
    assert others < 80, rows
    assert 0 < len(issue8_rows) < 1600, len(issue8_rows)
    # The routine disinfection log goes through its service too, one row per record: how many
    # there are follows the school days of the last 30 (up to ~230 at a month's end).
    disinfection_rows = [row for row in issue9_rows if row[0] == "health.disinfection"]
    assert len(disinfection_rows) == Disinfection.objects.count() > 0
    assert 0 < len(issue9_rows) - len(disinfection_rows) < 250, len(issue9_rows)
    assert len(hazard_rows) < 400, len(hazard_rows)
    assert 0 < len(supervision_rows) < 400, len(supervision_rows)
    assert 0 < len(issue7_rows) < 1600, len(issue7_rows)

    # Every demo login works with the demo password.
    for username in USERNAMES:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        assert user.first_name and user.last_name

    # Children: valid, distinct ID numbers agreeing with birth date and gender (GB 11643).
    numbers_by_school: dict[int, set[str]] = {}
    for child in Child.objects.all():
        number = validate_id_number(child.decrypt_id_number())
        assert birth_date_of(number) == child.birth_date
        assert int(number[16]) % 2 == (1 if child.gender == "male" else 0)
        numbers_by_school.setdefault(child.school_id, set()).add(number)
    assert sum(map(len, numbers_by_school.values())) == Child.objects.count()

    # Ages follow the stage; every child has 1-2 guardians, exactly one primary.
    today = timezone.localdate()
    for stage, youngest, oldest in (("kindergarten", 2, 6), ("primary", 5, 12), ("middle", 11, 15)):
        for born in Child.objects.filter(school__stage=stage).values_list("birth_date", flat=True):
            age = (today - born).days // 365
            assert youngest <= age <= oldest, (stage, born)
    guardians = Guardian.objects.values_list("child_id", "is_primary", "phone", "can_pick_up")
    per_child: dict[int, list] = {}
    for child_id, is_primary, phone, can_pick_up in guardians:
        per_child.setdefault(child_id, []).append(is_primary)
        assert len(phone) == 11 and phone[:2] in ("13", "15", "18") and can_pick_up
    assert len(per_child) == Child.objects.count()
    assert all(1 <= len(p) <= 2 and sum(p) == 1 for p in per_child.values())

    # Schools, staff and certificates as the demo needs them.
    kindergarten = Organization.objects.get(name="大杨树实验幼儿园")
    assert kindergarten.police_post.name == "大杨树派出所校园警务室"
    assert kindergarten.police_post.parent.name == "大杨树派出所"
    assert Organization.objects.get(name="大杨树镇中学").is_boarding
    private = Organization.objects.get(name="阳光幼儿园")
    assert private.ownership == "private" and private.operator and private.landlord
    assert not SchoolClass.objects.filter(head_teacher=None).exists()
    teacher_staff = Staff.objects.get(user__username="teacher")
    assert teacher_staff.classes_led.get().name == "小一班"
    assert teacher_staff.school == kindergarten
    assert Staff.objects.filter(background_check="pending").count() in range(1, 10)
    soon = today + dt.timedelta(days=30)
    expiring = Certificate.objects.filter(kind="保安员证", expires_on__lte=soon)
    assert expiring.count() == 1
    officer_roles = set(
        Membership.objects.filter(user__username="officer").values_list("role", "title")
    )
    assert (Role.LEGAL_VICE_PRINCIPAL, "大杨树实验幼儿园法制副校长") in officer_roles

    # Scope: school, station, town offices and county each see what DESIGN.md §1 says.
    assert _school_names("principal") == {"大杨树实验幼儿园"}
    assert _school_names("guard") == {"大杨树实验幼儿园"}
    assert _school_names("teacher") == {"大杨树实验幼儿园"}
    assert _school_names("principal2") == {"大杨树中心小学"}
    for username in ("police", "officer", "edu", "gov", "health"):
        assert _school_names(username) == TOWN_SCHOOLS, username
    assert _school_names("county") == TOWN_SCHOOLS | {FAR_SCHOOL}

    # After a demo session: a re-run restores logins and refills emptied classes, exactly.
    guard = User.objects.get(username="guard")
    guard.set_password("changed-in-the-demo")
    guard.is_active = False
    guard.save()
    # (A class of the second primary school: the kindergarten's children have bus boardings
    # and pick-up releases, and the central primary's have health records, which keep them
    # from being deleted.)
    small_two = SchoolClass.objects.filter(school__name="大杨树第二小学").order_by("pk").first()
    refilled_before = sorted(small_two.children.values_list("name", "id_number_hash"))
    small_two.children.all().delete()
    repaired = load_demo_township()
    assert repaired["created"]["children"] == len(refilled_before)
    assert sorted(small_two.children.values_list("name", "id_number_hash")) == refilled_before
    assert authenticate(username="guard", password=DEMO_PASSWORD) is not None
    assert _row_counts() == counts
    assert AuditEvent.objects.filter(object_type=AUDIT_OBJECT_TYPE).count() == 2
