"""Exports of the patrols lists (issue 10 item 5): each holds the page's rows for the same
filters, another school's list is 404 as on the page, and one round trip to a workbook."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from huxiao.orgs.tests.export_helpers import (
    button_on,
    export_ids,
    page,
    refused_with_message,
    request_export,
    round_trip,
)
from huxiao.patrols import lvp_services, services, video_services
from huxiao.patrols.tests.conftest import MONDAY, at

pytestmark = pytest.mark.django_db

WEEK = MONDAY.isoformat()


@pytest.fixture
def patrolled(posts, cams):
    w = cams
    officer = w.users["officer"]
    w.visit = services.police_visit_create(
        actor=officer, school=w.school, arrived_at=at(MONDAY, "09:00"), now=at(MONDAY, "10:00")
    )
    w.other_visit = services.police_visit_create(
        actor=officer,
        school=w.other_school,
        arrived_at=at(MONDAY, "11:00"),
        now=at(MONDAY, "12:00"),
    )
    w.log = services.patrol_log_create(
        actor=officer,
        started_at=at(MONDAY, "07:00"),
        ended_at=at(MONDAY, "08:30"),
        mode="car",
        dress="uniform",
        route="幸福路",
        school_ids=[w.school.pk, w.other_school.pk],
        now=at(MONDAY, "09:00"),
    )
    w.video = video_services.video_patrol_create(
        actor=officer,
        started_at=at(MONDAY, "20:00"),
        ended_at=at(MONDAY, "20:30"),
        observations=[{"camera_id": w.cam.pk, "seen": "正常"}],
        now=at(MONDAY, "21:00"),
    )
    w.lvp = lvp_services.lvp_assign(
        actor=w.users["police"],
        school=w.school,
        officer=officer,
        term_start=dt.date(2025, 9, 1),
        appointment_no="示公字〔2025〕8号",
    )
    return w


def _pk(obj):
    return obj.pk


# (export, page url name, page query, context key, id of a row)
LISTS = [
    ("patrols.posts", "patrols:post_list", "", "posts", _pk),
    ("patrols.logs", "patrols:log_list", "", "logs", _pk),
    ("patrols.visit_week", "patrols:visit_list", f"week={WEEK}", "rows", lambda r: r.school_id),
    ("patrols.visits", "patrols:visit_list", f"week={WEEK}", "visits", _pk),
    ("patrols.cameras", "patrols:video_cameras", "", "cameras", _pk),
    ("patrols.video_patrols", "patrols:video_patrols", "", "patrols", _pk),
    ("patrols.lvp", "patrols:lvp_list", "ended=1", "assignments", _pk),
]


@pytest.mark.parametrize("name, url, query, key, row_id", LISTS, ids=[x[0] for x in LISTS])
@pytest.mark.parametrize("narrowed", [False, True], ids=["all", "one-school"])
def test_export_rows_are_the_pages_rows(client, patrolled, name, url, query, key, row_id, narrowed):
    w = patrolled
    user = w.users["police"]
    if narrowed:
        query = f"{query}&school={w.school.pk}".lstrip("&")
    response = page(client, user, f"{reverse(url)}?{query}")
    assert button_on(response, name)
    listed = [row_id(obj) for obj in response.context[key]]
    assert listed, "the fixture gives every list a row"
    assert export_ids(user, name, query) == listed
    # the far station's commander asking for this school's list: 404, as the page answers
    far_query = f"{query}&school={w.school.pk}".lstrip("&")
    client.force_login(w.users["farpolice"])
    assert client.get(f"{reverse(url)}?{far_query}").status_code == 404
    assert request_export(client, w.users["farpolice"], name, far_query).status_code == 404


def test_the_far_station_never_gets_this_stations_rows(patrolled):
    w = patrolled
    far = w.users["farpolice"]
    mine = {w.log.pk, w.visit.pk, w.video.pk, w.lvp.pk, w.cam.pk, w.morning.pk}
    for name, _url, query, _key, _row in LISTS:
        ids = export_ids(far, name, query)
        assert not mine & set(ids) or name == "patrols.visit_week", name
    assert w.school.pk not in export_ids(far, "patrols.visit_week", f"week={WEEK}")


@pytest.mark.parametrize(
    "name, query",
    [
        ("patrols.posts", "school=abc"),
        ("patrols.logs", f"school={2**70}"),
        ("patrols.cameras", "school=-3"),
    ],
)
def test_bad_school_filter_is_404(client, patrolled, name, query):
    assert request_export(client, patrolled.users["police"], name, query).status_code == 404


def test_a_bad_week_is_a_message_not_a_500(client, patrolled):
    response = request_export(
        client, patrolled.users["police"], "patrols.visits", "week=1800-01-01"
    )
    assert refused_with_message(response)


def test_a_role_without_patrol_logs_is_refused(client, patrolled):
    assert (
        request_export(client, patrolled.users["principal"], "patrols.logs", "").status_code == 403
    )


def test_video_patrol_export_round_trip(client, patrolled, django_capture_on_commit_callbacks):
    w = patrolled
    values = round_trip(
        client, w.users["officer"], "patrols.video_patrols", "", django_capture_on_commit_callbacks
    )
    assert "本园" in values and w.video.pk in values
