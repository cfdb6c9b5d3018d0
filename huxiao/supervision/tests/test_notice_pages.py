# ruff: noqa: F811 - pytest fixtures imported from notice_fixtures are arguments here
"""Pages of notices: list and detail by role × scope, drafting (with the one-click "all
schools" and the ranking prefill), editing (409 once published), publishing, read marks,
resolving, discarding and the printable notice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.notify.models import Notification
from huxiao.supervision import notice_services as ns
from huxiao.supervision.choices import NoticeKind, NoticeStatus, RunStatus
from huxiao.supervision.models import (
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    Notice,
    NoticeReceipt,
)
from huxiao.supervision.tests.notice_fixtures import nworld  # noqa: F401

pytestmark = pytest.mark.django_db

LIST = reverse("supervision:notice_list")
NEW = reverse("supervision:notice_new")


def today() -> dt.date:
    return timezone.localdate()


def login(client, user):
    client.force_login(user)
    return client


def url(name, notice):
    return reverse(f"supervision:{name}", args=[notice.pk])


def live_draft(w, **kwargs):
    """A draft on the real clock (the pages use it)."""
    kwargs.setdefault("kind", NoticeKind.CRITICISM)
    if kwargs["kind"] == NoticeKind.CRITICISM:
        kwargs.setdefault("improve_by", today() + dt.timedelta(days=7))
    kwargs.setdefault("title", "关于本园门卫值守不到位的通报批评")
    kwargs.setdefault("body", "经督导检查，本园门卫值守不到位。")
    kwargs.setdefault("reference", "测试教〔2025〕5号")
    kwargs.setdefault("subjects", [w.school.pk])
    kwargs.setdefault("recipients", [w.other_school.pk, w.gov_office.pk])
    return ns.notice_draft(actor=kwargs.pop("actor", w.users["edu"]), **kwargs)


@pytest.fixture
def live(nworld):
    draft = live_draft(nworld)
    published = ns.notice_publish(
        actor=nworld.users["edu"],
        notice=live_draft(nworld, title="已发布的通报批评", reference="R-1"),
    )
    return draft, published


# ------------------------------------------------------------------ list and detail


@pytest.mark.parametrize(
    ("name", "status", "sees_published", "sees_draft"),
    [
        ("edu", 200, True, True),
        ("principal", 200, True, False),
        ("guard", 200, True, False),
        ("principal2", 200, True, False),
        ("gov", 200, True, False),
        ("police", 200, False, False),
        ("farpolice", 200, False, False),
        ("county", 200, False, False),
        ("nobody", 403, False, False),
    ],
)
def test_list_role_and_scope(client, nworld, live, name, status, sees_published, sees_draft):
    draft, published = live
    response = login(client, nworld.users[name]).get(LIST)
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert (published.title in body) is sees_published
        assert (draft.title in body) is sees_draft


def test_list_anonymous_goes_to_login(client, nworld):
    assert client.get(LIST).status_code == 302


def test_list_boxes_and_garbage(client, nworld, live):
    draft, published = live
    c = login(client, nworld.users["edu"])
    assert draft.title not in c.get(LIST, {"box": "issued", "status": "published"}).content.decode()
    assert c.get(LIST, {"box": "received"}).content.decode().count('data-testid="notice-row"') == 0
    assert c.get(LIST, {"box": "zzz", "kind": "x", "page": "abc"}).status_code == 200


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("edu", 200),
        ("principal", 200),
        ("principal2", 200),
        ("police", 404),
        ("farpolice", 404),
        ("county", 404),
        ("nobody", 403),
    ],
)
def test_detail_role_and_scope(client, nworld, live, name, status):
    _, published = live
    response = login(client, nworld.users[name]).get(url("notice_detail", published))
    assert response.status_code == status


def test_detail_for_the_criticised_school_and_for_the_issuer(client, nworld, live):
    w = nworld
    _, published = live
    body = login(client, w.users["principal"]).get(url("notice_detail", published)).content.decode()
    assert 'data-testid="countdown" data-days-left="7"' in body
    assert 'data-testid="do-read"' in body
    assert 'data-testid="notice-receipts"' not in body  # only the issuer sees who read
    assert 'data-testid="draft-actions"' not in body and 'data-testid="resolve"' not in body
    body = login(client, w.users["edu"]).get(url("notice_detail", published)).content.decode()
    assert body.count('data-testid="receipt-row"') == 3
    assert 'data-testid="resolve"' in body and 'data-testid="do-read"' not in body


def test_detail_of_a_draft_only_for_the_issuer(client, nworld, live):
    draft, _ = live
    assert (
        login(client, nworld.users["principal"]).get(url("notice_detail", draft)).status_code == 404
    )
    body = login(client, nworld.users["edu"]).get(url("notice_detail", draft)).content.decode()
    assert 'data-testid="draft-actions"' in body


def test_huge_id_is_404(client, nworld):
    c = login(client, nworld.users["edu"])
    assert c.get(f"/supervision/notices/{2**64}/").status_code == 404


# ------------------------------------------------------------------ drafting and editing


def _form(w, **overrides):
    data = {
        "kind": "criticism",
        "reference": "测试教〔2025〕8号",
        "title": "新通报",
        "body": "正文",
        "improve_by": (today() + dt.timedelta(days=10)).isoformat(),
        "subjects": [w.school.pk],
        "all_schools": "on",
        "recipients": [w.gov_office.pk],
    }
    data.update(overrides)
    return data


def test_new_draft_with_all_schools_in_one_click(client, nworld):
    w = nworld
    c = login(client, w.users["edu"])
    assert c.get(NEW).status_code == 200
    response = c.post(NEW, _form(w))
    notice = Notice.objects.get(title="新通报")
    assert response.status_code == 302 and response.url == url("notice_detail", notice)
    assert notice.status == NoticeStatus.DRAFT and notice.issuer_id == w.edu_office.pk
    assert set(notice.receipts.values_list("organization_id", flat=True)) == {
        w.school.pk,
        w.other_school.pk,
        w.gov_office.pk,
    }
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"improve_by": "2000-01-01"},
        {"kind": "commendation"},  # a commendation with a date
        {"title": ""},
        {"subjects": ["far"]},  # replaced below by the far school
        {"recipients": ["far"]},
    ],
)
def test_new_draft_bad_input(client, nworld, overrides):
    w = nworld
    overrides = {k: [w.far_school.pk] if v == ["far"] else v for k, v in overrides.items()}
    response = login(client, w.users["edu"]).post(NEW, _form(w, **overrides))
    assert response.status_code == 400
    assert not Notice.objects.exists()


@pytest.mark.parametrize("name", ["principal", "police", "nobody"])
def test_new_needs_assess(client, nworld, name):
    c = login(client, nworld.users[name])
    assert c.get(NEW).status_code == 403
    assert c.post(NEW, _form(nworld)).status_code == 403
    assert not Notice.objects.exists()


def test_edit_draft_and_409_once_published(client, nworld, live):
    w = nworld
    draft, published = live
    c = login(client, w.users["edu"])
    assert c.get(url("notice_edit", draft)).status_code == 200
    response = c.post(url("notice_edit", draft), _form(w, title="改过的标题"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "改过的标题"
    response = c.get(url("notice_edit", published))
    assert response.status_code == 409 and 'data-testid="refusal"' in response.content.decode()
    response = c.post(url("notice_edit", published), _form(w, title="偷改"))
    assert response.status_code == 409
    published.refresh_from_db()
    assert published.title == "已发布的通报批评"
    # A recipient may see the notice but not edit it; a draft it does not even see.
    p = login(client, w.users["principal"])
    assert p.get(url("notice_edit", published)).status_code == 403
    assert p.get(url("notice_edit", draft)).status_code == 404


# ------------------------------------------------------------------ publishing, reading, resolving


def test_publish_by_post(client, nworld, live):
    w = nworld
    draft, _ = live
    assert login(client, w.users["principal"]).post(url("notice_publish", draft)).status_code == 404
    c = login(client, w.users["edu"])
    response = c.post(url("notice_publish", draft))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == NoticeStatus.PUBLISHED
    assert Notification.objects.filter(event_type="supervision.notice_published").exists()
    assert c.post(url("notice_publish", draft)).status_code == 409
    assert c.get(url("notice_publish", draft)).status_code == 405


def test_publish_missing_reference_is_400(client, nworld):
    w = nworld
    draft = live_draft(w, reference="")
    response = login(client, w.users["edu"]).post(url("notice_publish", draft))
    assert response.status_code == 400 and 'data-testid="errors"' in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == NoticeStatus.DRAFT


def test_read_by_post(client, nworld, live):
    w = nworld
    _, published = live
    assert login(client, w.users["edu"]).post(url("notice_read", published)).status_code == 403
    assert (
        login(client, w.users["farpolice"]).post(url("notice_read", published)).status_code == 404
    )
    assert 'data-testid="unread"' in login(client, w.users["principal"]).get(LIST).content.decode()
    response = client.post(url("notice_read", published))
    assert response.status_code == 302
    assert 'data-testid="unread"' not in client.get(LIST).content.decode()
    receipt = NoticeReceipt.objects.get(notice=published, organization=w.school)
    assert receipt.read_by == w.users["principal"]
    body = client.get(url("notice_detail", published)).content.decode()
    assert 'data-testid="read-by-us"' in body and 'data-testid="do-read"' not in body
    body = login(client, w.users["edu"]).get(url("notice_detail", published)).content.decode()
    assert body.count('data-testid="receipt-read"') == 1


def test_resolve_by_post(client, nworld, live):
    w = nworld
    _, published = live
    assert (
        login(client, w.users["principal"])
        .post(url("notice_resolve", published), {"resolution": "已整改"})
        .status_code
        == 403
    )
    c = login(client, w.users["edu"])
    assert c.post(url("notice_resolve", published), {"resolution": ""}).status_code == 400
    assert c.post(url("notice_resolve", published), {"resolution": "已整改"}).status_code == 302
    published.refresh_from_db()
    assert published.resolution == "已整改"
    assert c.post(url("notice_resolve", published), {"resolution": "再来"}).status_code == 409


def test_discard_by_post(client, nworld, live):
    draft, published = live
    c = login(client, nworld.users["edu"])
    assert c.post(url("notice_discard", published)).status_code == 409
    response = c.post(url("notice_discard", draft))
    assert response.status_code == 302 and response.url == LIST
    assert not Notice.objects.filter(pk=draft.pk).exists()


# ------------------------------------------------------------------ the printable notice


def test_print_page(client, nworld, live):
    w = nworld
    draft, published = live
    body = login(client, w.users["principal2"]).get(url("notice_print", published)).content.decode()
    assert 'data-testid="notice-print"' in body
    assert w.edu_office.name in body and "R-1" in body and w.school.name in body
    assert "huxiao/print.css" in body and 'data-testid="print-draft"' not in body
    body = login(client, w.users["edu"]).get(url("notice_print", draft)).content.decode()
    assert 'data-testid="print-draft"' in body
    assert (
        login(client, w.users["farpolice"]).get(url("notice_print", published)).status_code == 404
    )
    assert login(client, w.users["principal"]).get(url("notice_print", draft)).status_code == 404


# ------------------------------------------------------------------ prefill from a ranking


@pytest.fixture
def ranking(nworld):
    w = nworld
    scheme = AssessmentScheme.objects.create(name="月度考核", owner=w.edu_office)
    run = AssessmentRun.objects.create(
        scheme=scheme,
        period_start=dt.date(2025, 2, 1),
        period_end=dt.date(2025, 2, 28),
        status=RunStatus.PUBLISHED,
        computed_at=timezone.now(),
        published_at=timezone.now(),
    )
    for school, rank, score, vetoed in (
        (w.other_school, 1, "95", True),
        (w.school, 2, "90", False),
        (w.far_school, 1, "99", False),  # another town: not the office's
    ):
        AssessmentResult.objects.create(
            run=run, school=school, score=Decimal(score), rank=rank, vetoed=vetoed
        )
    return run


def test_prefill_commend_the_top_skips_vetoed(client, nworld, ranking):
    w = nworld
    c = login(client, w.users["edu"])
    response = c.get(NEW, {"run": ranking.pk, "kind": "commendation", "n": 1})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["subjects"] == [w.school.pk]
    assert form.initial["kind"] == "commendation" and form.initial["run"] == ranking.pk
    assert w.school.name in form.initial["body"] and w.far_school.name not in form.initial["body"]


def test_prefill_criticise_the_bottom(client, nworld, ranking):
    w = nworld
    response = login(client, w.users["edu"]).get(
        NEW, {"run": ranking.pk, "kind": "criticism", "n": 1}
    )
    assert response.context["form"].initial["subjects"] == [w.school.pk]


def test_prefill_other_office_run_is_ignored(client, nworld, ranking):
    w = nworld
    AssessmentResult.objects.filter(run=ranking).exclude(school=w.far_school).delete()
    # The run now has no school of the town: not offered, not usable.
    response = login(client, w.users["edu"]).get(
        NEW, {"run": ranking.pk, "kind": "criticism", "n": 1}
    )
    assert response.status_code == 200
    assert "subjects" not in response.context["form"].initial


def test_list_queries_do_not_grow(client, nworld, django_assert_max_num_queries):
    w = nworld
    for i in range(30):
        ns.notice_publish(
            actor=w.users["edu"], notice=live_draft(w, title=f"通报{i}", reference=f"Q-{i}")
        )
    for name in ("edu", "principal"):
        c = login(client, w.users[name])
        c.get(LIST)
        with django_assert_max_num_queries(12):
            assert c.get(LIST).content.decode().count('data-testid="notice-row"') == 30
