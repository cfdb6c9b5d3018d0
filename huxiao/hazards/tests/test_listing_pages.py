"""Pages of listed supervision: the public board (role × scope, filters, countdown), the
detail with lift and edit (403/409/400), listing from the hazard page, and the printable
notice with the organization's name and date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from huxiao.hazards.choices import HazardLevel, ListingStatus
from huxiao.hazards.models import ListedSupervision
from huxiao.hazards.tests import listing_fixtures
from huxiao.hazards.tests.hazard_fixtures import report
from huxiao.hazards.tests.listing_fixtures import list_problem

pytestmark = pytest.mark.django_db
lworld = listing_fixtures.lworld
BOARD = reverse("hazards:listing_board")
NEW = reverse("hazards:listing_new")


def today() -> dt.date:
    return timezone.localdate()


def in_days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


def listed(w, **kwargs):
    """A listing made now (the pages count down from the real today)."""
    kwargs.setdefault("deadline", in_days(5))
    return list_problem(w, now=timezone.now(), **kwargs)


def login(client, user, english=False):
    client.force_login(user)
    if english:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.mark.parametrize(
    ("name", "status", "sees"),
    [
        ("principal", 200, True),
        ("teacher", 200, True),
        ("edu", 200, True),
        ("police", 200, True),
        ("gov", 200, True),
        ("county", 200, True),
        ("market", 200, True),
        ("principal2", 200, False),
        ("fargov", 200, False),
        ("farpolice", 200, False),
        ("nobody", 403, False),
    ],
)
def test_board_role_and_scope(client, lworld, name, status, sees):
    listing = listed(lworld)
    response = login(client, lworld.users[name]).get(BOARD)
    assert response.status_code == status
    if status == 200:
        assert (f'data-listing="{listing.pk}"' in response.content.decode()) is sees


def test_board_anonymous_goes_to_login(client, lworld):
    assert client.get(BOARD).status_code == 302


def test_board_countdown_and_columns(client, lworld):
    w = lworld
    left = listed(w, title="还剩五天的问题", deadline=in_days(5))
    due = listed(w, title="今天到期", reference="挂督〔2025〕2号", deadline=today())
    late = listed(w, title="已逾期的问题", reference="挂督〔2025〕3号", deadline=today())
    ListedSupervision.objects.filter(pk=late.pk).update(deadline=in_days(-3))
    report(w, level=HazardLevel.MAJOR, deadline=in_days(9), now=timezone.now())
    body = login(client, w.users["edu"], english=True).get(BOARD).content.decode()
    assert 'data-state="left" data-days="5"' in body and "5 days left" in body
    assert 'data-state="today" data-days="0"' in body and "Due today" in body
    assert 'data-state="overdue" data-days="3"' in body and "3 days overdue" in body
    assert 'data-state="left" data-days="9"' in body
    # Columns: school, title, supervising organization, deadline, status, hazard status.
    assert "本园 · 还剩五天的问题" in body and "综治办" in body
    assert in_days(5).isoformat() in body
    assert 'data-testid="listing-hazard-status">Reported<' in body
    # Nearest deadline first among the active ones.
    assert body.index("已逾期的问题") < body.index("今天到期") < body.index("还剩五天的问题")
    assert left.pk and due.pk


def test_board_filters(client, lworld):
    w = lworld
    here = listed(w, title="本镇问题")
    far = listed(w, actor=w.users["fargov"], school=w.far_school, title="外镇问题")
    lifted = listed(w, title="已摘牌问题", reference="挂督〔2025〕9号")
    ListedSupervision.objects.filter(pk=lifted.pk).update(status=ListingStatus.LIFTED)
    c = login(client, w.users["county"])
    body = c.get(BOARD).content.decode()
    assert all(f'data-listing="{x.pk}"' in body for x in (here, far, lifted))
    body = c.get(BOARD, {"town": w.other_town.pk}).content.decode()
    assert f'data-listing="{far.pk}"' in body and f'data-listing="{here.pk}"' not in body
    body = c.get(BOARD, {"status": "lifted"}).content.decode()
    assert f'data-listing="{lifted.pk}"' in body and f'data-listing="{here.pk}"' not in body
    # Garbage filters do not break the page.
    assert c.get(BOARD, {"town": "abc", "status": "zzz", "page": "x"}).status_code == 200


def test_detail_scope_and_actions(client, lworld):
    w = lworld
    listing = listed(w)
    url = reverse("hazards:listing_detail", args=[listing.pk])
    body = login(client, w.users["gov"]).get(url).content.decode()
    assert 'data-testid="lift"' in body and 'data-testid="edit"' in body
    body = login(client, w.users["principal"]).get(url).content.decode()
    assert 'data-testid="lift"' not in body and "综治办" in body
    assert login(client, w.users["fargov"]).get(url).status_code == 404
    assert login(client, w.users["nobody"]).get(url).status_code == 403
    assert login(client, w.users["gov"]).get("/hazards/listings/99999999/").status_code == 404
    assert login(client, w.users["gov"]).get(f"/hazards/listings/{2**64}/").status_code == 404


def test_lift_through_the_page(client, lworld):
    w = lworld
    listing = listed(w)
    url = reverse("hazards:listing_lift", args=[listing.pk])
    # Not the supervising side: 403; out of scope: 404; nothing changes.
    assert login(client, w.users["edu"]).post(url, {"lift-note": "x"}).status_code == 403
    assert login(client, w.users["fargov"]).post(url, {"lift-note": "x"}).status_code == 404
    # No note: 400 with the error in place.
    response = login(client, w.users["gov"]).post(url, {"lift-note": ""})
    assert response.status_code == 400
    listing.refresh_from_db()
    assert listing.status == ListingStatus.ACTIVE
    response = client.post(url, {"lift-note": "复查合格"})
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.status == ListingStatus.LIFTED
    # Again: refused by the state (409, with the reason).
    response = client.post(url, {"lift-note": "再次摘牌"})
    assert response.status_code == 409 and 'data-testid="refusal"' in response.content.decode()


def test_lift_an_open_hazard_needs_lift_anyway(client, lworld):
    w = lworld
    hazard = report(w, level=HazardLevel.MAJOR, deadline=in_days(5), now=timezone.now())
    url = reverse("hazards:listing_lift", args=[hazard.listings.get().pk])
    c = login(client, w.users["gov"])
    page = c.get(
        reverse("hazards:listing_detail", args=[hazard.listings.get().pk])
    ).content.decode()
    assert 'data-testid="hazard-open-warning"' in page
    assert c.post(url, {"lift-note": "摘牌"}).status_code == 409
    response = c.post(url, {"lift-note": "另案处理", "lift-lift_anyway": "on"})
    assert response.status_code == 302
    assert ListedSupervision.objects.get().status == ListingStatus.LIFTED


def test_edit_through_the_page(client, lworld):
    w = lworld
    listing = listed(w)
    url = reverse("hazards:listing_edit", args=[listing.pk])
    data = {
        "edit-reference": "挂督〔2025〕7号",
        "edit-requirements": "限期清理",
        "edit-deadline": in_days(8).isoformat(),
        "edit-is_public": "on",
    }
    assert login(client, w.users["principal"]).post(url, data).status_code == 403
    assert login(client, w.users["gov"]).post(url, data).status_code == 302
    listing.refresh_from_db()
    assert listing.reference == "挂督〔2025〕7号" and listing.deadline == in_days(8)
    bad = dict(data, **{"edit-deadline": in_days(-2).isoformat()})
    assert client.post(url, bad).status_code == 400


def test_new_listing_form(client, lworld):
    w = lworld
    assert login(client, w.users["edu"]).get(NEW).status_code == 403
    c = login(client, w.users["gov"])
    assert c.get(NEW).status_code == 200
    data = {
        "school": w.school.pk,
        "title": "周边网吧接纳未成年人",
        "reason": "多次检查发现问题",
        "requirements": "一个月内整改",
        "deadline": in_days(30).isoformat(),
        "reference": "挂督〔2025〕5号",
        "supervising_org": w.gov_office.pk,
        "is_public": "on",
    }
    response = c.post(NEW, dict(data, reason=""))
    assert response.status_code == 400 and not ListedSupervision.objects.exists()
    response = c.post(NEW, dict(data, deadline=in_days(-1).isoformat()))
    assert response.status_code == 400 and not ListedSupervision.objects.exists()
    # A school outside the office's scope is not among the choices.
    assert c.post(NEW, dict(data, school=w.far_school.pk)).status_code == 400
    response = c.post(NEW, data)
    listing = ListedSupervision.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{listing.pk}/")
    assert listing.supervising_org == w.gov_office and listing.is_public


def test_list_a_hazard_from_its_page(client, lworld):
    w = lworld
    hazard = report(w, now=timezone.now())
    detail = reverse("hazards:hazard_detail", args=[hazard.pk])
    page = login(client, w.users["gov"]).get(detail).content.decode()
    assert 'data-testid="hazard-list-action"' in page
    assert 'data-testid="hazard-task-action"' in page
    page = login(client, w.users["principal"]).get(detail).content.decode()
    assert 'data-testid="hazard-list-action"' not in page
    assert 'data-testid="hazard-task-action"' not in page
    c = login(client, w.users["gov"])
    url = f"{NEW}?hazard={hazard.pk}"
    assert c.get(url).status_code == 200
    data = {
        "reason": "整改迟缓",
        "deadline": in_days(10).isoformat(),
        "supervising_org": w.gov_office.pk,
        "is_public": "on",
    }
    assert c.post(url, data).status_code == 302
    listing = ListedSupervision.objects.get()
    assert listing.hazard == hazard and listing.title == hazard.title
    # Listing it again: 409.
    assert c.post(url, data).status_code == 409
    page = c.get(detail).content.decode()
    assert 'data-testid="hazard-listing"' in page and 'data-testid="hazard-list-action"' not in page
    # The school sees the public listing on its hazard page.
    page = login(client, w.users["principal"]).get(detail).content.decode()
    assert 'data-testid="hazard-listing"' in page
    # A hazard out of scope: 404; garbage: 404.
    assert login(client, w.users["fargov"]).get(f"{NEW}?hazard={hazard.pk}").status_code == 404
    assert login(client, w.users["gov"]).get(f"{NEW}?hazard=abc").status_code == 404


def test_hazard_page_says_when_no_governance_office(client, hworld, media):
    w = hworld
    hazard = report(
        w,
        school=w.far_school,
        actor=w.users["farpolice"],
        level=HazardLevel.MAJOR,
        now=timezone.now(),
    )
    page = (
        login(client, w.users["farpolice"])
        .get(reverse("hazards:hazard_detail", args=[hazard.pk]))
        .content.decode()
    )
    assert 'data-testid="no-governance-office"' in page


def test_printable_notice(client, lworld):
    w = lworld
    listing = listed(w, requirements="一个月内彻底清理")
    url = reverse("hazards:listing_notice", args=[listing.pk])
    response = login(client, w.users["principal"]).get(url)
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="listing-notice"' in body
    assert "huxiao/print.css" in body
    assert 'data-testid="notice-org">综治办<' in body
    assert "挂督〔2025〕1号" in body
    assert f'data-testid="notice-date">{today().isoformat()}<' in body
    assert "本园" in body and "校园周边流动摊贩长期占道" in body and "一个月内彻底清理" in body
    assert in_days(5).isoformat() in body
    assert login(client, w.users["fargov"]).get(url).status_code == 404
