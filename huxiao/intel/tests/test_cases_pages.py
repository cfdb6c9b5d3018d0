"""Pages of school-related cases: role × scope, the person section, forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.intel.models import SchoolCase
from huxiao.intel.tests.cases_fixtures import (
    COMMAND,
    MANAGERS,
    NO_ACCESS,
    OUT_OF_SCOPE,
    SCHOOL_READERS,
    case_state,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", MANAGERS)
def test_police_see_person_section_and_transition_form(client, cw, case, name):
    client.force_login(cw.users[name])
    page = client.get(reverse("intel:case_detail", args=[case.pk])).content.decode()
    assert 'data-testid="case-persons"' in page and cw.person.reference in page
    assert 'data-testid="case-transition"' in page
    listing = client.get(reverse("intel:case_list"))
    assert listing.status_code == 200 and f'case-{case.pk}"' in listing.content.decode()
    nav = client.get(reverse("intel:case_list")).content.decode()
    assert reverse("intel:case_list") in nav


@pytest.mark.parametrize("name", COMMAND + SCHOOL_READERS)
def test_readers_see_no_person_section_and_no_form(client, cw, case, name):
    client.force_login(cw.users[name])
    response = client.get(reverse("intel:case_detail", args=[case.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "case-persons" not in page and cw.person.reference not in page
    assert "case-transition" not in page
    assert client.get(reverse("intel:case_edit", args=[case.pk])).status_code == 403
    before = case_state()
    post = client.post(
        reverse("intel:case_transition", args=[case.pk]), {"status": "investigating"}
    )
    assert post.status_code == 403 and case_state() == before


@pytest.mark.parametrize("name", NO_ACCESS)
def test_no_access_roles(client, cw, case, name):
    client.force_login(cw.users[name])
    assert client.get(reverse("intel:case_list")).status_code == 403
    assert client.get(reverse("intel:case_detail", args=[case.pk])).status_code == 404
    assert client.get(reverse("intel:case_new")).status_code == 403


@pytest.mark.parametrize("name", OUT_OF_SCOPE)
def test_out_of_scope_is_404(client, cw, case, name):
    client.force_login(cw.users[name])
    for url in ("intel:case_detail", "intel:case_edit"):
        assert client.get(reverse(url, args=[case.pk])).status_code == 404
    before = case_state()
    post = client.post(
        reverse("intel:case_transition", args=[case.pk]), {"status": "investigating"}
    )
    assert post.status_code == 404 and case_state() == before


def test_create_through_the_form_and_move_on(client, cw):
    client.force_login(cw.users["officer"])
    assert client.get(reverse("intel:case_new")).status_code == 200
    data = {
        "school": cw.school.pk,
        "case_number": "W-1",
        "title": "学生斗殴致伤",
        "category": "bullying_injury",
        "occurred_at": (timezone.localtime() - dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "officer": cw.users["officer"].pk,
        "alarms": str(cw.alarm.pk),
        "warning_signs": "",
        "persons": str(cw.person.pk),
    }
    response = client.post(reverse("intel:case_new"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    created = SchoolCase.objects.get()
    assert list(created.alarms.values_list("pk", flat=True)) == [cw.alarm.pk]
    response = client.post(
        reverse("intel:case_transition", args=[created.pk]),
        {"status": "investigating", "note": "立案侦查"},
    )
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.status == "investigating" and created.investigating_at


def test_form_errors_are_400_and_nothing_written(client, cw):
    client.force_login(cw.users["police"])
    data = {
        "school": cw.school.pk,
        "case_number": "W-2",
        "title": "x",
        "category": "theft",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "officer": cw.users["officer"].pk,
        "alarms": str(cw.other_alarm.pk),
    }
    response = client.post(reverse("intel:case_new"), data)
    assert response.status_code == 400
    assert not SchoolCase.objects.exists()


def test_bad_transition_on_page_writes_nothing(client, cw, case):
    client.force_login(cw.users["police"])
    before = case_state()
    response = client.post(reverse("intel:case_transition", args=[case.pk]), {"status": "referred"})
    assert response.status_code == 303
    assert case_state() == before


def test_nav_entry_only_for_case_keepers(client, cw):
    url = reverse("intel:case_list")
    client.force_login(cw.users["principal"])
    assert f'href="{url}"' not in client.get(reverse("intel:sign_list")).content.decode()
    client.force_login(cw.users["officer"])
    assert f'href="{url}"' in client.get(reverse("intel:sign_list")).content.decode()
