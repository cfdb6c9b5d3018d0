"""Incident services: opening from an alarm, members, tasks, notes, closing; the timeline and
audit trail of each; who may do what; and that a refusal writes nothing."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from huxiao.alarms import services as alarm_services
from huxiao.audit.models import AuditEvent
from huxiao.core.roles import OrgKind, Role
from huxiao.incidents import selectors, services
from huxiao.incidents.choices import GroupKind, IncidentEventType, IncidentStatus, TaskStatus
from huxiao.incidents.models import GroupMember, Incident, IncidentEvent, ResponseGroup
from huxiao.incidents.tests.conftest import EDITORS, VIEW_ONLY, db_state
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _soon(hours=1):
    return timezone.now() + dt.timedelta(hours=hours)


def _event_types(incident):
    return list(incident.events.order_by("pk").values_list("type", flat=True))


# ------------------------------------------------------------------ opening


def test_opening_creates_the_four_groups_a_timeline_entry_and_an_audit_row(world, alarm):
    incident, created = services.incident_open_from_alarm(actor=world.users["police"], alarm=alarm)
    assert created
    assert incident.school == world.school and incident.alarm == alarm
    assert incident.status == IncidentStatus.OPEN
    assert incident.opened_by == world.users["police"]
    # The police commander who opened it commands it until someone else is assigned.
    assert incident.commander == world.users["police"]
    assert sorted(incident.groups.values_list("kind", flat=True)) == sorted(GroupKind.values)
    assert _event_types(incident) == [IncidentEventType.OPENED]
    assert AuditEvent.objects.filter(
        object_type="incidents.incident", object_id=str(incident.pk), action="create"
    ).exists()
    assert incident.title  # e.g. "Intrusion at 本园"
    assert world.school.name in incident.title


def test_opening_twice_returns_the_same_incident(world, alarm):
    first, created = services.incident_open_from_alarm(actor=world.users["police"], alarm=alarm)
    before = db_state()
    # Another responder presses the same button: same incident, nothing new written.
    again, created_again = services.incident_open_from_alarm(
        actor=world.users["principal"], alarm=alarm
    )
    assert created and not created_again
    assert again.pk == first.pk
    assert db_state() == before
    assert Incident.objects.count() == 1 and ResponseGroup.objects.count() == 4


def test_a_cancelled_alarm_cannot_open_an_incident(world, alarm):
    alarm_services.alarm_cancel(actor=world.users["guard"], alarm=alarm)
    before = db_state()
    with pytest.raises(ValidationError) as exc:
        services.incident_open_from_alarm(actor=world.users["principal"], alarm=alarm)
    assert "alarm_id" in exc.value.message_dict
    assert db_state() == before


def test_a_drill_alarm_opens_a_drill_incident(world):
    drill, _ = alarm_services.alarm_raise(
        actor=world.users["guard"], school=world.school, kind="fire", drill=True
    )
    incident, _ = services.incident_open_from_alarm(actor=world.users["principal"], alarm=drill)
    assert incident.is_drill


@pytest.mark.parametrize("who", EDITORS)
def test_responders_and_school_leaders_may_open(world, alarm, who):
    incident, created = services.incident_open_from_alarm(actor=world.users[who], alarm=alarm)
    assert created and incident.commander == world.users[who]


@pytest.mark.parametrize("who", [*VIEW_ONLY, "principal2", "farpolice", "nobody"])
def test_others_may_not_open(world, alarm, who):
    before = db_state()
    with pytest.raises(PermissionDenied):
        services.incident_open_from_alarm(actor=world.users[who], alarm=alarm)
    assert db_state() == before


# ------------------------------------------------------------------ members


@pytest.mark.parametrize(
    ("who", "organization"),
    [
        ("principal", "school"),
        ("guard", "school"),
        ("teacher", "school"),
        ("police", "station"),
        ("officer", "station"),
        ("postofficer", "post"),
    ],
)
def test_people_of_the_school_and_its_police_may_be_members(world, incident, who, organization):
    member = services.incident_member_add(
        actor=world.users["police"],
        incident=incident,
        group_kind=GroupKind.CASUALTY,
        user=world.users[who],
        role="急救",
    )
    assert member.organization == getattr(world, organization)
    assert member.group.kind == GroupKind.CASUALTY and member.role == "急救"
    event = incident.events.get(type=IncidentEventType.MEMBER_ADDED)
    assert event.data["user_id"] == world.users[who].pk and event.actor == world.users["police"]
    assert AuditEvent.objects.filter(object_type="incidents.groupmember", action="create").exists()


@pytest.mark.parametrize("who", ["principal2", "farpolice", "edu", "gov", "county", "nobody"])
def test_people_of_another_school_or_far_police_cannot_be_members(world, incident, who):
    before = db_state()
    with pytest.raises(ValidationError) as exc:
        services.incident_member_add(
            actor=world.users["police"],
            incident=incident,
            group_kind=GroupKind.HANDLING,
            user=world.users[who],
        )
    assert list(exc.value.message_dict) == ["user_id"]
    assert db_state() == before


def test_a_police_post_of_another_school_is_not_the_jurisdiction(world, incident):
    """The same station, but a post that does not cover this school."""
    other_post = OrganizationFactory(
        kind=OrgKind.POLICE_POST, town=world.town, parent=world.station, name="另一警务室"
    )
    officer = UserFactory(username="otherpost")
    MembershipFactory(user=officer, organization=other_post, role=Role.POLICE_OFFICER)
    with pytest.raises(ValidationError):
        services.incident_member_add(
            actor=world.users["police"],
            incident=incident,
            group_kind=GroupKind.SCENE,
            user=officer,
        )


def test_an_inactive_membership_does_not_qualify(world, incident):
    world.users["teacher"].memberships.update(is_active=False)
    with pytest.raises(ValidationError):
        services.incident_member_add(
            actor=world.users["police"],
            incident=incident,
            group_kind=GroupKind.ORDER,
            user=world.users["teacher"],
        )


def test_the_organization_must_be_one_the_person_belongs_to(world, incident):
    with pytest.raises(ValidationError) as exc:
        services.incident_member_add(
            actor=world.users["police"],
            incident=incident,
            group_kind=GroupKind.ORDER,
            user=world.users["teacher"],
            organization=world.station,
        )
    assert list(exc.value.message_dict) == ["organization_id"]


def test_unknown_group_and_duplicates_are_refused(world, incident):
    with pytest.raises(ValidationError) as exc:
        services.incident_member_add(
            actor=world.users["police"],
            incident=incident,
            group_kind="logistics",
            user=world.users["guard"],
        )
    assert "group" in exc.value.message_dict
    services.incident_member_add(
        actor=world.users["police"],
        incident=incident,
        group_kind=GroupKind.ORDER,
        user=world.users["guard"],
    )
    with pytest.raises(ValidationError):
        services.incident_member_add(
            actor=world.users["police"],
            incident=incident,
            group_kind=GroupKind.ORDER,
            user=world.users["guard"],
        )
    # The same person may serve in another group (small schools have few people).
    services.incident_member_add(
        actor=world.users["police"],
        incident=incident,
        group_kind=GroupKind.SCENE,
        user=world.users["guard"],
    )
    assert GroupMember.objects.filter(user=world.users["guard"]).count() == 2


def test_leader_on_adding_changing_and_removing(world, incident):
    officer = services.incident_member_add(
        actor=world.users["police"],
        incident=incident,
        group_kind=GroupKind.HANDLING,
        user=world.users["officer"],
        leader=True,
    )
    group = ResponseGroup.objects.get(incident=incident, kind=GroupKind.HANDLING)
    assert group.leader == world.users["officer"]
    assert AuditEvent.objects.filter(
        object_type="incidents.responsegroup", object_id=str(group.pk), action="update"
    ).exists()
    services.incident_member_add(
        actor=world.users["principal"],
        incident=incident,
        group_kind=GroupKind.HANDLING,
        user=world.users["postofficer"],
    )
    services.incident_leader_set(
        actor=world.users["principal"],
        incident=incident,
        group_kind=GroupKind.HANDLING,
        user=world.users["postofficer"],
    )
    group.refresh_from_db()
    assert group.leader == world.users["postofficer"]
    # Only a member can lead.
    with pytest.raises(ValidationError):
        services.incident_leader_set(
            actor=world.users["principal"],
            incident=incident,
            group_kind=GroupKind.HANDLING,
            user=world.users["teacher"],
        )
    leader_member = group.members.get(user=world.users["postofficer"])
    services.incident_member_remove(actor=world.users["police"], member=leader_member)
    group.refresh_from_db()
    assert group.leader is None
    assert list(group.members.all()) == [officer]
    assert _event_types(incident)[-3:] == [
        IncidentEventType.MEMBER_ADDED,
        IncidentEventType.LEADER_SET,
        IncidentEventType.MEMBER_REMOVED,
    ]
    assert AuditEvent.objects.filter(object_type="incidents.groupmember", action="delete").exists()


def test_commander_is_a_person_of_the_school_or_its_police(world, incident):
    services.incident_commander_set(
        actor=world.users["principal"], incident=incident, user=world.users["officer"]
    )
    incident.refresh_from_db()
    assert incident.commander == world.users["officer"]
    assert IncidentEventType.COMMANDER_SET in _event_types(incident)
    with pytest.raises(ValidationError):
        services.incident_commander_set(
            actor=world.users["principal"], incident=incident, user=world.users["farpolice"]
        )


@pytest.mark.parametrize("who", VIEW_ONLY)
def test_viewers_cannot_change_members(world, incident, who):
    before = db_state()
    with pytest.raises(PermissionDenied):
        services.incident_member_add(
            actor=world.users[who],
            incident=incident,
            group_kind=GroupKind.ORDER,
            user=world.users["guard"],
        )
    assert db_state() == before


# ------------------------------------------------------------------ tasks


def test_task_with_owner_deadline_and_group(world, incident):
    task = services.task_add(
        actor=world.users["principal"],
        incident=incident,
        title="封锁东门",
        owner=world.users["guard"],
        due_at=_soon(),
        group_kind=GroupKind.SCENE,
    )
    assert task.owner == world.users["guard"] and task.group.kind == GroupKind.SCENE
    assert task.status == TaskStatus.OPEN and not task.overdue
    event = incident.events.get(type=IncidentEventType.TASK_ADDED)
    assert event.data["title"] == "封锁东门" and event.data["owner_id"] == world.users["guard"].pk


def test_task_rules(world, incident):
    before = db_state()
    with pytest.raises(ValidationError) as exc:
        services.task_add(
            actor=world.users["police"],
            incident=incident,
            title=" ",
            owner=world.users["principal2"],
            due_at=incident.opened_at - dt.timedelta(minutes=5),
            group_kind="kitchen",
        )
    assert set(exc.value.message_dict) == {"title", "owner_id", "due_at", "group"}
    with pytest.raises(ValidationError) as exc:
        services.task_add(
            actor=world.users["police"],
            incident=incident,
            title="x",
            owner=world.users["guard"],
            due_at=None,
        )
    assert set(exc.value.message_dict) == {"due_at"}
    assert db_state() == before


def test_naive_deadline_is_read_in_local_time(world, incident):
    naive = timezone.localtime(_soon(2)).replace(tzinfo=None, microsecond=0)
    task = services.task_add(
        actor=world.users["police"],
        incident=incident,
        title="通知家长",
        owner=world.users["teacher"],
        due_at=naive,
    )
    assert timezone.localtime(task.due_at).replace(tzinfo=None) == naive


def test_overdue_and_completion(world, incident):
    task = services.task_add(
        actor=world.users["police"],
        incident=incident,
        title="调取监控",
        owner=world.users["officer"],
        due_at=incident.opened_at + dt.timedelta(minutes=10),
    )
    later = incident.opened_at + dt.timedelta(minutes=30)
    assert task.is_overdue(later)
    done = services.task_complete(actor=world.users["officer"], task=task, note="已调取", now=later)
    assert done.status == TaskStatus.DONE and done.done_by == world.users["officer"]
    assert not done.is_overdue(later)
    event = incident.events.get(type=IncidentEventType.TASK_COMPLETED)
    assert event.data == {
        "task_id": task.pk,
        "title": "调取监控",
        "note": "已调取",
        "overdue": True,
    }
    # Twice: nothing more.
    before = db_state()
    services.task_complete(actor=world.users["police"], task=task)
    assert db_state() == before


def test_the_owner_may_complete_their_own_task_but_not_others(world, incident):
    mine = services.task_add(
        actor=world.users["principal"],
        incident=incident,
        title="清点学生",
        owner=world.users["teacher"],
        due_at=_soon(),
    )
    theirs = services.task_add(
        actor=world.users["principal"],
        incident=incident,
        title="关闭东门",
        owner=world.users["guard"],
        due_at=_soon(),
    )
    services.task_complete(actor=world.users["teacher"], task=mine)
    before = db_state()
    with pytest.raises(PermissionDenied):
        services.task_complete(actor=world.users["teacher"], task=theirs)
    assert db_state() == before


# ------------------------------------------------------------------ notes and closing


def test_note_goes_into_the_timeline(world, incident):
    services.incident_note_add(actor=world.users["police"], incident=incident, text="嫌疑人已控制")
    event = incident.events.get(type=IncidentEventType.NOTE)
    assert event.data == {"text": "嫌疑人已控制"}
    assert AuditEvent.objects.filter(object_type="incidents.incidentevent").exists()
    with pytest.raises(ValidationError):
        services.incident_note_add(actor=world.users["police"], incident=incident, text="  ")


def test_close_requires_a_summary(world, incident):
    before = db_state()
    with pytest.raises(ValidationError) as exc:
        services.incident_close(actor=world.users["principal"], incident=incident, summary=" ")
    assert list(exc.value.message_dict) == ["summary"]
    assert db_state() == before


def test_close_keeps_open_tasks_as_not_done_and_freezes_the_incident(world, incident):
    open_task = services.task_add(
        actor=world.users["police"],
        incident=incident,
        title="回访家长",
        owner=world.users["teacher"],
        due_at=_soon(24),
    )
    closed = services.incident_close(
        actor=world.users["principal"],
        incident=incident,
        summary="嫌疑人被民警带离,无人员受伤。",
        casualties="无",
        actions_taken="封锁东门,疏散学生",
        lessons="东门围栏需加高",
    )
    assert closed.status == IncidentStatus.CLOSED and closed.closed_by == world.users["principal"]
    assert closed.summary.startswith("嫌疑人") and closed.lessons == "东门围栏需加高"
    open_task.refresh_from_db()
    assert open_task.status == TaskStatus.OPEN
    event = incident.events.get(type=IncidentEventType.CLOSED)
    assert event.data["open_tasks"] == [{"task_id": open_task.pk, "title": "回访家长"}]
    assert AuditEvent.objects.filter(
        object_type="incidents.incident", action="update", object_id=str(incident.pk)
    ).exists()
    # A closed incident takes no more changes.
    before = db_state()
    for call in (
        lambda: services.incident_note_add(actor=world.users["police"], incident=closed, text="x"),
        lambda: services.task_complete(actor=world.users["police"], task=open_task),
        lambda: services.incident_close(actor=world.users["police"], incident=closed, summary="y"),
        lambda: services.incident_member_add(
            actor=world.users["police"],
            incident=closed,
            group_kind=GroupKind.ORDER,
            user=world.users["guard"],
        ),
    ):
        with pytest.raises(ValidationError):
            call()
    assert db_state() == before


def test_every_service_writes_a_timeline_entry(world, incident):
    users = world.users
    member = services.incident_member_add(
        actor=users["police"], incident=incident, group_kind="order", user=users["guard"]
    )
    services.incident_leader_set(
        actor=users["police"], incident=incident, group_kind="order", user=users["guard"]
    )
    services.incident_commander_set(actor=users["police"], incident=incident, user=users["officer"])
    task = services.task_add(
        actor=users["police"], incident=incident, title="t", owner=users["guard"], due_at=_soon()
    )
    services.task_complete(actor=users["guard"], task=task)
    services.incident_note_add(actor=users["police"], incident=incident, text="n")
    services.incident_member_remove(actor=users["police"], member=member)
    services.incident_close(actor=users["police"], incident=incident, summary="s")
    assert _event_types(incident) == [
        IncidentEventType.OPENED,
        IncidentEventType.MEMBER_ADDED,
        IncidentEventType.LEADER_SET,
        IncidentEventType.COMMANDER_SET,
        IncidentEventType.TASK_ADDED,
        IncidentEventType.TASK_COMPLETED,
        IncidentEventType.NOTE,
        IncidentEventType.MEMBER_REMOVED,
        IncidentEventType.CLOSED,
    ]
    assert IncidentEvent.objects.filter(incident=incident).count() == 9


# ------------------------------------------------------------------ selectors


def test_timeline_merges_the_alarm_steps_in_time_order(world, alarm):
    t0 = alarm.raised_at
    alarm_services.alarm_acknowledge(
        actor=world.users["officer"], alarm=alarm, now=t0 + dt.timedelta(seconds=20)
    )
    incident, _ = services.incident_open_from_alarm(
        actor=world.users["police"], alarm=alarm, now=t0 + dt.timedelta(seconds=40)
    )
    alarm_services.alarm_arrive(
        actor=world.users["officer"], alarm=alarm, now=t0 + dt.timedelta(minutes=5)
    )
    services.incident_note_add(
        actor=world.users["police"],
        incident=incident,
        text="到场",
        now=t0 + dt.timedelta(minutes=6),
    )
    timeline = selectors.incident_timeline(incident=incident)
    assert [(e.source, e.type) for e in timeline] == [
        ("alarm", "alarm.raised"),
        ("alarm", "alarm.acknowledged"),
        ("incident", IncidentEventType.OPENED),
        ("alarm", "alarm.arrived"),
        ("incident", IncidentEventType.NOTE),
    ]
    assert timeline[-1].text == "到场"
    alarm.refresh_from_db()
    seconds = [step.seconds for step in selectors.alarm_response_steps(alarm)]
    # raised, acknowledged, dispatched (never), on scene, resolved (not yet)
    assert seconds == [0.0, 20.0, None, 300.0, None]


@pytest.mark.parametrize(
    ("who", "visible"),
    [*((w, True) for w in EDITORS + VIEW_ONLY), *((w, False) for w in ["principal2", "farpolice"])],
)
def test_incident_list_is_scoped(world, incident, who, visible):
    ids = list(selectors.incident_list(actor=world.users[who]).values_list("pk", flat=True))
    assert ids == ([incident.pk] if visible else [])
