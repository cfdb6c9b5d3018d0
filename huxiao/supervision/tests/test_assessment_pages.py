"""Pages of assessment: role × scope of each page, the scheme editor, manual scores,
compute and publish from the page, the ranking (filters, "no data", the veto mark), a
school's own results, the veto form — status codes, stable markers, nothing written when
refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation

from huxiao.supervision import assessment_selectors as sel
from huxiao.supervision import assessment_services as svc
from huxiao.supervision.choices import RunStatus
from huxiao.supervision.models import AssessmentRun, AssessmentScheme, ManualScore, Veto
from huxiao.supervision.tests.assessment_fixtures import add_schools, scheme

pytestmark = pytest.mark.django_db
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
    """A scheme of the town's education office with last month computed: 本园 90, 三校 70."""
    w = aworld
    s = scheme(w, ROWS)
    ind = s.indicators.get(name="安全教育")
    for school, value in ((w.school, "90"), (w.school3, "70")):
        svc.manual_score_set(
            actor=w.users["edu"], indicator=ind, school=school, day=last_month.start, percent=value
        )
    run = svc.assessment_compute(actor=w.users["edu"], scheme=s, day=last_month.start)
    return s, run


def login(client, user):
    client.force_login(user)
    return client


HOME = reverse("supervision:assessment_home")


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("edu", 200),
        ("gov", 200),
        ("county", 200),
        ("principal", 302),  # to the school's own results
        ("police", 403),
        ("nobody", 403),
    ],
)
def test_home_role_and_scope(client, ranked, aworld, name, status):
    response = login(client, aworld.users[name]).get(HOME)
    assert response.status_code == status
    if status == 200:
        assert "测试方案" in response.content.decode()
    if status == 302:
        assert response.url == reverse("supervision:assessment_school", args=[aworld.school.pk])


def test_anonymous_goes_to_login(client, ranked):
    s, run = ranked
    for url in (HOME, reverse("supervision:assessment_run", args=[run.pk])):
        assert client.get(url).status_code == 302


@pytest.mark.parametrize(
    ("name", "status", "manage"),
    [("edu", 200, True), ("gov", 200, False), ("county", 200, False), ("principal", 403, False)],
)
def test_scheme_detail_role_and_scope(client, ranked, aworld, name, status, manage):
    s, _run = ranked
    response = login(client, aworld.users[name]).get(
        reverse("supervision:assessment_scheme", args=[s.pk])
    )
    assert response.status_code == status
    if status == 200:
        assert ('data-testid="compute-form"' in response.content.decode()) is manage


def test_scheme_and_run_of_another_town_are_not_found(client, ranked, aworld):
    from huxiao.core.roles import OrgKind, Role
    from huxiao.orgs.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

    s, run = ranked
    far = OrganizationFactory(kind=OrgKind.EDUCATION_OFFICE, town=aworld.other_town)
    user = UserFactory(username="faredu")
    MembershipFactory(user=user, organization=far, role=Role.EDUCATION_SUPERVISOR)
    c = login(client, user)
    assert c.get(reverse("supervision:assessment_scheme", args=[s.pk])).status_code == 404
    assert c.get(reverse("supervision:assessment_run", args=[run.pk])).status_code == 404
    assert c.get(reverse("supervision:assessment_run", args=[2**63])).status_code == 404


def _scheme_post(rows, **fields):
    data = {
        "name": fields.get("name", "页面方案"),
        "owner": fields["owner"],
        "period_kind": "month",
        "description": "",
        "excellent_from": "90",
        "good_from": "80",
        "pass_from": "60",
        "is_active": "on",
        "ind-TOTAL_FORMS": str(len(rows)),
        "ind-INITIAL_FORMS": "0",
        "ind-MIN_NUM_FORMS": "0",
        "ind-MAX_NUM_FORMS": "30",
    }
    for i, (name, source, weight, params) in enumerate(rows):
        data.update(
            {
                f"ind-{i}-name": name,
                f"ind-{i}-source": source,
                f"ind-{i}-weight": weight,
                f"ind-{i}-params": params,
            }
        )
    return data


