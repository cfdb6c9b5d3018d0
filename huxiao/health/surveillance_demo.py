"""The surveillance of the demo township (issue 9 item 4; ADR 0032 "Surveillance").

`load_demo_surveillance()` runs after the checks demo (`load_demo_check`), which plants
three children of 小一班 of 大杨树实验幼儿园 with fever or cough within the last three days.
It stores the shipped cluster-alert rules for the demo county (示范县), then evaluates every
school with the real evaluation (`clusters_evaluate(today=…)`): the 小一班 class alert is
raised and told to the kindergarten's health staff (保健医 `nurse`), the principal and the
health centre (`health`). For history it also leaves one older alert, handled: three
children of 中一班 with vomiting and diarrhoea nearly three weeks ago, closed two days later
by the health centre's 郑晓梅 with her handling note.

Demo mode only. Idempotent: the rules are stored once, the old alert is planted once, and a
second evaluation raises nothing new. Everything is fictional.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from huxiao.audit.models import AuditAction
from huxiao.audit.services import audit_record, snapshot
from huxiao.demo.township import REGION_CODE, DemoModeOff
from huxiao.health import surveillance_services as services
from huxiao.health.choices import AlertStatus, RuleKind, SymptomGroup
from huxiao.health.models import ClusterAlert, ClusterRule
from huxiao.orgs.models import Organization, Region
from huxiao.people.models import Child, SchoolClass

KINDERGARTEN = "大杨树实验幼儿园"
OLD_ALERT_CLASS = "中一班"
OLD_ALERT_DAYS_AGO = 19
OLD_ALERT_NOTE = (
    "三名幼儿先后出现呕吐、腹泻，经卫生院排查为饮食不当所致，均已康复返园；"
    "已对教室、卫生间和食堂进行消毒，晨午检加强观察一周，未再出现新病例。"
)


def _say(stdout, text: str) -> None:
    if stdout is not None:
        stdout.write(text)


def load_demo_surveillance(stdout=None, *, today: dt.date | None = None) -> dict:
    """Store the demo county's rules, plant the old handled alert, evaluate every school;
    return what was created."""
    if not getattr(settings, "DEMO_MODE", False):
        raise DemoModeOff("Demo mode is off (set HUXIAO_DEMO=1).")
    created = {"rules": 0, "old_alerts": 0, "alerts": 0}
    region = Region.objects.filter(code=REGION_CODE).first()
    if region is None:
        return created
    today = today or timezone.localdate()
    with transaction.atomic():
        Region.objects.select_for_update().filter(pk=region.pk).first()
        if not ClusterRule.objects.filter(region=region).exists():
            created["rules"] = len(services.cluster_rules_ensure(region.pk))
    created["old_alerts"] = _old_alert(today)
    changed = services.clusters_evaluate(today=today)
    created["alerts"] = sum(1 for alert in changed if alert.is_new)
    _say(
        stdout,
        f"surveillance: {created['rules']} rules, {created['old_alerts']} handled alert, "
        f"{created['alerts']} alerts raised\n",
    )
    return created


@transaction.atomic
def _old_alert(today: dt.date) -> int:
    """The handled digestive alert of 中一班, planted once."""
    school = Organization.objects.schools().filter(name=KINDERGARTEN).first()
    klass = SchoolClass.objects.filter(school=school, name=OLD_ALERT_CLASS).first()
    officer = get_user_model().objects.filter(username="health", is_active=True).first()
    if school is None or klass is None or officer is None:
        return 0
    key = services.alert_key(RuleKind.CLASS_CLUSTER, school.pk, klass.pk, SymptomGroup.DIGESTIVE)
    if ClusterAlert.objects.filter(key=key).exists():
        return 0
    children = list(Child.objects.filter(school_class=klass, is_active=True).order_by("pk")[:3])
    if len(children) < 3:
        return 0
    first = today - dt.timedelta(days=OLD_ALERT_DAYS_AGO + 2)
    raised_at = timezone.make_aware(
        dt.datetime.combine(today - dt.timedelta(days=OLD_ALERT_DAYS_AGO), dt.time(9, 20))
    )
    closed_at = raised_at + dt.timedelta(days=2, hours=6, minutes=40)
    rule = ClusterRule.objects.filter(
        region_id=school.region_id, kind=RuleKind.CLASS_CLUSTER, symptom_group=SymptomGroup.ANY
    ).first()
    alert = ClusterAlert.objects.create(
        school=school,
        school_class=klass,
        rule=rule,
        kind=RuleKind.CLASS_CLUSTER,
        symptom_group=SymptomGroup.DIGESTIVE,
        key=key,
        window_start=first,
        window_end=first + dt.timedelta(days=2),
        child_count=len(children),
        raised_at=raised_at,
    )
    alert.children.set(children)
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        obj=alert,
        changes={"after": snapshot(alert), "children": [c.pk for c in children]},
        at=raised_at,
    )
    before = snapshot(alert)
    alert.status = AlertStatus.CLOSED
    alert.closed_at = closed_at
    alert.closed_by = officer
    alert.note = OLD_ALERT_NOTE
    alert.save(update_fields=["status", "closed_at", "closed_by", "note"])
    after = snapshot(alert)
    audit_record(
        actor=officer,
        action=AuditAction.UPDATE,
        obj=alert,
        changes={
            "fields": {k: [before.get(k), after[k]] for k in after if before.get(k) != after[k]}
        },
        at=closed_at,
    )
    return 1
