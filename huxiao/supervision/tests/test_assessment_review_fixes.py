"""Review fixes of assessment and ranking (ADR 0027, "Review fixes"): publishing locks the
scheme before the run and a recomputation deletes drafts only; a veto locks the school and
is in force once per school and period (`veto_once`); removing a manual indicator audits
each manual score it takes with it; a veto revoked after a ranking was computed is shown
as revoked on the school's page."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.query import QuerySet
from django.urls import reverse
from django.utils import timezone, translation

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.orgs.models import Organization
from huxiao.supervision import assessment_selectors as sel
from huxiao.supervision import assessment_services as svc
from huxiao.supervision.choices import RunStatus
from huxiao.supervision.models import (
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    ManualScore,
    Veto,
)
from huxiao.supervision.tests.assessment_fixtures import (
    AFTER,
    MARCH,
    MARCH_START,
    add_schools,
    compute,
    indicator,
    manual,
    scheme,
)

pytestmark = pytest.mark.django_db
ONE = [("甲", "manual", "100", {})]
# The read of the draft ids (values_list("pk"), aliased "pk" or not).
RUN_IDS = re.compile(r'^SELECT "supervision_assessmentrun"\."id"( AS "pk")? FROM ')
VETO_EXISTS = 'FROM "supervision_veto"'


@pytest.fixture
def aworld(sworld):
    return add_schools(sworld)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def lock_order(monkeypatch):
    """The models of the rows locked (select_for_update), in order."""
    seen = []
    original = QuerySet.select_for_update

    def recording(self, *args, **kwargs):
        seen.append(self.model)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "select_for_update", recording)
    return seen


def after_query(match, action):
    """An execute wrapper that runs `action()` once, right after the first statement whose
    SQL matches `match(sql)`: what another transaction would commit at that moment."""
    state = {"done": False}

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not state["done"] and match(sql):
            state["done"] = True
            action()
        return result

    return connection.execute_wrapper(wrapper)


# ------------------------------------------------------------------ publish and compute


def test_publish_locks_the_scheme_before_the_run(aworld, lock_order):
    w = aworld
    s = scheme(w, ONE)
    manual(w, s, "甲", w.school, "80")
    run = compute(w, s)
    lock_order.clear()
    svc.assessment_publish(actor=w.users["edu"], run=run, now=AFTER)
    assert AssessmentScheme in lock_order and AssessmentRun in lock_order
    assert lock_order.index(AssessmentScheme) < lock_order.index(AssessmentRun)


def test_compute_locks_the_scheme_first(aworld, lock_order):
    w = aworld
    s = scheme(w, ONE)
    lock_order.clear()
    compute(w, s)
    assert lock_order[0] is AssessmentScheme


def test_recompute_never_deletes_a_run_published_meanwhile(aworld):
    """The draft ids are read, then (as if a publish committed in between) the draft is
    published: the recomputation deletes drafts only, so the published run stays."""
    w = aworld
    s = scheme(w, ONE)
    manual(w, s, "甲", w.school, "80")
    first = compute(w, s)

    def publish_meanwhile():
        AssessmentRun.objects.filter(pk=first.pk).update(
            status=RunStatus.PUBLISHED, published_at=AFTER
        )

    with after_query(lambda sql: RUN_IDS.match(sql) and "status" in sql, publish_meanwhile):
        second = compute(w, s)
    first.refresh_from_db()
    assert first.status == RunStatus.PUBLISHED
    assert AssessmentResult.objects.filter(run=first).count() == 4
    assert second.status == RunStatus.DRAFT and second.pk != first.pk


def test_recompute_still_replaces_the_draft(aworld):
    w = aworld
    s = scheme(w, ONE)
    first = compute(w, s)
    compute(w, s)
    assert not AssessmentRun.objects.filter(pk=first.pk).exists()


# ------------------------------------------------------------------ the veto, once


def test_veto_locks_the_school_row(aworld, lock_order):
    w = aworld
    svc.veto_record(actor=w.users["gov"], school=w.school, day=MARCH, reason="事故", now=AFTER)
    assert Organization in lock_order


def test_veto_once_constraint(aworld):
    w = aworld
    svc.veto_record(actor=w.users["gov"], school=w.school, day=MARCH, reason="事故", now=AFTER)
    first = Veto.objects.get()
    twin = dict(
        school=w.school,
        period_start=first.period_start,
        period_end=first.period_end,
        reason="再",
        decided_by_org=w.gov_office,
        decided_at=AFTER,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Veto.objects.create(**twin)
    # Another period, or after the first was revoked: allowed.
    Veto.objects.create(**{**twin, "period_start": dt.date(2025, 2, 1)})
    svc.veto_revoke(actor=w.users["gov"], veto=first, reason="撤销", now=AFTER)
    again = svc.veto_record(
        actor=w.users["gov"], school=w.school, day=MARCH, reason="再次", now=AFTER
    )
    assert again.pk != first.pk


def test_concurrent_veto_is_refused_not_a_500(aworld):
    """A veto of the same school and period committed between the check and the insert
    (what the school's row lock prevents) ends as the 409 refusal, not an IntegrityError
    (a 500). Here the "other" veto shares the test's transaction and is rolled back with
    the refusal."""
    w = aworld

    def veto_meanwhile():
        Veto.objects.create(
            school=w.school,
            period_start=MARCH_START,
            period_end=dt.date(2025, 3, 31),
            reason="并发",
            decided_by_org=w.gov_office,
            decided_at=AFTER,
        )

    with (
        after_query(lambda sql: VETO_EXISTS in sql and sql.startswith("SELECT"), veto_meanwhile),
        pytest.raises(svc.AssessmentRefused),
    ):
        svc.veto_record(actor=w.users["gov"], school=w.school, day=MARCH, reason="事故", now=AFTER)


# ------------------------------------------------------------------ manual scores audited


def test_removing_a_manual_indicator_audits_each_score(aworld):
    w = aworld
    s = scheme(w, [("甲", "manual", "50", {}), ("乙", "manual", "50", {})])
    manual(w, s, "乙", w.school, "80")
    manual(w, s, "乙", w.other_school, "60")
    manual(w, s, "甲", w.school, "70")
    gone = indicator(s, "乙")
    ids = set(ManualScore.objects.filter(indicator=gone).values_list("pk", flat=True))
    keep = indicator(s, "甲")
    svc.scheme_update(
        actor=w.users["edu"],
        scheme=s,
        name=s.name,
        indicators=[{"id": keep.pk, "name": "甲", "source": "manual", "weight": "100"}],
    )
    assert not ManualScore.objects.filter(pk__in=ids).exists()
    rows = AuditEvent.objects.filter(
        object_type="supervision.manualscore", action=AuditAction.DELETE
    )
    assert {int(r.object_id) for r in rows} == ids
    by_school = {r.school_id: r for r in rows}
    assert set(by_school) == {w.school.pk, w.other_school.pk}
    assert by_school[w.school.pk].changes["before"]["percent"] == "80.0"
    assert all(r.actor == w.users["edu"] for r in rows)
    # The kept indicator's score is untouched and not audited as deleted.
    assert ManualScore.objects.filter(indicator=keep).count() == 1


# ------------------------------------------------------------------ a veto revoked later


@pytest.fixture
def vetoed_and_published(aworld):
    w = aworld
    s = scheme(w, ONE)
    manual(w, s, "甲", w.school, "95")
    veto = svc.veto_record(
        actor=w.users["gov"], school=w.school, day=MARCH, reason="发生安全责任事故", now=AFTER
    )
    run = compute(w, s)
    svc.assessment_publish(actor=w.users["edu"], run=run, now=AFTER)
    return w, run, veto


def test_veto_in_force_is_listed_as_before(vetoed_and_published):
    w, run, veto = vetoed_and_published
    (item,) = sel.school_results(actor=w.users["principal"], school_id=w.school.pk)
    assert item.result.vetoed
    assert item.vetoes == [veto] and item.revoked_vetoes == []


def test_veto_revoked_after_publishing_is_shown_as_revoked(vetoed_and_published, client):
    w, run, veto = vetoed_and_published
    later = AFTER + dt.timedelta(days=3)
    svc.veto_revoke(actor=w.users["gov"], veto=veto, reason="经复核不属实", now=later)
    (item,) = sel.school_results(actor=w.users["principal"], school_id=w.school.pk)
    assert item.result.vetoed  # the published result is frozen
    assert item.vetoes == []
    assert [v.pk for v in item.revoked_vetoes] == [veto.pk]
    client.force_login(w.users["principal"])
    body = client.get(reverse("supervision:assessment_school", args=[w.school.pk])).content
    body = body.decode()
    assert 'data-testid="my-veto"' in body
    assert 'data-testid="my-veto-revoked"' in body
    assert "经复核不属实" in body and "发生安全责任事故" in body
    assert timezone.localtime(later).date().isoformat() in body


def test_veto_revoked_before_computing_is_not_shown(aworld):
    w = aworld
    s = scheme(w, ONE)
    manual(w, s, "甲", w.school, "95")
    veto = svc.veto_record(
        actor=w.users["gov"], school=w.school, day=MARCH, reason="误录", now=AFTER
    )
    svc.veto_revoke(actor=w.users["gov"], veto=veto, reason="撤销", now=AFTER)
    run = compute(w, s, now=AFTER + dt.timedelta(hours=1))
    svc.assessment_publish(actor=w.users["edu"], run=run, now=AFTER + dt.timedelta(hours=2))
    (item,) = sel.school_results(actor=w.users["principal"], school_id=w.school.pk)
    assert not item.result.vetoed
    assert item.vetoes == [] and item.revoked_vetoes == []
    assert item.result.score == Decimal("95.00")


# ------------------------------------------------------------------ real concurrency (PostgreSQL)


def _in_threads(n, target):
    """Run `target(i)` in n threads at once, each on its own connection; their outcomes."""
    import threading

    from django.db import connections

    outcomes = [None] * n

    def run(i):
        try:
            outcomes[i] = target(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_vetoes_make_one(aworld):
    """Both calls reach the "already vetoed" check together unless the school's row lock
    holds the second back: exactly one veto, the other call refused (409)."""
    import threading

    w = aworld
    barrier = threading.Barrier(2, timeout=3)

    def veto(i):
        def wait_after_check(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            if sql.startswith("SELECT") and VETO_EXISTS in sql:
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait()  # the other call gets here too only without the lock
            return result

        with connection.execute_wrapper(wait_after_check):
            return svc.veto_record(
                actor=w.users["gov"], school=w.school, day=MARCH, reason=f"事故{i}", now=AFTER
            )

    outcomes = _in_threads(2, veto)
    assert sum(isinstance(o, Veto) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, svc.AssessmentRefused) for o in outcomes) == 1, outcomes
    assert Veto.objects.filter(school=w.school, revoked_at__isnull=True).count() == 1
