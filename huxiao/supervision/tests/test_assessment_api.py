"""API of assessment (/api/v1/supervision/assessment/…): role × scope, the shape of the
ranking, compute, publish and the veto with their refusals (400, 403, 404, 409)."""

from __future__ import annotations

import pytest
from django.utils import translation

from huxiao.supervision import assessment_selectors as sel
from huxiao.supervision import assessment_services as svc
from huxiao.supervision.models import AssessmentRun, AssessmentScheme, ManualScore, Veto
from huxiao.supervision.tests.assessment_fixtures import add_schools, scheme

pytestmark = pytest.mark.django_db
BASE = "/api/v1/supervision/assessment"
ROWS = [("安全教育", "manual", "50", {}), ("演练", "future_app_placeholder", "50", {})]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def aworld(sworld):
    return add_schools(sworld)


@pytest.fixture
def last_month():
    return sel.previous_period("month", sel.local_today())


@pytest.fixture
def ranked(aworld, last_month):
    w = aworld
    s = scheme(w, ROWS)
    ind = s.indicators.get(name="安全教育")
    for school, value in ((w.school, "90"), (w.school3, "70")):
        svc.manual_score_set(
            actor=w.users["edu"], indicator=ind, school=school, day=last_month.start, percent=value
        )
    run = svc.assessment_compute(actor=w.users["edu"], scheme=s, day=last_month.start)
    return s, run


@pytest.mark.parametrize(
    ("name", "status", "count"),
    [
        (None, 401, None),
        ("nobody", 403, None),
        ("principal", 403, None),
        ("police", 403, None),
        ("edu", 200, 1),
        ("gov", 200, 1),
        ("county", 200, 1),
    ],
)
def test_schemes_role_and_scope(api, ranked, aworld, name, status, count):
    user = aworld.users[name] if name else None
    response = api("get", f"{BASE}/schemes", user)
    assert response.status_code == status
    if status == 200:
        (item,) = response.json()
        assert item["may_manage"] is (name == "edu")
        assert [i["available"] for i in item["indicators"]] == [True, False]


def test_sources_listed(api, aworld):
    response = api("get", f"{BASE}/sources", aworld.users["edu"])
    keys = {s["key"]: s for s in response.json()}
    assert keys["overdue_hazards"]["params"]["per_hazard"]["default"] == 20
    assert keys["future_app_placeholder"]["available"] is False
    assert keys["drills_held"]["available"] is True


def test_runs_and_results_shape(api, ranked, aworld):
    s, run = ranked
    runs = api("get", f"{BASE}/runs?scheme_id={s.pk}", aworld.users["edu"]).json()
    assert runs["count"] == 1 and runs["items"][0]["status"] == "draft"
    data = api("get", f"{BASE}/runs/{run.pk}/results", aworld.users["county"]).json()
    assert data["ranked"] == 2 and data["count"] == 4
    first = data["items"][0]
    assert (first["school_name"], first["score"], first["rank"]) == ("本园", "90.00", 1)
    assert [c["no_data"] for c in first["indicators"]] == [False, True]
    assert data["items"][-1]["score"] is None and data["items"][-1]["rank"] is None
    assert data["towns"][0]["score"] == "80.00" and data["towns"][0]["schools"] == 4
    filtered = api(
        "get", f"{BASE}/runs/{run.pk}/results?town_id={aworld.other_town.pk}", aworld.users["edu"]
    )
    assert filtered.json()["count"] == 0
    assert api("get", f"{BASE}/runs/{run.pk}/results", aworld.users["principal"]).status_code == 403
    assert api("get", f"{BASE}/runs/{2**62}/results", aworld.users["edu"]).status_code == 404
    assert api("get", f"{BASE}/runs/{2**64}/results", aworld.users["edu"]).status_code == 400


def test_compute_api(api, ranked, aworld, last_month):
    s, _run = ranked
    url = f"{BASE}/schemes/{s.pk}/compute"
    ok = api("post", url, aworld.users["edu"], json={"date": last_month.end.isoformat()})
    assert ok.status_code == 201 and ok.json()["period_start"] == last_month.start.isoformat()
    assert AssessmentRun.objects.filter(scheme=s).count() == 1
    future = api("post", url, aworld.users["edu"], json={"date": "2999-01-01"})
    assert future.status_code == 400 and "不能在未来" in future.json()["errors"]["date"][0]
    assert api("post", url, aworld.users["edu"], json={"date": "nope"}).status_code == 400
    assert api("post", url, aworld.users["gov"], json={"date": "2025-01-01"}).status_code == 403
    assert (
        api(
            "post",
            f"{BASE}/schemes/999999/compute",
            aworld.users["edu"],
            json={"date": "2025-01-01"},
        )
    ).status_code == 404
    AssessmentScheme.objects.filter(pk=s.pk).update(is_active=False)
    off = api("post", url, aworld.users["edu"], json={"date": last_month.end.isoformat()})
    assert off.status_code == 409 and "已停用" in off.json()["detail"]


