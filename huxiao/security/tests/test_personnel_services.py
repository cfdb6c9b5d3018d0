# ruff: noqa: F811 - pytest fixtures imported from personnel_fixtures are arguments here
"""Services and status of the security personnel: adding a guard (staff + record in one
transaction), the field rules (certificate format, dates, company, filing, hours), partial
updates checked against the stored record, trainings, role checks, and the badges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from huxiao.audit.models import AuditEvent
from huxiao.people.models import Staff
from huxiao.security import personnel_selectors as sel
from huxiao.security import personnel_services as ps
from huxiao.security.models import GuardProfile, TrainingRecord
from huxiao.security.tests.personnel_fixtures import T, day, pworld  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def reevaluated(monkeypatch):
    calls = []
    monkeypatch.setattr(ps, "reevaluate_on_commit", lambda ids: calls.append(list(ids)))
    return calls


def create(w, **kwargs):
    kwargs.setdefault("actor", w.users["principal"])
    kwargs.setdefault("school", w.school)
    kwargs.setdefault("name", "王门卫")
    kwargs.setdefault("today", T)
    return ps.guard_create(**kwargs)


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


# ------------------------------------------------------------------ adding a guard


def test_create_makes_staff_and_record_audited(pworld, reevaluated):
    w = pworld
    record = create(
        w,
        phone="13812345678",
        employment="part_time",
        employer="security_company",
        security_company="示范县保安服务有限公司",
        hired_on=day(-30),
        certificate_number=" 冀公保 1234 5678 ",
        certificate_issued_on=day(-100),
        certificate_expires_on=day(300),
        filed_with_police=True,
        filed_on=day(-10),
    )
    staff = record.staff
    assert staff.school == w.school and staff.role == "guard" and staff.phone == "13812345678"
    assert record.certificate_number == "冀公保12345678"
    assert record.employment == "part_time" and record.security_company
    assert record.updated_by == w.users["principal"]
    assert AuditEvent.objects.filter(
        object_type="security.guardprofile", object_id=str(record.pk), school_id=w.school.pk
    ).exists()
    assert AuditEvent.objects.filter(object_type="people.staff", object_id=str(staff.pk)).exists()
    assert reevaluated == [[w.school.pk]]


def test_security_officer_may_add_a_dormitory_manager(pworld):
    record = create(pworld, actor=pworld.users["security"], role="dormitory_manager")
    assert record.staff.role == "dormitory_manager"


@pytest.mark.parametrize(
    "number",
    ["冀公保12345678", "12345678", "京A1234567B", "粤公保字123456789012", "ab12cd34"],
)
def test_certificate_number_formats_accepted(number):
    assert ps.clean_certificate_number(number)


def test_certificate_number_normalised():
    assert ps.clean_certificate_number("ｊｊ１２３４５６７８") == "JJ12345678"
    assert ps.clean_certificate_number("  ") == ""


@pytest.mark.parametrize(
    "number",
    [
        "1234567",  # too short
        "X冀12345678",  # not a province abbreviation first
        "哈12345678",  # not a province abbreviation
        "冀公保123456789012345678",  # over 20 characters
        "冀-12345678",
        "冀公保12345678\x00",
    ],
)
def test_certificate_number_formats_refused(pworld, number):
    with pytest.raises(ValidationError) as exc:
        create(pworld, certificate_number=number)
    assert "certificate_number" in errors_of(exc)


BAD = [
    (
        {"certificate_issued_on": day(-10), "certificate_expires_on": day(-20)},
        "certificate_expires_on",
    ),
    (
        {"certificate_issued_on": day(-10), "certificate_expires_on": day(-10)},
        "certificate_expires_on",
    ),
    ({"certificate_issued_on": day(5)}, "certificate_issued_on"),
    ({"certificate_number": "", "certificate_expires_on": day(5)}, "certificate_number"),
    ({"filed_with_police": True}, "filed_on"),
    ({"filed_with_police": True, "filed_on": day(1)}, "filed_on"),
    ({"employer": "security_company"}, "security_company"),
    ({"employer": "someone"}, "employer"),
    ({"employment": "volunteer"}, "employment"),
    ({"hired_on": day(3)}, "hired_on"),
    ({"hired_on": "2026-13-01"}, "hired_on"),
    ({"notes": "x" * 2001}, "notes"),
    ({"role": "teacher"}, "role"),
    ({"role": "astronaut"}, "role"),
    ({"background_checked_on": day(1)}, "background_checked_on"),
    ({"id_number": "110101199001011234"}, "id_number"),
    ({"phone": "12345"}, "phone"),
    ({"name": ""}, "name"),
]


@pytest.mark.parametrize(("kwargs", "field"), BAD)
def test_bad_input_refused_and_nothing_written(pworld, reevaluated, kwargs, field):
    staff, records, audit = (
        Staff.objects.count(),
        GuardProfile.objects.count(),
        AuditEvent.objects.count(),
    )
    kwargs = {"certificate_number": "冀公保12345678", **kwargs}
    with pytest.raises(ValidationError) as exc:
        create(pworld, **kwargs)
    assert field in errors_of(exc)
    assert (Staff.objects.count(), GuardProfile.objects.count(), AuditEvent.objects.count()) == (
        staff,
        records,
        audit,
    )
    assert reevaluated == []


def test_all_errors_reported_at_once(pworld):
    with pytest.raises(ValidationError) as exc:
        create(pworld, name="", phone="1", certificate_number="bad", filed_with_police=True)
    assert {"name", "phone", "certificate_number", "filed_on"} <= set(errors_of(exc))


def test_company_name_dropped_when_the_school_employs(pworld):
    record = create(pworld, employer="school", security_company="某公司")
    assert record.security_company == ""


def test_filing_date_dropped_when_not_filed(pworld):
    record = create(pworld, filed_with_police=False, filed_on=day(-3))
    assert record.filed_on is None


@pytest.mark.parametrize("name", ["guard", "teacher", "police", "edu", "county"])
def test_create_needs_manage_security(pworld, name):
    before = Staff.objects.count()
    with pytest.raises(PermissionDenied):
        create(pworld, actor=pworld.users[name])
    assert Staff.objects.count() == before


def test_create_at_another_school_refused(pworld):
    with pytest.raises(PermissionDenied):
        create(pworld, school=pworld.other_school)


# ------------------------------------------------------------------ updates


def test_update_creates_the_record_for_staff_added_elsewhere(pworld, reevaluated):
    w = pworld
    staff = Staff.objects.create(school=w.school, name="老周", role="guard")
    record = ps.guard_update(
        actor=w.users["security"], staff=staff, today=T, certificate_number="12345678"
    )
    assert record.pk and record.certificate_number == "12345678"
    assert record.employment == "full_time" and record.employer == "school"
    assert reevaluated == [[w.school.pk]]


def test_partial_update_checked_against_the_stored_record(pworld):
    w = pworld
    # The stored certificate was issued on day -800: an expiry before it is refused.
    with pytest.raises(ValidationError) as exc:
        ps.guard_update(
            actor=w.users["principal"],
            staff=w.guard_staff,
            today=T,
            certificate_expires_on=day(-900),
        )
    assert "certificate_expires_on" in errors_of(exc)
    # A security company without a name, then with one, then back to the school.
    with pytest.raises(ValidationError):
        ps.guard_update(
            actor=w.users["principal"], staff=w.guard_staff, today=T, employer="security_company"
        )
    record = ps.guard_update(
        actor=w.users["principal"],
        staff=w.guard_staff,
        today=T,
        employer="security_company",
        security_company="某保安公司",
    )
    assert record.security_company == "某保安公司"
    record = ps.guard_update(
        actor=w.users["principal"], staff=w.guard_staff, today=T, employer="school"
    )
    assert record.security_company == ""
    # Unfiling keeps nothing of the old date.
    record = ps.guard_update(
        actor=w.users["principal"], staff=w.guard_staff, today=T, filed_with_police=False
    )
    assert record.filed_on is None


def test_update_of_staff_fields_goes_through_the_people_service(pworld):
    w = pworld
    ps.guard_update(
        actor=w.users["principal"],
        staff=w.guard_staff,
        today=T,
        phone="13900001111",
        background_check="failed",
        background_checked_on=day(-1),
        role="security_officer",
    )
    w.guard_staff.refresh_from_db()
    assert w.guard_staff.phone == "13900001111" and w.guard_staff.role == "security_officer"
    assert AuditEvent.objects.filter(
        object_type="people.staff", object_id=str(w.guard_staff.pk), action="update"
    ).exists()


def test_update_refused_keeps_everything(pworld):
    w = pworld
    with pytest.raises(ValidationError) as exc:
        ps.guard_update(
            actor=w.users["principal"],
            staff=w.guard_staff,
            today=T,
            phone="13900001111",
            certificate_number="bad",
        )
    assert set(errors_of(exc)) == {"certificate_number"}
    w.guard_staff.refresh_from_db()
    assert w.guard_staff.phone == "13900139000"


def test_update_no_change_writes_no_audit(pworld):
    w = pworld
    before = AuditEvent.objects.count()
    ps.guard_update(
        actor=w.users["principal"], staff=w.guard_staff, today=T, filed_with_police=True
    )
    assert AuditEvent.objects.count() == before


def test_update_needs_manage_security_at_that_school(pworld):
    w = pworld
    for name in ("guard", "teacher", "principal2", "police"):
        with pytest.raises(PermissionDenied):
            ps.guard_update(actor=w.users[name], staff=w.guard_staff, today=T, notes="x")
    with pytest.raises(PermissionDenied):
        ps.guard_update(actor=w.users["principal"], staff=w.other_guard, today=T, notes="x")


def test_teacher_has_no_security_record(pworld):
    with pytest.raises(ValidationError) as exc:
        ps.guard_update(actor=pworld.users["principal"], staff=pworld.staff, today=T, notes="x")
    assert "role" in errors_of(exc)


def test_unknown_fields_are_a_programming_error(pworld):
    with pytest.raises(TypeError):
        ps.guard_update(actor=pworld.users["principal"], staff=pworld.guard_staff, colour="red")


# ------------------------------------------------------------------ trainings


def test_training_add_and_delete(pworld, reevaluated):
    w = pworld
    training = ps.training_add(
        actor=w.users["security"],
        staff=w.guard_staff,
        held_on=day(-3),
        topic="防暴器械使用",
        hours="2.5",
        provider="派出所",
        today=T,
    )
    assert training.hours == Decimal("2.5") and training.passed
    assert AuditEvent.objects.filter(
        object_type="security.trainingrecord", action="create", school_id=w.school.pk
    ).exists()
    ps.training_delete(actor=w.users["principal"], training=training)
    assert not TrainingRecord.objects.exists()
    assert AuditEvent.objects.filter(
        object_type="security.trainingrecord", action="delete"
    ).exists()
    assert reevaluated == [[w.school.pk], [w.school.pk]]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hours": "-1"}, "hours"),
        ({"hours": "100"}, "hours"),
        ({"hours": "1.25"}, "hours"),
        ({"hours": "abc"}, "hours"),
        ({"hours": "NaN"}, "hours"),
        ({"hours": None}, "hours"),
        ({"held_on": day(1)}, "held_on"),
        ({"held_on": None}, "held_on"),
        ({"topic": ""}, "topic"),
        ({"topic": "x" * 201}, "topic"),
        ({"passed": None}, "passed"),
    ],
)
def test_training_bad_input(pworld, kwargs, field):
    values = {"held_on": day(-1), "topic": "培训", "hours": "2", **kwargs}
    with pytest.raises(ValidationError) as exc:
        ps.training_add(
            actor=pworld.users["principal"], staff=pworld.guard_staff, today=T, **values
        )
    assert field in errors_of(exc)
    assert not TrainingRecord.objects.exists()


@pytest.mark.parametrize("hours", ["0", "99.9", 8, Decimal("0.5")])
def test_training_hours_bounds(pworld, hours):
    training = ps.training_add(
        actor=pworld.users["principal"],
        staff=pworld.guard_staff,
        held_on=T,
        topic="培训",
        hours=hours,
        today=T,
    )
    assert Decimal("0") <= training.hours <= Decimal("99.9")


def test_training_needs_manage_security(pworld):
    with pytest.raises(PermissionDenied):
        ps.training_add(
            actor=pworld.users["guard"],
            staff=pworld.guard_staff,
            held_on=T,
            topic="培训",
            hours=1,
            today=T,
        )


# ------------------------------------------------------------------ status badges


def _status(w, today=T):
    staff = sel.staff_get(actor=w.users["principal"], staff_id=w.guard_staff.pk)
    return sel.person_status(staff, today)


def _train(w, held_on, passed=True):
    TrainingRecord.objects.create(
        staff=w.guard_staff, held_on=held_on, topic="t", hours=1, passed=passed
    )


def test_in_order_has_no_badge(pworld):
    _train(pworld, day(-30))
    status = _status(pworld)
    assert status.badges == [] and status.certificate == "valid" and status.ok


def test_badges(pworld):
    w = pworld
    _train(w, day(-366))
    _train(w, day(-10), passed=False)  # a failed training does not count
    assert {b.code for b in _status(w).badges} == {"no_training"}
    _train(w, day(-365))
    assert _status(w).badges == []

    w.guard_profile.certificate_expires_on = day(30)
    w.guard_profile.save()
    status = _status(w)
    assert [b.code for b in status.badges] == ["cert_expiring"] and status.days_to_expiry == 30
    w.guard_profile.certificate_expires_on = day(31)
    w.guard_profile.save()
    assert _status(w).badges == []
    w.guard_profile.certificate_expires_on = day(-1)
    w.guard_profile.filed_with_police = False
    w.guard_profile.save()
    assert [b.code for b in _status(w).badges] == ["cert_expired", "not_filed"]
    w.guard_profile.certificate_number = ""
    w.guard_profile.save()
    w.guard_staff.background_check = "pending"
    w.guard_staff.save()
    codes = [(b.code, b.level) for b in _status(w).badges]
    assert codes == [
        ("cert_missing", "danger"),
        ("not_filed", "warning"),
        ("background", "warning"),
    ]


def test_guard_without_record(pworld):
    staff = Staff.objects.create(school=pworld.school, name="新人", role="guard")
    status = sel.person_status(sel.staff_get(actor=pworld.users["principal"], staff_id=staff.pk), T)
    assert status.profile is None
    assert {b.code for b in status.badges} == {
        "cert_missing",
        "not_filed",
        "background",
        "no_training",
    }


def test_officer_needs_no_certificate_nor_filing(pworld):
    staff = Staff.objects.create(
        school=pworld.school, name="安保干部", role="security_officer", background_check="passed"
    )
    TrainingRecord.objects.create(staff=staff, held_on=day(-1), topic="t", hours=1)
    status = sel.person_status(sel.staff_get(actor=pworld.users["principal"], staff_id=staff.pk), T)
    assert status.badges == [] and status.certificate == "none"


def test_selectors_scope(pworld):
    w = pworld
    from django.http import Http404

    with pytest.raises(Http404):
        sel.staff_get(actor=w.users["principal2"], staff_id=w.guard_staff.pk)
    with pytest.raises(Http404):
        sel.staff_get(actor=w.users["principal"], staff_id=w.staff.pk)  # a teacher
    assert sel.staff_get(actor=w.users["police"], staff_id=w.guard_staff.pk)
    assert sel.staff_get(actor=w.users["county"], staff_id=w.guard_staff.pk)
    with pytest.raises(PermissionDenied):
        sel.school_get(actor=w.users["nobody"], school_id=w.school.pk)
    with pytest.raises(Http404):
        sel.school_get(actor=w.users["farpolice"], school_id=w.school.pk)
    names = [s.name for s in sel.personnel_list(actor=w.users["edu"], school_id=w.school.pk)]
    assert names == ["张保安"]


def test_dates_are_dates(pworld):
    record = create(pworld, hired_on="2026-01-05", certificate_number="")
    assert record.hired_on == dt.date(2026, 1, 5)
