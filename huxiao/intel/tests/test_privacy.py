"""Nobody but the police of the jurisdiction reaches the register, by any route.

Every API endpoint and page, for every role that is not a keeper of the station's register
(another station, the legal vice-principal, school, office and health roles, a user with no
membership, a gate terminal): 404, the same as for a record that does not exist, nothing
changed, and a probe row in the trail. The general audit pages never list register rows;
the navigation shows the register to its keepers only; school pages show no counts.
"""

import pytest
from django.urls import reverse

from huxiao.accounts.services import device_token_issue
from huxiao.audit.models import AuditEvent
from huxiao.intel import services
from huxiao.intel.tests.conftest import (
    KEEPERS,
    OUTSIDERS,
    PERSON_ID_NUMBER,
    PERSON_NAME,
    probes,
    register_state,
)

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def measure(reg, person):
    return services.measure_add(
        actor=reg.users["officer"], person=person, kind="monitoring", started_on="2026-01-05"
    )


@pytest.fixture
def with_photo(reg, person):
    services.person_photo_set(actor=reg.users["officer"], person=person, data=PNG)
    return person


def api_routes(person, measure):
    base = f"/api/v1/register/persons/{person.pk}"
    create = {
        "name": "李四",
        "birth_date": "1980-01-01",
        "category": "other",
        "risk_level": "low",
    }
    return [
        ("get", "/api/v1/register/persons", None),
        ("get", "/api/v1/register/persons?status=&review=due", None),
        ("post", "/api/v1/register/persons/search", {"q": PERSON_NAME}),
        ("post", "/api/v1/register/persons/search", {"q": PERSON_ID_NUMBER}),
        ("post", "/api/v1/register/persons", create),
        ("get", base, None),
        ("patch", base, {"risk_level": "low"}),
        ("post", f"{base}/close", {"reason": "risk_resolved"}),
        ("post", f"{base}/reopen", None),
        ("post", f"{base}/measures", {"kind": "monitoring", "started_on": "2026-02-01"}),
        ("post", f"{base}/measures/{measure.pk}/end", {"ended_on": "2026-02-02"}),
        (
            "post",
            f"{base}/follow-ups",
            {"on": "2026-02-01", "method": "phone", "assessment": "stable", "finding": "x"},
        ),
        ("get", f"{base}/photo", None),
        ("delete", f"{base}/photo", None),
        ("get", f"{base}/access-log", None),
    ]


def page_routes(person, measure):
    pk = person.pk
    return [
        ("get", reverse("intel:register_list"), None),
        ("get", reverse("intel:register_list") + "?review=due", None),
        ("post", reverse("intel:register_list"), {"q": PERSON_NAME}),
        ("get", reverse("intel:register_create"), None),
        (
            "post",
            reverse("intel:register_create"),
            {"name": "李四", "birth_date": "1980-01-01", "category": "other", "risk_level": "low"},
        ),
        ("get", reverse("intel:register_export"), None),
        ("get", reverse("intel:register_detail", args=[pk]), None),
        ("get", reverse("intel:register_edit", args=[pk]), None),
        ("post", reverse("intel:register_edit", args=[pk]), {"name": "x"}),
        ("get", reverse("intel:register_photo", args=[pk]), None),
        ("get", reverse("intel:register_close", args=[pk]), None),
        ("post", reverse("intel:register_close", args=[pk]), {"reason": "deceased"}),
        ("post", reverse("intel:register_reopen", args=[pk]), None),
        ("get", reverse("intel:measure_add", args=[pk]), None),
        ("post", reverse("intel:measure_add", args=[pk]), {"kind": "monitoring"}),
        ("post", reverse("intel:measure_end", args=[pk, measure.pk]), None),
        ("get", reverse("intel:follow_up_add", args=[pk]), None),
        ("post", reverse("intel:follow_up_add", args=[pk]), {"method": "phone"}),
    ]


def _for(who, person, routes):
    """Police of another station keep a register of their own: for them, the routes of
    this record (the list, search and create routes answer with their own register; see
    test_the_far_station_lists_only_its_own)."""
    if who != "farpolice":
        return routes
    return [r for r in routes if f"/{person.pk}/" in r[1] + "/" or r[1].endswith(f"/{person.pk}")]


@pytest.mark.parametrize("who", OUTSIDERS)
def test_every_api_route_is_404_for_outsiders_and_each_probe_is_logged(
    api, reg, with_photo, measure, who
):
    user = reg.users[who]
    before = register_state()
    routes = _for(who, with_photo, api_routes(with_photo, measure))
    for method, path, body in routes:
        response = api(method, path, user=user, json=body)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json() == {"detail": response.json()["detail"], "errors": {}}
        text = response.content.decode()
        assert PERSON_NAME not in text and with_photo.reference not in text
    assert register_state() == before
    assert len(probes(user)) == len(routes)
    assert all(p.school_id is None for p in probes(user))


