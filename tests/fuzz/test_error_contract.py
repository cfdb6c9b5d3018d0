"""The error answers the fuzz tests rely on (ADR 0006): documented on every operation, and a
database outage answered 503 with Retry-After rather than a server error."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError

from huxiao.core.api import ERROR_RESPONSES, register_routers


def test_every_operation_documents_the_error_answers():
    # As served: JSON, where ninja's int status keys become strings.
    schema = json.loads(json.dumps(register_routers().get_openapi_schema()))
    assert "ErrorOut" in schema["components"]["schemas"]
    operations = [op for item in schema["paths"].values() for op in item.values()]
    assert len(operations) > 100
    for operation in operations:
        for status in ERROR_RESPONSES:
            assert str(status) in operation["responses"], (operation["operationId"], status)
    # An operation's own declaration wins (the pass API declares its 400 itself).
    create_pass = schema["paths"]["/api/v1/passes"]["post"]["responses"]
    assert create_pass["400"]["description"] != ERROR_RESPONSES[400]


def test_schemas_of_the_same_class_name_stay_apart():
    """people's StaffOut and patrols' StaffOut were one component, so GET /staff documented
    the patrol post staff's fields (found by the fuzz tests)."""
    schema = json.loads(json.dumps(register_routers().get_openapi_schema()))
    components = schema["components"]["schemas"]

    def documented(path):
        ref = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        return components[ref["schema"]["$ref"].rsplit("/", 1)[1]]

    staff_page = documented("/api/v1/staff")
    staff = components[staff_page["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[1]]
    assert {"school_id", "role", "background_check"} <= set(staff["properties"])
    assert "weekdays" not in staff["properties"]
    assert set(documented("/api/v1/patrols/shifts")["required"]) == {"items"}
    assert "towns" in documented("/api/v1/drills/compliance/overview")["properties"]


@pytest.mark.django_db
def test_a_database_outage_is_a_503_to_retry_not_a_server_error(api, world, monkeypatch):
    from huxiao.alarms import selectors

    def unavailable(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(selectors, "alarm_list", unavailable)
    response = api("get", "/api/v1/alarms", user=world.users["police"])
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    body = response.json()
    assert body["errors"] == {}
    assert body["detail"]  # the clear message, in the caller's language


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/transport/inspections", "/api/v1/transport/inspections/preview"]
)
def test_a_plate_with_a_nul_is_a_400_not_a_server_error(api, world, path):
    """Found by the fuzz tests on PostgreSQL, which refuses NUL in any query: the plate
    lookup ran before the plate was validated, and crashed."""
    response = api("post", path, user=world.users["police"], json={"plate": "冀A\x00X3712"})
    assert response.status_code == 400, response.content
    assert "plate" in response.json()["errors"]
