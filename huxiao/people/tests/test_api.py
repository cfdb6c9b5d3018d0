"""Role × scope matrix for the people API, plus validation and audit behaviour."""

import pytest

from huxiao.audit.models import AuditEvent
from huxiao.core.idcard import make_id_number
from huxiao.people.models import Child, Guardian, SchoolClass, Staff

VIEWERS_OF_SCHOOL = [
    "principal",
    "guard",
    "teacher",
    "police",
    "postofficer",
    "edu",
    "gov",
    "county",
]
STRANGERS = ["principal2", "farpolice", "nobody"]


def _state():
    """Everything a denied write must leave untouched."""
    return (
        list(Child.objects.order_by("pk").values()),
        list(Guardian.objects.order_by("pk").values()),
        list(SchoolClass.objects.order_by("pk").values()),
        list(Staff.objects.order_by("pk").values()),
        AuditEvent.objects.exclude(action="token").count(),
    )


@pytest.mark.parametrize(
    "path_tpl",
    [
        "/api/v1/children/{child}",
        "/api/v1/classes/{cls}",
        "/api/v1/guardians/{guardian}",
        "/api/v1/staff/{staff}",
    ],
)
def test_read_matrix(world, api, path_tpl):
    path = path_tpl.format(
        child=world.child.pk,
        cls=world.school_class.pk,
        guardian=world.guardian.pk,
        staff=world.staff.pk,
    )
    assert api("get", path).status_code == 401
    for name in VIEWERS_OF_SCHOOL:
        assert api("get", path, world.users[name]).status_code == 200, name
    for name in STRANGERS:
        response = api("get", path, world.users[name])
        # Out of scope answers exactly like "does not exist".
        assert response.status_code == 404, name
        assert (
            response.json()
            == api("get", path.rsplit("/", 1)[0] + "/999999", world.users[name]).json()
        )


def test_lists_are_scoped(world, api):
    def names(user):
        return {c["name"] for c in api("get", "/api/v1/children?limit=200", user).json()["items"]}

    assert names(world.users["principal"]) == {"王小明"}
    assert names(world.users["principal2"]) == {"张三"}
    assert names(world.users["police"]) == {"王小明", "张三"}
    assert names(world.users["postofficer"]) == {"王小明"}
    assert names(world.users["county"]) == {"王小明", "张三", "外镇孩子"}
    assert names(world.users["nobody"]) == set()
    # Filtering by another school's id never widens the scope.
    other = api(
        "get", f"/api/v1/children?school_id={world.other_school.pk}", world.users["principal"]
    )
    assert other.json() == {"count": 0, "items": []}


def test_schools_endpoint_is_scoped(world, api):
    def ids(user):
        return {s["id"] for s in api("get", "/api/v1/schools", user).json()["items"]}

    assert ids(world.users["principal"]) == {world.school.pk}
    assert ids(world.users["police"]) == {world.school.pk, world.other_school.pk}
    assert ids(world.users["county"]) == {
        world.school.pk,
        world.other_school.pk,
        world.far_school.pk,
    }
    assert api("get", "/api/v1/schools").status_code == 401


@pytest.mark.parametrize(
    "name, status",
    [
        (None, 401),
        ("nobody", 404),
        ("principal2", 404),
        ("farpolice", 404),
        ("guard", 403),
        ("police", 403),
        ("county", 403),
        ("principal", 200),
    ],
)
def test_child_patch_matrix(world, api, name, status):
    user = world.users[name] if name else None
    before = _state()
    response = api("patch", f"/api/v1/children/{world.child.pk}", user, json={"name": "王大明"})
    assert response.status_code == status, response.content
    if status == 200:
        world.child.refresh_from_db()
        assert world.child.name == "王大明"
        event = AuditEvent.objects.get(action="update", object_type="people.child")
        assert event.changes["fields"]["name"] == ["王小明", "王大明"]
        assert event.actor == user
    else:
        assert _state() == before


