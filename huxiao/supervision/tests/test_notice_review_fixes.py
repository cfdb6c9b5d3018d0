# ruff: noqa: F811 - pytest fixtures imported from notice_fixtures are arguments here
"""Review fixes of the notice pages (ADR 0027, "Review fixes"): for a user of several
issuing offices, the ranking prefill and "all schools" use the scope of the issuer the
draft is made for, not the switcher's office (404) or every office together (400)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.core.context import SESSION_KEY
from huxiao.core.roles import OrgKind, Role
from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from huxiao.supervision.choices import RunStatus
from huxiao.supervision.models import AssessmentResult, AssessmentRun, AssessmentScheme, Notice
from huxiao.supervision.tests.notice_fixtures import nworld  # noqa: F401

pytestmark = pytest.mark.django_db

NEW = reverse("supervision:notice_new")


@pytest.fixture
def multi(nworld):
    """`multi` supervises for the town's education office (the switcher's choice) and for
    the other town's (`far_edu`)."""
    w = nworld
    w.far_edu = OrganizationFactory(
        kind=OrgKind.EDUCATION_OFFICE, town=w.other_town, name="外镇中心学校"
    )
    user = UserFactory(username="multi")
    w.home_membership = MembershipFactory(
        user=user, organization=w.edu_office, role=Role.EDUCATION_SUPERVISOR
    )
    MembershipFactory(user=user, organization=w.far_edu, role=Role.EDUCATION_SUPERVISOR)
    w.users["multi"] = user
    return w


def _login(client, w):
    client.force_login(w.users["multi"])
    session = client.session
    session[SESSION_KEY] = w.home_membership.pk
    session.save()
    return client


def _run(owner, results):
    scheme = AssessmentScheme.objects.create(name=f"{owner.name}考核", owner=owner)
    run = AssessmentRun.objects.create(
        scheme=scheme,
        period_start=dt.date(2025, 2, 1),
        period_end=dt.date(2025, 2, 28),
        status=RunStatus.PUBLISHED,
        computed_at=timezone.now(),
        published_at=timezone.now(),
    )
    for school, rank, score in results:
        AssessmentResult.objects.create(run=run, school=school, score=Decimal(score), rank=rank)
    return run


def test_prefill_from_a_run_of_the_other_office(client, multi):
    w = multi
    run = _run(w.far_edu, [(w.far_school, 1, "88")])
    response = _login(client, w).get(NEW, {"run": run.pk, "kind": "commendation", "n": 3})
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert initial["issuer"] == w.far_edu.pk
    assert initial["subjects"] == [w.far_school.pk] and initial["run"] == run.pk
    assert w.far_school.name in initial["body"]


def test_prefill_of_a_run_of_both_uses_the_switchers_office(client, multi):
    w = multi
    run = _run(w.edu_office, [(w.school, 1, "90"), (w.far_school, 2, "80")])
    response = _login(client, w).get(NEW, {"run": run.pk, "kind": "commendation", "n": 3})
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert initial["issuer"] == w.edu_office.pk
    assert initial["subjects"] == [w.school.pk]


def _form(w, issuer, **overrides):
    data = {
        "issuer": issuer.pk,
        "kind": "commendation",
        "reference": "",
        "title": "新通报",
        "body": "正文",
        "all_schools": "on",
        "recipients": [],
    }
    data.update(overrides)
    return data


def test_all_schools_of_the_chosen_issuer_only(client, multi):
    w = multi
    c = _login(client, w)
    response = c.post(NEW, _form(w, w.edu_office, subjects=[w.school.pk]))
    assert response.status_code == 302
    notice = Notice.objects.get()
    assert notice.issuer_id == w.edu_office.pk
    assert set(notice.receipts.values_list("organization_id", flat=True)) == {
        w.school.pk,
        w.other_school.pk,
    }


def test_all_schools_of_the_other_office(client, multi):
    w = multi
    response = _login(client, w).post(NEW, _form(w, w.far_edu, title="外镇通报"))
    assert response.status_code == 302
    notice = Notice.objects.get(title="外镇通报")
    assert notice.issuer_id == w.far_edu.pk
    assert list(notice.receipts.values_list("organization_id", flat=True)) == [w.far_school.pk]


def test_a_school_outside_the_issuers_scope_is_still_refused(client, multi):
    w = multi
    response = _login(client, w).post(
        NEW, _form(w, w.far_edu, all_schools="", recipients=[w.school.pk])
    )
    assert response.status_code == 400
    assert not Notice.objects.exists()


def test_single_office_all_schools_unchanged(client, nworld):
    w = nworld
    client.force_login(w.users["edu"])
    data = _form(w, w.edu_office)
    del data["issuer"]
    response = client.post(NEW, data)
    assert response.status_code == 302
    notice = Notice.objects.get()
    assert set(notice.receipts.values_list("organization_id", flat=True)) == {
        w.school.pk,
        w.other_school.pk,
    }
