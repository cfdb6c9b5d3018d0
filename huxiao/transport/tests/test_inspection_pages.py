# ruff: noqa: F811 - the `buses` fixture imported from inspection_fixtures is an argument here
"""Pages of police bus inspections (ADR 0031 "Inspections"): who gets 200, 403 and 404; the
check form shows the findings before saving (the "Check" button and the HTMX partial) and
saves; the detail page's follow-up forms for each side; 400 with the errors in place and
409 with the reason, nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.transport import inspection_services as services
from huxiao.transport.choices import FindingStatus
from huxiao.transport.models import BusFinding, BusInspection
from huxiao.transport.tests.inspection_fixtures import (
    READERS,
    buses,  # noqa: F401 - a fixture
    make_trip,
)

pytestmark = pytest.mark.django_db
LIST = reverse("transport:inspection_list")
NEW = reverse("transport:inspection_new")
PREVIEW = reverse("transport:inspection_preview")
FORM = {
    "kind": "random",
    "plate": "冀A·X3712",
    "riders_counted": "23",
    "safety_officer_present": "yes",
    "markings_present": "yes",
    "documents_ok": "yes",
    "location": "G107 大杨树路口",
}


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def inspection(buses):
    return services.inspection_record(
        actor=buses.users["officer"], plate="冀AX3712", riders_counted=23
    )


@pytest.fixture
def finding(inspection):
    return inspection.findings.get()


# ------------------------------------------------------------------ scope matrix


@pytest.mark.parametrize(("name", "status"), READERS)
def test_detail_scope(client, buses, inspection, name, status):
    url = reverse("transport:inspection_detail", args=[inspection.pk])
    assert login(client, buses.users[name]).get(url).status_code == status


@pytest.mark.parametrize(
    ("name", "status", "shown"),
    [
        ("principal", 200, True),
        ("principal2", 200, False),
        ("officer", 200, True),
        ("farpolice", 200, False),
        ("county", 200, True),
        ("nobody", 403, False),
    ],
)
def test_list_scope(client, buses, inspection, finding, name, status, shown):
    r = login(client, buses.users[name]).get(LIST)
    assert r.status_code == status
    if status == 200:
        page = r.content.decode()
        assert (f'data-testid="check-{inspection.pk}"' in page) is shown
        assert (f'data-testid="open-finding-{finding.pk}"' in page) is shown
        assert ('data-testid="new-check"' in page) is (name in ("officer", "farpolice"))


@pytest.mark.parametrize(
    ("name", "status"),
    [("officer", 200), ("police", 200), ("principal", 403), ("county", 403), ("nobody", 403)],
)
def test_check_form_needs_inspect_bus(client, buses, name, status):
    c = login(client, buses.users[name])
    assert c.get(NEW).status_code == status
    assert c.post(PREVIEW, FORM).status_code == status
    assert c.post(NEW, {**FORM, "step": "save"}).status_code in (status, 302)
    assert BusInspection.objects.exists() is (status == 200)


def test_anonymous_goes_to_login(client, buses, inspection, finding):
    for url in (LIST, NEW, reverse("transport:inspection_detail", args=[inspection.pk])):
        assert client.get(url).status_code == 302
    r = client.post(reverse("transport:finding_step", args=[finding.pk, "resolve"]))
    assert r.status_code == 302
    assert BusFinding.objects.get().status == FindingStatus.OPEN


def test_list_narrowed_to_a_school(client, buses, inspection):
    services.inspection_record(actor=buses.users["officer"], plate="冀AX5820")
    c = login(client, buses.users["officer"])
    page = c.get(f"{LIST}?school={buses.other_school.pk}").content.decode()
    assert f'data-testid="check-{inspection.pk}"' not in page
    assert "同镇学校" in page
    for junk in ("x", str(10**30), "-1"):
        assert c.get(f"{LIST}?school={junk}&kind={junk}&page={junk}").status_code == 200


def test_overdue_findings_are_marked(client, buses, finding):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    BusFinding.objects.filter(pk=finding.pk).update(deadline=yesterday)
    page = login(client, buses.users["principal"]).get(LIST).content.decode()
    assert 'data-testid="overdue"' in page and 'data-testid="overdue-count"' in page
    url = reverse("transport:inspection_detail", args=[finding.inspection_id])
    assert 'data-testid="overdue"' in client.get(url).content.decode()


# ------------------------------------------------------------------ the check form


def test_the_form_on_a_phone(client, buses):
    page = login(client, buses.users["officer"]).get(NEW).content.decode()
    assert 'data-testid="plate"' in page and 'data-testid="preview"' in page
    assert 'data-testid="save"' not in page  # saving comes with the findings
    assert "随机抽查" in page and "核对问题" in page


def test_check_button_shows_findings_then_save_records(client, buses):
    make_trip(buses)
    c = login(client, buses.users["officer"])
    r = c.post(NEW, {**FORM, "step": "preview"})
    assert r.status_code == 200
    page = r.content.decode()
    assert 'data-testid="derived-overload"' in page and "核载19人，实载23人" in page
    assert 'data-testid="trip-under-way"' in page and 'data-testid="save"' in page
    assert not BusInspection.objects.exists()
    r = c.post(NEW, {**FORM, "step": "save"})
    inspection = BusInspection.objects.get()
    assert r.status_code == 302
    assert r.url == reverse("transport:inspection_detail", args=[inspection.pk])
    assert inspection.findings.get().detail == "核载19人，实载23人"
    assert inspection.location == "G107 大杨树路口" and inspection.trip is not None


def test_htmx_preview_partial(client, buses):
    c = login(client, buses.users["officer"])
    r = c.post(PREVIEW, {**FORM, "safety_officer_present": "no"}, HTTP_HX_REQUEST="true")
    page = r.content.decode()
    assert r.status_code == 200 and "<html" not in page
    assert 'data-testid="derived-overload"' in page
    assert 'data-testid="derived-no_safety_officer"' in page
    r = c.post(PREVIEW, {**FORM, "plate": "冀AX0000", "riders_counted": "999"})
    page = r.content.decode()
    assert 'data-testid="preview-errors"' in page
    assert "您检查范围内的学校没有这个车牌的校车。" in page


def test_no_finding_preview(client, buses):
    r = login(client, buses.users["officer"]).post(PREVIEW, {**FORM, "riders_counted": "12"})
    assert 'data-testid="no-findings"' in r.content.decode()


def test_a_driver_chosen_for_another_bus_falls_back(client, buses):
    c = login(client, buses.users["officer"])
    data = {**FORM, "step": "save", "driver_id": "999999", "driver_for": str(buses.other_bus.pk)}
    assert c.post(NEW, data).status_code == 302
    assert BusInspection.objects.get().driver == buses.driver


def test_the_chosen_driver_is_kept(client, buses):
    c = login(client, buses.users["officer"])
    data = {
        **FORM,
        "step": "save",
        "driver_id": str(buses.relief_driver.pk),
        "driver_for": str(buses.bus.pk),
    }
    c.post(NEW, data)
    assert BusInspection.objects.get().driver == buses.relief_driver


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"riders_counted": "70"}, "riders_counted"),
        ({"riders_counted": "9" * 5000}, "riders_counted"),
        ({"speed_kmh": "250"}, "speed_kmh"),
        ({"driving_minutes": "2000"}, "driving_minutes"),
        ({"inspected_at": "2999-01-01T10:00"}, "inspected_at"),
        ({"inspected_at": "1970-01-01T10:00"}, "inspected_at"),
        ({"plate": "冀BF1234"}, "plate"),
        ({"plate": ""}, "plate"),
        ({"kind": "x"}, "kind"),
    ],
)
def test_bad_input_on_the_form(client, buses, changes, field):
    r = login(client, buses.users["officer"]).post(NEW, {**FORM, **changes, "step": "save"})
    assert r.status_code == 400
    assert field in r.context["form"].errors
    assert f'data-testid="error-{field}"' in r.content.decode()
    assert not BusInspection.objects.exists()


# ------------------------------------------------------------------ the detail page


def _detail(client, user, inspection):
    url = reverse("transport:inspection_detail", args=[inspection.pk])
    return login(client, user).get(url).content.decode()


def test_detail_forms_by_side(client, buses, inspection, finding):
    school = _detail(client, buses.users["principal"], inspection)
    assert f'data-testid="follow-up-{finding.pk}"' in school
    assert f'data-testid="resolve-{finding.pk}"' not in school
    assert 'data-testid="state-follow-up"' in school and "核载19人，实载23人" in school
    police = _detail(client, buses.users["officer"], inspection)
    assert f'data-testid="follow-up-{finding.pk}"' not in police
    assert f'data-testid="resolve-{finding.pk}"' in police
    assert f'data-testid="send-back-{finding.pk}"' not in police  # nothing to send back yet
    assert f'data-testid="make-hazard-{finding.pk}"' in police
    county = _detail(client, buses.users["gov"], inspection)
    assert 'data-testid="follow-up-' not in county and 'data-testid="resolve-' not in county


def test_follow_up_then_send_back_then_resolve_on_pages(client, buses, inspection, finding):
    c = login(client, buses.users["principal"])
    r = c.post(
        reverse("transport:finding_step", args=[finding.pk, "follow-up"]),
        {f"f{finding.pk}-text": "已将4名幼儿改乘2号线。"},
    )
    assert r.status_code == 302
    police = _detail(client, buses.users["officer"], inspection)
    assert 'data-testid="state-review"' in police and "已将4名幼儿改乘2号线。" in police
    assert f'data-testid="send-back-{finding.pk}"' in police
    r = client.post(
        reverse("transport:finding_step", args=[finding.pk, "send-back"]),
        {f"s{finding.pk}-reason": "请附改乘名单。", f"s{finding.pk}-deadline": ""},
    )
    assert r.status_code == 302
    assert 'data-testid="state-returned"' in _detail(client, buses.users["principal"], inspection)
    client.force_login(buses.users["officer"])
    r = client.post(reverse("transport:finding_step", args=[finding.pk, "resolve"]), {})
    assert r.status_code == 302
    finding.refresh_from_db()
    assert finding.status == FindingStatus.RESOLVED
    r = login(client, buses.users["principal"]).post(
        reverse("transport:finding_step", args=[finding.pk, "follow-up"]),
        {f"f{finding.pk}-text": "x"},
    )
    assert r.status_code == 409
    assert "该问题已办结。" in r.content.decode()


def test_an_empty_follow_up_is_400_in_place(client, buses, inspection, finding):
    r = login(client, buses.users["principal"]).post(
        reverse("transport:finding_step", args=[finding.pk, "follow-up"]),
        {f"f{finding.pk}-text": " "},
    )
    assert r.status_code == 400
    assert 'data-testid="error-text"' in r.content.decode()
    assert BusFinding.objects.get().follow_up == ""


@pytest.mark.parametrize(
    ("name", "step", "status"),
    [
        ("teacher", "follow-up", 403),
        ("officer", "follow-up", 403),
        ("principal", "resolve", 403),
        ("principal2", "resolve", 404),
        ("farpolice", "hazard", 404),
        ("county", "send-back", 403),
        ("officer", "reopen", 404),
    ],
)
def test_steps_refused(client, buses, finding, name, step, status):
    r = login(client, buses.users[name]).post(f"/transport/findings/{finding.pk}/{step}/")
    assert r.status_code == status
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and finding.hazard_id is None


def test_make_hazard_from_the_page(client, buses, inspection, finding):
    c = login(client, buses.users["officer"])
    r = c.post(reverse("transport:finding_hazard", args=[finding.pk]))
    finding.refresh_from_db()
    assert r.status_code == 302 and finding.hazard_id is not None
    assert r.url == reverse("hazards:hazard_detail", args=[finding.hazard_id])
    page = _detail(client, buses.users["officer"], inspection)
    assert 'data-testid="hazard-link"' in page and "make-hazard" not in page
    assert c.post(reverse("transport:finding_hazard", args=[finding.pk])).status_code == 409


def test_huge_ids_are_404(client, buses):
    c = login(client, buses.users["officer"])
    for raw in (str(2**63), str(10**30)):
        assert c.get(f"/transport/inspections/{raw}/").status_code == 404
        assert c.post(f"/transport/findings/{raw}/resolve/").status_code == 404


def test_no_problem_found_detail(client, buses):
    inspection = services.inspection_record(actor=buses.users["officer"], plate="冀AX3712")
    page = _detail(client, buses.users["principal"], inspection)
    assert 'data-testid="no-findings"' in page and "未发现问题" in page


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_does_not_grow_a_query_a_row(client, buses, inspection):
    c = login(client, buses.users["officer"])
    one = _queries(c, LIST)
    for riders in (20, 21, 22, 23, 24):
        services.inspection_record(
            actor=buses.users["officer"], plate="冀AX5820", riders_counted=riders + 20
        )
    assert _queries(c, LIST) == one


def test_pages_render_in_english(client, buses, inspection, finding):
    from django.conf import settings
    from django.utils import translation

    c = login(client, buses.users["officer"])
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    detail = reverse("transport:inspection_detail", args=[inspection.pk])
    try:
        for url, testid in ((LIST, "inspection-list-title"), (NEW, "inspection-new-title")):
            r = c.get(url)
            assert r.status_code == 200 and f'data-testid="{testid}"' in r.content.decode()
        page = c.get(detail).content.decode()
        assert 'lang="en"' in page and 'data-testid="finding-overload"' in page
        r = c.post(PREVIEW, FORM)
        assert 'data-testid="derived-overload"' in r.content.decode()
    finally:
        # The locale middleware leaves English active in this thread for later tests.
        translation.activate(settings.LANGUAGE_CODE)