@pytest.mark.parametrize(
    "name, status",
    [
        (None, 401),
        ("nobody", 400),
        ("principal2", 400),
        ("guard", 403),
        ("police", 403),
        ("county", 403),
        ("teacher", 201),
        ("principal", 201),
    ],
)
def test_child_create_matrix(world, api, name, status):
    import datetime as dt

    user = world.users[name] if name else None
    before = _state()
    payload = {
        "class_id": world.school_class.pk,
        "name": "新同学",
        "gender": "男",
        "id_number": make_id_number("110101", dt.date(2021, 5, 6), 77),
    }
    response = api("post", "/api/v1/children", user, json=payload)
    assert response.status_code == status, response.content
    if status == 201:
        body = response.json()
        assert body["gender"] == "male"
        assert body["birth_date"] == "2021-05-06"
        assert body["id_number_masked"].startswith("1101") and "*" in body["id_number_masked"]
        assert payload["id_number"] not in response.content.decode()
        assert AuditEvent.objects.filter(action="create", object_type="people.child").exists()
    else:
        assert _state() == before
        if status == 400:
            # A class out of scope reads as unknown, not as forbidden.
            assert "class_id" in response.json()["errors"]


@pytest.mark.parametrize(
    "name, status",
    [(None, 401), ("principal2", 404), ("guard", 403), ("police", 403), ("principal", 204)],
)
def test_delete_matrix(world, api, name, status):
    user = world.users[name] if name else None
    before = _state()
    response = api("delete", f"/api/v1/guardians/{world.guardian.pk}", user)
    assert response.status_code == status
    if status == 204:
        assert not Guardian.objects.filter(pk=world.guardian.pk).exists()
        assert AuditEvent.objects.filter(action="delete", object_type="people.guardian").exists()
    else:
        assert _state() == before


def test_invalid_id_number_is_a_field_error_and_writes_nothing(world, api):
    before = _state()
    bad = make_id_number("110101", __import__("datetime").date(2021, 5, 6), 5)
    bad = bad[:-1] + ("0" if bad[-1] != "0" else "1")
    response = api(
        "post",
        "/api/v1/children",
        world.users["principal"],
        json={"class_id": world.school_class.pk, "name": "", "gender": "x", "id_number": bad},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) >= {"name", "gender", "id_number"}
    assert _state() == before


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        {"class_id": "abc", "name": "x", "gender": "male", "id_number": "1"},
        {"class_id": None},
        {"class_id": 2**70, "name": "x", "gender": "male", "id_number": "1"},
        {"class_id": 1, "name": "x" * 10000, "gender": "male", "id_number": "\x00"},
        [],
    ],
)
def test_garbage_never_gives_500(world, api, payload):
    user = world.users["principal"]
    if isinstance(payload, str):
        response = api.client.post(
            "/api/v1/children",
            data=payload,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {api.token_for(user)}",
        )
    else:
        response = api("post", "/api/v1/children", user, json=payload)
    assert 400 <= response.status_code < 500
    assert "detail" in response.json()


def test_id_number_reveal_is_logged_and_role_checked(world, api):
    path = f"/api/v1/children/{world.child.pk}/id-number"
    assert api("get", path, world.users["principal"]).status_code == 405
    response = api("post", path, world.users["principal"])
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json()["id_number"] == world.child.decrypt_id_number()
    read = AuditEvent.objects.get(action="read_sensitive")
    assert read.actor == world.users["principal"] and read.object_id == str(world.child.pk)
    assert api("post", path, world.users["teacher"]).status_code == 403
    assert api("post", path, world.users["officer"]).status_code == 403
    assert api("post", path, world.users["principal2"]).status_code == 404
    assert AuditEvent.objects.filter(action="read_sensitive").count() == 1
    assert api("post", path, world.users["police"]).status_code == 200


