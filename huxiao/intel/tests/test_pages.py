"""Register pages for its keepers: list, search, create, edit, detail with its timeline,
close and reopen, measures, follow-ups, export; every read logged."""

import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from huxiao.core.idcard import make_id_number
from huxiao.intel import services
from huxiao.intel.models import HighRiskPerson
from huxiao.intel.tests.conftest import PERSON_ID_NUMBER, PERSON_NAME, reads, register_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def police(client, reg):
    client.force_login(reg.users["police"])
    return client


def test_list_shows_names_masked_numbers_and_logs_reads(police, reg, person):
    response = police.get(reverse("intel:register_list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert PERSON_NAME in html and person.reference in html
    assert PERSON_ID_NUMBER not in html and person.id_number_masked in html
    assert response["Cache-Control"].startswith("max-age=0")
    assert len(reads(reg.users["police"], person)) == 1


def test_review_due_filter(police, reg, person):
    html = police.get(reverse("intel:register_list") + "?review=due").content.decode()
    assert PERSON_NAME not in html
    HighRiskPerson.objects.filter(pk=person.pk).update(
        next_review_on=timezone.localdate() - dt.timedelta(days=2)
    )
    html = police.get(reverse("intel:register_list") + "?review=due").content.decode()
    assert PERSON_NAME in html and 'data-testid="review-due"' in html


def test_search_is_a_post_and_finds_by_sound(police, reg, person):
    response = police.post(reverse("intel:register_list"), {"q": "章三峰"})
    assert response.status_code == 200 and PERSON_NAME in response.content.decode()
    response = police.post(reverse("intel:register_list"), {"q": "李四"})
    assert PERSON_NAME not in response.content.decode()


def test_create_with_photo(police, reg):
    number = make_id_number("130123", dt.date(1975, 1, 2), 33)
    png = b"\x89PNG\r\n\x1a\n" + b"\2" * 50
    response = police.post(
        reverse("intel:register_create"),
        {
            "name": "周八",
            "id_number": number,
            "category": "hostile_to_society",
            "risk_level": "medium",
            "related_schools": [reg.school.pk],
            "responsible_officer": reg.users["officer"].pk,
            "photo": SimpleUploadedFile("p.png", png, content_type="image/png"),
        },
    )
    person = HighRiskPerson.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("intel:register_detail", args=[person.pk])
    assert person.decrypt_name() == "周八" and person.photo.size == len(png)
    detail = police.get(response.url)
    assert 'data-testid="person-photo"' in detail.content.decode()
    assert police.get(reverse("intel:register_photo", args=[person.pk])).content == png


def test_create_errors_are_shown_and_nothing_is_written(police, reg):
    before = register_state()
    response = police.post(
        reverse("intel:register_create"),
        {
            "name": "周八",
            "id_number": "130123197501020001",
            "category": "other",
            "risk_level": "low",
            "photo": SimpleUploadedFile("p.gif", b"GIF89a", content_type="image/gif"),
        },
    )
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert register_state() == before
    # A good record with a bad photo: the record is not kept either.
    response = police.post(
        reverse("intel:register_create"),
        {
            "name": "周八",
            "birth_date": "1975-01-02",
            "category": "other",
            "risk_level": "low",
            "photo": SimpleUploadedFile("p.gif", b"GIF89a", content_type="image/gif"),
        },
    )
    assert response.status_code == 400
    assert register_state() == before


def test_edit(police, reg, person):
    page = police.get(reverse("intel:register_edit", args=[person.pk])).content.decode()
    assert PERSON_ID_NUMBER in page and "幸福路12号" in page
    response = police.post(
        reverse("intel:register_edit", args=[person.pk]),
        {
            "name": PERSON_NAME,
            "id_number": PERSON_ID_NUMBER,
            "address": "迁至柳河镇",
            "category": "revenge_threat",
            "risk_level": "low",
            "responsible_officer": reg.users["postofficer"].pk,
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.decrypt_address() == "迁至柳河镇" and person.risk_level == "low"
    assert person.responsible_officer == reg.users["postofficer"]
    assert not person.related_schools.exists()


def test_detail_timeline_and_access_log(client, reg, person):
    today = timezone.localdate()
    services.measure_add(
        actor=reg.users["officer"], person=person, kind="custody", started_on=today, notes="送医"
    )
    services.follow_up_add(
        actor=reg.users["officer"],
        person=person,
        on=today,
        method="phone",
        assessment="whereabouts_unknown",
        finding="电话无人接听",
    )
    services.screen_person(actor=reg.users["guard"], school=reg.school, id_number=PERSON_ID_NUMBER)
    client.force_login(reg.users["officer"])
    html = client.get(reverse("intel:register_detail", args=[person.pk])).content.decode()
    assert PERSON_ID_NUMBER in html and "电话无人接听" in html and "送医" in html
    assert reg.school.name in html  # held at its gate
    assert 'data-testid="access-log"' not in html  # officers do not see who read
    client.force_login(reg.users["police"])
    html = client.get(reverse("intel:register_detail", args=[person.pk])).content.decode()
    assert 'data-testid="access-log"' in html


def test_close_reopen_measure_end_follow_up(police, reg, person):
    today = timezone.localdate()
    response = police.post(
        reverse("intel:follow_up_add", args=[person.pk]),
        {
            "on": today.isoformat(),
            "method": "home_visit",
            "assessment": "stable",
            "finding": "在家",
        },
    )
    assert response.status_code == 302
    assert person.follow_ups.get().decrypt_finding() == "在家"
    response = police.post(
        reverse("intel:measure_add", args=[person.pk]),
        {"kind": "monitoring", "started_on": (today - dt.timedelta(days=3)).isoformat()},
    )
    assert response.status_code == 302
    measure = person.measures.get()
    police.post(reverse("intel:measure_end", args=[person.pk, measure.pk]))
    measure.refresh_from_db()
    assert measure.ended_on == today
    bad = police.post(reverse("intel:register_close", args=[person.pk]), {"reason": "other"})
    assert bad.status_code == 400
    police.post(reverse("intel:register_close", args=[person.pk]), {"reason": "moved_away"})
    person.refresh_from_db()
    assert person.status == "closed"
    html = police.get(reverse("intel:register_detail", args=[person.pk])).content.decode()
    assert 'data-testid="closed"' in html and 'data-testid="edit-link"' not in html
    police.post(reverse("intel:register_reopen", args=[person.pk]))
    person.refresh_from_db()
    assert person.status == "active"


def test_legal_vice_principal_membership_does_not_add_the_register(client, reg, person):
    """The demo's officer holds both roles at the station: the officer role gives the
    register; a user with only the legal vice-principal role has none."""
    client.force_login(reg.users["lvp"])
    assert client.get(reverse("intel:register_list")).status_code == 404


def test_export_is_for_commanders_with_masked_numbers(client, reg, person):
    client.force_login(reg.users["officer"])
    assert client.get(reverse("intel:register_export")).status_code == 403
    client.force_login(reg.users["police"])
    response = client.get(reverse("intel:register_export"))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][0] == person.reference and rows[1][2] == PERSON_NAME
    assert rows[1][4] == person.id_number_masked and PERSON_ID_NUMBER not in str(rows)
    from huxiao.audit.models import AuditEvent

    assert (
        AuditEvent.objects.filter(action="export", object_type="intel.highriskperson").count() == 1
    )
    assert len(reads(reg.users["police"], person)) == 1


def test_list_page_queries_do_not_grow_with_rows(
    police, reg, person, django_assert_max_num_queries
):
    for n in range(30):
        other = services.person_register(
            actor=reg.users["police"],
            station=reg.station,
            name=f"测试{n}",
            birth_date=dt.date(1980, 1, 1) + dt.timedelta(days=n),
            category="other",
            risk_level="low",
            related_schools=[reg.school],
            responsible_officer=reg.users["officer"],
        )
        if n % 10 == 0:
            services.screen_person(
                actor=reg.users["guard"],
                school=reg.school,
                name=f"测试{n}",
                birth_date=dt.date(1980, 1, 1) + dt.timedelta(days=n),
            )
    assert other
    with django_assert_max_num_queries(20):
        response = police.get(reverse("intel:register_list"))
    assert response.status_code == 200


def test_export_defuses_a_name_a_spreadsheet_would_run(client, reg):
    services.person_register(
        actor=reg.users["police"],
        station=reg.station,
        name='=HYPERLINK("http://x","张")',
        birth_date=dt.date(1980, 1, 1),
        category="other",
        risk_level="low",
        related_schools=[reg.school],
        responsible_officer=reg.users["officer"],
    )
    client.force_login(reg.users["police"])
    book = openpyxl.load_workbook(io.BytesIO(client.get(reverse("intel:register_export")).content))
    cell = book.active.cell(row=2, column=3)
    assert cell.data_type == "s" and not str(cell.value).startswith("=")
