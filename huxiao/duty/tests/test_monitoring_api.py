"""The monitoring-room API and page: scope (anonymous, wrong role, another school, own
school, police, town office, county), a new entry, bad input by field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.duty.models import MonitoringLogEntry

pytestmark = pytest.mark.django_db
URL = "/api/v1/duty/monitoring"


def _entry(world, **changes) -> dict:
    end = timezone.now().replace(microsecond=0) - dt.timedelta(minutes=5)
    data = {
        "school_id": world.school.pk,
        "watcher_id": world.users["guard"].pk,
        "period_start": (end - dt.timedelta(hours=2)).isoformat(),
        "period_end": end.isoformat(),
        "observations": "画面正常",
        "actions": "",
        "anomaly": False,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("name", "read", "write"),
    [
        ("principal", 200, 201),
        ("guard", 200, 201),
        ("teacher", 200, 201),
        ("principal2", 404, 404),
        ("police", 200, 403),
        ("farpolice", 404, 404),
        ("gov", 200, 403),
        ("county", 200, 403),
        ("nobody", 404, 404),
    ],
)
def test_scope(api, world, name, read, write):
    user = world.users[name]
    assert api("get", f"{URL}?school_id={world.school.pk}", user).status_code == read
    assert api("post", URL, user, json=_entry(world)).status_code == write
    assert MonitoringLogEntry.objects.count() == (1 if write == 201 else 0)


def test_anonymous(api, world):
    assert api("get", f"{URL}?school_id={world.school.pk}").status_code == 401
    assert api("post", URL, json=_entry(world)).status_code == 401


def test_create_and_read_the_day(api, world):
    g = world.users["guard"]
    response = api("post", URL, g, json=_entry(world, anomaly=True, actions="已报告"))
    assert response.status_code == 201 and response.json()["watcher"]
    body = api("get", f"{URL}?school_id={world.school.pk}", g).json()
    assert len(body["entries"]) >= 1 and body["max_gap_minutes"] == 120


def test_bad_input(api, world):
    g = world.users["guard"]
    now = timezone.now()
    cases = [
        ({"period_end": (now + dt.timedelta(hours=1)).isoformat()}, "period_end"),
        ({"period_start": (now - dt.timedelta(hours=30)).isoformat()}, "period_end"),
        ({"observations": ""}, "observations"),
        ({"watcher_id": world.users["principal2"].pk}, "watcher"),
        ({"watcher_id": None, "watcher_name": ""}, "watcher"),
    ]
    for change, field in cases:
        response = api("post", URL, g, json=_entry(world, **change))
        assert response.status_code == 400, change
        assert field in response.json()["errors"], change
    assert api("post", URL, g, json=_entry(world, period_end="soon")).status_code == 400
    assert not MonitoringLogEntry.objects.exists()


def test_page_writes_and_shows_errors(client, world):
    url = reverse("duty:monitoring", args=[world.school.pk])
    client.force_login(world.users["guard"])
    page = client.get(url).content.decode()
    assert 'data-testid="monitoring-form"' in page and 'data-testid="coverage"' in page
    local = timezone.localtime().replace(second=0, microsecond=0, tzinfo=None)
    data = {
        "watcher": world.users["guard"].pk,
        "period_start": (local - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "period_end": (local - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        "observations": "正常",
    }
    assert client.post(url, data).status_code == 302
    bad = client.post(url, {**data, "observations": "", "watcher": ""})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert 'data-testid="error-observations"' in page and 'data-testid="error-watcher"' in page
    assert MonitoringLogEntry.objects.count() == 1
    assert client.get(f"{url}?date=garbage").status_code == 200
    client.force_login(world.users["police"])
    assert 'data-testid="monitoring-form"' not in client.get(url).content.decode()
    assert client.post(url, data).status_code == 403