def test_duplicate_id_number_rejected(world, api):
    number = world.child.decrypt_id_number()
    response = api(
        "post",
        "/api/v1/children",
        world.users["principal"],
        json={
            "class_id": world.school_class.pk,
            "name": "重复",
            "gender": "女",
            "id_number": number,
        },
    )
    assert response.status_code == 400
    assert "id_number" in response.json()["errors"]


def test_children_list_query_count(world, api, django_assert_max_num_queries):
    from huxiao.people.tests.factories import ChildFactory

    for _ in range(60):
        ChildFactory(school_class=world.school_class)
    user = world.users["principal"]
    token = api.token_for(user)
    with django_assert_max_num_queries(6):
        response = api.client.get("/api/v1/children?limit=50", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert len(response.json()["items"]) == 50


def test_staff_and_class_crud_for_principal(world, api):
    user = world.users["principal"]
    created = api(
        "post", "/api/v1/classes", user, json={"school_id": world.school.pk, "name": "中二班"}
    )
    assert created.status_code == 201
    dup = api(
        "post", "/api/v1/classes", user, json={"school_id": world.school.pk, "name": "中二班"}
    )
    assert dup.status_code == 400 and "name" in dup.json()["errors"]
    staff = api(
        "post",
        "/api/v1/staff",
        user,
        json={
            "school_id": world.school.pk,
            "name": "门卫老张",
            "role": "门卫",
            "phone": "13812345678",
        },
    )
    assert staff.status_code == 201 and staff.json()["role"] == "guard"
    bad_phone = api("patch", f"/api/v1/staff/{staff.json()['id']}", user, json={"phone": "12"})
    assert bad_phone.status_code == 400 and "phone" in bad_phone.json()["errors"]
    # Deleting a class that still has children is refused with a message.
    refused = api("delete", f"/api/v1/classes/{world.school_class.pk}", user)
    assert refused.status_code == 400
    assert api("delete", f"/api/v1/classes/{created.json()['id']}", user).status_code == 204
    # Another school's staff cannot be created by this principal.
    other = api(
        "post",
        "/api/v1/staff",
        user,
        json={"school_id": world.other_school.pk, "name": "x", "role": "guard"},
    )
    assert other.status_code == 400 and "school_id" in other.json()["errors"]


def test_birth_date_cannot_contradict_the_stored_id_number(world, api):
    response = api(
        "patch",
        f"/api/v1/children/{world.child.pk}",
        world.users["principal"],
        json={"birth_date": "2020-01-01"},
    )
    assert response.status_code == 400
    assert "birth_date" in response.json()["errors"]


def test_htmx_request_with_expired_session_redirects_the_whole_page(client, db):
    response = client.get("/people/classes/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/accounts/login/")


def test_child_row_matches_child_out(world):
    """The children list's fast path renders exactly what ChildOut would."""
    from huxiao.people.schemas import ChildOut, child_row

    child = Child.objects.select_related("school_class").get(pk=world.child.pk)
    assert child_row(child) == ChildOut.from_orm(child).model_dump()


def test_child_with_bus_boardings_is_not_deleted_but_refused_clearly(world, api):
    # A boarding (like a pick-up release) is the record of who had the child when.
    from huxiao.transport.models import Boarding, Trip
    from huxiao.transport.tests.trip_fixtures import at, make_line

    line = make_line(world, riders=0)
    trip = Trip.objects.create(
        school=world.school,
        route=line.route,
        date=at(7).date(),
        direction="to_school",
        bus=line.bus,
        driver=line.driver,
        safety_officer=line.officer,
        started_at=at(7),
    )
    Boarding.objects.create(trip=trip, child=world.child, boarded_at=at(7, 5))
    response = api("delete", f"/api/v1/children/{world.child.pk}", world.users["principal"])
    assert response.status_code == 400
    assert "不再在读" in response.json()["errors"]["child"][0]
    assert Child.objects.filter(pk=world.child.pk).exists()
    assert Guardian.objects.filter(child=world.child).exists()
    assert not AuditEvent.objects.filter(action="delete").exists()
