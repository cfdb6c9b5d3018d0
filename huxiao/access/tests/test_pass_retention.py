"""purge_before: old scans, movements, interceptions and ended passes of one school go;
recent ones, vehicles still inside and other schools' records stay."""

from __future__ import annotations

import datetime as dt

import pytest

from huxiao.access import pass_retention, pass_services, vehicle_services
from huxiao.access.models import GatePass, Interception, PassScan, VehicleMovement
from huxiao.access.tests.pass_fixtures import add_gate_users, issue, now

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate(world):
    return add_gate_users(world)


def test_purge_before(gate):
    guard = gate.users["guard"]
    old = now() - dt.timedelta(days=200)
    cutoff = now() - dt.timedelta(days=180)
    ended = issue(gate)
    GatePass.objects.filter(pk=ended.pk).update(
        valid_from=old - dt.timedelta(days=10), valid_until=old
    )
    rescanned = issue(gate)
    GatePass.objects.filter(pk=rescanned.pk).update(valid_until=old)
    live = issue(gate)
    other = issue(gate, school=gate.other_school)
    GatePass.objects.filter(pk=other.pk).update(valid_until=old)
    code = pass_services.pass_code(live)
    pass_services.pass_scan(actor=guard, school=gate.school, text=code, now=old)
    pass_services.pass_scan(
        actor=guard, school=gate.school, text=pass_services.pass_code(rescanned)
    )
    pass_services.pass_scan(actor=guard, school=gate.school, text=code)
    left = vehicle_services.vehicle_enter(
        actor=guard, school=gate.school, plate="京A11111", purpose="staff", now=old
    )
    vehicle_services.vehicle_exit(actor=guard, movement=left, now=old + dt.timedelta(hours=1))
    still_inside = vehicle_services.vehicle_enter(
        actor=guard, school=gate.school, plate="京A22222", purpose="staff", now=old
    )
    from huxiao.access import contraband_services

    stopped = contraband_services.interception_record(
        actor=guard,
        school=gate.school,
        category="knife",
        item="刀",
        carrier_kind="student",
        handling="held",
        now=old,
    )
    recent = contraband_services.interception_record(
        actor=guard,
        school=gate.school,
        category="other",
        item="打火机",
        carrier_kind="student",
        handling="held",
    )

    deleted = pass_retention.purge_before(gate.school, cutoff)

    assert deleted == 4  # one old scan, one movement, one interception, one ended pass
    assert set(GatePass.objects.values_list("pk", flat=True)) == {rescanned.pk, live.pk, other.pk}
    assert PassScan.objects.count() == 2
    assert list(VehicleMovement.objects.values_list("pk", flat=True)) == [still_inside.pk]
    assert list(Interception.objects.values_list("pk", flat=True)) == [recent.pk]
    assert stopped.pk not in Interception.objects.values_list("pk", flat=True)
    assert pass_retention.purge_before(gate.school.pk, cutoff) == 0
