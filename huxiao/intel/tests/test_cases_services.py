"""Services and selectors of school-related cases: transitions, timestamps, speed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from huxiao.intel import cases_selectors as selectors
from huxiao.intel import cases_services as services
from huxiao.intel.models import SchoolCase
from huxiao.intel.tests.cases_fixtures import case_state

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)


def _register(w, number, school=None, now=T0):
    return services.case_register(
        actor=w.users["police"],
        school=school or w.school,
        case_number=number,
        title="校园盗窃",
        category="theft",
        occurred_at=now - dt.timedelta(hours=1),
        officer=w.users["officer"],
        now=now,
    )


def _solve(w, school_case, *, after_days: float):
    services.case_transition(
        actor=w.users["officer"],
        case=school_case,
        status="investigating",
        now=T0 + dt.timedelta(hours=1),
    )
    return services.case_transition(
        actor=w.users["officer"],
        case=school_case,
        status="solved",
        note="嫌疑人已抓获",
        now=T0 + dt.timedelta(days=after_days),
    )


def test_transitions_stamp_each_state_and_timeline(cw):
    c = _register(cw, "T-1")
    c = _solve(cw, c, after_days=3)
    c = services.case_transition(
        actor=cw.users["police"], case=c, status="closed", now=T0 + dt.timedelta(days=4)
    )
    c.refresh_from_db()
    assert c.registered_at == T0 and c.investigating_at and c.solved_at and c.closed_at
    assert c.referred_at is None and c.days_to_solve == 3.0
    assert [e.status for e in c.events.all()] == ["registered", "investigating", "solved", "closed"]
    assert c.events.get(status="solved").note == "嫌疑人已抓获"


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ([], "solved"),
        ([], "referred"),
        (["investigating"], "registered"),
        (["investigating", "closed"], "investigating"),
    ],
)
def test_out_of_order_refused(cw, path, bad):
    c = _register(cw, "T-2")
    for status in path:
        c = services.case_transition(actor=cw.users["officer"], case=c, status=status)
    before = case_state()
    with pytest.raises(ValidationError) as exc:
        services.case_transition(actor=cw.users["officer"], case=c, status=bad)
    assert "status" in exc.value.message_dict
    assert case_state() == before


def test_median_days_to_solve_on_hand_made_data(cw):
    """Solved after 2, 4 and 9 days (median 4); one open case; one of another station."""
    for number, days in (("S-1", 2), ("S-2", 4), ("S-3", 9)):
        _solve(cw, _register(cw, number, school=cw.other_school), after_days=days)
    _register(cw, "S-4")
    stats = selectors.case_stats(actor=cw.users["police"])
    assert len(stats) == 1
    s = stats[0]
    assert (s.open, s.solved, s.median_days_to_solve) == (1, 3, 4.0)
    # County command sees the same station figures.
    county = selectors.case_stats(actor=cw.users["county"])
    assert [(x.station_id, x.median_days_to_solve) for x in county] == [(cw.station.pk, 4.0)]


def test_post_officer_manages_only_the_posts_school(cw):
    with pytest.raises(ValidationError):
        services.case_register(
            actor=cw.users["postofficer"],
            school=cw.other_school,
            case_number="P-1",
            title="x",
            category="other",
            occurred_at=timezone.now(),
            officer=cw.users["officer"],
        )
    assert not SchoolCase.objects.exists()


def test_principal_cannot_register(cw):
    with pytest.raises(PermissionDenied):
        services.case_register(
            actor=cw.users["principal"],
            school=cw.school,
            case_number="X-1",
            title="x",
            category="other",
            occurred_at=timezone.now(),
            officer=cw.users["officer"],
        )
    assert not SchoolCase.objects.exists()


def test_future_occurrence_refused(cw):
    with pytest.raises(ValidationError) as exc:
        services.case_register(
            actor=cw.users["police"],
            school=cw.school,
            case_number="F-1",
            title="x",
            category="other",
            occurred_at=timezone.now() + dt.timedelta(days=2),
            officer=cw.users["officer"],
        )
    assert "occurred_at" in exc.value.message_dict


def test_update_records_changes_and_persons_of_other_station_refused(cw, case):
    services.case_update(actor=cw.users["officer"], case=case, title="新标题", persons=[])
    case.refresh_from_db()
    assert case.title == "新标题" and not case.persons.exists()
    assert case.events.last().kind == "updated"
    with pytest.raises(ValidationError):
        services.case_update(actor=cw.users["officer"], case=case, persons=[10**9])


def test_shows_persons_only_to_keepers(cw, case):
    assert selectors.shows_persons(cw.users["police"], case)
    for name in ("edu", "county", "principal", "farpolice", "lvp"):
        assert not selectors.shows_persons(cw.users[name], case)


def test_person_links_leave_no_trace_on_the_case(cw, case):
    from huxiao.audit.models import AuditEvent

    events_before = case.events.count()
    services.case_update(actor=cw.users["officer"], case=case, persons=[])
    assert case.events.count() == events_before
    case_rows = AuditEvent.objects.filter(object_type="intel.schoolcase", object_id=str(case.pk))
    assert all("persons" not in row.changes for row in case_rows)
    person_rows = AuditEvent.objects.filter(
        object_type="intel.highriskperson", object_id=str(cw.person.pk)
    )
    assert any("school_case" in row.changes for row in person_rows)


def _move_school_to_far_station(cw):
    """The school now belongs to the far station: its commander manages the school's
    cases, but the case stays kept by the first station, whose register they do not keep."""
    cw.school.police_station = cw.other_station
    cw.school.police_post = None
    cw.school.save()


@pytest.mark.parametrize("persons", [[], None, "own"])
def test_non_keeper_update_leaves_person_links_alone(cw, case, persons):
    _move_school_to_far_station(cw)
    farpolice = cw.users["farpolice"]
    assert selectors.case_levels(farpolice)[cw.school.pk] == selectors.MANAGE
    assert not selectors.shows_persons(farpolice, case)
    persons = [cw.person.pk] if persons == "own" else persons
    services.case_update(actor=farpolice, case=case, title="改了标题", persons=persons)
    case.refresh_from_db()
    assert case.title == "改了标题"
    assert list(case.persons.values_list("pk", flat=True)) == [cw.person.pk]


def test_non_keeper_cannot_add_person_links(cw, case):
    services.case_update(actor=cw.users["officer"], case=case, persons=[])
    _move_school_to_far_station(cw)
    services.case_update(actor=cw.users["farpolice"], case=case, persons=[cw.person.pk])
    assert not case.persons.exists()


def test_superuser_without_register_cannot_clear_person_links(cw, case):
    from huxiao.orgs.tests.factories import UserFactory

    root = UserFactory(username="root", is_superuser=True)
    services.case_update(actor=root, case=case, persons=[])
    assert list(case.persons.values_list("pk", flat=True)) == [cw.person.pk]


def test_keeper_can_change_person_links(cw, case):
    services.case_update(actor=cw.users["postofficer"], case=case, persons=[])
    assert not case.persons.exists()
    services.case_update(actor=cw.users["officer"], case=case, persons=[cw.person.pk])
    assert list(case.persons.values_list("pk", flat=True)) == [cw.person.pk]
