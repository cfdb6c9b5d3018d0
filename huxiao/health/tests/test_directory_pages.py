"""Pages of the four-party directory by role × scope; adding, editing, removing and filling
contacts; bad input is 400 with the error in place and nothing written."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.health.choices import Party
from huxiao.health.models import HealthContact

pytestmark = pytest.mark.django_db

READ = [
    ("principal", 200),
    ("teacher", 200),
    ("guard", 200),
    ("nurse", 200),
    ("dutylead", 200),
    ("principal2", 404),
    ("police", 403),
    ("officer", 403),
    ("postofficer", 403),
    ("farpolice", 403),
    ("health", 200),
    ("countyhealth", 200),
    ("edu", 200),
    ("gov", 200),
    ("liaison", 200),
    ("county", 200),
    ("nobody", 403),
]
EDIT = [
    ("principal", 200),
    ("nurse", 200),
    ("health", 200),
    ("countyhealth", 200),
    ("teacher", 403),
    ("guard", 403),
    ("dutylead", 403),
    ("principal2", 404),
    ("police", 403),
    ("edu", 403),
    ("liaison", 403),
    ("nobody", 403),
]


def _contact(w, party=Party.SCHOOL, **fields) -> HealthContact:
    data = {"name": "刘芳", "title": "园长", "phone": "13812345678", "is_primary": True}
    return HealthContact.objects.create(school=w.school, party=party, **{**data, **fields})


def _get(client, user, url):
    client.force_login(user)
    return client.get(url)


def _page(w) -> str:
    return reverse("health:directory", args=[w.school.pk])


def test_anonymous_goes_to_login(client, hworld):
    w = hworld
    contact = _contact(w)
    for url in (
        _page(w),
        reverse("health:directory_new", args=[w.school.pk]),
        reverse("health:directory_edit", args=[contact.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"], url
    for url in (
        reverse("health:directory_fill", args=[w.school.pk]),
        reverse("health:directory_delete", args=[contact.pk]),
    ):
        response = client.post(url)
        assert response.status_code == 302 and "login" in response["Location"], url
    assert HealthContact.objects.count() == 1


@pytest.mark.parametrize(("name", "status"), READ)
def test_directory_page_scope(client, hworld, name, status):
    w = hworld
    contact = _contact(w)
    response = _get(client, w.users[name], _page(w))
    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert 'data-testid="four-party-directory"' in page
        assert f'data-testid="contact-{contact.pk}"' in page
        assert 'href="tel:13812345678"' in page
        # The health centre and government have no named contact: their switchboards show.
        assert 'href="tel:031185213120"' in page and 'href="tel:031185213000"' in page
        editable = f'data-testid="edit-{contact.pk}"' in page
        assert editable == (name in ("principal", "nurse"))
        assert ('data-testid="contact-add"' in page) == (
            name in dict(EDIT) and dict(EDIT)[name] == 200
        )


def test_out_of_range_school_ids_are_not_found(client, hworld):
    w = hworld
    client.force_login(w.users["principal"])
    assert client.get(reverse("health:directory", args=[w.far_school.pk])).status_code == 404
    assert client.get(reverse("health:directory", args=[w.station.pk])).status_code == 404
    assert client.get(f"/health/schools/{2**63}/directory/").status_code == 404


@pytest.mark.parametrize(("name", "status"), EDIT)
def test_new_contact_page_scope(client, hworld, name, status):
    w = hworld
    response = _get(client, w.users[name], reverse("health:directory_new", args=[w.school.pk]))
    assert response.status_code == status
    if status == 200:
        offered = [value for value, _label in response.context["form"].fields["party"].choices]
        if name in ("health", "countyhealth"):
            assert offered == [Party.HEALTH_CENTRE]
        else:
            assert offered == list(Party.values)


def test_principal_adds_a_contact(client, hworld):
    w = hworld
    client.force_login(w.users["principal"])
    url = reverse("health:directory_new", args=[w.school.pk])
    response = client.post(
        url,
        {
            "party": Party.GOVERNMENT,
            "name": "孙建民",
            "title": "分管副镇长",
            "phone": "0311 8521 3000",
            "organization": "",
        },
    )
    assert response.status_code == 302 and response["Location"] == _page(w)
    contact = HealthContact.objects.get()
    assert (contact.party, contact.phone, contact.is_primary) == (
        Party.GOVERNMENT,
        "0311-85213000",
        True,
    )
    assert contact.organization == w.government
    page = client.get(_page(w)).content.decode()
    assert "孙建民" in page and 'href="tel:031185213000"' in page


def test_bad_phone_is_400_in_place_and_nothing_written(client, hworld):
    w = hworld
    client.force_login(w.users["nurse"])
    url = reverse("health:directory_new", args=[w.school.pk])
    response = client.post(url, {"party": Party.SCHOOL, "name": "郭秀兰", "phone": "85213120"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"phone"}
    assert 'data-testid="contact-form"' in response.content.decode()
    response = client.post(
        url, {"party": Party.SCHOOL, "name": "", "phone": "13812345678", "sort_order": "abc"}
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "sort_order"}
    assert not HealthContact.objects.exists()


def test_health_officer_cannot_post_another_party(client, hworld):
    w = hworld
    client.force_login(w.users["health"])
    url = reverse("health:directory_new", args=[w.school.pk])
    response = client.post(url, {"party": Party.SCHOOL, "name": "x", "phone": "13812345678"})
    assert response.status_code == 400 and "party" in response.context["form"].errors
    assert not HealthContact.objects.exists()
    response = client.post(
        url,
        {"party": Party.HEALTH_CENTRE, "name": "王医生", "title": "防保科", "phone": "13912345678"},
    )
    assert response.status_code == 302
    assert HealthContact.objects.get().organization == w.health_centre


def test_edit_page_scope_and_save(client, hworld):
    w = hworld
    own = _contact(w)
    centre = _contact(w, party=Party.HEALTH_CENTRE, name="郑晓梅", phone="0311-85213120")
    url = reverse("health:directory_edit", args=[own.pk])
    for name, status in (("teacher", 403), ("principal2", 404), ("police", 403), ("health", 403)):
        assert _get(client, w.users[name], url).status_code == status, name
    health_url = reverse("health:directory_edit", args=[centre.pk])
    assert _get(client, w.users["health"], health_url).status_code == 200
    response = _get(client, w.users["principal"], url)
    assert response.status_code == 200
    assert response.context["form"].initial["phone"] == "13812345678"
    response = client.post(
        url,
        {
            "party": Party.SCHOOL,
            "name": "刘芳",
            "title": "园长（第一责任人）",
            "phone": "13812345679",
            "is_primary": "on",
            "sort_order": "5",
            "organization": str(w.school.pk),
        },
    )
    assert response.status_code == 302
    own.refresh_from_db()
    assert (own.title, own.phone, own.sort_order) == ("园长（第一责任人）", "13812345679", 5)
    response = client.post(url, {"party": Party.SCHOOL, "name": "刘芳", "phone": "1"})
    assert response.status_code == 400 and "phone" in response.context["form"].errors
    own.refresh_from_db()
    assert own.phone == "13812345679"


def test_delete(client, hworld):
    w = hworld
    contact = _contact(w)
    url = reverse("health:directory_delete", args=[contact.pk])
    for name, status in (("teacher", 403), ("principal2", 404), ("police", 403), ("health", 403)):
        client.force_login(w.users[name])
        assert client.post(url).status_code == status, name
    assert HealthContact.objects.filter(pk=contact.pk).exists()
    client.force_login(w.users["principal"])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == _page(w)
    assert not HealthContact.objects.filter(pk=contact.pk).exists()


def test_fill_from_organizations(client, hworld):
    w = hworld
    url = reverse("health:directory_fill", args=[w.school.pk])
    for name, status in (("teacher", 403), ("principal2", 404), ("police", 403)):
        client.force_login(w.users[name])
        assert client.post(url).status_code == status, name
    assert not HealthContact.objects.exists()
    client.force_login(w.users["principal"])
    assert 'data-testid="directory-fill"' in client.get(_page(w)).content.decode()
    assert client.post(url).status_code == 302
    parties = set(HealthContact.objects.values_list("party", flat=True))
    assert {Party.HEALTH_CENTRE, Party.GOVERNMENT} <= parties
    count = HealthContact.objects.count()
    assert client.post(url).status_code == 302
    assert HealthContact.objects.count() == count


def test_missing_parties_are_named(client, hworld):
    w = hworld
    _contact(w)
    page = _get(client, w.users["teacher"], _page(w)).content.decode()
    assert 'data-testid="directory-missing"' in page
    assert 'data-testid="party-empty-health_centre"' in page
    assert 'data-testid="directory-fill"' not in page  # a reader cannot fill
