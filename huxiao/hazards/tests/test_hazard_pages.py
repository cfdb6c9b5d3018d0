"""Pages of hazards: list with filters and database pagination, detail with the forms of
the allowed moves, the report form, the moves by post, photos and the printable notice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.hazards.models import Hazard
from huxiao.hazards.tests.hazard_fixtures import (
    MONDAY,
    advance,
    day,
    photo,
    report,
)

pytestmark = pytest.mark.django_db

LIST = reverse("hazards:hazard_list")


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("name", "status", "sees"),
    [
        ("principal", 200, True),
        ("teacher", 200, True),
        ("police", 200, True),
        ("edu", 200, True),
        ("county", 200, True),
        ("principal2", 200, False),
        ("farpolice", 200, False),
        ("nobody", 403, False),
    ],
)
def test_list_role_and_scope(client, hworld, hazard, name, status, sees):
    response = login(client, hworld.users[name]).get(LIST)
    assert response.status_code == status
    if status == 200:
        assert (hazard.title in response.content.decode()) is sees


def test_list_anonymous_goes_to_login(client, hworld):
    assert client.get(LIST).status_code == 302


def test_list_filters_and_pages(client, hworld, media):
    w = hworld
    for i in range(35):
        report(w, title=f"普通隐患{i:02d}")
    report(w, title="重大隐患甲", level="major")
    report(w, school=w.other_school, title="同镇隐患")
    c = login(client, w.users["edu"])
    page1 = c.get(LIST).content.decode()
    assert page1.count('data-testid="hazard-row"') == 30
    page2 = c.get(LIST, {"page": 2}).content.decode()
    assert page2.count('data-testid="hazard-row"') == 7
    major = c.get(LIST, {"level": "major"}).content.decode()
    assert "重大隐患甲" in major and "普通隐患" not in major
    other = c.get(LIST, {"school": w.other_school.pk}).content.decode()
    assert "同镇隐患" in other and "普通隐患" not in other
    # A school outside the scope or garbage: the form is invalid, the page does not break.
    assert c.get(LIST, {"school": w.far_school.pk, "status": "zzz"}).status_code == 200
    assert c.get(LIST, {"page": "abc"}).status_code == 200


def test_overdue_filter(client, hworld, media):
    w = hworld
    late = report(w, title="逾期隐患")
    report(w, title="未逾期隐患")
    Hazard.objects.filter(pk=late.pk).update(deadline=MONDAY)
    body = login(client, w.users["edu"]).get(LIST, {"overdue": "on"}).content.decode()
    assert "逾期隐患" in body and "未逾期隐患" not in body


def test_list_queries_do_not_grow(client, hworld, media, django_assert_max_num_queries):
    w = hworld
    for i in range(30):
        advance(w, report(w, title=f"q{i}"), "assigned")
    c = login(client, w.users["edu"])
    c.get(LIST)
    with django_assert_max_num_queries(14):
        c.get(LIST)


def test_report_form(client, hworld, media):
    w = hworld
    c = login(client, w.users["teacher"])
    assert c.get(reverse("hazards:hazard_new")).status_code == 200
    data = {
        "school": w.school.pk,
        "category": "physical",
        "level": "general",
        "title": "围墙破损",
        "description": "北侧围墙有缺口",
        "photos": [photo()],
    }
    response = c.post(reverse("hazards:hazard_new"), data)
    hazard = Hazard.objects.get(title="围墙破损")
    assert response.status_code == 302
    assert hazard.photos.count() == 1
    # A past deadline: 400 with the message, nothing written.
    bad = {**data, "title": "过期", "deadline": "2000-01-01", "photos": []}
    response = c.post(reverse("hazards:hazard_new"), bad)
    assert response.status_code == 400
    assert "不能早于今天" in response.content.decode()
    assert not Hazard.objects.filter(title="过期").exists()
    # Another school (not in the form's choices) is an error, not a write.
    response = c.post(reverse("hazards:hazard_new"), {**data, "school": w.far_school.pk})
    assert response.status_code == 400


def test_report_form_forbidden_without_the_right(client, hworld):
    assert (
        login(client, hworld.users["nobody"]).get(reverse("hazards:hazard_new")).status_code == 403
    )


def test_detail_shows_the_allowed_moves(client, hworld, hazard):
    w = hworld
    url = reverse("hazards:hazard_detail", args=[hazard.pk])
    body = login(client, w.users["principal"]).get(url).content.decode()
    assert 'data-testid="move-assign"' in body and 'data-testid="move-verify"' not in body
    body = login(client, w.users["edu"]).get(url).content.decode()
    # The supervising side may only extend the deadline (ADR 0026, "Review fixes").
    assert 'data-testid="move-extend"' in body and 'data-testid="move-assign"' not in body
    assert login(client, w.users["farpolice"]).get(url).status_code == 404
    assert (
        login(client, w.users["principal"])
        .get(reverse("hazards:hazard_detail", args=[2**63]))
        .status_code
        == 404
    )


def test_the_whole_journey_through_the_pages(client, hworld, media, settings):
    w = hworld
    h = report(w)
    move = lambda name: reverse("hazards:hazard_move", args=[h.pk, name])  # noqa: E731
    c = login(client, w.users["principal"])
    deadline = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    response = c.post(
        move("assign"),
        {
            "assign-owner": w.users["security"].pk,
            "assign-deadline": deadline,
            "assign-plan": "清理",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert deadline
    c = login(client, w.users["security"])
    assert c.post(move("start"), {"start-note": ""}).status_code == 302
    # Evidence without a photo: 400 with the message; still rectifying.
    response = c.post(move("submit"), {"submit-note": "已清理"})
    assert response.status_code == 400
    assert "至少" in response.content.decode()
    response = c.post(move("submit"), {"submit-note": "已清理", "photos": [photo()]})
    assert response.status_code == 302
    # The owner cannot verify; the edu office can.
    assert c.post(move("verify"), {}).status_code == 403
    c = login(client, w.users["edu"])
    detail = c.get(reverse("hazards:hazard_detail", args=[h.pk])).content.decode()
    assert 'data-testid="evidence-photos"' in detail
    photo_url = reverse("hazards:hazard_photo", args=[h.photos.filter(kind="evidence").get().pk])
    assert c.get(photo_url).status_code == 200
    assert login(client, w.users["farpolice"]).get(photo_url).status_code == 404
    c = login(client, w.users["edu"])
    assert c.post(move("verify"), {"verify-note": "已核实"}).status_code == 302
    # Verifying again: refused by the state machine (409, with the reason).
    response = c.post(move("verify"), {})
    assert response.status_code == 409
    assert "只有已提交" in response.content.decode()
    assert Hazard.objects.get(pk=h.pk).status == "closed"


def test_moves_on_another_schools_hazard_are_not_found(client, hworld, media):
    w = hworld
    far = report(w, school=w.far_school, actor=w.users["farpolice"])
    c = login(client, w.users["edu"])
    assert c.post(reverse("hazards:hazard_move", args=[far.pk, "verify"]), {}).status_code == 404
    assert c.post(reverse("hazards:hazard_move", args=[far.pk, "bogus"]), {}).status_code == 404


def test_bad_assign_input_is_400(client, hworld, hazard):
    w = hworld
    c = login(client, w.users["principal"])
    url = reverse("hazards:hazard_move", args=[hazard.pk, "assign"])
    response = c.post(
        url, {"assign-owner": w.users["security"].pk, "assign-deadline": "2000-01-01"}
    )
    assert response.status_code == 400
    assert "不能早于今天" in response.content.decode()
    response = c.post(
        url, {"assign-owner": w.users["principal2"].pk, "assign-deadline": "2099-01-01"}
    )
    assert response.status_code == 400
    hazard.refresh_from_db()
    assert hazard.status == "reported"


def test_notice(client, hworld, media):
    w = hworld
    h = advance(w, report(w), "assigned")
    body = (
        login(client, w.users["principal"])
        .get(reverse("hazards:hazard_notice", args=[h.pk]))
        .content.decode()
    )
    assert "派出所" in body  # the reporting police station issues it
    assert w.school.name in body and h.title in body
    assert day(5).isoformat() in body
    assert "print.css" in body
    assert "整改通知书" in body
    assert (
        login(client, w.users["farpolice"])
        .get(reverse("hazards:hazard_notice", args=[h.pk]))
        .status_code
        == 404
    )


def test_navigation_entry(client, hworld):
    body = login(client, hworld.users["teacher"]).get(LIST).content.decode()
    assert LIST in body


def test_a_photo_whose_file_is_gone_is_404(client, hworld, media):
    """Review fix 7: FileNotFoundError was a 500."""
    h = report(hworld, photos=[photo()])
    stored = h.photos.get()
    stored.file.storage.delete(stored.file.name)
    client.raise_request_exception = False
    response = login(client, hworld.users["principal"]).get(
        reverse("hazards:hazard_photo", args=[stored.pk])
    )
    assert response.status_code == 404


def test_the_notices_issuer_does_not_depend_on_who_prints_it(client, hworld, media):
    """Review fix 8: a hazard reported by the school itself was issued in the name of
    whoever printed it; now the school's supervising education office issues it."""
    w = hworld
    h = report(w, actor=w.users["principal"])
    url = reverse("hazards:hazard_notice", args=[h.pk])
    issuers = set()
    for name in ("principal", "police", "edu", "gov"):
        response = login(client, w.users[name]).get(url)
        assert response.status_code == 200
        issuers.add(response.context["issuer"])
    assert issuers == {w.edu_office}


