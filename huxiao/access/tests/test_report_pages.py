"""Gate reports (issue 5, item 8): role × scope of the page, what it shows (and never
shows), date-range validation, and a number of queries that does not grow with the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from huxiao.access import visitor_services
from huxiao.access.choices import (
    CarrierKind,
    ContrabandCategory,
    Handling,
    PassKind,
    RefusalReason,
    ScanResult,
    Screening,
    VehiclePurpose,
)
from huxiao.access.models import (
    GatePass,
    Interception,
    NotCollected,
    PassScan,
    PickupDelegate,
    PickupRefusal,
    Release,
    VehicleMovement,
    Visit,
)
from huxiao.access.tests.conftest import BLOCKED_ID, CLEAR_ID, MONDAY, REGISTER_ID, at, visitor
from huxiao.core.idcard import mask_id_number

pytestmark = pytest.mark.django_db

# Who may read the reports: those who keep the gate (ADR 0022, "Reports").
EVERYONE = (
    "anonymous",
    "nobody",
    "guard",
    "duty",
    "teacher",
    "security",
    "principal",
    "principal2",
    "police",
    "officer",
    "farpolice",
    "edu",
    "gov",
    "county",
)
READERS = {"security", "principal"}
ELSEWHERE = {"principal2"}


def expected(who: str) -> int:
    if who == "anonymous":
        return 302
    if who in READERS:
        return 200
    if who in ELSEWHERE:
        return 404
    return 403


def report_url(world, name="access:report", **params) -> str:
    query = {"school": world.school.pk, "start": MONDAY.isoformat(), "end": MONDAY.isoformat()}
    query.update(params)
    return reverse(name) + "?" + "&".join(f"{k}={v}" for k, v in query.items() if v is not None)


def _pass(world, school=None, holder="保安 老刘"):
    return GatePass.objects.create(
        school=school or world.school,
        kind=PassKind.STAFF,
        holder_name=holder,
        serial=f"S{GatePass.objects.count() + 1:08d}{holder}",
        valid_from=at(MONDAY, "00:00") - dt.timedelta(days=10),
        valid_until=at(MONDAY, "00:00") + dt.timedelta(days=10),
    )


def seed(world, *, extra_visits: int = 0) -> dict:
    """A Monday at the kindergarten's gate, plus records that must not show: the day
    before, and the same day at another school."""
    guard = world.users["guard"]
    clear = visitor_services.visit_check_in(
        actor=guard, school=world.school, now=at(MONDAY, "08:10"), **visitor(world)
    )
    Visit.objects.filter(pk=clear.pk).update(checked_out_at=at(MONDAY, "09:05"), status="left")
    held = visitor_services.visit_check_in(
        actor=guard,
        school=world.school,
        now=at(MONDAY, "09:30"),
        **visitor(world, name="张三丰", id_number=REGISTER_ID, purpose="official"),
    )
    # A visit whose host has since left the staff list.
    Visit.objects.filter(pk=held.pk).update(host=None)
    blocked = visitor_services.visit_check_in(
        actor=guard,
        school=world.school,
        now=at(MONDAY, "10:00"),
        **visitor(world, name="禁入者", id_number=BLOCKED_ID),
    )
    for n in range(extra_visits):
        visit = Visit(
            school=world.school,
            name=f"访客{n}",
            purpose="supplier",
            host=world.staff,
            status="left",
            screening=Screening.CLEAR,
            checked_in_at=at(MONDAY, "11:00") + dt.timedelta(seconds=n),
        )
        visit.set_id_number(CLEAR_ID)
        visit.save()
    Visit.objects.create(
        school=world.school,
        name="昨天的访客",
        purpose="parent",
        status="left",
        screening=Screening.CLEAR,
        checked_in_at=at(MONDAY - dt.timedelta(days=1), "10:00"),
    )
    Visit.objects.create(
        school=world.other_school,
        name="别校访客",
        purpose="parent",
        status="left",
        screening=Screening.CLEAR,
        checked_in_at=at(MONDAY, "10:00"),
    )
    staff_pass = _pass(world)
    VehicleMovement.objects.create(
        school=world.school,
        plate="京A12345",
        driver_name="送菜师傅",
        purpose=VehiclePurpose.SUPPLIER,
        entered_at=at(MONDAY, "07:30"),
        exited_at=at(MONDAY, "07:50"),
    )
    PassScan.objects.create(
        school=world.school,
        gate_pass=staff_pass,
        at=at(MONDAY, "07:00"),
        result=ScanResult.ACCEPTED,
    )
    PassScan.objects.create(
        school=world.school,
        at=at(MONDAY, "07:05"),
        result=ScanResult.REFUSED,
        reason=RefusalReason.EXPIRED,
    )
    Interception.objects.create(
        school=world.school,
        at=at(MONDAY, "08:20"),
        category=ContrabandCategory.KNIFE,
        item="弹簧刀",
        carrier_kind=CarrierKind.VISITOR,
        carrier_name="携刀人",
        handling=Handling.HANDED_TO_POLICE,
        photo_encrypted="PHOTO-CIPHERTEXT-MUST-NOT-LEAK",
        photo_content_type="image/jpeg",
    )
    PickupRefusal.objects.create(
        school=world.school,
        at=at(MONDAY, "16:35"),
        reason=RefusalReason.NOT_AUTHORISED,
        child=world.child,
        by_label="门卫",
    )
    NotCollected.objects.create(
        school=world.school, child=world.child, on_date=MONDAY, flagged_at=at(MONDAY, "17:00")
    )
    delegate = PickupDelegate.objects.create(
        school=world.school,
        child=world.child,
        name="李阿姨",
        phone="13900139000",
        relationship="邻居",
        on_date=MONDAY,
        added_at=at(MONDAY, "12:00"),
    )
    Release.objects.create(
        school=world.school,
        child=world.child,
        school_class=world.school_class,
        on_date=MONDAY,
        released_at=at(MONDAY, "17:20"),
        delegate=delegate,
        adult_name="李阿姨",
        method="pin",
        released_by_label="门卫",
    )
    PickupRefusal.objects.create(
        school=world.other_school,
        at=at(MONDAY, "16:35"),
        reason=RefusalReason.REVOKED,
        child=world.other_child,
    )
    return {"clear": clear, "held": held, "blocked": blocked}


def _login(client, world, who):
    if who != "anonymous":
        client.force_login(world.users[who])


# ------------------------------------------------------------------ who


@pytest.mark.parametrize("who", EVERYONE)
def test_page_matrix(gate, client, who):
    seed(gate)
    _login(client, gate, who)
    r = client.get(report_url(gate))
    assert r.status_code == expected(who)
    if r.status_code == 200:
        html = r.content.decode()
        assert "访客甲" in html and "李阿姨" in html
        assert r["Cache-Control"] == "no-store"


@pytest.mark.parametrize("who", EVERYONE)
def test_page_without_school(gate, client, who):
    """Without ?school= a reader of one school gets its report; the others as above."""
    _login(client, gate, who)
    r = client.get(reverse("access:report"))
    assert r.status_code == (200 if who in READERS | ELSEWHERE else expected(who))


def test_reader_of_several_schools_chooses(gate, client):
    from huxiao.core.roles import Role
    from huxiao.orgs.tests.factories import MembershipFactory

    MembershipFactory(
        user=gate.users["principal"], organization=gate.other_school, role=Role.PRINCIPAL
    )
    _login(client, gate, "principal")
    r = client.get(reverse("access:report"))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="choose-school"' in html
    assert gate.school.name in html and gate.other_school.name in html
    assert gate.far_school.name not in html


@pytest.mark.parametrize("school", ["abc", str(2**70), "-1", "0"])
def test_strange_school_is_404(gate, client, school):
    _login(client, gate, "principal")
    assert client.get(report_url(gate, school=school)).status_code == 404


def test_other_school_is_404_not_403(gate, client):
    _login(client, gate, "principal2")
    assert client.get(report_url(gate)).status_code == 404
    assert client.get(report_url(gate, school=gate.far_school.pk)).status_code == 404
    assert client.get(report_url(gate, school=gate.station.pk)).status_code == 404


# ------------------------------------------------------------------ what


def test_page_shows_the_day_and_only_the_day(gate, client):
    seed(gate)
    _login(client, gate, "security")
    r = client.get(report_url(gate))
    html = r.content.decode()
    # The gate log: visits with times, host and screening; vehicles; scans; interceptions.
    assert "访客甲" in html and "李老师" in html and "08:10" in html and "09:05" in html
    assert "京A12345" in html and "送菜师傅" in html
    assert "保安 老刘" in html and "已过期" in html
    assert "弹簧刀" in html
    # Pick-up exceptions: the refusal with its reason, the child not collected, the delegate.
    assert "王小明" in html and "李阿姨" in html and "邻居" in html
    # Not the day before, not another school.
    assert "昨天的访客" not in html and "别校访客" not in html
    # Masked ID numbers only.
    assert CLEAR_ID not in html and mask_id_number(CLEAR_ID) in html


def test_screening_is_clear_or_held_and_never_why(gate, client):
    seeded = seed(gate)
    assert seeded["held"].screening == Screening.HOLD
    assert seeded["blocked"].screening == Screening.HOLD
    _login(client, gate, "principal")
    html = client.get(report_url(gate)).content.decode()
    assert html.count('class="hx-report-held"') >= 2
    # Nothing of the register or the blocklist: not the notes, the category, the reason.
    for secret in ("曾在校门口扬言报复", "revenge_threat", "报复", "法院禁止令", "禁止令"):
        assert secret not in html, secret
    assert REGISTER_ID not in html and BLOCKED_ID not in html
    assert "PHOTO-CIPHERTEXT" not in html


def test_counts_by_purpose_and_host(gate, client):
    seed(gate, extra_visits=3)
    from huxiao.access import report_selectors

    kwargs = {"school": gate.school, "start": MONDAY, "end": MONDAY}
    by_purpose = {
        row["purpose"]: (row["visits"], row["held"])
        for row in report_selectors.visitors_by_purpose(**kwargs)
    }
    assert by_purpose == {"parent": (2, 1), "official": (1, 1), "supplier": (3, 0)}
    by_host = {
        row["host__name"]: row["visits"] for row in report_selectors.visitors_by_host(**kwargs)
    }
    assert by_host == {"李老师": 5, None: 1}
    totals = report_selectors.report_totals(**kwargs)
    assert totals["visits"] == 6 and totals["held"] == 2
    assert totals["scans_accepted"] == 1 and totals["scans_refused"] == 1
    assert totals["vehicles"] == 1 and totals["interceptions"] == 1
    assert totals["refusals"] == 1 and totals["not_collected"] == 1
    assert totals["releases"] == 1 and totals["delegate_releases"] == 1


def test_not_collected_shows_when_collected(gate):
    seed(gate)
    from huxiao.access import report_selectors

    row = report_selectors.report_not_collected(school=gate.school, start=MONDAY, end=MONDAY).get()
    assert row.collected_by == "李阿姨" and row.collected_at == at(MONDAY, "17:20")


def test_default_range_is_today(gate, client):
    _login(client, gate, "principal")
    r = client.get(reverse("access:report") + f"?school={gate.school.pk}")
    assert r.status_code == 200
    report = r.context["report"]
    from django.utils import timezone

    assert report.start == report.end == timezone.localdate()


def test_one_day_given_is_that_day(gate, client):
    _login(client, gate, "principal")
    r = client.get(report_url(gate, end=""))
    assert r.status_code == 200
    assert r.context["report"].start == r.context["report"].end == MONDAY


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2025-02-30"}, "请按 YYYY-MM-DD 格式填写日期，例如 2025-03-03。"),
        ({"start": "昨天"}, "请按 YYYY-MM-DD 格式填写日期，例如 2025-03-03。"),
        ({"end": "2025-3-3x"}, "请按 YYYY-MM-DD 格式填写日期，例如 2025-03-03。"),
        ({"start": "2025-03-05", "end": "2025-03-01"}, "开始日期不能晚于结束日期。"),
        ({"start": "2025-01-01", "end": "2025-04-03"}, "一份报表最多涵盖 92 天，请缩短日期范围。"),
        (
            {"start": "9999-12-31", "end": "9999-12-31"},
            "请选择 2000-01-01 至 2099-12-31 之间的日期。",
        ),
        ({"start": "1900-01-01"}, "请选择 2000-01-01 至 2099-12-31 之间的日期。"),
    ],
)
@pytest.mark.parametrize("name", ["access:report", "access:report_export"])
def test_bad_range_is_a_clear_message(gate, client, params, message, name):
    from huxiao.audit.models import AuditEvent

    _login(client, gate, "principal")
    before = AuditEvent.objects.filter(action="export").count()
    r = client.get(report_url(gate, name, **params))
    assert r.status_code == 400
    assert r["Content-Type"].startswith("text/html")
    assert message in r.content.decode()
    assert AuditEvent.objects.filter(action="export").count() == before


def test_range_of_92_days_is_accepted(gate, client):
    _login(client, gate, "principal")
    r = client.get(report_url(gate, start="2025-01-01", end="2025-04-02"))
    assert r.status_code == 200 and r.context["report"].days == 92


# ------------------------------------------------------------------ queries


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
    assert r.status_code == 200
    return len(ctx.captured_queries)


def test_page_queries_do_not_grow_with_rows(gate, client):
    _login(client, gate, "principal")
    seed(gate)
    few = _queries(client, report_url(gate))
    seed_more(gate, 40)
    many = _queries(client, report_url(gate))
    assert many == few
    # Fixed: session, user, memberships; 7 totals, 2 groupings, 7 sections.
    assert few <= 22


def seed_more(world, n: int) -> None:
    """n more rows in every section (hosts of their own, so the by-host grouping grows)."""
    from huxiao.people.tests.factories import ChildFactory, StaffFactory

    gate_pass = _pass(world, holder="司机 小王")
    for i in range(n):
        moment = at(MONDAY, "12:00") + dt.timedelta(minutes=i)
        host = StaffFactory(school=world.school, name=f"接待{i}")
        Visit.objects.create(
            school=world.school,
            name=f"批量访客{i}",
            purpose="interview",
            host=host,
            status="left",
            screening=Screening.CLEAR,
            checked_in_at=moment,
        )
        VehicleMovement.objects.create(
            school=world.school,
            plate=f"京B{i:05d}",
            purpose=VehiclePurpose.STAFF,
            entered_at=moment,
            exited_at=moment + dt.timedelta(minutes=5),
            gate_pass=gate_pass,
        )
        PassScan.objects.create(
            school=world.school, gate_pass=gate_pass, at=moment, result=ScanResult.ACCEPTED
        )
        Interception.objects.create(
            school=world.school,
            at=moment,
            category=ContrabandCategory.FLAMMABLE,
            item="打火机",
            carrier_kind=CarrierKind.STUDENT,
            handling=Handling.HELD,
        )
        child = ChildFactory(school_class=world.school_class, name=f"孩子{i}")
        PickupRefusal.objects.create(
            school=world.school, at=moment, reason=RefusalReason.UNKNOWN, child=child
        )
        NotCollected.objects.create(
            school=world.school, child=child, on_date=MONDAY, flagged_at=moment
        )
        delegate = PickupDelegate.objects.create(
            school=world.school,
            child=child,
            name=f"代接人{i}",
            phone="13900139000",
            relationship="亲戚",
            on_date=MONDAY,
            added_at=moment,
        )
        Release.objects.create(
            school=world.school,
            child=child,
            school_class=world.school_class,
            on_date=MONDAY,
            released_at=moment + dt.timedelta(hours=5),
            delegate=delegate,
            adult_name=delegate.name,
            method="qr",
        )


def test_long_sections_say_the_export_has_the_rest(gate, client, monkeypatch):
    from huxiao.access import report_views

    monkeypatch.setattr(report_views, "PAGE_ROWS", 2)
    seed(gate, extra_visits=3)
    _login(client, gate, "principal")
    r = client.get(report_url(gate))
    html = r.content.decode()
    assert len(r.context["visits"]) == 2
    assert 'data-testid="more-visits"' in html
    assert "仅显示 6 条中的前 2 条；导出的 Excel 包含全部记录。" in html
    assert 'data-testid="more-vehicles"' not in html