def test_scheme_editor_creates_and_refuses_bad_weights(client, aworld):
    w = aworld
    c = login(client, w.users["edu"])
    url = reverse("supervision:assessment_scheme_new")
    assert c.get(url).status_code == 200
    bad = c.post(
        url,
        _scheme_post(
            [("甲", "manual", "60", ""), ("乙", "overdue_hazards", "30", "")],
            owner=w.edu_office.pk,
        ),
    )
    assert bad.status_code == 400 and "须合计为 100" in bad.content.decode()
    unknown = c.post(url, _scheme_post([("甲", "nope", "100", "")], owner=w.edu_office.pk))
    assert unknown.status_code == 400
    assert not AssessmentScheme.objects.exists()
    ok = c.post(
        url,
        _scheme_post(
            [
                ("甲", "manual", "60", ""),
                ("乙", "overdue_hazards", "40", '{"per_hazard": 10}'),
                ("", "", "", ""),
            ],
            owner=w.edu_office.pk,
        ),
    )
    assert ok.status_code == 302
    made = AssessmentScheme.objects.get()
    assert made.indicators.get(name="乙").params == {"per_hazard": 10}
    assert login(client, w.users["principal"]).get(url).status_code == 403


def test_scheme_edit_frozen_keeps_indicators(client, ranked, aworld):
    s, run = ranked
    AssessmentRun.objects.filter(pk=run.pk).update(status=RunStatus.PUBLISHED)
    c = login(client, aworld.users["edu"])
    url = reverse("supervision:assessment_scheme_edit", args=[s.pk])
    page = c.get(url)
    assert page.status_code == 200 and 'data-testid="frozen-note"' in page.content.decode()
    response = c.post(
        url,
        {
            "name": "新名字",
            "description": "",
            "excellent_from": "90",
            "good_from": "80",
            "pass_from": "60",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    s.refresh_from_db()
    assert s.name == "新名字" and s.indicators.count() == 2
    assert login(client, aworld.users["gov"]).get(url).status_code == 403


def test_compute_from_the_page(client, ranked, aworld, last_month):
    s, _run = ranked
    url = reverse("supervision:assessment_compute", args=[s.pk])
    c = login(client, aworld.users["edu"])
    response = c.post(url, {"date": last_month.end.isoformat()})
    assert response.status_code == 302
    run = AssessmentRun.objects.get(scheme=s)  # the draft was replaced
    assert response.url == reverse("supervision:assessment_run", args=[run.pk])
    future = sel.local_today() + dt.timedelta(days=40)
    assert c.post(url, {"date": future.isoformat()}).status_code == 400
    assert c.post(url, {"date": "garbage"}).status_code == 400
    assert login(client, aworld.users["gov"]).post(url, {"date": "2025-01-01"}).status_code == 403
    AssessmentScheme.objects.filter(pk=s.pk).update(is_active=False)
    refused = login(client, aworld.users["edu"]).post(url, {"date": last_month.end.isoformat()})
    assert refused.status_code == 409 and 'data-testid="refusal"' in refused.content.decode()


def test_ranking_page_rows_no_data_and_filter(client, ranked, aworld):
    s, run = ranked
    url = reverse("supervision:assessment_run", args=[run.pk])
    body = login(client, aworld.users["edu"]).get(url).content.decode()
    assert body.count('data-testid="ranking-row"') == 4
    assert "无数据" in body  # drills are not built; 四校 has nothing
    assert body.index("本园") < body.index("三校")
    # The county sees the same ranking; the town filter keeps the town's schools.
    county = login(client, aworld.users["county"])
    assert county.get(url, {"town": aworld.town.pk}).content.decode().count("ranking-row") == 4
    assert county.get(url, {"town": aworld.other_town.pk}).status_code == 200
    assert county.get(url, {"town": "x", "page": "zz"}).status_code == 200
    assert login(client, aworld.users["principal"]).get(url).status_code == 403


def test_ranking_marks_the_vetoed_school(client, ranked, aworld, last_month):
    s, _run = ranked
    svc.veto_record(
        actor=aworld.users["gov"], school=aworld.school, day=last_month.start, reason="事故"
    )
    run = svc.assessment_compute(actor=aworld.users["edu"], scheme=s, day=last_month.start)
    body = (
        login(client, aworld.users["gov"])
        .get(reverse("supervision:assessment_run", args=[run.pk]))
        .content.decode()
    )
    assert body.count('data-testid="vetoed"') == 1


def test_publish_and_recompute_from_the_page(client, ranked, aworld):
    s, run = ranked
    c = login(client, aworld.users["edu"])
    publish = reverse("supervision:assessment_publish", args=[run.pk])
    assert login(client, aworld.users["gov"]).post(publish).status_code == 403
    c = login(client, aworld.users["edu"])
    assert c.post(publish).status_code == 302
    assert AssessmentRun.objects.get(pk=run.pk).status == RunStatus.PUBLISHED
    again = c.post(publish)
    assert again.status_code == 409 and 'data-testid="refusal"' in again.content.decode()
    recompute = c.post(reverse("supervision:assessment_recompute", args=[run.pk]))
    assert recompute.status_code == 302
    assert AssessmentRun.objects.filter(scheme=s).count() == 2


def test_school_sees_only_its_own_published_result(client, ranked, aworld):
    s, run = ranked
    w = aworld
    url = reverse("supervision:assessment_school", args=[w.school.pk])
    draft = login(client, w.users["principal"]).get(url)
    assert draft.status_code == 200 and 'data-testid="no-results"' in draft.content.decode()
    svc.assessment_publish(actor=w.users["edu"], run=run)
    body = login(client, w.users["principal"]).get(url).content.decode()
    assert 'data-testid="my-score">90.00<' in body
    assert "在 2 所参评学校中排第 1 名。" in body
    assert "三校" not in body and "70.00" not in body  # no other school's name or score
    # Another school's page is not found; the teacher of the school sees it too.
    other = reverse("supervision:assessment_school", args=[w.school3.pk])
    assert login(client, w.users["principal"]).get(other).status_code == 404
    assert login(client, w.users["teacher"]).get(url).status_code == 200
    assert login(client, w.users["principal2"]).get(url).status_code == 404


def test_manual_scores_page(client, ranked, aworld, last_month):
    s, _run = ranked
    w = aworld
    ind = s.indicators.get(name="安全教育")
    url = reverse("supervision:assessment_scores", args=[s.pk])
    c = login(client, w.users["edu"])
    page = c.get(url, {"date": last_month.start.isoformat()})
    assert (
        page.status_code == 200
        and f'name="s-{ind.pk}-{w.school.pk}" value="90.0"' in page.content.decode()
    )
    date = last_month.start.isoformat()
    bad = c.post(
        url, {"date": date, f"s-{ind.pk}-{w.school.pk}": "150", f"s-{ind.pk}-{w.school4.pk}": "60"}
    )
    assert bad.status_code == 400
    assert not ManualScore.objects.filter(school=w.school4).exists()
    ok = c.post(
        url, {"date": date, f"s-{ind.pk}-{w.school.pk}": "", f"s-{ind.pk}-{w.school4.pk}": "60"}
    )
    assert ok.status_code == 302
    assert not ManualScore.objects.filter(school=w.school).exists()
    assert ManualScore.objects.get(school=w.school4).percent == 60
    assert c.get(url, {"date": "2999-01-01"}).status_code == 400
    assert login(client, w.users["gov"]).get(url).status_code == 403


def test_veto_pages(client, aworld, last_month):
    w = aworld
    url = reverse("supervision:assessment_vetoes")
    data = {
        "school": w.school.pk,
        "period_kind": "month",
        "date": last_month.start.isoformat(),
        "reason": "发生安全责任事故",
    }
    assert login(client, w.users["edu"]).get(url).status_code == 200  # reads, no form
    assert login(client, w.users["edu"]).post(url, data).status_code == 403
    assert login(client, w.users["principal"]).get(url).status_code == 403
    c = login(client, w.users["gov"])
    assert 'data-testid="veto-form"' in c.get(url).content.decode()
    assert c.post(url, {**data, "reason": ""}).status_code == 400
    assert c.post(url, {**data, "school": w.far_school.pk}).status_code == 400  # not a choice
    assert not Veto.objects.exists()
    assert c.post(url, data).status_code == 302
    veto = Veto.objects.get()
    assert c.post(url, data).status_code == 409
    revoke = reverse("supervision:assessment_veto_revoke", args=[veto.pk])
    assert login(client, w.users["edu"]).post(revoke, {"reason": "撤销"}).status_code == 403
    c = login(client, w.users["gov"])
    assert c.post(revoke, {"reason": ""}).status_code == 400
    assert c.post(revoke, {"reason": "撤销"}).status_code == 302
    assert c.post(revoke, {"reason": "撤销"}).status_code == 409
    assert login(client, w.users["farpolice"]).post(revoke, {"reason": "x"}).status_code == 403
