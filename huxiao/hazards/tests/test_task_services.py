"""Surroundings tasks for departments: who may give them (role × scope), bad input, every
transition allowed and refused, events, audit rows and notifications, and who sees what."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.core.scoping import clear_scope_cache
from huxiao.hazards import task_selectors as selectors
from huxiao.hazards import task_services as ts
from huxiao.hazards.choices import HazardCategory, TaskStatus
from huxiao.hazards.models import SurroundingsTask
from huxiao.hazards.tests import listing_fixtures
from huxiao.hazards.tests.hazard_fixtures import MONDAY, advance, at, day, report
from huxiao.hazards.tests.listing_fixtures import NOW, give_task, task_to
from huxiao.notify.models import Delivery

pytestmark = pytest.mark.django_db
lworld = listing_fixtures.lworld
S = TaskStatus


def inbox(user) -> list[str]:
    return [
        d.notification.event_type
        for d in Delivery.objects.filter(recipient=user, channel="inbox").select_related(
            "notification"
        )
    ]


# ------------------------------------------------------------------ create


@pytest.mark.parametrize(
    ("name", "office"),
    [("gov", "综治办"), ("edu", "中心学校"), ("police", "派出所"), ("county", "县综治中心")],
)
def test_the_outside_may_give_a_task(lworld, name, office):
    w = lworld
    task = give_task(w, actor=w.users[name])
    assert task.status == S.ASSIGNED and task.assigned_by_org.name == office
    assert task.assigned_by == w.users[name] and task.assigned_at == NOW
    assert [(e.from_status, e.to_status) for e in task.events.all()] == [("", S.ASSIGNED)]
    assert AuditEvent.objects.filter(
        object_type="hazards.surroundingstask", object_id=str(task.pk), action="create"
    ).exists()
    assert "tasks.assigned" in inbox(w.users["market"])
    assert "tasks.assigned" not in inbox(w.users["traffic"])


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("principal", PermissionDenied),
        ("security", PermissionDenied),
        ("guard", PermissionDenied),
        ("market", PermissionDenied),
        ("fargov", Http404),
        ("farpolice", Http404),
        ("nobody", Http404),
    ],
)
def test_who_may_not_give_a_task(lworld, name, error):
    w = lworld
    with pytest.raises(error):
        give_task(w, actor=w.users[name])
    assert not SurroundingsTask.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"department": "gov_office"}, "department"),
        ({"department": "school"}, "department"),
        ({"department": "far_dept"}, "department"),
        ({"department": "closed_dept"}, "department"),
        ({"department_kind": "zoo"}, "department_kind"),
        ({"department_kind": ""}, "department_kind"),
        ({"deadline": MONDAY - dt.timedelta(days=1)}, "deadline"),
        ({"deadline": None}, "deadline"),
        ({"title": " "}, "title"),
        ({"description": ""}, "description"),
        ({"location": "东门\n西门"}, "location"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(lworld, kwargs, field):
    w = lworld
    if "department" in kwargs:
        kwargs["department"] = getattr(w, kwargs["department"])
    with pytest.raises(ValidationError) as exc:
        give_task(w, **kwargs)
    assert field in exc.value.message_dict
    assert not SurroundingsTask.objects.exists()


def test_no_department_at_all(lworld):
    w = lworld
    with pytest.raises(ValidationError) as exc:
        ts.task_create(
            actor=w.users["gov"],
            school=w.school,
            department=None,
            department_kind="market_regulation",
            title="t",
            description="d",
            deadline=day(3),
            now=NOW,
        )
    assert "department" in exc.value.message_dict


def test_the_giving_office_must_be_the_actors(lworld):
    w = lworld
    with pytest.raises(ValidationError) as exc:
        give_task(w, actor=w.users["gov"], assigned_by_org=w.edu_office)
    assert "assigned_by_org" in exc.value.message_dict
    task = give_task(w, actor=w.users["county"], assigned_by_org=w.county_office)
    assert task.assigned_by_org == w.county_office


def test_from_a_hazard_takes_its_text_and_school(lworld):
    w = lworld
    hazard = report(w, category=HazardCategory.SURROUNDINGS, title="门口摊点", description="占道")
    task = give_task(w, hazard=hazard, title="", description="")
    assert (task.school, task.hazard, task.title, task.description) == (
        w.school,
        hazard,
        "门口摊点",
        "占道",
    )
    with pytest.raises(ValidationError):
        give_task(w, hazard=hazard, school=w.other_school)
    closed = advance(w, report(w, title="已关闭"), "closed")
    with pytest.raises(ValidationError) as exc:
        give_task(w, hazard=closed)
    assert "hazard" in exc.value.message_dict
    with pytest.raises(Http404):
        give_task(w, actor=w.users["fargov"], hazard=hazard)


# ------------------------------------------------------------------ transitions


def test_the_happy_path_with_events_audit_and_notifications(lworld):
    w = lworld
    task = give_task(w)
    task = ts.task_accept(actor=w.users["market"], task=task, note="收到", now=at(MONDAY, "10:00"))
    assert task.status == S.ACCEPTED
    assert "tasks.accepted" in inbox(w.users["gov"])
    task = ts.task_feedback(
        actor=w.users["market"], task=task, feedback="已清理三处摊点", now=at(day(2))
    )
    assert task.status == S.REPORTED
    assert (task.feedback, task.feedback_by, task.feedback_at) == (
        "已清理三处摊点",
        w.users["market"],
        at(day(2)),
    )
    assert "tasks.feedback" in inbox(w.users["gov"])
    task = ts.task_confirm(actor=w.users["gov"], task=task, now=at(day(3)))
    assert task.status == S.CONFIRMED
    assert task.confirmed_by == w.users["gov"] and task.confirmed_at == at(day(3))
    assert "tasks.confirmed" in inbox(w.users["market"])
    assert [(e.from_status, e.to_status) for e in task.events.all()] == [
        ("", S.ASSIGNED),
        (S.ASSIGNED, S.ACCEPTED),
        (S.ACCEPTED, S.REPORTED),
        (S.REPORTED, S.CONFIRMED),
    ]
    assert (
        AuditEvent.objects.filter(
            object_type="hazards.surroundingstask", object_id=str(task.pk), action="update"
        ).count()
        == 3
    )


def test_return_then_feedback_again(lworld):
    w = lworld
    task = task_to(w, give_task(w), "reported")
    task = ts.task_return(actor=w.users["gov"], task=task, reason="仍有摊点", now=at(day(3)))
    assert task.status == S.ACCEPTED
    assert task.events.last().note == "仍有摊点"
    assert "tasks.returned" in inbox(w.users["market"])
    task = ts.task_feedback(actor=w.users["market"], task=task, feedback="全部清理", now=at(day(4)))
    assert task.status == S.REPORTED and task.feedback == "全部清理"


# Each move from each state it does not start from is refused by the state machine.
_REFUSED = [
    (move, state)
    for move, m in ts.MOVES.items()
    for state in ("assigned", "accepted", "reported", "confirmed")
    if state not in m.sources
]


@pytest.mark.parametrize(("move", "state"), _REFUSED)
def test_moves_refused_from_the_wrong_state(lworld, move, state):
    w = lworld
    task = give_task(w)
    if state != "assigned":
        task = task_to(w, task, state)
    actor = w.users["market"] if ts.MOVES[move].side == "department" else w.users["gov"]
    call = {
        "accept": lambda: ts.task_accept(actor=actor, task=task),
        "feedback": lambda: ts.task_feedback(actor=actor, task=task, feedback="x"),
        "confirm": lambda: ts.task_confirm(actor=actor, task=task),
        "return": lambda: ts.task_return(actor=actor, task=task, reason="x"),
    }[move]
    with pytest.raises(ts.TaskTransitionRefused):
        call()
    task.refresh_from_db()
    assert task.status == state


@pytest.mark.parametrize(
    ("move", "state", "name", "error"),
    [
        ("accept", "assigned", "gov", PermissionDenied),
        ("accept", "assigned", "traffic", Http404),
        ("accept", "assigned", "principal", Http404),
        ("accept", "assigned", "fargov", Http404),
        ("feedback", "accepted", "gov", PermissionDenied),
        ("feedback", "accepted", "traffic", Http404),
        ("confirm", "reported", "market", PermissionDenied),
        ("confirm", "reported", "edu", PermissionDenied),
        ("confirm", "reported", "police", PermissionDenied),
        ("confirm", "reported", "county", PermissionDenied),
        ("confirm", "reported", "traffic", Http404),
        ("return", "reported", "market", PermissionDenied),
        ("return", "reported", "edu", PermissionDenied),
        ("return", "reported", "fargov", Http404),
    ],
)
def test_moves_refused_to_the_wrong_side(lworld, move, state, name, error):
    w = lworld
    task = give_task(w)
    if state != "assigned":
        task = task_to(w, task, state)
    actor = w.users[name]
    call = {
        "accept": lambda: ts.task_accept(actor=actor, task=task),
        "feedback": lambda: ts.task_feedback(actor=actor, task=task, feedback="x"),
        "confirm": lambda: ts.task_confirm(actor=actor, task=task),
        "return": lambda: ts.task_return(actor=actor, task=task, reason="x"),
    }[move]
    with pytest.raises(error):
        call()
    task.refresh_from_db()
    assert task.status == state


def test_feedback_and_return_need_text(lworld):
    w = lworld
    task = task_to(w, give_task(w), "accepted")
    with pytest.raises(ValidationError) as exc:
        ts.task_feedback(actor=w.users["market"], task=task, feedback="  ")
    assert "feedback" in exc.value.message_dict
    task = ts.task_feedback(actor=w.users["market"], task=task, feedback="done")
    with pytest.raises(ValidationError) as exc:
        ts.task_return(actor=w.users["gov"], task=task, reason="")
    assert "reason" in exc.value.message_dict
    task.refresh_from_db()
    assert task.status == S.REPORTED


def test_allowed_moves(lworld):
    w = lworld
    task = give_task(w)
    assert ts.allowed_moves(w.users["market"], task) == ["accept"]
    assert ts.allowed_moves(w.users["gov"], task) == []
    task = task_to(w, task, "reported")
    assert ts.allowed_moves(w.users["gov"], task) == ["confirm", "return"]
    assert ts.allowed_moves(w.users["market"], task) == []
    assert ts.allowed_moves(w.users["edu"], task) == []


# ------------------------------------------------------------------ who sees what


def _visible(user) -> set[int]:
    clear_scope_cache(user)
    return set(selectors.visible_tasks(user).values_list("pk", flat=True))


def test_a_department_sees_only_its_own_tasks(lworld):
    w = lworld
    market = give_task(w)
    traffic = give_task(
        w, department=w.traffic, department_kind="traffic_police", title="接送车辆乱停"
    )
    other = give_task(w, school=w.other_school, title="同镇学校周边")
    far = give_task(
        w, actor=w.users["fargov"], school=w.far_school, title="外镇周边", department=w.traffic
    )
    assert _visible(w.users["market"]) == {market.pk, other.pk}
    assert _visible(w.users["traffic"]) == {traffic.pk, far.pk}
    assert _visible(w.users["gov"]) == {market.pk, traffic.pk, other.pk}
    assert _visible(w.users["edu"]) == {market.pk, traffic.pk, other.pk}
    assert _visible(w.users["police"]) == {market.pk, traffic.pk, other.pk}
    assert _visible(w.users["county"]) == {market.pk, traffic.pk, other.pk, far.pk}
    assert _visible(w.users["fargov"]) == {far.pk}
    assert _visible(w.users["principal"]) == set()
    assert _visible(w.users["nobody"]) == set()
    with pytest.raises(PermissionDenied):
        selectors.require_tasks(w.users["principal"])
    with pytest.raises(Http404):
        selectors.task_get(actor=w.users["traffic"], task_id=market.pk)


def test_a_department_member_keeps_seeing_across_towns(lworld):
    """A department's sight comes from its membership, not from its school scope: a task
    of a school outside the department's town is still its own."""
    w = lworld
    far = give_task(
        w, actor=w.users["county"], school=w.far_school, title="外镇周边", department=w.market
    )
    assert far.pk in _visible(w.users["market"])
    task = ts.task_accept(actor=w.users["market"], task=far)
    assert task.status == S.ACCEPTED
