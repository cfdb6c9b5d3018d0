"""Fixtures for the incident tests: an alarm raised by the guard and the incident the
police commander opened from it."""

from __future__ import annotations

import pytest

from huxiao.alarms import services as alarm_services
from huxiao.audit.models import AuditEvent
from huxiao.incidents import services
from huxiao.incidents.models import GroupMember, Incident, IncidentEvent, ResponseGroup, Task

# Who may work the first school's incident, who may only look, and who is told it does
# not exist (§1 二(五)四: the police of the jurisdiction and the school's leaders respond).
EDITORS = ["principal", "police", "officer", "postofficer"]
VIEW_ONLY = ["guard", "teacher", "edu", "gov", "county"]
HIDDEN = ["principal2", "farpolice", "nobody"]


@pytest.fixture
def alarm(world):
    alarm, _created = alarm_services.alarm_raise(
        actor=world.users["guard"], school=world.school, kind="intrusion", location="东门"
    )
    return alarm


@pytest.fixture
def incident(world, alarm):
    incident, _created = services.incident_open_from_alarm(actor=world.users["police"], alarm=alarm)
    return incident


def db_state() -> dict:
    """Everything an incident write could touch, including the audit trail."""
    models = (Incident, ResponseGroup, GroupMember, Task, IncidentEvent, AuditEvent)
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in models}
