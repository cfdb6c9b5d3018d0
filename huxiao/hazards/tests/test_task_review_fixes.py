"""Review fixes of surroundings tasks (ADR 0026, "Review fixes"): a person in both the
department and the giving office cannot confirm or return their own feedback; the API
looks the department up among the school's candidates and answers one message for any
other organization id."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from huxiao.core.roles import Role
from huxiao.core.scoping import clear_scope_cache
from huxiao.hazards import task_services as ts
from huxiao.hazards.choices import TaskStatus
from huxiao.hazards.models import SurroundingsTask
from huxiao.hazards.tests import listing_fixtures
from huxiao.hazards.tests.listing_fixtures import NOW, give_task
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
lworld = listing_fixtures.lworld
BASE = "/api/v1/hazards/tasks"


@pytest.fixture
def dual(lworld):
    """`gov` also serves in the market department; `gov2` is a second coordinator of the
    town's governance office."""
    w = lworld
    MembershipFactory(user=w.users["gov"], organization=w.market, role=Role.GOVERNMENT_LIAISON)
    clear_scope_cache(w.users["gov"])
    gov2 = UserFactory(username="gov2")
    MembershipFactory(user=gov2, organization=w.gov_office, role=Role.GOVERNANCE_COORDINATOR)
    w.users["gov2"] = gov2
    return w


def _fed_back_by_gov(w, now=NOW):
    gov = w.users["gov"]
    task = give_task(w, actor=gov, now=now, deadline=timezone.localdate(now) + dt.timedelta(7))
    task = ts.task_accept(actor=gov, task=task, now=now)
    return ts.task_feedback(actor=gov, task=task, feedback="已清理摊点", now=now)


# ------------------------------------------------------------------ 6. own feedback


def test_own_feedback_cannot_be_confirmed_or_returned(dual):
    w = dual
    gov = w.users["gov"]
    task = _fed_back_by_gov(w)
    assert task.feedback_by == gov
    assert ts.allowed_moves(gov, task) == []
    with pytest.raises(PermissionDenied):
        ts.task_confirm(actor=gov, task=task, now=NOW)
    with pytest.raises(PermissionDenied):
        ts.task_return(actor=gov, task=task, reason="自己退回", now=NOW)
    task.refresh_from_db()
    assert task.status == TaskStatus.REPORTED
    # Another member of the giving office may.
    assert set(ts.allowed_moves(w.users["gov2"], task)) == {"confirm", "return"}
    task = ts.task_confirm(actor=w.users["gov2"], task=task, now=NOW)
    assert task.status == TaskStatus.CONFIRMED and task.confirmed_by == w.users["gov2"]


def test_own_feedback_api_and_page(api, client, dual):
    w = dual
    task = _fed_back_by_gov(w, now=timezone.now())
    gov = w.users["gov"]
    response = api("post", f"{BASE}/{task.pk}/confirm", gov, json={"note": ""})
    assert response.status_code == 403
    assert api("get", f"{BASE}/{task.pk}", gov).json()["allowed_moves"] == []
    client.force_login(gov)
    page = client.get(reverse("hazards:task_detail", args=[task.pk])).content.decode()
    assert 'data-testid="do-confirm"' not in page and 'data-testid="do-return"' not in page
    assert SurroundingsTask.objects.get().status == TaskStatus.REPORTED


# ------------------------------------------------------------------ 7. department lookup


def _payload(w, department_id):
    return {
        "school_id": w.school.pk,
        "department_id": department_id,
        "department_kind": "market_regulation",
        "title": "清理园门口流动摊点",
        "description": "早晚高峰园门口有三处流动摊点占道经营",
        "deadline": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
    }


def test_api_gives_one_message_for_any_organization_not_offered(api, lworld):
    w = lworld
    messages = set()
    with translation.override("en"):
        for department_id in (
            w.gov_office.pk,  # not a department
            w.closed_dept.pk,  # inactive
            w.far_dept.pk,  # another county
            w.school.pk,  # a school
            99_999_999,  # nothing at all
        ):
            response = api("post", BASE, w.users["gov"], json=_payload(w, department_id))
            assert response.status_code == 400
            messages.add(tuple(response.json()["errors"]["department"]))
    assert len(messages) == 1
    assert not SurroundingsTask.objects.exists()
    ok = api("post", BASE, w.users["gov"], json=_payload(w, w.market.pk))
    assert ok.status_code == 201 and ok.json()["department_id"] == w.market.pk


def test_service_reads_the_department_again(lworld):
    """An Organization carrying only an id (as the API passes) is read among the school's
    candidates: its other fields, possibly stale or forged, do not count."""
    from huxiao.orgs.models import Organization

    w = lworld
    forged = Organization(pk=w.far_dept.pk, kind="department", is_active=True)
    forged.region_id = w.school.region_id
    with pytest.raises(ValidationError) as exc:
        give_task(w, department=forged)
    assert "department" in exc.value.message_dict
    task = give_task(w, department=Organization(pk=w.market.pk))
    assert task.department.name == w.market.name
