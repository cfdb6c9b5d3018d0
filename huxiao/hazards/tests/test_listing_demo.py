"""The demo listed supervision, departments and surroundings tasks
(huxiao.hazards.listing_demo): demo mode only, after the demo hazards, through the real
services, idempotent and scoped like the real thing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from huxiao.demo.township import DemoModeOff, load_demo_township
from huxiao.hazards import listing_selectors, task_selectors
from huxiao.hazards.choices import ListingStatus, TaskStatus
from huxiao.hazards.demo import load_demo_hazards
from huxiao.hazards.listing_demo import MAJOR_HAZARD, MARKET, TRAFFIC, load_demo_listings
from huxiao.hazards.models import ListedSupervision, SurroundingsTask, SurroundingsTaskEvent
from huxiao.orgs.models import Membership, Organization

User = get_user_model()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _counts() -> dict:
    models = (ListedSupervision, SurroundingsTask, SurroundingsTaskEvent, Organization, Membership)
    return {m.__name__: m.objects.count() for m in models} | {"users": User.objects.count()}


@pytest.mark.django_db
def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(DemoModeOff):
        load_demo_listings()


@pytest.mark.django_db
def test_does_nothing_without_the_township(settings):
    settings.DEMO_MODE = True
    assert load_demo_listings() == {"listings": 0, "tasks": 0}
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_demo_listings_and_tasks(settings, media, client):
    settings.DEMO_MODE = True
    load_demo_township()
    load_demo_hazards()
    # The major hazard was listed automatically by load_demo_hazards (hazard_report's rule).
    auto = ListedSupervision.objects.get()
    assert auto.hazard.title == MAJOR_HAZARD and auto.listed_by is None
    assert auto.supervising_org.name == "大杨树镇综治办"

    assert load_demo_listings() == {"listings": 1, "tasks": 2}
    counts = _counts()
    listing = ListedSupervision.objects.get()
    assert listing.status == ListingStatus.ACTIVE and listing.reference.startswith("挂督〔")
    assert listing.requirements
    departments = {o.name: o for o in Organization.objects.filter(kind="department")}
    assert set(departments) == {MARKET, TRAFFIC}
    tasks = {t.department.name: t for t in SurroundingsTask.objects.select_related("department")}
    assert tasks[MARKET].status == TaskStatus.REPORTED and tasks[MARKET].hazard is not None
    assert tasks[TRAFFIC].status == TaskStatus.ASSIGNED
    assert tasks[TRAFFIC].assigned_by_org.name == "大杨树派出所"

    # Idempotent.
    assert load_demo_listings() == {"listings": 0, "tasks": 0}
    assert _counts() == counts

    # Scoped: each department sees its own task; the demo logins work.
    market, traffic = User.objects.get(username="market"), User.objects.get(username="traffic")
    assert market.check_password("huxiao-demo")
    assert list(task_selectors.visible_tasks(market)) == [tasks[MARKET]]
    assert list(task_selectors.visible_tasks(traffic)) == [tasks[TRAFFIC]]
    principal = User.objects.get(username="principal")
    assert list(listing_selectors.visible_listings(principal)) == []  # another school's
    client.force_login(User.objects.get(username="edu"))
    board = client.get("/hazards/listings/").content.decode()
    assert MAJOR_HAZARD in board and listing.reference in board
    client.force_login(User.objects.get(username="gov"))
    page = client.get(f"/hazards/tasks/{tasks[MARKET].pk}/").content.decode()
    assert 'data-testid="move-confirm"' in page
    notice = client.get(f"/hazards/listings/{listing.pk}/notice/").content.decode()
    assert "大杨树镇综治办" in notice and listing.reference in notice
