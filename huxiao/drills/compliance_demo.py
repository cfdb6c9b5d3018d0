"""Terms and activity rules of the demo county (issue 8 item 3; ADR 0030 "Compliance").

`load_demo_compliance_rules()` runs after the township and before the activities
(`activity_demo.load_demo_activities`): 示范县 gets its current term entered explicitly — the
default calendar's term containing today, or the last one when today is in a holiday, with
the same dates and holidays — through the real service as the county's governance
coordinator (`county`), so it is audited like a keeper's; and the default activity rule set.
Compliance itself is computed on every page view: nothing else to load.

Idempotent: a term that already starts on that day (or any term overlapping it, e.g. one a
keeper entered during a demo) is left alone, and the rule set is only ever completed. Demo
mode only.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from huxiao.demo.township import REGION_CODE, DemoModeOff
from huxiao.drills import terms as T
from huxiao.drills.compliance_services import term_create
from huxiao.drills.models import Term
from huxiao.drills.rules import ensure_rules
from huxiao.orgs.models import Region

KEEPER = "county"


def demo_term(region_id: int, today):
    """The default term containing `today`, else the last one before it (unsaved)."""
    defaults = T.default_terms_between(region_id, today - T.LOOK_BACK, today)
    return T.term_at(defaults, today)


def load_demo_compliance_rules(stdout=None, *, today=None) -> dict:
    """Enter the demo county's current term and make sure of its rule set; return
    {"terms": terms created, "rules": rules of the county}.

    Refuses with DemoModeOff unless settings.DEMO_MODE is on; does nothing without the demo
    township."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    region = Region.objects.filter(code=REGION_CODE).first()
    if region is None:
        return {"terms": 0, "rules": 0}
    today = today or timezone.localdate()
    term = demo_term(region.pk, today)
    created = 0
    overlapping = Term.objects.filter(
        region=region, starts_on__lte=term.ends_on, ends_on__gte=term.starts_on
    )
    keeper = get_user_model().objects.filter(username=KEEPER, is_active=True).first()
    if not overlapping.exists() and keeper is not None:
        term_create(
            actor=keeper,
            region=region,
            name=term.name,
            starts_on=term.starts_on,
            ends_on=term.ends_on,
            breaks=term.breaks,
        )
        created = 1
    rules = ensure_rules(region)
    if stdout is not None:
        stdout.write(f"  {term.name}: {term.starts_on} – {term.ends_on}, {len(rules)} rules\n")
    return {"terms": created, "rules": len(rules)}
