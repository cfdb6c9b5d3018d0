"""The gate's hot paths made cheaper (ADR 0022, "Performance") must do what they did before:
`gate_sql` writes the rows `save()` and `audit_create` wrote and reads the objects the ORM
read; the gate lane answers exactly as Django's full stack does for the requests it takes,
and takes no other; the answers rendered by hand match their documented schemas."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.utils import timezone

from huxiao.access import gate_sql, pickup_services
from huxiao.access import visitor_services as services
from huxiao.access.gate_lane import (
    BROWSER_ONLY_MIDDLEWARE,
    GateLane,
    GateWSGIHandler,
    lane_middleware,
)
from huxiao.access.models import GateSettings, GuardianPhoto, Release, Visit
from huxiao.access.tests.conftest import BLOCKED_ID, CLEAR_ID, MONDAY, at, visitor
from huxiao.access.tests.pickup_fixtures import pickup  # noqa: F401
from huxiao.accounts.models import DeviceToken
from huxiao.accounts.services import device_principal, device_token_issue
from huxiao.audit.models import AuditEvent
from huxiao.audit.services import audit_create
from huxiao.core.idcard import make_id_number
from huxiao.people.tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

CHECK_IN = "/api/v1/visitors/check-in"
LOOKUP = "/api/v1/pickup/lookup"
RELEASE = "/api/v1/pickup/release"
FIXED = timezone.make_aware(dt.datetime(2025, 3, 3, 9, 0, 0, 123456))


def other_id(n: int) -> str:
    return make_id_number("110105", dt.date(1970, 5, 5), 100 + n)


def new_visit(gate, n: int, **fields) -> Visit:
    visit = Visit(
        school=gate.school,
        name=f"访客{n}",
        phone="13800138000",
        purpose="parent",
        purpose_note="家长会",
        host=gate.staff,
        items="雨伞",
        status="inside",
        screening="clear",
        badge_code=f"serial{n}",
        badge_expires_at=at(MONDAY, "18:00"),
        checked_in_at=at(MONDAY, "09:00"),
        checked_in_by=gate.users["guard"],
        checked_in_by_label="guard",
        photo_encrypted="v1:k:abc",
        photo_content_type="image/png",
        **fields,
    )
    visit.set_id_number(other_id(n))
    return visit


def row(model, pk, *skip) -> dict:
    values = model.objects.filter(pk=pk).values()[0]
    return {k: v for k, v in values.items() if k not in {"id", *skip}}


# ------------------------------------------------------------------ 1. gate_sql writes


def test_insert_writes_the_row_save_writes(gate):
    saved, inserted = new_visit(gate, 1), new_visit(gate, 2)
    with mock.patch("django.utils.timezone.now", return_value=FIXED):
        saved.save()
        gate_sql.insert(inserted)
    assert inserted.pk and inserted.pk != saved.pk and not inserted._state.adding
    differ = {"name", "id_number_encrypted", "id_number_hash", "id_number_masked", "badge_code"}
    assert row(Visit, inserted.pk, *differ) == row(Visit, saved.pk, *differ)
    assert row(Visit, inserted.pk)["created_at"] == FIXED  # auto_now_add, as save() sets it
    assert Visit.objects.get(pk=inserted.pk).decrypt_id_number() == other_id(2)


def test_a_prepared_row_and_its_audit_row_are_those_of_save_and_audit_create(gate):
    saved, inserted = new_visit(gate, 1), new_visit(gate, 2)
    guard = gate.users["guard"]
    with mock.patch("django.utils.timezone.now", return_value=FIXED):
        saved.save()
        expected = audit_create(actor=guard, obj=saved)
        new = gate_sql.prepare_created(actor=guard, obj=inserted)
        assert inserted.pk is None and not Visit.objects.filter(name="访客2").exists()
        with transaction.atomic():
            assert gate_sql.insert_created(new) is inserted
    event = AuditEvent.objects.get(object_type="access.visit", object_id=str(inserted.pk))
    assert event.object_repr == str(inserted)
    assert event.changes["after"]["id"] == inserted.pk
    mine, theirs = (row(AuditEvent, e.pk, "object_id", "object_repr") for e in (event, expected))
    for one in (mine, theirs):  # what differs between the two visits by design
        for field in ("id", "name", "id_number_masked"):
            one["changes"]["after"].pop(field)
    assert mine == theirs
    # Nothing the audit trail must not keep (Visit.audit_exclude).
    assert not {"phone", "badge_code", "id_number_hash"} & set(event.changes["after"])


def test_a_failing_audit_insert_leaves_no_visit(gate):
    new = gate_sql.prepare_created(actor=gate.users["guard"], obj=new_visit(gate, 3))
    with (
        mock.patch.object(gate_sql, "insert", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        gate_sql.insert_created(new)
    assert not Visit.objects.filter(name="访客3").exists()


def test_insert_refuses_a_saved_object(gate):
    visit = new_visit(gate, 4)
    visit.save()
    with pytest.raises(ValueError):
        gate_sql.insert(visit)


@pytest.mark.parametrize("kind", ["visit", "audit", "release"])
def test_db_values_are_what_each_field_prepares(gate, kind):
    """The plain values skipped over are exactly those the fields would not change."""
    if kind == "visit":
        obj = new_visit(gate, 5, expected_on=MONDAY)
    elif kind == "audit":
        obj = AuditEvent(
            at=FIXED, action="create", object_type="x", changes={"after": {"a": [1, "二"]}}
        )
    else:
        obj = Release(
            school=gate.school,
            child=gate.child,
            on_date=MONDAY,
            released_at=FIXED,
            adult_name="妈妈",
            method="pin",
        )
    _sql, fields, _returning = gate_sql._insert_plan(type(obj), connection.vendor)
    with mock.patch("django.utils.timezone.now", return_value=FIXED):
        fast = gate_sql.db_values(obj, fields)
        full = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f, _plain in fields]
    # psycopg's Jsonb wrapper has no equality of its own: compare what it wraps.
    assert [_unwrapped(v) for v in fast] == [_unwrapped(v) for v in full]
    assert any(plain for _f, plain in fields)  # the shortcut is in use


def _unwrapped(value):
    return value.obj if type(value).__name__ == "Jsonb" else value


def test_a_subclass_of_a_plain_field_is_prepared_by_itself():
    from django.db import models

    class Shouting(models.CharField):
        def get_prep_value(self, value):
            return super().get_prep_value(value).upper()

    assert gate_sql._plain_type(Shouting(max_length=5)) is None
    assert gate_sql._plain_type(models.CharField(max_length=5)) is str


# ------------------------------------------------------------------ 2. gate_sql reads


def test_check_in_facts(gate):
    school = gate.school
    hashed = Visit(school=school)
    hashed.set_id_number(CLEAR_ID)
    clear_hash = hashed.id_number_hash
    blocked = gate.blocked.id_number_hash

    def facts(host, id_hash, school_id=school.pk):
        return gate_sql.check_in_facts(school_id=school_id, host_id=host, id_hash=id_hash)

    assert facts(gate.staff.pk, clear_hash) == gate_sql.CheckInFacts(True, False, False)
    assert facts(gate.staff.pk, blocked).blocked
    assert not facts(gate.staff.pk, blocked, school_id=gate.other_school.pk).blocked
    assert not facts(gate.other_staff.pk, clear_hash).host_active  # another school's staff
    assert not facts(None, clear_hash).host_active
    idle = StaffFactory(school=school, is_active=False)
    assert not facts(idle.pk, clear_hash).host_active
    services.visit_check_in(
        actor=gate.users["guard"], school=school, now=at(MONDAY, "09:00"), **visitor(gate)
    )
    assert facts(gate.staff.pk, clear_hash).inside
    assert not facts(gate.staff.pk, clear_hash, school_id=gate.other_school.pk).inside
    assert not facts(gate.staff.pk, "").inside
    services.blocked_visitor_remove(actor=gate.users["principal"], entry=gate.blocked)
    assert not facts(gate.staff.pk, blocked).blocked


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plan")
def test_the_inside_check_searches_the_one_inside_index(gate):
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN QUERY PLAN " + gate_sql._check_in_facts_sql(connection.vendor),
            [1, gate.school.pk, gate.school.pk, "abc", gate.school.pk, "abc"],
        )
        plan = " ".join(str(step[-1]) for step in cursor.fetchall())
    assert "USING INDEX visit_one_inside_per_person" in plan


def test_the_school_comes_with_its_gate_rules(gate, django_assert_num_queries):
    with django_assert_num_queries(1):
        school = gate_sql.school_with_gate_settings(gate.school.pk)
        assert services.gate_settings_of(school).closing_time == dt.time(18, 0)
        assert services.badge_expiry(school, at(MONDAY, "09:00")) == at(MONDAY, "18:00")
    assert school == gate.school and school.police_station_id == gate.school.police_station_id
    GateSettings.objects.create(school=gate.school, closing_time=dt.time(17, 15))
    with django_assert_num_queries(1):
        school = gate_sql.school_with_gate_settings(gate.school.pk)
        assert services.gate_settings_of(school).closing_time == dt.time(17, 15)
        assert services.badge_expiry(school, at(MONDAY, "09:00")) == at(MONDAY, "17:15")
        assert school.gate_settings.school is school
    assert school.address == gate.school.address  # a deferred field loads when read
    assert gate_sql.school_with_gate_settings(gate.station.pk) is None  # not a school
    assert gate_sql.school_with_gate_settings(10**9) is None


def _orm_code(pk):
    from huxiao.access.models import PickupCode

    return PickupCode.objects.select_related(
        "guardian__child__school_class", "delegate__child__school_class"
    ).get(pk=pk)


def _same_code(found, expected) -> None:
    for field in ("id", "school_id", "guardian_id", "delegate_id", "card_serial", "revoked_at"):
        assert getattr(found, field) == getattr(expected, field), field
    adult, orm_adult = found.guardian or found.delegate, expected.guardian or expected.delegate
    assert (adult.pk, adult.name, adult.relationship) == (
        orm_adult.pk,
        orm_adult.name,
        orm_adult.relationship,
    )
    child, orm_child = adult.child, orm_adult.child
    assert (child.pk, child.name, child.school_id, child.is_active) == (
        orm_child.pk,
        orm_child.name,
        orm_child.school_id,
        orm_child.is_active,
    )
    assert (child.school_class.pk, child.school_class.name) == (
        orm_child.school_class.pk,
        orm_child.school_class.name,
    )


def test_a_code_reads_as_the_orm_read_it(pickup, django_assert_num_queries):  # noqa: F811
    w = pickup
    code = w.issued.code
    today = MONDAY
    fields = pickup_services._CODE_FIELDS
    with django_assert_num_queries(1):
        found = gate_sql.pickup_code("id", [code.pk, w.school.pk], today=today, fields=fields)
        # The adult, child and class come with it.
        assert found.guardian.child.school_class.name == w.school_class.name
        assert found.delegate is None
    _same_code(found, _orm_code(code.pk))
    assert (found.released_on_day, found.guardian_has_photo) == (False, False)
    assert found.released_checked_for == today
    by_pin = gate_sql.pickup_code(
        "pin",
        [w.school.pk, pickup_services.pin_hash(w.school.pk, w.issued.pin)],
        today=today,
        fields=fields,
    )
    assert by_pin.pk == code.pk
    assert (
        gate_sql.pickup_code("card", [code.card_serial, w.school.pk], today=today, fields=fields).pk
        == code.pk
    )
    assert (
        gate_sql.pickup_code(
            "card", [code.card_serial, w.other_school.pk], today=today, fields=fields
        )
        is None
    )
    assert (
        gate_sql.pickup_code("serial", [code.card_serial], today=today, fields=fields).pk == code.pk
    )
    assert (
        gate_sql.pickup_code("id", [code.pk, w.other_school.pk], today=today, fields=fields) is None
    )

    GuardianPhoto.objects.create(
        guardian=w.guardian, photo_encrypted="v1:k:x", photo_content_type="image/png"
    )
    Release.objects.create(
        school=w.school,
        child=w.child,
        on_date=today,
        released_at=at(today, "16:40"),
        adult_name="妈妈",
        method="pin",
    )
    found = gate_sql.pickup_code("id", [code.pk, w.school.pk], today=today, fields=fields)
    assert (found.released_on_day, found.guardian_has_photo) == (True, True)
    tomorrow = gate_sql.pickup_code(
        "id", [code.pk, w.school.pk], today=today + dt.timedelta(days=1), fields=fields
    )
    assert tomorrow.released_on_day is False


def test_a_delegate_code_reads_as_the_orm_read_it(pickup):  # noqa: F811
    w = pickup
    delegate, issued = pickup_services.delegate_add(
        actor=None,
        named_by=w.guardian,
        child=w.child,
        name="王奶奶",
        phone="13700137000",
        relationship="奶奶",
        now=at(MONDAY, "09:00"),
    )
    found = gate_sql.pickup_code(
        "id", [issued.code.pk, w.school.pk], today=MONDAY, fields=pickup_services._CODE_FIELDS
    )
    assert found.guardian is None and found.delegate.on_date == MONDAY
    assert found.delegate.named_by_id == w.guardian.pk
    _same_code(found, _orm_code(issued.code.pk))
    pickup_services.delegate_cancel(
        actor=w.users["principal"], delegate=delegate, now=at(MONDAY, "10:00")
    )
    # The cancelled delegate's PIN is still recognised that day (to refuse it as such).
    cancelled = gate_sql.pickup_code(
        "cancelled_pin",
        [w.school.pk, pickup_services.pin_hash(w.school.pk, issued.pin), MONDAY],
        today=MONDAY,
        fields=pickup_services._CODE_FIELDS,
    )
    assert cancelled.pk == issued.code.pk and cancelled.delegate.cancelled_at is not None


def test_the_device_token_lookup(gate):
    principal = device_principal(gate.device_token)
    device = DeviceToken.objects.get(pk=principal.device_id)
    assert (principal.school_id, principal.name) == (gate.school.pk, "门岗终端")
    touched = device.last_used_at
    assert touched is not None
    device_principal(gate.device_token)  # within the minute: not touched again
    device.refresh_from_db()
    assert device.last_used_at == touched
    DeviceToken.objects.filter(pk=device.pk).update(last_used_at=touched - dt.timedelta(minutes=2))
    device_principal(gate.device_token)
    device.refresh_from_db()
    assert device.last_used_at > touched - dt.timedelta(minutes=1)
    DeviceToken.objects.filter(pk=device.pk).update(is_active=False)
    assert device_principal(gate.device_token) is None
    assert device_principal("hxd_unknown") is None


def test_screening_makes_the_name_key_only_for_someone_born_that_day(gate):
    from huxiao.intel import phonetic

    with mock.patch.object(phonetic, "name_key", wraps=phonetic.name_key) as key:
        visit = services.visit_check_in(
            actor=gate.users["guard"], school=gate.school, now=at(MONDAY, "09:00"), **visitor(gate)
        )
    assert visit.screening == "clear" and key.call_count == 0


# ------------------------------------------------------------------ 3. the gate lane


def lane_request(path, body, token, method="post", **extra):
    factory = RequestFactory()
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return getattr(factory, method)(
        path,
        data=data,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **extra,
    )


@pytest.fixture
def lane():
    return GateLane()


def test_the_lane_takes_cookie_less_token_posts_to_its_paths_only(gate, lane):
    token = gate.device_token
    assert lane.takes(lane_request(CHECK_IN, {}, token))
    assert lane.takes(lane_request(LOOKUP, {}, token)) and lane.takes(
        lane_request(RELEASE, {}, token)
    )
    assert not lane.takes(lane_request(CHECK_IN, {}, token, HTTP_COOKIE="sessionid=abc"))
    assert not lane.takes(lane_request("/api/v1/visitors/check-out", {}, token))
    assert not lane.takes(lane_request(CHECK_IN, {}, token, method="put"))
    no_token = RequestFactory().post(CHECK_IN, data="{}", content_type="application/json")
    assert not lane.takes(no_token)
    basic = RequestFactory().post(
        CHECK_IN, data="{}", content_type="application/json", HTTP_AUTHORIZATION="Basic abc"
    )
    assert not lane.takes(basic)


def test_the_lane_skips_only_the_browser_middleware():
    assert set(settings.MIDDLEWARE) >= BROWSER_ONLY_MIDDLEWARE  # no stale name
    assert lane_middleware() == [m for m in settings.MIDDLEWARE if m not in BROWSER_ONLY_MIDDLEWARE]
    assert "huxiao.core.middleware.RequestIdMiddleware" in lane_middleware()


def test_the_project_handler_sends_lane_requests_through_the_lane(gate):
    handler = GateWSGIHandler()
    through_lane = lane_request(CHECK_IN, {"name": ""}, gate.device_token)
    with mock.patch.object(
        handler.gate_lane, "get_response", wraps=handler.gate_lane.get_response
    ) as used:
        assert handler.get_response(through_lane).status_code == 400
        assert used.call_count == 1
        browser = lane_request(CHECK_IN, {"name": ""}, gate.device_token, HTTP_COOKIE="a=b")
        assert handler.get_response(browser).status_code == 400
        assert used.call_count == 1
    assert not hasattr(through_lane, "session") and hasattr(browser, "session")


def _comparable(response) -> tuple:
    """Status, JSON without what differs by design (ids, serials, tokens, times), and the
    response headers but the request id."""
    body = json.loads(response.content)

    def scrub(value):
        if isinstance(value, dict):
            return {
                k: "…"
                if k in {"id", "code", "confirmation_token", "expires_at", "released_at"}
                else scrub(v)
                for k, v in value.items()
            }
        return value

    headers = {k: v for k, v in response.items() if k not in {"X-Request-ID", "Content-Length"}}
    return response.status_code, scrub(body), headers


def check_in_body(gate, n, **overrides):
    fields = visitor(gate, **{"id_number": other_id(n), "name": f"访客{n}", **overrides})
    fields["host_id"] = fields.pop("host")
    return fields


@pytest.mark.parametrize(
    "case",
    ["clear", "held", "bad_fields", "inside", "not_json", "bad_token", "other_school"],
)
def test_the_lane_answers_a_check_in_as_the_full_stack(gate, lane, case):
    # CSRF enforced as for a real client (the test client waives it by default): a bad
    # token falls through to the session's authentication, whose CSRF check refuses a POST.
    client = Client(enforce_csrf_checks=True)
    token = gate.device_token
    first, second = check_in_body(gate, 1), check_in_body(gate, 2)
    if case == "held":
        first, second = (check_in_body(gate, 0, id_number=BLOCKED_ID) for _ in range(2))
    elif case == "bad_fields":
        first = second = check_in_body(gate, 3, id_number="1234", phone="x", host_id="abc")
    elif case == "inside":
        services.visit_check_in(actor=gate.users["guard"], school=gate.school, **visitor(gate))
        first = second = check_in_body(gate, 0, id_number=CLEAR_ID)
    elif case == "not_json":
        first = second = "{not json"
    elif case == "bad_token":
        token = "hxd_forged"
    elif case == "other_school":
        first, second = (check_in_body(gate, n, school_id=gate.other_school.pk) for n in (4, 5))
    via_lane = lane.get_response(lane_request(CHECK_IN, first, token))
    if case == "held":  # the same person again: back out of the gate first
        Visit.objects.filter(id_number_hash=gate.blocked.id_number_hash).delete()
    full = client.post(
        CHECK_IN,
        data=second if isinstance(second, str) else json.dumps(second),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert _comparable(via_lane) == _comparable(full)
    assert (
        via_lane.status_code
        == {
            "clear": 201,
            "held": 201,
            "bad_fields": 400,
            "inside": 400,
            "not_json": 400,
            "bad_token": 403,
            "other_school": 400,
        }[case]
    )


def test_a_lane_check_in_is_audited_with_the_request_id(gate, lane):
    response = lane.get_response(
        lane_request(
            CHECK_IN, check_in_body(gate, 6), gate.device_token, HTTP_X_REQUEST_ID="req-12345678"
        )
    )
    assert response.status_code == 201 and response["X-Request-ID"] == "req-12345678"
    visit = Visit.objects.get(pk=json.loads(response.content)["id"])
    event = AuditEvent.objects.get(object_type="access.visit", object_id=str(visit.pk))
    assert (event.request_id, event.actor_label) == ("req-12345678", "device:门岗终端")


def test_the_lane_answers_a_pick_up_as_the_full_stack(pickup, lane):  # noqa: F811
    client = Client(enforce_csrf_checks=True)
    w = pickup
    _device, token = device_token_issue(
        actor=w.users["principal"], school=w.school, name="大门平板", kind="gate_terminal"
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    second = pickup_services.pickup_code_issue(actor=w.users["principal"], guardian=w.guardian2)

    def full(path, body):
        return client.post(path, data=json.dumps(body), content_type="application/json", **auth)

    answers = []
    for issued, send in ((w.issued, lane.get_response), (second, None)):
        looked = (
            send(lane_request(LOOKUP, {"code": issued.pin}, token))
            if send
            else full(LOOKUP, {"code": issued.pin})
        )
        confirm = {"confirmation_token": json.loads(looked.content)["confirmation_token"]}
        released = send(lane_request(RELEASE, confirm, token)) if send else full(RELEASE, confirm)
        again = send(lane_request(RELEASE, confirm, token)) if send else full(RELEASE, confirm)
        wrong = (
            send(lane_request(LOOKUP, {"code": "12345"}, token))
            if send
            else full(LOOKUP, {"code": "12345"})
        )
        answers.append([_comparable(r) for r in (looked, released, again, wrong)])
        assert [r.status_code for r in (looked, released, again, wrong)] == [200, 201, 409, 400]
    lane_answers, full_answers = answers
    for mine, theirs in zip(lane_answers, full_answers, strict=True):
        assert mine[0] == theirs[0] and mine[2] == theirs[2]
        # The children differ (one each): compare the shape and everything else.
        assert mine[1].keys() == theirs[1].keys()
    assert lane_answers[0][1]["adult"]["name"] == w.guardian.name
    assert full_answers[0][1]["adult"]["name"] == w.guardian2.name


# ------------------------------------------------------------------ 4. answers and schemas


def test_the_check_in_answers_match_their_schema(gate):
    from huxiao.access.visitor_api import CheckInOut, check_in_payload

    guard = gate.users["guard"]
    clear = services.visit_check_in(actor=guard, school=gate.school, **visitor(gate))
    held = services.visit_check_in(
        actor=guard, school=gate.school, **visitor(gate, id_number=BLOCKED_ID, name="禁入者")
    )
    assert (clear.screening, held.screening) == ("clear", "hold")
    for visit in (clear, held):
        payload = check_in_payload(visit)
        assert CheckInOut.model_validate(payload).model_dump() == payload


def test_the_pick_up_answers_match_their_schemas(pickup):  # noqa: F811
    from huxiao.access.pickup_api import LookupOut, ReleaseOut, release_payload

    w = pickup
    _device, token = device_token_issue(
        actor=w.users["principal"], school=w.school, name="大门平板", kind="gate_terminal"
    )
    looked = GateLane().get_response(lane_request(LOOKUP, {"code": w.issued.pin}, token))
    payload = json.loads(looked.content)
    assert LookupOut.model_validate(payload).model_dump() == payload
    match = pickup_services.pickup_lookup(
        actor=w.users["guard"], school=w.school, text=w.issued.card_text, now=timezone.now()
    )
    release = pickup_services.pickup_release(
        actor=w.users["guard"], school=w.school, token=match.token, now=timezone.now()
    )
    payload = release_payload(release)
    assert ReleaseOut.model_validate(payload).model_dump() == payload
