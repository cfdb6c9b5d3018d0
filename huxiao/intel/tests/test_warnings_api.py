"""REST API of warnings both ways: role × scope matrix, shapes, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from huxiao.intel import warnings_services as services
from huxiao.intel.models import EarlyWarning, EarlyWarningRecipient, WarningSign
from huxiao.intel.tests.warnings_fixtures import png

pytestmark = pytest.mark.django_db

SIGN_SEES = ["principal", "guard", "teacher", "duty", "police", "officer", "postofficer"]
SIGN_404 = ["principal2", "farpolice"]
NO_WARNINGS = ["edu", "gov", "county", "health", "nobody"]


def _early_to_school_only(ww):
    return services.early_warning_issue(
        actor=ww.users["police"],
        school_ids=[ww.school.pk],
        title="可疑车辆",
        content="白色面包车",
        level="yellow",
        valid_from=timezone.now() - dt.timedelta(hours=1),
        valid_until=timezone.now() + dt.timedelta(days=1),
    )


# ------------------------------------------------------------------ warning signs


def test_anonymous_is_401(api, ww, sign):
    assert api("get", "/api/v1/warning-signs").status_code == 401
    assert api("get", f"/api/v1/warning-signs/{sign.pk}").status_code == 401
    assert api("get", "/api/v1/early-warnings").status_code == 401


@pytest.mark.parametrize("name", SIGN_SEES)
def test_sign_visible_to_own_school_and_its_police(api, ww, sign, name):
    response = api("get", f"/api/v1/warning-signs/{sign.pk}", ww.users[name])
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "reported" and data["time_node"] == "pickup_time"
    assert len(data["attachments"]) == 1 and data["events"][0]["status"] == "reported"
    listing = api("get", "/api/v1/warning-signs", ww.users[name]).json()
    assert [s["id"] for s in listing["items"]] == [sign.pk]
    file = api("get", data["attachments"][0]["url"], ww.users[name])
    assert file.status_code == 200 and file["Content-Type"] == "image/png"


@pytest.mark.parametrize("name", SIGN_404)
def test_sign_of_another_school_is_404(api, ww, sign, name):
    user = ww.users[name]
    assert api("get", f"/api/v1/warning-signs/{sign.pk}", user).status_code == 404
    att = sign.attachments.get()
    assert (
        api("get", f"/api/v1/warning-signs/{sign.pk}/attachments/{att.pk}", user).status_code == 404
    )
    assert api("get", "/api/v1/warning-signs", user).json()["count"] == 0
    response = api(
        "post",
        f"/api/v1/warning-signs/{sign.pk}/transition",
        user,
        json={"status": "assessing", "note": "x"},
    )
    assert response.status_code == 404
    assert WarningSign.objects.get(pk=sign.pk).status == "reported"


@pytest.mark.parametrize("name", NO_WARNINGS)
def test_sign_roles_without_warnings_are_403(api, ww, sign, name):
    user = ww.users[name]
    assert api("get", "/api/v1/warning-signs", user).status_code == 403
    assert api("get", f"/api/v1/warning-signs/{sign.pk}", user).status_code == 403
    response = api(
        "post", "/api/v1/warning-signs", user, json={"category": "other", "description": "x"}
    )
    assert response.status_code == 403
    assert WarningSign.objects.count() == 1


def test_report_and_feedback_flow(api, ww, published):
    response = api(
        "post",
        "/api/v1/warning-signs",
        ww.users["principal"],
        json={
            "category": "dispute",
            "description": "两名家长在校门口争吵并扬言动手",
            "observed_at": "2026-03-02T07:40:00+08:00",
            "observed_place": "校门口",
            "time_node": "pickup_time",
        },
    )
    assert response.status_code == 201, response.content
    sign_id = response.json()["id"]
    for status, note in (("assessing", "正在研判"), ("no_action", "已调解，无需进一步处置")):
        response = api(
            "post",
            f"/api/v1/warning-signs/{sign_id}/transition",
            ww.users["officer"],
            json={"status": status, "note": note},
        )
        assert response.status_code == 200
    data = api("get", f"/api/v1/warning-signs/{sign_id}", ww.users["principal"]).json()
    assert data["status"] == "no_action"
    assert data["feedback"] == "已调解，无需进一步处置"
    assert [e["status"] for e in data["events"]] == ["reported", "assessing", "no_action"]


def test_school_cannot_transition(api, ww, sign):
    response = api(
        "post",
        f"/api/v1/warning-signs/{sign.pk}/transition",
        ww.users["principal"],
        json={"status": "assessing", "note": "x"},
    )
    assert response.status_code == 403
    assert WarningSign.objects.get(pk=sign.pk).status == "reported"


def test_transition_out_of_order_is_400(api, ww, sign):
    response = api(
        "post",
        f"/api/v1/warning-signs/{sign.pk}/transition",
        ww.users["police"],
        json={"status": "action_taken", "note": "x"},
    )
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


@pytest.mark.parametrize(
    "payload",
    [
        {"category": "other"},
        {"category": "nope", "description": "x"},
        {"category": "other", "description": "x", "extra": 1},
        {"category": "other", "description": "x", "school_id": 0},
        {"category": "other", "description": "x", "observed_at": "yesterday"},
    ],
)
def test_bad_report_is_400(api, ww, payload):
    response = api("post", "/api/v1/warning-signs", ww.users["guard"], json=payload)
    assert response.status_code == 400
    assert not WarningSign.objects.exists()


def test_report_for_a_school_not_yours_is_400(api, ww):
    response = api(
        "post",
        "/api/v1/warning-signs",
        ww.users["guard"],
        json={"category": "other", "description": "x", "school_id": ww.other_school.pk},
    )
    assert response.status_code == 400
    assert "school_id" in response.json()["errors"]
    assert not WarningSign.objects.exists()


def test_attachments_upload_and_oversize(api, ww, sign, settings):
    token = api.token_for(ww.users["guard"])
    url = f"/api/v1/warning-signs/{sign.pk}/attachments"
    response = api.client.post(url, {"files": [png("b.png")]}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 201
    assert len(response.json()["attachments"]) == 2
    big = png("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (services.ATTACHMENT_MAX_BYTES + 10))
    response = api.client.post(url, {"files": [big]}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 400
    assert "big.png" in response.json()["errors"]["attachments"][0]
    assert sign.attachments.count() == 2


# ------------------------------------------------------------------ early warnings


EARLY_SEES = ["principal", "guard", "duty", "principal2", "police", "officer", "postofficer"]


@pytest.mark.parametrize("name", EARLY_SEES)
def test_early_visible_to_recipients_and_issuer(api, ww, early, name):
    response = api("get", f"/api/v1/early-warnings/{early.pk}", ww.users[name])
    assert response.status_code == 200
    data = response.json()
    schools = {r["school"]["id"] for r in data["recipients"]}
    if name in ("principal", "guard", "duty", "postofficer"):
        assert schools == {ww.school.pk}
    elif name == "principal2":
        assert schools == {ww.other_school.pk}
    else:
        assert schools == {ww.school.pk, ww.other_school.pk}
        assert data["acknowledged_count"] == 0 and data["recipient_count"] == 2


@pytest.mark.parametrize("name", ["principal2", "farpolice"])
def test_early_not_sent_to_you_is_404(api, ww, name):
    warning = _early_to_school_only(ww)
    user = ww.users[name]
    assert api("get", f"/api/v1/early-warnings/{warning.pk}", user).status_code == 404
    assert api("post", f"/api/v1/early-warnings/{warning.pk}/acknowledge", user).status_code == 404
    assert api("get", "/api/v1/early-warnings", user).json()["count"] == 0
    assert not EarlyWarningRecipient.objects.filter(acknowledged_at__isnull=False).exists()


@pytest.mark.parametrize("name", [*NO_WARNINGS, "teacher"])
def test_early_roles_without_warnings_are_403(api, ww, early, name):
    user = ww.users[name]
    assert api("get", "/api/v1/early-warnings", user).status_code == 403
    assert api("get", f"/api/v1/early-warnings/{early.pk}", user).status_code == 403
    assert api("post", f"/api/v1/early-warnings/{early.pk}/acknowledge", user).status_code == 403


def _issue_body(ww, **extra):
    body = {
        "school_ids": [ww.school.pk],
        "title": "校园周边可疑人员",
        "content": "请加强门卫值守",
        "level": "orange",
        "valid_from": timezone.now().isoformat(),
        "valid_until": (timezone.now() + dt.timedelta(days=3)).isoformat(),
    }
    body.update(extra)
    return body


def test_issue_ack_and_receipt_status(api, ww, published):
    response = api(
        "post",
        "/api/v1/early-warnings",
        ww.users["police"],
        json=_issue_body(ww, school_ids=[], all_schools=True),
    )
    assert response.status_code == 201, response.content
    warning_id = response.json()["id"]
    assert response.json()["recipient_count"] == 2
    response = api("post", f"/api/v1/early-warnings/{warning_id}/acknowledge", ww.users["guard"])
    assert response.status_code == 200
    (mine,) = response.json()["recipients"]
    assert mine["acknowledged_at"] and mine["acknowledged_by"]
    status = api("get", f"/api/v1/early-warnings/{warning_id}", ww.users["police"]).json()
    assert status["acknowledged_count"] == 1
    pending = [r["school"]["id"] for r in status["recipients"] if not r["acknowledged_at"]]
    assert pending == [ww.other_school.pk]


def test_police_cannot_acknowledge(api, ww, early):
    response = api("post", f"/api/v1/early-warnings/{early.pk}/acknowledge", ww.users["police"])
    assert response.status_code == 403
    assert not EarlyWarningRecipient.objects.filter(acknowledged_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("name", "extra", "field"),
    [
        ("police", {"school_ids": [0]}, "school_ids"),
        ("police", {"valid_until": "2026-03-01T08:00:00+08:00"}, "valid_until"),
        (
            "police",
            {"valid_from": "2026-03-01T08:00:00+08:00", "valid_until": "2026-03-02T08:00:00+08:00"},
            "valid_until",
        ),
        ("police", {"level": "purple"}, "level"),
        ("police", {"title": ""}, "title"),
        ("police", {"school_ids": []}, "school_ids"),
        ("postofficer", {}, None),
    ],
)
def test_bad_issue_is_400(api, ww, name, extra, field):
    if name == "postofficer":
        extra = {"school_ids": [ww.other_school.pk]}
        field = "school_ids"
    response = api("post", "/api/v1/early-warnings", ww.users[name], json=_issue_body(ww, **extra))
    assert response.status_code == 400
    assert any(key.startswith(field) for key in response.json()["errors"])
    assert not EarlyWarning.objects.exists()


def test_issue_outside_jurisdiction_is_400_with_reason(api, ww, published):
    response = api(
        "post",
        "/api/v1/early-warnings",
        ww.users["police"],
        json=_issue_body(ww, school_ids=[ww.school.pk, ww.far_school.pk]),
    )
    assert response.status_code == 400
    (message,) = response.json()["errors"]["school_ids"]
    assert str(ww.far_school.pk) in message and ww.far_school.name not in message
    assert not EarlyWarning.objects.exists()
    assert published == []


@pytest.mark.parametrize("name", ["principal", "guard", "edu", "health"])
def test_non_police_cannot_issue(api, ww, name):
    response = api("post", "/api/v1/early-warnings", ww.users[name], json=_issue_body(ww))
    assert response.status_code == 403
    assert not EarlyWarning.objects.exists()


def test_other_station_cannot_issue_to_our_school(api, ww):
    response = api("post", "/api/v1/early-warnings", ww.users["farpolice"], json=_issue_body(ww))
    assert response.status_code == 400
    assert "school_ids" in response.json()["errors"]
    assert not EarlyWarning.objects.exists()


def test_active_filter(api, ww, early):
    current = _early_to_school_only(ww)
    data = api("get", "/api/v1/early-warnings?active=true", ww.users["guard"]).json()
    assert [w["id"] for w in data["items"]] == [current.pk]
    data = api("get", "/api/v1/early-warnings", ww.users["guard"]).json()
    assert {w["id"] for w in data["items"]} == {current.pk, early.pk}


def test_lists_do_not_query_per_row(api, ww, django_assert_max_num_queries):
    for i in range(20):
        services.warning_sign_report(
            actor=ww.users["guard"], school=ww.school, category="other", description=f"#{i}"
        )
        _early_to_school_only(ww)
    user = ww.users["police"]
    api.token_for(user)
    with django_assert_max_num_queries(12):
        assert api("get", "/api/v1/warning-signs", user).json()["count"] == 20
    with django_assert_max_num_queries(12):
        assert api("get", "/api/v1/early-warnings", user).json()["count"] == 20


def test_chase_task_runs_the_service(ww, early):
    from huxiao.intel.tasks import early_warnings_chase

    # The warning of the fixture expired long ago (NOW is in the past): nothing to chase.
    assert early_warnings_chase.call_local() == 0


# ------------------------------------------------------------------ paging of the lists

LIST_URLS = ["/api/v1/warning-signs", "/api/v1/early-warnings"]


@pytest.mark.parametrize("url", LIST_URLS)
@pytest.mark.parametrize(
    ("query", "count_items"),
    [
        ("offset=99999999999999999999", 0),
        ("offset=-5", 3),
        ("limit=99999999999999999999", 3),
        ("limit=-1", 1),
        ("limit=0", 1),
        ("limit=-99999999999999999999&offset=-99999999999999999999", 1),
    ],
)
def test_absurd_paging_is_clamped(api, ww, url, query, count_items):
    for i in range(3):
        services.warning_sign_report(
            actor=ww.users["guard"], school=ww.school, category="other", description=f"#{i}"
        )
        _early_to_school_only(ww)
    response = api("get", f"{url}?{query}", ww.users["police"])
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["count"] == 3 and len(data["items"]) == count_items


@pytest.mark.parametrize("url", LIST_URLS)
@pytest.mark.parametrize("query", ["offset=abc", "limit=1.5", "limit=", "offset=1e400"])
def test_non_numeric_paging_is_400_in_chinese(api, ww, url, query):
    response = api("get", f"{url}?{query}", ww.users["police"])
    assert response.status_code == 400
    data = response.json()
    assert data["detail"] == "请求中有字段填写不正确。"
    assert set(data["errors"]) <= {"limit", "offset"} and data["errors"]


def test_early_warning_pages_are_cut_in_the_database(api, ww, django_assert_max_num_queries):
    """Pages follow each other newest first without gaps or repeats, and a page costs the
    same few queries however many warnings there are."""
    issued = []
    for i in range(7):
        issued.append(
            services.early_warning_issue(
                actor=ww.users["police"],
                all_schools=True,
                title=f"预警{i}",
                content="c",
                level="blue",
                valid_from=timezone.now(),
                valid_until=timezone.now() + dt.timedelta(days=1),
                now=timezone.now() + dt.timedelta(minutes=i),
            )
        )
    newest_first = [w.pk for w in reversed(issued)]
    for name, recipients in (("police", 2), ("guard", 1)):
        user = ww.users[name]
        api.token_for(user)
        seen = []
        for offset in (0, 3, 6):
            with django_assert_max_num_queries(10):
                data = api("get", f"/api/v1/early-warnings?limit=3&offset={offset}", user).json()
            assert data["count"] == 7
            assert all(item["recipient_count"] == recipients for item in data["items"])
            seen += [item["id"] for item in data["items"]]
        assert seen == newest_first


def test_early_warning_list_slices_the_queryset(ww):
    """The selector no longer materialises every warning before slicing."""
    from huxiao.intel import warnings_selectors as selectors

    qs = selectors.early_warning_queryset(actor=ww.users["police"])
    assert qs.query.low_mark == 0 and qs.query.high_mark is None
    page = qs[5:10]
    assert (page.query.low_mark, page.query.high_mark) == (5, 10)


def test_issue_with_expired_validity_is_400_in_chinese(api, ww):
    body = _issue_body(
        ww,
        valid_from=(timezone.now() - dt.timedelta(days=2)).isoformat(),
        valid_until=(timezone.now() - dt.timedelta(hours=1)).isoformat(),
    )
    response = api("post", "/api/v1/early-warnings", ww.users["police"], json=body)
    assert response.status_code == 400
    assert response.json()["errors"]["valid_until"] == ["有效期结束时间不能早于当前时间。"]
    assert not EarlyWarning.objects.exists()