@pytest.mark.parametrize("who", OUTSIDERS)
def test_every_page_is_404_for_outsiders_and_each_probe_is_logged(
    client, reg, with_photo, measure, who
):
    user = reg.users[who]
    client.force_login(user)
    before = register_state()
    routes = _for(who, with_photo, page_routes(with_photo, measure))
    for method, path, data in routes:
        response = getattr(client, method)(path, data=data or {})
        assert response.status_code == 404, (method, path, response.status_code)
        assert PERSON_NAME.encode() not in response.content
    assert register_state() == before
    assert len(probes(user)) == len(routes)


def test_a_gate_terminal_gets_404_on_the_api(api, reg, person, measure):
    _device, token = device_token_issue(
        actor=None, school=reg.school, name="东门终端", kind="gate_terminal"
    )
    for method, path, body in api_routes(person, measure):
        response = api(method, path, json=body, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 404, (method, path)
    assert AuditEvent.objects.filter(actor_label="device:东门终端", action="denied").count() == len(
        api_routes(person, measure)
    )


def test_a_record_that_does_not_exist_answers_like_one_out_of_scope(api, reg, person):
    missing = api("get", "/api/v1/register/persons/999999", user=reg.users["farpolice"])
    hidden = api("get", f"/api/v1/register/persons/{person.pk}", user=reg.users["farpolice"])
    assert missing.status_code == hidden.status_code == 404
    assert missing.content == hidden.content


def test_anonymous(api, client, reg, person, measure):
    for method, path, body in api_routes(person, measure):
        assert api(method, path, json=body).status_code == 401
    for method, path, data in page_routes(person, measure):
        response = getattr(client, method)(path, data=data or {})
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("who", KEEPERS)
def test_keepers_read_every_route(api, client, reg, with_photo, measure, who):
    user = reg.users[who]
    base = f"/api/v1/register/persons/{with_photo.pk}"
    for path in ("/api/v1/register/persons", base, f"{base}/photo"):
        assert api("get", path, user=user).status_code == 200, path
    client.force_login(user)
    for name, args in (
        ("register_list", []),
        ("register_detail", [with_photo.pk]),
        ("register_edit", [with_photo.pk]),
        ("register_photo", [with_photo.pk]),
        ("follow_up_add", [with_photo.pk]),
        ("measure_add", [with_photo.pk]),
        ("register_close", [with_photo.pk]),
    ):
        assert client.get(reverse(f"intel:{name}", args=args)).status_code == 200, name
    assert probes(user) == []


def test_the_far_station_lists_only_its_own(api, reg, person):
    far = services.person_register(
        actor=reg.users["farpolice"],
        station=reg.other_station,
        name="外镇人员",
        birth_date="1970-01-01",
        category="drug_user",
        risk_level="low",
    )
    ids = [
        i["id"]
        for i in api("get", "/api/v1/register/persons", user=reg.users["farpolice"]).json()["items"]
    ]
    assert ids == [far.pk]
    found = api(
        "post",
        "/api/v1/register/persons/search",
        user=reg.users["farpolice"],
        json={"q": PERSON_NAME},
    ).json()
    assert found == {"count": 0, "items": []}
    ids = [
        i["id"]
        for i in api("get", "/api/v1/register/persons", user=reg.users["police"]).json()["items"]
    ]
    assert ids == [person.pk]


@pytest.mark.parametrize("who", ["principal", "county", "gov", "police"])
def test_the_general_audit_trail_never_lists_register_rows(api, client, reg, person, who):
    # Reads, probes and a hold all leave rows.
    api("get", f"/api/v1/register/persons/{person.pk}", user=reg.users["police"])
    api("get", f"/api/v1/register/persons/{person.pk}", user=reg.users["principal"])
    services.screen_person(actor=reg.users["guard"], school=reg.school, id_number=PERSON_ID_NUMBER)
    assert AuditEvent.objects.filter(object_type__startswith="intel.").count() >= 4
    response = api("get", "/api/v1/audit?limit=200", user=reg.users[who])
    if response.status_code == 200:
        for item in response.json()["items"]:
            assert not item["object_type"].startswith("intel."), item
    for object_type in ("intel.highriskperson", "intel.screeninghit"):
        filtered = api("get", f"/api/v1/audit?object_type={object_type}", user=reg.users[who])
        if filtered.status_code == 200:
            assert filtered.json()["count"] == 0
    client.force_login(reg.users[who])
    page = client.get(reverse("audit:event_list") + "?object_type=intel.highriskperson")
    assert person.reference.encode() not in page.content


@pytest.mark.parametrize("who", [*KEEPERS, *OUTSIDERS])
def test_navigation_and_home_pages(client, reg, person, who):
    client.force_login(reg.users[who])
    html = client.get("/").content.decode()
    link = reverse("intel:register_list")
    # Another station's commander keeps a register too (their own).
    assert (f'href="{link}"' in html) is (who in [*KEEPERS, "farpolice"])
    assert PERSON_NAME not in html and person.reference not in html
