"""The demo bus checks (huxiao.transport.inspection_demo): demo mode only, through the real
services, idempotent, with the states its docstring promises. The two buses are made here
as the fleet demo makes them (plates normalised), so this test does not depend on it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.orgs.models import Organization
from huxiao.transport import inspection_selectors as sel
from huxiao.transport.choices import FindingKind, FindingStatus, InspectionKind
from huxiao.transport.inspection_demo import KINDERGARTEN, load_demo_inspections
from huxiao.transport.models import BusFinding, BusInspection
from huxiao.transport.tests.inspection_fixtures import make_bus

pytestmark = pytest.mark.django_db
NOTHING = {"inspections": 0, "findings": 0}


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_inspections()


def test_does_nothing_without_the_township_or_the_bus(settings):
    settings.DEMO_MODE = True
    assert load_demo_inspections() == NOTHING
    load_demo_township()
    assert load_demo_inspections() == NOTHING
    assert not BusInspection.objects.exists()


def test_loads_once_with_the_promised_states(settings):
    settings.DEMO_MODE = True
    load_demo_township()
    school = Organization.objects.get(name=KINDERGARTEN)
    make_bus(school, plate="冀AX3712", seats=19)
    make_bus(school, plate="冀AX5820", seats=35)
    assert load_demo_inspections() == {"inspections": 2, "findings": 1}
    counts = (BusInspection.objects.count(), BusFinding.objects.count())
    snapshot = list(BusFinding.objects.values())
    assert load_demo_inspections() == NOTHING
    assert counts == (BusInspection.objects.count(), BusFinding.objects.count())
    assert snapshot == list(BusFinding.objects.values())

    spot = BusInspection.objects.get(kind=InspectionKind.RANDOM)
    assert spot.bus.plate == "冀AX3712" and spot.inspector.username == "officer"
    assert spot.station is not None and spot.riders_counted == 23
    finding = spot.findings.get()
    assert (finding.kind, finding.detail) == (FindingKind.OVERLOAD, "核载19人，实载23人")
    assert finding.status == FindingStatus.RESOLVED
    assert [e.kind for e in sel.followup_entries(finding.follow_up)] == ["school", "resolved"]
    assert spot.inspected_at < finding.resolved_at < timezone.now()
    scheduled = BusInspection.objects.get(kind=InspectionKind.SCHEDULED)
    assert scheduled.bus.plate == "冀AX5820" and not scheduled.findings.exists()
    assert scheduled.inspected_at < spot.inspected_at
