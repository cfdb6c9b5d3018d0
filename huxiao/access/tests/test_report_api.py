"""GET /api/v1/gate-reports: the counts of a school's gate report — role × scope, content,
and a bad range answered 400 in Chinese."""

from __future__ import annotations

import pytest

from huxiao.access.tests.conftest import MONDAY
from huxiao.access.tests.test_report_pages import EVERYONE, READERS, seed

pytestmark = pytest.mark.django_db

URL = "/api/v1/gate-reports"


def _get(api, world, who, **params):
    query = {"school_id": world.school.pk, "start": MONDAY.isoformat(), "end": MONDAY.isoformat()}
    query.update(params)
    path = URL + "?" + "&".join(f"{k}={v}" for k, v in query.items() if v is not None)
    return api("get", path, None if who == "anonymous" else world.users[who])


@pytest.mark.parametrize("who", EVERYONE)
def test_api_matrix(gate, api, who):
    seed(gate)
    r = _get(api, gate, who)
    status = 401 if who == "anonymous" else 200 if who in READERS else 403
    if who == "principal2":
        status = 404
    assert r.status_code == status
    body = r.json()
    if status == 200:
        assert body["totals"]["visits"] == 3 and body["totals"]["held"] == 2
        assert body["totals"]["refusals"] == 1 and body["totals"]["delegate_releases"] == 1
        purposes = {row["purpose"]: (row["visits"], row["held"]) for row in body["by_purpose"]}
        assert purposes == {"parent": (2, 1), "official": (1, 1)}
        assert {row["host"]: row["visits"] for row in body["by_host"]} == {"李老师": 2, None: 1}
        # Counts only: no names of visitors, nothing of the register.
        text = r.content.decode()
        assert "访客甲" not in text and "张三丰" not in text and "报复" not in text
    else:
        assert "totals" not in body


def test_api_own_school_by_default(gate, api):
    r = _get(api, gate, "principal", school_id=None)
    assert r.status_code == 200 and r.json()["school_id"] == gate.school.pk


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2025-13-01"}, "start", "请按 YYYY-MM-DD 格式填写日期，例如 2025-03-03。"),
        ({"start": "2025-03-05", "end": "2025-03-01"}, "__all__", "开始日期不能晚于结束日期。"),
        (
            {"start": "2024-01-01", "end": "2025-01-01"},
            "__all__",
            "一份报表最多涵盖 92 天，请缩短日期范围。",
        ),
    ],
)
def test_api_bad_range(gate, api, params, field, message):
    r = _get(api, gate, "security", **params)
    assert r.status_code == 400
    assert r.json()["errors"][field] == [message]


def test_api_strange_school(gate, api):
    assert _get(api, gate, "principal", school_id="abc").status_code == 400
    assert _get(api, gate, "principal", school_id=gate.far_school.pk).status_code == 404