# ------------------------------------------------------------------ a county's list (ADR 0026,
# "Performance"): the school picker, the town filter, pages loaded by id


def _options(body: str, name: str) -> list[str]:
    """The values offered by the filter's select `name` (blank "All" left out)."""
    import re

    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', body, re.S)
    if select is None:
        return []
    return [v for v in re.findall(r'<option value="([^"]*)"', select.group(1)) if v]


@pytest.fixture
def county_list(hworld, media, monkeypatch):
    """Hazards at the three schools of two towns, seen by the county centre; the picker's
    limit lowered so that three schools are "too many" to list at once."""
    from huxiao.hazards import hazard_selectors

    monkeypatch.setattr(hazard_selectors, "SCHOOL_CHOICES_MAX", 2)
    w = hworld
    w.titles = {
        w.school.pk: report(w, title="本园隐患").title,
        w.other_school.pk: report(w, school=w.other_school, title="同镇隐患").title,
        w.far_school.pk: report(
            w, school=w.far_school, actor=w.users["county"], title="外镇隐患"
        ).title,
    }
    return w


def test_a_county_picks_a_town_then_its_schools(client, county_list):
    w = county_list
    c = login(client, w.users["county"])
    body = c.get(LIST).content.decode()
    # No thousand options: the towns, and no school until a town is chosen.
    assert sorted(_options(body, "town")) == sorted([str(w.town.pk), str(w.other_town.pk)])
    assert _options(body, "school") == []
    assert 'data-testid="filter-help-school"' in body
    assert all(title in body for title in w.titles.values())

    town = c.get(LIST, {"town": w.other_town.pk}).content.decode()
    assert _options(town, "school") == [str(w.far_school.pk)]
    assert "外镇隐患" in town and "本园隐患" not in town and "同镇隐患" not in town

    # A school named in the address (a link, the benchmark) selects its town as well.
    school = c.get(LIST, {"school": w.other_school.pk}).content.decode()
    assert sorted(_options(school, "school")) == sorted([str(w.school.pk), str(w.other_school.pk)])
    assert f'<option value="{w.town.pk}" selected>' in school
    assert "同镇隐患" in school and "本园隐患" not in school

    # The town changed with the other town's school still selected: the town wins.
    moved = c.get(LIST, {"town": w.other_town.pk, "school": w.school.pk}).content.decode()
    assert "外镇隐患" in moved and "本园隐患" not in moved


