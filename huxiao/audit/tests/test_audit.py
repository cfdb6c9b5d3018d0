import pytest

from huxiao.audit.models import AuditEvent
from huxiao.people import services


@pytest.fixture
def trail(world):
    services.child_update(actor=world.users["principal"], child=world.child, name="王二明")
    services.child_update(actor=world.users["principal2"], child=world.other_child, name="张四")
    return world


@pytest.mark.parametrize(
    "name, expected",
    [
        ("county", {"王二明", "张四"}),
        ("gov", {"王二明", "张四"}),
        ("principal", {"王二明"}),
        ("police", None),
        ("edu", None),
        ("nobody", None),
    ],
)
def test_audit_page_matrix(trail, client, name, expected):
    client.force_login(trail.users[name])
    response = client.get("/audit/?object_type=people.child")
    if expected is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    shown = {e.object_repr for e in response.context["page"]}
    assert shown == expected


def test_audit_api_per_object_and_user(trail, api):
    county = trail.users["county"]
    response = api(
        "get", f"/api/v1/audit?object_type=people.child&object_id={trail.child.pk}", county
    )
    items = response.json()["items"]
    assert [i["changes"]["fields"]["name"] for i in items] == [["王小明", "王二明"]]
    # Writes through the API carry the request id into the trail.
    api(
        "patch",
        f"/api/v1/children/{trail.child.pk}",
        trail.users["principal"],
        json={"name": "王三明"},
    )
    latest = api(
        "get", f"/api/v1/audit?object_type=people.child&object_id={trail.child.pk}", county
    )
    assert latest.json()["items"][0]["request_id"]
    by_user = api("get", f"/api/v1/audit?user_id={trail.users['principal2'].pk}", county).json()
    assert {i["object_repr"] for i in by_user["items"] if i["object_type"] == "people.child"} == {
        "张四"
    }
    own = api("get", "/api/v1/audit?object_type=people.child", trail.users["principal"]).json()
    assert {i["object_repr"] for i in own["items"]} == {"王二明", "王三明"}
    assert api("get", "/api/v1/audit", trail.users["teacher"]).json()["count"] == 0


def test_audit_rows_never_contain_plain_id_numbers(trail):
    number = trail.child.decrypt_id_number()
    services.child_update(actor=trail.users["principal"], child=trail.child, id_number=number)
    for event in AuditEvent.objects.all():
        assert number not in str(event.changes)


def test_failed_write_leaves_no_audit_row(world):
    from django.core.exceptions import ValidationError

    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        services.child_update(actor=world.users["principal"], child=world.child, name="")
    assert AuditEvent.objects.count() == before


def test_audit_htmx_partial(trail, client):
    client.force_login(trail.users["county"])
    response = client.get("/audit/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.content.decode()
