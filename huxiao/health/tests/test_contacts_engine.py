"""Contact tracing against a hand-built school where the right answer is known in advance
(issue 9 item 6; ADR 0032 "Case"): each reason with its days and detail, the children who
must not appear, the order, and a constant number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext as _

from huxiao.health.choices import ContactReason as R
from huxiao.health.contacts import case_contacts, case_contacts_for, contact_window
from huxiao.health.models import ChildCheck, ClassStaff
from huxiao.health.tests.case_fixtures import (
    absence,
    at,
    attendance,
    bus_trip,
    check,
    d,
    make_case,
    room,
    seat,
)
from huxiao.people.tests.factories import ChildFactory, SchoolClassFactory, StaffFactory
from huxiao.transport.choices import Direction

pytestmark = pytest.mark.django_db


class School:
    """The hand-built school: 小一班 (the case child's class) and 小二班, another school at
    the same table name and checkpoint. The case child 王小明 fell ill on 03-10 (window 2
    days: from 03-08) and was isolated on 03-11 at 10:00, so the window is 03-08..03-11. The
    case child was absent on 03-09."""


@pytest.fixture
def school(hworld):
    w = hworld
    s = School()
    s.w = w
    a = w.school_class
    a.head_teacher = w.staff  # 李老师
    a.save()
    b = SchoolClassFactory(school=w.school, name="小二班")
    s.a, s.b = a, b
    me = w.child
    kids = {}

    def kid(key, klass, **kw):
        kids[key] = ChildFactory(school_class=klass, name=key, **kw)
        return kids[key]

    # 小一班
    a1 = kid("A1同班同车", a)
    a2 = kid("A2同班十号缺勤", a)
    a3 = kid("A3同班只在九号", a)  # present only on 03-09, when the case child was absent
    kid("A4已离园", a, is_active=False)
    attendance(a, d(9), absent=[me])  # the case child absent on 03-09
    absence(a2, d(10))
    attendance(a, d(10))
    absence(a3, d(10))
    absence(a3, d(11))
    attendance(a, d(11))
    # Attendance before the window: nobody is a contact for 03-06.
    attendance(a, d(6))
    # 小二班
    b1 = kid("B1同车", b)
    b2 = kid("B2同桌", b)
    b3 = kid("B3同桌但缺勤", b)
    b4 = kid("B4排队相邻", b)
    b5 = kid("B5排队四分钟后", b)
    b6 = kid("B6另一检查点", b)
    b7 = kid("B7同寝室", b)
    b8 = kid("B8寝室窗口前", b)
    kid("B9无交集", b)
    b10 = kid("B10窗口前同桌", b)
    b11 = kid("B11窗口前同车", b)
    attendance(b, d(10))
    attendance(b, d(11), absent=[b3])
    # Bus: 03-10 with A1 and B1; a trip before the window with B11.
    bus_trip(w.school, d(10), [me, a1, b1])
    bus_trip(w.school, d(6), [me, b11])
    # Dining: table 3 on 03-10 with B2; on 03-11 with B3 (absent that day); 03-07 with B10.
    seat(me, d(10), "3号桌")
    seat(b2, d(10), "3号桌")
    seat(me, d(11), "3号桌")
    seat(b3, d(11), "3号桌")
    seat(me, d(7), "3号桌")
    seat(b10, d(7), "3号桌")
    seat(a1, d(10), "1号桌")
    # The morning check queue at 东门 on 03-11.
    check(me, d(11), "东门", at(7, 30))
    check(b4, d(11), "东门", at(7, 32))
    check(b5, d(11), "东门", at(7, 34))
    check(b6, d(11), "西门", at(7, 30))
    # Dormitory 201: B7 since 03-01; B8 left on 03-07; the case child from 03-09.
    room(me, "201", d(9))
    room(b7, "201", d(1))
    room(b8, "201", d(1, 2), d(7))
    # Another school: the same table name and checkpoint on the same days.
    other = w.other_child
    seat(other, d(10), "3号桌")
    check(other, d(11), "东门", at(7, 31))
    # The class's staff: the head teacher, a carer, and a carer who left.
    carer = StaffFactory(school=w.school, name="赵阿姨")
    ClassStaff.objects.create(school_class=a, staff=carer, duty="保育员")
    gone = StaffFactory(school=w.school, name="钱阿姨", is_active=False)
    ClassStaff.objects.create(school_class=a, staff=gone, duty="保育员")
    s.carer = carer
    s.kids = kids
    s.case = make_case(w, onset=d(10), window=2, isolated_at=at(10, 0, d(11)))
    return s


def _shape(contacts):
    return [(c.kind, c.name, [(r.reason, r.dates, r.detail) for r in c.reasons]) for c in contacts]


def test_the_window_runs_from_before_onset_to_isolation(school):
    assert contact_window(school.case, today=d(20)) == (d(8), d(11))
    school.case.isolated_at = None
    assert contact_window(school.case, today=d(12)) == (d(8), d(12))


def test_exact_contacts_and_reasons(school):
    bus = f"1号线（{Direction.TO_SCHOOL.label}）"
    got = _shape(case_contacts(school.case, today=d(20)))
    expected = [
        (
            "child",
            "A1同班同车",
            [(R.SAME_CLASS, [d(10), d(11)], "小一班"), (R.BUS, [d(10)], bus)],
        ),
        ("child", "A2同班十号缺勤", [(R.SAME_CLASS, [d(11)], "小一班")]),
        ("child", "B1同车", [(R.BUS, [d(10)], bus)]),
        ("child", "B2同桌", [(R.DINING, [d(10)], "3号桌")]),
        ("child", "B4排队相邻", [(R.CHECK_QUEUE, [d(11)], "东门")]),
        ("child", "B7同寝室", [(R.DORMITORY, [d(9), d(10), d(11)], "201")]),
        ("staff", "李老师", [(R.CLASS_STAFF, [d(10), d(11)], _("Head teacher"))]),
        ("staff", "赵阿姨", [(R.CLASS_STAFF, [d(10), d(11)], "保育员")]),
    ]
    expected = [expected[0]] + sorted(expected[1:], key=lambda c: (c[1], c[0]))
    assert got == expected


def test_who_must_not_appear(school):
    names = {c.name for c in case_contacts(school.case, today=d(20))}
    for absent_one in (
        "王小明",  # the case child
        "A3同班只在九号",  # present only when the case child was absent
        "A4已离园",
        "B3同桌但缺勤",
        "B5排队四分钟后",
        "B6另一检查点",
        "B8寝室窗口前",
        "B9无交集",
        "B10窗口前同桌",
        "B11窗口前同车",
        "张三",  # another school, same table name and checkpoint
        "钱阿姨",
    ):
        assert absent_one not in names


def test_a_wider_window_reaches_back(school):
    school.case.contact_window_days = 5  # from 03-05
    names = {c.name for c in case_contacts(school.case, today=d(20))}
    assert {"B10窗口前同桌", "B11窗口前同车"} <= names
    # B8 left room 201 before the case child moved in: their stays never overlap.
    assert "B8寝室窗口前" not in names
    # The 03-06 attendance of 小一班: A3 was there and so was the case child.
    a3 = next(c for c in case_contacts(school.case, today=d(20)) if c.name == "A3同班只在九号")
    assert a3.reasons[0].dates == [d(6)]


def test_queue_minutes_are_a_parameter(school):
    names = {c.name for c in case_contacts(school.case, queue_minutes=5, today=d(20))}
    assert "B5排队四分钟后" in names and "B6另一检查点" not in names


def test_a_child_checked_but_without_attendance_is_present(school):
    """A check places a child at school even on a day without the class's attendance."""
    w = school.w
    lone = ChildFactory(school_class=school.a, name="A5只有晨检")
    check(w.child, d(8), "", at(7, 40, d(8)))
    check(lone, d(8), "", at(7, 41, d(8)))
    contact = next(c for c in case_contacts(school.case, today=d(20)) if c.id == lone.pk)
    assert contact.reasons[0].reason == R.SAME_CLASS
    assert contact.reasons[0].dates == [d(8), d(10), d(11)]


def test_guardians_come_with_the_children(school):
    w = school.w
    from huxiao.people.tests.factories import GuardianFactory

    GuardianFactory(child=school.kids["B2同桌"], name="B2妈妈", phone="13911112222")
    b2 = next(c for c in case_contacts(school.case, today=d(20)) if c.name == "B2同桌")
    assert [(g.name, g.phone) for g in b2.guardians] == [("B2妈妈", "13911112222")]
    staff = next(c for c in case_contacts(school.case, today=d(20)) if c.kind == "staff")
    assert staff.phone == w.staff.phone


def _queries(case) -> int:
    with CaptureQueriesContext(connection) as ctx:
        case_contacts(case, today=d(20))
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_the_school(school):
    w = school.w
    first = _queries(school.case)
    assert first <= 12
    for n in range(3):
        klass = SchoolClassFactory(school=w.school, name=f"大{n}班")
        children = [ChildFactory(school_class=klass) for _ in range(8)]
        for day in (d(9), d(10), d(11)):
            attendance(klass, day, absent=children[:1])
            for i, child in enumerate(children):
                seat(child, day, "3号桌" if i % 2 else f"{n}号桌")
                check(child, day, "东门", at(7, 30 + i % 5, day))
        bus_trip(w.school, d(11), children + [w.child], route_name=f"{n}号线")
    for _i in range(6):
        extra = ChildFactory(school_class=school.a)
        seat(extra, d(10), "3号桌")
    assert _queries(school.case) == first


def test_the_scoped_read_logs_and_hides(school, hworld):
    from django.http import Http404

    from huxiao.audit.models import AuditAction, AuditEvent

    u = hworld.users
    case, contacts = case_contacts_for(actor=u["health"], case_id=school.case.pk)
    assert case == school.case and contacts
    assert AuditEvent.objects.filter(
        action=AuditAction.READ_SENSITIVE, object_id=str(case.pk), actor=u["health"]
    ).exists()
    with pytest.raises(Http404):
        case_contacts_for(actor=u["principal2"], case_id=school.case.pk)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        case_contacts_for(actor=u["police"], case_id=school.case.pk)


def test_a_case_not_yet_isolated_traces_to_today(school):
    case = school.case
    case.isolated_at = None
    dt_today = d(11)
    names = {c.name for c in case_contacts(case, today=dt_today)}
    assert "B4排队相邻" in names
    assert isinstance(dt_today, dt.date)


def _class_check(actor, klass, day, now, results=()):
    from huxiao.health.check_services import health_check_record

    return health_check_record(
        actor=actor,
        school_class_id=klass.pk,
        date=day,
        session="morning",
        checkpoint="东门",
        results=list(results),
        now=now,
    )


def _queue_names(case) -> set[str]:
    return {c.name for c in case_contacts(case, today=d(20)) if R.CHECK_QUEUE in c.reason_codes}


def test_a_check_saved_without_tick_times_makes_no_queue(school):
    """Saved without the page's script, every child of a class check carries the save
    time: neither the whole class nor another class saved minutes later at the same
    checkpoint are queue neighbours (of today's checks nor of a day gone by)."""
    principal = school.w.users["principal"]
    c = SchoolClassFactory(school=school.w.school, name="小三班")
    for n in range(4):
        ChildFactory(school_class=c, name=f"C{n}小三班")
    # 03-10, saved that morning; 03-08 entered on 03-12 (each child: the save's clock time
    # on 03-08).
    _class_check(principal, school.a, d(10), at(7, 40, d(10)))
    _class_check(principal, c, d(10), at(7, 41, d(10)))
    _class_check(principal, school.a, d(8), at(7, 40, d(12)))
    _class_check(principal, c, d(8), at(7, 42, d(12)))
    assert _queue_names(school.case) == {"B4排队相邻"}


def test_only_ticked_children_are_queue_neighbours(school):
    principal = school.w.users["principal"]
    me = school.w.child
    c = SchoolClassFactory(school=school.w.school, name="小三班")
    ticked = ChildFactory(school_class=c, name="C0刚打勾")
    for n in range(1, 4):
        ChildFactory(school_class=c, name=f"C{n}小三班")
    _class_check(
        principal,
        school.a,
        d(10),
        at(7, 40, d(10)),
        [{"child_id": me.pk, "checked_at": at(7, 35, d(10))}],
    )
    _class_check(
        principal,
        c,
        d(10),
        at(7, 37, d(10)),
        [{"child_id": ticked.pk, "checked_at": at(7, 36, d(10))}],
    )
    assert _queue_names(school.case) == {"B4排队相邻", "C0刚打勾"}
    # The case child without a tick time has no place in the queue that day.
    row = ChildCheck.objects.get(child=me, date=d(10))
    row.checked_at = row.health_check.recorded_at
    row.save()
    assert _queue_names(school.case) == {"B4排队相邻"}