def test_a_town_outside_the_scope_filters_nothing_in(client, county_list):
    w = county_list
    c = login(client, w.users["edu"])  # the town's education office: one town, no town filter
    body = c.get(LIST).content.decode()
    assert _options(body, "town") == []
    assert sorted(_options(body, "school")) == sorted([str(w.school.pk), str(w.other_school.pk)])
    other_town = c.get(LIST, {"town": w.other_town.pk}).content.decode()
    assert "外镇隐患" not in other_town


def test_a_small_scope_lists_every_school(client, hworld, media):
    """Up to SCHOOL_CHOICES_MAX schools the select lists them all, and with several towns
    the town filter is there too."""
    w = hworld
    report(w, school=w.far_school, actor=w.users["county"], title="外镇隐患")
    c = login(client, w.users["county"])
    body = c.get(LIST).content.decode()
    assert len(_options(body, "school")) == 3 and len(_options(body, "town")) == 2
    assert 'data-testid="filter-help-school"' not in body
    both = c.get(LIST, {"town": w.town.pk, "school": w.far_school.pk}).content.decode()
    assert "外镇隐患" not in both  # a school of another town than the one chosen: none


def test_deep_pages_hold_the_right_rows(client, hworld, media):
    """Pages are loaded by id (hazard_selectors.HazardRows): every hazard once, newest
    first, the same rows as the ordered query's slices, under filters too."""
    from huxiao.hazards import hazard_selectors
    from huxiao.hazards.hazard_views import PAGE_SIZE

    w = hworld
    base = timezone.now() - dt.timedelta(days=5)
    for i in range(PAGE_SIZE * 2 + 5):
        report(w, title=f"第{i:03d}号", now=base + dt.timedelta(minutes=i // 2))  # ties
    c = login(client, w.users["edu"])
    seen = []
    for number in (1, 2, 3):
        response = c.get(LIST, {"page": number})
        seen += [h.pk for h in response.context["page"].object_list]
    expected = list(hazard_selectors.hazard_list(actor=w.users["edu"]).values_list("pk", flat=True))
    assert seen == expected and len(seen) == PAGE_SIZE * 2 + 5
    rows = hazard_selectors.HazardRows(hazard_selectors.hazard_list(actor=w.users["edu"]))
    assert [h.pk for h in rows[31:37]] == expected[31:37]
    # Once counted, a slice past the middle is read from the other end: the same rows.
    assert rows[4].pk == expected[4] and rows.count() == len(expected)
    for start in (30, 33, 40, 60, 63, 64, 65, 70):
        assert [h.pk for h in rows[start : start + 7]] == expected[start : start + 7], start
    assert c.get(LIST, {"page": 99}).context["page"].number == 3  # past the end: the last