def test_publish_api(api, ranked, aworld):
    _s, run = ranked
    url = f"{BASE}/runs/{run.pk}/publish"
    assert api("post", url, aworld.users["gov"]).status_code == 403
    ok = api("post", url, aworld.users["edu"])
    assert ok.status_code == 200 and ok.json()["status"] == "published"
    again = api("post", url, aworld.users["edu"])
    assert again.status_code == 409 and "已发布" in again.json()["detail"]


def test_school_results_api(api, ranked, aworld):
    _s, run = ranked
    svc.assessment_publish(actor=aworld.users["edu"], run=run)
    mine = api("get", f"{BASE}/schools/{aworld.school.pk}/results", aworld.users["principal"])
    (item,) = mine.json()
    assert item["result"]["score"] == "90.00" and item["ranked"] == 2
    assert item["town_score"] == "80.00"
    other = api("get", f"{BASE}/schools/{aworld.school3.pk}/results", aworld.users["principal"])
    assert other.status_code == 404


def test_scheme_create_api(api, aworld):
    bad = api(
        "post",
        f"{BASE}/schemes",
        aworld.users["edu"],
        json={"name": "x", "indicators": [{"source": "manual", "weight": 90}]},
    )
    assert bad.status_code == 400 and "须合计为 100" in bad.json()["errors"]["indicators"][0]
    ok = api(
        "post",
        f"{BASE}/schemes",
        aworld.users["gov"],
        json={
            "name": "综治方案",
            "period_kind": "quarter",
            "indicators": [
                {"name": "甲", "source": "manual", "weight": 60},
                {
                    "name": "乙",
                    "source": "overdue_hazards",
                    "weight": 40,
                    "params": {"per_hazard": 5},
                },
            ],
        },
    )
    assert ok.status_code == 201 and ok.json()["owner_id"] == aworld.gov_office.pk
    forbidden = api(
        "post",
        f"{BASE}/schemes",
        aworld.users["principal"],
        json={"name": "x", "indicators": [{"source": "manual", "weight": 100}]},
    )
    assert forbidden.status_code == 403


def test_manual_scores_api(api, ranked, aworld, last_month):
    s, _run = ranked
    ind = s.indicators.get(name="安全教育")
    url = f"{BASE}/schemes/{s.pk}/manual-scores"
    payload = {
        "date": last_month.start.isoformat(),
        "scores": [{"indicator_id": ind.pk, "school_id": aworld.school4.pk, "percent": 150}],
    }
    assert api("post", url, aworld.users["edu"], json=payload).status_code == 400
    assert not ManualScore.objects.filter(school=aworld.school4).exists()
    payload["scores"][0]["percent"] = 60
    ok = api("post", url, aworld.users["edu"], json=payload)
    assert ok.status_code == 200 and ok.json() == {"saved": 1}


def test_veto_api(api, aworld, last_month):
    w = aworld
    body = {"school_id": w.school.pk, "date": last_month.start.isoformat(), "reason": "事故"}
    assert api("post", f"{BASE}/vetoes", w.users["edu"], json=body).status_code == 403
    assert api("post", f"{BASE}/vetoes", w.users["principal"], json=body).status_code == 403
    far = {**body, "school_id": w.far_school.pk}
    assert api("post", f"{BASE}/vetoes", w.users["gov"], json=far).status_code == 404
    blank = api("post", f"{BASE}/vetoes", w.users["gov"], json={**body, "reason": " "})
    assert blank.status_code == 400 and "reason" in blank.json()["errors"]
    assert not Veto.objects.exists()
    made = api("post", f"{BASE}/vetoes", w.users["gov"], json=body)
    assert made.status_code == 201 and made.json()["decided_by_org"] == w.gov_office.name
    assert api("post", f"{BASE}/vetoes", w.users["gov"], json=body).status_code == 409
    listed = api("get", f"{BASE}/vetoes", w.users["county"]).json()
    assert [v["school_id"] for v in listed] == [w.school.pk]
    revoke = f"{BASE}/vetoes/{made.json()['id']}/revoke"
    assert api("post", revoke, w.users["gov"], json={"reason": ""}).status_code == 400
    assert api("post", revoke, w.users["gov"], json={"reason": "撤销"}).status_code == 200
    assert api("post", revoke, w.users["gov"], json={"reason": "撤销"}).status_code == 409
