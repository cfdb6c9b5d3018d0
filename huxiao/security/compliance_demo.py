"""Compliance of the demo county (issue 7 item 4; ADR 0028 "Compliance").

`load_demo_compliance()` runs last, after the township and the personnel, equipment,
defence, duty and rounds loaders: it makes sure 示范县 has its rule set (the shipped
defaults) and evaluates every school of the county through the real evaluation, with a
clock. The differences between the schools come from the facts the other loaders wrote
(guards, equipment, defences, cameras, alarm boxes, rounds); nothing here invents them.

Idempotent: a school whose verdicts are the same as stored keeps its row (and the time it
was evaluated), so a second run the same day writes nothing. Demo mode only.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from huxiao.demo.township import REGION_CODE, DemoModeOff
from huxiao.orgs.models import Organization, Region
from huxiao.security import compliance
from huxiao.security.rules import ensure_rules


def load_demo_compliance(stdout=None, *, now=None) -> dict:
    """Ensure the demo county's rules and evaluate its schools; return {"rules": n,
    "schools": evaluated, "compliant": n, "networked": n}.

    Refuses with DemoModeOff unless settings.DEMO_MODE is on; does nothing without the demo
    township."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    region = Region.objects.filter(code=REGION_CODE).first()
    if region is None:
        return {"rules": 0, "schools": 0, "compliant": 0, "networked": 0}
    now = now or timezone.now()
    rules = ensure_rules(region)
    ids = compliance.region_school_ids(region.pk)
    evaluated = compliance.evaluate_schools(ids, now=now, skip_unchanged=True)
    schools = list(
        Organization.objects.filter(pk__in=ids)
        .select_related("security_compliance")
        .order_by("town_id", "name")
    )
    compliant = networked = 0
    for school in schools:
        record = getattr(school, "security_compliance", None)
        if record is None:
            continue
        compliant += record.is_compliant
        networked += record.is_networked
        if stdout is not None:
            stdout.write(
                f"  {school.name}: {record.passed} met, {record.failed} not met, "
                f"{record.no_data} without data\n"
            )
    return {
        "rules": len(rules),
        "schools": evaluated,
        "compliant": compliant,
        "networked": networked,
    }
