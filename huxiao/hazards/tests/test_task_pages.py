"""Pages of surroundings tasks: the department's own list, the giving side's list, giving
a task (from a hazard too), and the moves by post (403/409/400)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.hazards.choices import HazardCategory, TaskStatus
from huxiao.hazards.models import SurroundingsTask
from huxiao.hazards.tests import listing_fixtures
from huxiao.hazards.tests.hazard_fixtures import report
from huxiao.hazards.tests.listing_fixtures import give_task, task_to

pytestmark = pytest.mark.django_db
lworld = listing_fixtures.lworld
LIST = reverse("hazards:task_list")
NEW = reverse("hazards:task_new")


def in_days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def given(w, **kwargs):
    kwargs.setdefault("deadline", in_days(7))
    return give_task(w, now=timezone.now(), **kwargs)


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("name", "status", "sees"),
    [
        ("market", 200, True),
        ("traffic", 200, False),
        ("gov", 200, True),
        ("edu", 200, True),
        ("police", 200, True),
        ("county", 200, True),
        ("fargov", 200, False),
        ("principal", 403, False),
        ("teacher", 403, False),
        ("nobody", 403, False),
    ],
)
def test_list_role_and_scope(client, lworld, name, status, sees):
    task = given(lworld)
    response = login(client, lworld.users[name]).get(LIST)
    assert response.status_code == status
    if status == 200:
        assert (f'data-task="{task.pk}"' in response.content.decode()) is sees


def test_list_filters(client, lworld):
    w = lworld
    open_task = given(w)
    done = task_to(w, given(w, title="已完成"), "confirmed")
    late = given(w, title="逾期")
    SurroundingsTask.objects.filter(pk=late.pk).update(deadline=in_days(-1))
    c = login(client, w.users["market"])
    body = c.get(LIST, {"status": "confirmed"}).content.decode()
    assert f'data-task="{done.pk}"' in body and f'data-task="{open_task.pk}"' not in body
    body = c.get(LIST, {"overdue": "on"}).content.decode()
    assert f'data-task="{late.pk}"' in body and f'data-task="{open_task.pk}"' not in body
    body = c.get(LIST).content.decode()
    # Open work first, the confirmed one last.
    assert body.index(f'data-task="{late.pk}"') < body.index(f'data-task="{done.pk}"')
    assert c.get(LIST, {"status": "zzz", "page": "x"}).status_code == 200


def test_give_a_task_through_the_form(client, lworld):
    w = lworld
    assert login(client, w.users["market"]).get(NEW).status_code == 403
    assert login(client, w.users["principal"]).get(NEW).status_code == 403
    c = login(client, w.users["gov"])
    page = c.get(NEW).content.decode()
    # Departments of the county only, the inactive one and the other county's left out.
    assert "市场监管所" in page and "交警中队" in page
    assert "外县所" not in page and "已撤销文化站" not in page
    data = {
        "school": w.school.pk,
        "department": w.market.pk,
        "department_kind": "market_regulation",
        "title": "清理园门口摊点",
        "description": "早晚高峰占道经营",
        "location": "园门口",
        "deadline": in_days(10).isoformat(),
        "assigned_by_org": w.gov_office.pk,
    }
    assert c.post(NEW, dict(data, deadline=in_days(-1).isoformat())).status_code == 400
    assert c.post(NEW, dict(data, department=w.far_dept.pk)).status_code == 400
    assert c.post(NEW, dict(data, description="")).status_code == 400
    assert not SurroundingsTask.objects.exists()
    response = c.post(NEW, data)
    task = SurroundingsTask.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{task.pk}/")
    assert task.department == w.market and task.assigned_by_org == w.gov_office


def test_give_a_task_from_a_hazard(client, lworld):
    w = lworld
    hazard = report(w, category=HazardCategory.TRAFFIC, title="接送车辆乱停", now=timezone.now())
    c = login(client, w.users["police"])
    url = f"{NEW}?hazard={hazard.pk}"
    assert "接送车辆乱停" in c.get(url).content.decode()
    data = {
        "department": w.traffic.pk,
        "department_kind": "traffic_police",
        "title": hazard.title,
        "description": hazard.description,
        "deadline": in_days(5).isoformat(),
        "assigned_by_org": w.station.pk,
    }
    assert c.post(url, data).status_code == 302
    task = SurroundingsTask.objects.get()
    assert task.hazard == hazard and task.school == w.school
    # The hazard page lists the task to those who may see it, not to the school.
    detail = reverse("hazards:hazard_detail", args=[hazard.pk])
    assert 'data-testid="hazard-tasks"' in c.get(detail).content.decode()
    page = login(client, w.users["principal"]).get(detail).content.decode()
    assert 'data-testid="hazard-tasks"' not in page
    assert login(client, w.users["fargov"]).get(url).status_code == 404


def test_moves_through_the_pages(client, lworld):
    w = lworld
    task = given(w)
    detail = reverse("hazards:task_detail", args=[task.pk])

    def move(name):
        return reverse("hazards:task_move", args=[task.pk, name])

    market = login(client, w.users["market"])
    page = market.get(detail).content.decode()
    assert 'data-testid="move-accept"' in page
    assert market.post(move("accept"), {"accept-note": "收到"}).status_code == 302
    # Accepting again: refused by the state.
    response = market.post(move("accept"), {})
    assert response.status_code == 409 and 'data-testid="refusal"' in response.content.decode()
    # Feedback without text: 400.
    assert market.post(move("feedback"), {"feedback-feedback": ""}).status_code == 400
    assert market.post(move("confirm"), {}).status_code == 403
    assert market.post(move("feedback"), {"feedback-feedback": "已清理"}).status_code == 302
    # The other department does not see the task; the school has no task pages.
    assert login(client, w.users["traffic"]).post(move("confirm"), {}).status_code == 404
    assert login(client, w.users["principal"]).get(detail).status_code == 403
    assert login(client, w.users["edu"]).post(move("confirm"), {}).status_code == 403
    gov = login(client, w.users["gov"])
    assert gov.post(move("return"), {"return-reason": ""}).status_code == 400
    assert gov.post(move("return"), {"return-reason": "仍有摊点"}).status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.ACCEPTED
    login(client, w.users["market"]).post(move("feedback"), {"feedback-feedback": "全部清理"})
    assert login(client, w.users["gov"]).post(move("confirm"), {}).status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.CONFIRMED
    assert client.post(reverse("hazards:task_move", args=[task.pk, "bogus"])).status_code == 404
    page = client.get(detail).content.decode()
    assert page.count("<li><time>") == 6  # assigned, accepted, feedback, returned, feedback, done
