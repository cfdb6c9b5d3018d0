"""Template pages and API: who reads, who copies and edits, and bad input as a message."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.hazards.models import ChecklistTemplate, TemplateItem
from huxiao.hazards.tests.template_fixtures import first_item, publish, tpl_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
READERS = ["principal", "guard", "teacher", "police", "officer", "edu", "gov", "county"]


def login(client, world, who):
    client.force_login(world.users[who])
    return client


@pytest.mark.parametrize("who", READERS)
def test_readers_see_the_list_and_detail(tpl, client, who):
    login(client, tpl, who)
    r = client.get(reverse("hazards:template_list"))
    assert r.status_code == 200
    assert "学校（幼儿园）月度安全自查" in r.content.decode()
    r = client.get(reverse("hazards:template_detail", args=[tpl.monthly.pk]))
    assert r.status_code == 200
    body = r.content.decode()
    assert first_item(tpl.monthly).text in body
    assert ('data-testid="template-copy"' in body) == (who in {"edu", "gov", "county"})


def test_nobody_and_anonymous(tpl, client):
    r = client.get(reverse("hazards:template_list"))
    assert r.status_code == 302
    login(client, tpl, "nobody")
    assert client.get(reverse("hazards:template_list")).status_code == 403


@pytest.mark.parametrize("who", ["principal", "police", "edu2", "gov"])
def test_a_draft_is_hidden_from_everyone_but_its_office(tpl, client, who):
    login(client, tpl, who)
    assert client.get(reverse("hazards:template_detail", args=[tpl.draft.pk])).status_code == 404


def test_copy_edit_and_publish_on_the_pages(tpl, client):
    w = tpl
    login(client, w, "edu")
    r = client.post(reverse("hazards:template_copy", args=[w.monthly.pk]), {"name": "页面复制"})
    copy = ChecklistTemplate.objects.get(name="页面复制")
    assert r.status_code == 302 and r["Location"] == reverse(
        "hazards:template_edit", args=[copy.pk]
    )
    assert client.get(r["Location"]).status_code == 200
    item = first_item(copy)
    r = client.post(
        reverse("hazards:template_item", args=[item.pk, "edit"]),
        {"text": "改过", "max_score": "3", "category": "physical", "photo_required": "on"},
    )
    item.refresh_from_db()
    assert (item.text, item.photo_required, str(item.max_score)) == ("改过", True, "3.0")
    r = client.post(reverse("hazards:template_publish", args=[copy.pk]))
    copy.refresh_from_db()
    assert copy.is_published and copy.is_current


def test_bad_item_on_the_page_is_a_message(tpl, client):
    w = tpl
    login(client, w, "edu")
    section = w.draft.sections.first()
    count = TemplateItem.objects.count()
    r = client.post(
        reverse("hazards:template_section", args=[section.pk, "add-item"]),
        {"text": "", "max_score": "abc"},
        follow=True,
    )
    assert r.status_code == 200
    assert "此项为必填项。" in r.content.decode()
    assert TemplateItem.objects.count() == count
    r = client.post(reverse("hazards:template_section", args=[section.pk, "explode"]))
    assert r.status_code == 404


def test_published_and_other_offices_templates_are_not_edited_on_the_pages(tpl, client):
    w = tpl
    login(client, w, "edu")
    r = client.get(reverse("hazards:template_edit", args=[w.monthly.pk]))
    assert r.status_code == 302
    item = first_item(w.monthly)
    r = client.post(
        reverse("hazards:template_item", args=[item.pk, "edit"]),
        {"text": "改内置", "max_score": "1", "category": "other"},
    )
    item.refresh_from_db()
    assert item.text != "改内置"
    login(client, w, "principal")
    assert client.post(reverse("hazards:template_copy", args=[w.monthly.pk])).status_code == 403
    login(client, w, "edu2")
    r = client.post(
        reverse("hazards:template_item", args=[first_item(w.draft).pk, "edit"]),
        {"text": "外镇改", "max_score": "1", "category": "other"},
    )
    assert r.status_code == 404


# ------------------------------------------------------------------ API


@pytest.mark.parametrize("who", READERS)
def test_api_list_and_detail(tpl, api, who):
    r = api("get", "/api/v1/hazards/templates", tpl.users[who])
    assert r.status_code == 200, r.content
    codes = {row["code"] for row in r.json()["items"]}
    assert "monthly-self-check" in codes and tpl.draft.code not in codes
    r = api("get", f"/api/v1/hazards/templates/{tpl.monthly.pk}", tpl.users[who])
    assert r.status_code == 200 and r.json()["max_score"] == "100.0"
    assert r.json()["sections"][0]["items"][0]["text"] == first_item(tpl.monthly).text


def test_api_anonymous_nobody_and_hidden_draft(tpl, api):
    assert api("get", "/api/v1/hazards/templates").status_code == 401
    assert api("get", "/api/v1/hazards/templates", tpl.users["nobody"]).status_code == 403
    r = api("get", f"/api/v1/hazards/templates/{tpl.draft.pk}", tpl.users["edu2"])
    assert r.status_code == 404


def test_api_copy_and_publish(tpl, api):
    w = tpl
    url = f"/api/v1/hazards/templates/{w.monthly.pk}/copy"
    r = api("post", url, w.users["principal"], json={"name": "x"})
    assert r.status_code == 403
    r = api("post", url, w.users["edu"], json={"name": ""})
    assert r.status_code == 400 and r.json()["errors"] == {"name": ["此项为必填项。"]}
    r = api("post", url, w.users["gov"], json={"name": "接口复制"})
    assert r.status_code == 201 and r.json()["owner_name"] == "综治办"
    copy_id = r.json()["id"]
    publish_url = f"/api/v1/hazards/templates/{copy_id}/publish"
    assert api("post", publish_url, w.users["edu"]).status_code == 404
    r = api("post", publish_url, w.users["gov"])
    assert r.status_code == 200 and r.json()["is_current"] is True
    r = api("post", publish_url, w.users["gov"])
    assert r.status_code == 400
    assert r.json()["errors"]["__all__"] == ["已发布的版本不能修改，请新建版本后再编辑。"]
    shipped_publish = f"/api/v1/hazards/templates/{w.monthly.pk}/publish"
    r = api("post", shipped_publish, w.users["edu"])
    assert r.json()["errors"]["__all__"] == ["平台内置的检查表不能修改，请复制一份后再编辑。"]
