"""The cluster evaluation (`clusters_evaluate`) and the notifiable-disease alert
(`alert_for_case`) with a controllable clock: thresholds at and below the limit, the
window's edges, distinct children, class against school, a second evaluation, a child
joining, a closed alert, the county's own rules, messages, audit rows, query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.health import surveillance_services as services
from huxiao.health.choices import AlertStatus, RuleKind, SymptomGroup
from huxiao.health.models import ClusterAlert, ClusterRule
from huxiao.health.symptoms import cluster_check_on_commit
from huxiao.health.tests.surveillance_fixtures import TODAY, days_ago, kids, make_case, sick
from huxiao.notify.models import Delivery, Notification
from huxiao.orgs.tests.factories import RegionFactory, SchoolFactory, TownFactory
from huxiao.people.tests.factories import SchoolClassFactory

pytestmark = pytest.mark.django_db


def evaluate(**kwargs):
    return services.clusters_evaluate(today=TODAY, **kwargs)


def class_alerts():
    return ClusterAlert.objects.filter(kind=RuleKind.CLASS_CLUSTER)


# ------------------------------------------------------------------ thresholds and windows


def test_three_children_of_a_class_within_three_days_raise_one_class_alert(hworld):
    w = hworld
    a, b, c = kids(w.school_class, 3)
    sick(a, TODAY)
    sick(b, days_ago(1), "cough")
    sick(c, days_ago(2), "fever", "cough")
    raised = evaluate()
    assert [x.is_new for x in raised] == [True]
    alert = class_alerts().get()
    assert alert.school_id == w.school.pk and alert.school_class_id == w.school_class.pk
    assert alert.symptom_group == SymptomGroup.RESPIRATORY
    assert alert.status == AlertStatus.OPEN and alert.rule is None  # the shipped default
    assert alert.child_count == 3
    assert set(alert.children.values_list("pk", flat=True)) == {a.pk, b.pk, c.pk}
    assert (alert.window_start, alert.window_end) == (days_ago(2), TODAY)
    assert alert.key == f"class_cluster:{w.school.pk}:{w.school_class.pk}:respiratory"
    # Three children are not five: no school alert.
    assert not ClusterAlert.objects.filter(kind=RuleKind.SCHOOL_CLUSTER).exists()


def test_two_children_are_below_the_limit(hworld):
    a, b = kids(hworld.school_class, 2)
    sick(a, TODAY)
    sick(b, TODAY, "cough")
    assert evaluate() == []
    assert not ClusterAlert.objects.exists()


def test_the_third_day_back_counts_the_fourth_does_not(hworld):
    a, b, c = kids(hworld.school_class, 3)
    sick(a, TODAY)
    sick(b, TODAY)
    sick(c, days_ago(3))
    assert evaluate() == []
    sick(c, days_ago(2))
    assert len(evaluate()) == 1
    assert class_alerts().get().window_start == days_ago(2)


def test_events_after_today_are_not_counted(hworld):
    a, b, c = kids(hworld.school_class, 3)
    for child in (a, b):
        sick(child, TODAY)
    sick(c, TODAY + dt.timedelta(days=1))
    assert evaluate() == []


def test_the_same_child_twice_is_counted_once(hworld):
    a, b = kids(hworld.school_class, 2)
    sick(a, TODAY, "fever", "cough")
    sick(a, days_ago(1), "cough")
    sick(b, days_ago(2))
    assert evaluate() == []


def test_symptoms_of_different_groups_are_not_similar(hworld):
    a, b, c = kids(hworld.school_class, 3)
    sick(a, TODAY, "fever")
    sick(b, TODAY, "cough")
    sick(c, TODAY, "vomiting")
    assert evaluate() == []
    # "Other" symptoms are not similar to each other either.
    d, e, f = kids(hworld.school_class, 3, prefix="他")
    for child in (d, e, f):
        sick(child, TODAY, "other")
    assert evaluate() == []


def test_another_class_counts_for_the_school_not_for_the_class(hworld):
    w = hworld
    second = SchoolClassFactory(school=w.school, name="小二班")
    third = SchoolClassFactory(school=w.school, name="中一班")
    mine = kids(w.school_class, 2)
    others = kids(second, 2, prefix="乙") + kids(third, 1, prefix="丙")
    # Over seven days: two in the second class within three, none elsewhere.
    for child, n in zip(mine + others, (3, 4, 1, 2, 6), strict=True):
        sick(child, days_ago(n))
    raised = evaluate()
    assert not class_alerts().exists()
    alert = ClusterAlert.objects.get(kind=RuleKind.SCHOOL_CLUSTER)
    assert alert.school_class_id is None and alert.child_count == 5
    assert [a.pk for a in raised] == [alert.pk]
    # A third child of the second class makes a class alert there only.
    extra = kids(second, 1, prefix="丁")[0]
    sick(extra, TODAY)
    evaluate()
    assert list(class_alerts().values_list("school_class_id", flat=True)) == [second.pk]
    assert ClusterAlert.objects.get(kind=RuleKind.SCHOOL_CLUSTER).child_count == 6


def test_the_school_window_is_seven_days(hworld):
    w = hworld
    classes = [SchoolClassFactory(school=w.school, name=f"班{i}") for i in range(5)]
    children = [kids(c, 1, prefix=f"{i}号")[0] for i, c in enumerate(classes)]
    for child in children[:4]:
        sick(child, TODAY)
    sick(children[4], days_ago(7))
    assert evaluate() == []
    sick(children[4], days_ago(6))
    assert len(evaluate()) == 1
    assert ClusterAlert.objects.filter(kind=RuleKind.SCHOOL_CLUSTER).count() == 1


def test_only_the_schools_asked_for_are_evaluated(hworld):
    w = hworld
    for child in kids(w.other_class, 3):
        sick(child, TODAY)
    assert evaluate(school_ids=[w.school.pk]) == []
    assert len(evaluate(school_ids=[w.other_school.pk])) == 1


# ------------------------------------------------------------------ open, grow, close


def test_a_second_evaluation_raises_nothing_and_sends_nothing(hworld):
    for child in kids(hworld.school_class, 3):
        sick(child, TODAY)
    assert len(evaluate()) == 1
    notes = Notification.objects.count()
    audits = AuditEvent.objects.count()
    assert evaluate() == []
    assert ClusterAlert.objects.count() == 1
    assert Notification.objects.count() == notes
    assert AuditEvent.objects.count() == audits


def test_a_new_child_joins_the_open_alert_without_a_second_message(hworld):
    children = kids(hworld.school_class, 4)
    for child in children[:3]:
        sick(child, days_ago(1))
    evaluate()
    alert = class_alerts().get()
    notes = Notification.objects.count()
    sick(children[3], TODAY, "cough")
    changed = evaluate()
    assert [(a.pk, a.is_new, a.added) for a in changed] == [(alert.pk, False, [children[3].pk])]
    alert.refresh_from_db()
    assert alert.child_count == 4 and alert.window_end == TODAY
    assert alert.children.count() == 4
    assert ClusterAlert.objects.count() == 1
    assert Notification.objects.count() == notes
    update = AuditEvent.objects.filter(
        object_type="health.clusteralert", object_id=str(alert.pk), action=AuditAction.UPDATE
    ).get()
    assert update.changes["children_added"] == [children[3].pk]


def test_a_closed_alert_is_not_raised_again_by_the_same_children(hworld):
    w = hworld
    children = kids(w.school_class, 4)
    for child in children[:3]:
        sick(child, TODAY)
    evaluate()
    first = class_alerts().get()
    services.cluster_alert_close(actor=w.users["nurse"], alert_id=first.pk, note="已通知家长，送医")
    assert evaluate() == []
    assert class_alerts().count() == 1
    # A new child in the window: a new alert, with every child of the match.
    sick(children[3], TODAY)
    raised = evaluate()
    assert [a.is_new for a in raised] == [True]
    second = class_alerts().get(status=AlertStatus.OPEN)
    assert second.pk != first.pk and second.child_count == 4
    assert Notification.objects.filter(event_type=services.CLUSTER_EVENT).count() == 2


def test_an_alert_closed_before_the_window_does_not_hold_back_a_new_cluster(hworld):
    w = hworld
    children = kids(w.school_class, 3)
    for child in children:
        sick(child, days_ago(10))
    services.clusters_evaluate(today=days_ago(10))
    old = class_alerts().get()
    services.cluster_alert_close(actor=w.users["nurse"], alert_id=old.pk, note="处理完毕")
    ClusterAlert.objects.filter(pk=old.pk).update(closed_at=old.raised_at - dt.timedelta(days=9))
    for child in children:
        sick(child, TODAY)
    assert len(evaluate()) == 1
    assert class_alerts().filter(status=AlertStatus.OPEN).count() == 1


# ------------------------------------------------------------------ the county's own rules


def _keep(w, *items):
    return services.cluster_rules_set(actor=w.users["countyhealth"], rules=list(items))


def test_the_countys_rules_apply_and_another_county_keeps_the_defaults(hworld):
    w = hworld
    _keep(w, {"kind": RuleKind.CLASS_CLUSTER, "min_children": 2, "window_days": 1})
    a, b = kids(w.school_class, 2)
    sick(a, TODAY)
    sick(b, TODAY)
    elsewhere_region = RegionFactory()
    elsewhere = SchoolFactory(town=TownFactory(region=elsewhere_region))
    far_class = SchoolClassFactory(school=elsewhere)
    c, d = kids(far_class, 2, prefix="外")
    sick(c, TODAY)
    sick(d, TODAY)
    raised = evaluate()
    assert [a.school_id for a in raised] == [w.school.pk]
    alert = class_alerts().get()
    assert alert.rule is not None and alert.rule.min_children == 2


def test_a_rule_for_one_group_replaces_similar_symptoms_for_it(hworld):
    w = hworld
    _keep(
        w,
        {
            "kind": RuleKind.CLASS_CLUSTER,
            "symptom_group": SymptomGroup.DIGESTIVE,
            "min_children": 2,
            "window_days": 1,
        },
    )
    a, b, c = kids(w.school_class, 3)
    sick(a, TODAY, "vomiting")
    sick(b, days_ago(1), "diarrhoea")
    sick(c, days_ago(2), "vomiting")
    # Three within three days, but the digestive rule wants two within one day.
    assert evaluate() == []
    sick(b, TODAY, "diarrhoea")
    assert len(evaluate()) == 1
    alert = class_alerts().get()
    assert alert.symptom_group == SymptomGroup.DIGESTIVE and alert.child_count == 2
    assert alert.rule.symptom_group == SymptomGroup.DIGESTIVE


def test_other_symptoms_alert_only_under_a_rule_of_their_own(hworld):
    w = hworld
    children = kids(w.school_class, 3)
    for child in children:
        sick(child, TODAY, "other")
    assert evaluate() == []
    _keep(
        w,
        {
            "kind": RuleKind.CLASS_CLUSTER,
            "symptom_group": SymptomGroup.OTHER,
            "min_children": 3,
            "window_days": 2,
        },
    )
    assert len(evaluate()) == 1
    assert class_alerts().get().symptom_group == SymptomGroup.OTHER


def test_a_rule_switched_off_raises_nothing(hworld):
    w = hworld
    _keep(w, {"kind": RuleKind.CLASS_CLUSTER, "is_active": False})
    for child in kids(w.school_class, 3):
        sick(child, TODAY)
    assert evaluate() == []


# ------------------------------------------------------------------ messages and trail


def test_the_alert_is_told_to_the_health_side_never_the_police(hworld):
    w = hworld
    for child in kids(w.school_class, 3):
        sick(child, TODAY)
    alert = evaluate()[0]
    note = Notification.objects.get(event_type=services.CLUSTER_EVENT)
    assert note.dedupe_key == f"{services.CLUSTER_EVENT}:{alert.pk}"
    assert note.payload["url"] == f"/health/alerts/{alert.pk}/"
    assert note.organization_id == w.school.pk
    told = set(Delivery.objects.filter(notification=note).values_list("recipient_id", flat=True))
    u = w.users
    assert told == {u["nurse"].pk, u["principal"].pk, u["health"].pk}
    assert "小一班" in note.title and "3" in note.title
    # No child's name in a message that may reach a robot group or an SMS.
    assert not any(c.name in note.title + note.body for c in alert.children.all())
    created = AuditEvent.objects.get(
        object_type="health.clusteralert", object_id=str(alert.pk), action=AuditAction.CREATE
    )
    assert created.actor_id is None and created.school_id == w.school.pk
    assert len(created.changes["children"]) == 3


def test_the_alert_title_reads_in_chinese(hworld):
    """LEAD: passes once the translations of /tmp/health_surveillance_translations.json are
    compiled; skipped before."""
    with translation.override("zh-hans"):
        if str(services.CLUSTER_TITLE["kindergarten"]).startswith("%(place)s:"):
            pytest.skip("surveillance translations not compiled yet")
    for child in kids(hworld.school_class, 3):
        sick(child, TODAY, "cough")
    evaluate()
    note = Notification.objects.get(event_type=services.CLUSTER_EVENT)
    assert note.title == "小一班 3 天内 3 名幼儿出现发热或咳嗽"


def test_the_query_count_does_not_grow_with_the_schools(hworld):
    w = hworld

    def plant(n):
        for i in range(n):
            school = SchoolFactory(town=w.town, health_centre=w.health_centre)
            klass = SchoolClassFactory(school=school)
            for child in kids(klass, 3, prefix=f"{n}-{i}-"):
                sick(child, TODAY)

    plant(2)
    with CaptureQueriesContext(connection) as small:
        assert len(evaluate()) == 2
    ClusterAlert.objects.all().delete()
    plant(6)
    with CaptureQueriesContext(connection) as large:
        assert len(evaluate()) == 8
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_real_time_path_evaluates_after_commit(hworld, django_capture_on_commit_callbacks):
    w = hworld
    for child in kids(w.school_class, 3):
        sick(child, dt.date.today())
    with django_capture_on_commit_callbacks(execute=True):
        cluster_check_on_commit(w.school.pk)
    assert class_alerts().count() == 1


# ------------------------------------------------------------------ notifiable disease


def test_a_notifiable_case_alerts_at_once_and_once(hworld):
    w = hworld
    case = make_case(w.child)
    alert = services.alert_for_case(case)
    assert alert.kind == RuleKind.NOTIFIABLE and alert.case_id == case.pk
    assert list(alert.children.values_list("pk", flat=True)) == [w.child.pk]
    assert alert.key == f"notifiable:case:{case.pk}" and alert.child_count == 1
    assert alert.symptom_group == SymptomGroup.ANY  # blisters and fever: two groups
    note = Notification.objects.get(event_type=services.NOTIFIABLE_EVENT)
    assert "手足口病" in note.title and w.child.name not in note.title + note.body
    told = set(Delivery.objects.filter(notification=note).values_list("recipient_id", flat=True))
    assert w.users["health"].pk in told and w.users["police"].pk not in told
    assert services.alert_for_case(case).pk == alert.pk
    assert ClusterAlert.objects.count() == 1 and Notification.objects.count() == 1


def test_no_notifiable_alert_for_an_ordinary_case_or_when_switched_off(hworld):
    w = hworld
    assert services.alert_for_case(make_case(w.child, notifiable=False)) is None
    _keep(w, {"kind": RuleKind.NOTIFIABLE, "is_active": False})
    assert services.alert_for_case(make_case(w.child)) is None
    assert not ClusterAlert.objects.exists()


def test_alert_for_case_never_raises(hworld, monkeypatch):
    def broken(case):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "_alert_for_case", broken)
    assert services.alert_for_case(make_case(hworld.child)) is None


def test_stored_rules_are_one_query_for_every_county(hworld):
    _keep(hworld, {"kind": RuleKind.CLASS_CLUSTER, "min_children": 4})
    assert ClusterRule.objects.filter(region=hworld.region).count() == 3
