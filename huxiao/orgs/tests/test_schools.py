import pytest

from huxiao.audit.models import AuditEvent
from huxiao.orgs.models import Organization


def _snapshot(world):
    return list(Organization.objects.filter(pk=world.school.pk).values())


@pytest.mark.parametrize(
    "name, status",
    [
        (None, 401),
        ("nobody", 404),
        ("principal2", 404),
        ("farpolice", 404),
        ("guard", 403),
        ("police", 403),
        ("principal", 200),
        ("edu", 200),
        ("county", 200),
    ],
)
def test_school_patch_matrix(world, api, name, status):
    user = world.users[name] if name else None
    before = _snapshot(world)
    response = api(
        "patch",
        f"/api/v1/schools/{world.school.pk}",
        user,
        json={"landlord": "张房东", "enrolment": 321},
    )
    assert response.status_code == status, response.content
    if status == 200:
        assert response.json()["landlord"] == "张房东"
        event = AuditEvent.objects.get(action="update", object_type="orgs.organization")
        assert event.changes["fields"]["enrolment"] == [0, 321]
    else:
        assert _snapshot(world) == before


def test_school_patch_rejects_bad_values(world, api):
    response = api(
        "patch",
        f"/api/v1/schools/{world.school.pk}",
        world.users["principal"],
        json={"enrolment": -1, "stage": "university"},
    )
    assert response.status_code == 400
    assert {"enrolment", "stage"} <= set(response.json()["errors"])


@pytest.mark.parametrize(
    "name, status",
    [("principal", 200), ("police", 200), ("county", 200), ("principal2", 404), ("nobody", 404)],
)
def test_school_pages_matrix(world, client, name, status):
    client.force_login(world.users[name])
    assert client.get(f"/orgs/schools/{world.school.pk}/").status_code == status


def test_school_edit_page(world, client):
    client.force_login(world.users["guard"])
    assert client.get(f"/orgs/schools/{world.school.pk}/edit/").status_code == 403
    client.force_login(world.users["principal"])
    page = client.get(f"/orgs/schools/{world.school.pk}/edit/")
    assert page.status_code == 200
    response = client.post(
        f"/orgs/schools/{world.school.pk}/edit/",
        {
            "name": "新园名",
            "stage": "kindergarten",
            "ownership": "public",
            "enrolment": "12",
            "is_registered": "on",
        },
    )
    assert response.status_code == 302
    world.school.refresh_from_db()
    assert world.school.name == "新园名"
    bad = client.post(f"/orgs/schools/{world.school.pk}/edit/", {"name": "", "enrolment": "x"})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    "name, expected",
    [("principal", 1), ("police", 2), ("gov", 2), ("county", 3)],
)
def test_home_page_per_role(world, client, name, expected):
    client.force_login(world.users[name])
    response = client.get("/")
    assert response.status_code == 200
    if name == "principal":
        assert world.school.name in response.content.decode()
        assert response.templates[0].name == "core/home_school.html"
    else:
        assert response.context["totals"]["schools"] == expected


def test_switcher_only_switches_to_own_memberships(world, client):
    from huxiao.core.roles import Role
    from huxiao.orgs.models import Membership

    user = world.users["principal"]
    second = Membership.objects.create(
        user=user, organization=world.station, role=Role.POLICE_OFFICER
    )
    client.force_login(user)
    client.post("/switch-organization/", {"membership_id": second.pk})
    assert client.get("/").templates[0].name == "core/home_office.html"
    foreign = Membership.objects.get(user=world.users["principal2"])
    client.post("/switch-organization/", {"membership_id": foreign.pk})
    assert client.get("/").templates[0].name == "core/home_office.html"
    client.post("/switch-organization/", {"membership_id": "garbage"})
    assert client.get("/").status_code == 200


def test_healthz_and_openapi(client, db):
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/api/v1/children" in paths and "/api/v1/auth/token" in paths
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "cdn." not in docs.content.decode()


def test_language_switch_to_english(world, client):
    client.force_login(world.users["principal"])
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Log out" in client.get("/").content.decode()
