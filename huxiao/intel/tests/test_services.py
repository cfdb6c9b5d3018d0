"""Register services: validation (nothing written on bad input), encryption at rest,
sealed audit rows without names, measures, follow-ups, closing and reopening."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.core.idcard import make_id_number
from huxiao.intel import services
from huxiao.intel.models import HighRiskPerson, PersonPhoto, register_id_hash
from huxiao.intel.tests.conftest import PERSON_ID_NUMBER, PERSON_NAME, register_state
from huxiao.notify.models import Delivery

pytestmark = pytest.mark.django_db


def _register(reg, **overrides):
    kwargs = {
        "actor": reg.users["officer"],
        "station": reg.station,
        "name": "李四",
        "id_number": make_id_number("130123", dt.date(1985, 6, 1), 12),
        "category": "drug_user",
        "risk_level": "medium",
    }
    kwargs.update(overrides)
    return services.person_register(**kwargs)


def test_sensitive_fields_are_encrypted_at_rest(person):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name_encrypted, id_number_encrypted, id_number_hash, birth_date_encrypted,"
            " birth_date_hash, address_encrypted, notes_encrypted, phonetic_encrypted"
            " FROM intel_highriskperson WHERE id = %s",
            [person.pk],
        )
        raw = cursor.fetchone()
    text = " ".join(raw)
    for secret in (PERSON_NAME, PERSON_ID_NUMBER, "1979-03-14", "19790314", "幸福路", "报复"):
        assert secret not in text
    assert "zhang" not in text and "zan" not in text  # no pinyin in clear
    assert all(
        value.startswith("v1:") for value in (raw[0], raw[1], raw[3], raw[5], raw[6], raw[7])
    )
    # The hash is keyed and of the register's own domain: it cannot be joined with the
    # ID-number hashes of children, guardians and staff.
    from huxiao.core.crypto import lookup_hash

    assert raw[2] == register_id_hash(PERSON_ID_NUMBER) != lookup_hash(PERSON_ID_NUMBER)
    person.refresh_from_db()
    assert person.decrypt_name() == PERSON_NAME
    assert person.decrypt_id_number() == PERSON_ID_NUMBER
    assert person.decrypt_birth_date() == dt.date(1979, 3, 14)
    assert person.id_number_masked == PERSON_ID_NUMBER[:4] + "*" * 10 + PERSON_ID_NUMBER[-4:]
    assert person.gender == "male"
    assert str(person) == f"HR-{person.pk:06d}"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("13012319790314371", "length"),
        ("1301231979031437X1", "format"),
        ("130123197902304710", "birth"),
        (PERSON_ID_NUMBER[:-1] + ("0" if PERSON_ID_NUMBER[-1] != "0" else "1"), "check"),
    ],
)
def test_an_invalid_id_number_is_refused_and_nothing_is_written(reg, number, code):
    before = register_state()
    audit_before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        _register(reg, id_number=number)
    assert "id_number" in exc.value.message_dict
    assert register_state() == before
    assert AuditEvent.objects.count() == audit_before


def test_id_number_messages_are_chinese_by_default(reg):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        _register(reg, id_number="123")
    message = exc.value.message_dict["id_number"][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def test_birth_date_comes_from_the_id_number_or_must_be_given(reg):
    with pytest.raises(ValidationError) as exc:
        _register(reg, id_number="", birth_date=None)
    assert "birth_date" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        _register(reg, birth_date=dt.date(1990, 1, 1))
    assert "birth_date" in exc.value.message_dict  # does not match the ID number
    person = _register(reg, id_number="", birth_date=dt.date(1990, 1, 1), gender="female")
    assert person.decrypt_birth_date() == dt.date(1990, 1, 1)
    assert person.id_number_hash == "" and person.gender == "female"


def test_other_field_errors_are_reported_together(reg):
    with pytest.raises(ValidationError) as exc:
        _register(
            reg,
            name=" ",
            category="bogus",
            risk_level="",
            related_schools=[reg.far_school],
            responsible_officer=reg.users["farpolice"],
            next_review_on=timezone.localdate() - dt.timedelta(days=1),
        )
    assert set(exc.value.message_dict) >= {
        "name",
        "category",
        "risk_level",
        "related_school_ids",
        "responsible_officer_id",
        "next_review_on",
    }
    assert not HighRiskPerson.objects.exists()


def test_a_legal_vice_principal_or_another_station_cannot_register_here(reg):
    for who in ("lvp", "farpolice", "principal"):
        with pytest.raises(ValidationError) as exc:
            _register(reg, actor=reg.users[who])
        assert "station_id" in exc.value.message_dict
    assert not HighRiskPerson.objects.exists()


def test_duplicate_active_id_number_in_the_same_station(reg, person):
    with pytest.raises(ValidationError) as exc:
        _register(reg, id_number=PERSON_ID_NUMBER)
    assert person.reference in exc.value.message_dict["id_number"][0]


def test_default_review_date_follows_the_risk_level(reg):
    today = dt.date(2027, 3, 1)
    high = _register(reg, risk_level="high", today=today)
    low = _register(reg, risk_level="low", id_number="", birth_date="1970-01-01", today=today)
    assert high.next_review_on == today + dt.timedelta(days=7)
    assert low.next_review_on == today + dt.timedelta(days=90)


def test_post_officer_keeps_the_stations_register(reg):
    person = _register(
        reg, actor=reg.users["postofficer"], responsible_officer=reg.users["postofficer"]
    )
    assert person.station_id == reg.station.pk


def test_audit_rows_name_the_record_not_the_person_and_have_no_school(reg, person):
    rows = AuditEvent.objects.filter(object_type="intel.highriskperson")
    assert rows.count() == 1
    row = rows.get()
    assert row.action == AuditAction.CREATE and row.school_id is None
    assert row.object_repr == person.reference
    text = str(row.changes)
    assert PERSON_NAME not in text and PERSON_ID_NUMBER not in text and "v1:" not in text
    assert row.changes["after"]["related_schools"] == [reg.school.pk]
    assert row.changes["encrypted"] == ["address", "birth_date", "id_number", "name", "notes"]


def test_update_changes_fields_and_records_what_changed(reg, person):
    services.person_update(
        actor=reg.users["officer"],
        person=person,
        name="张三峰",
        risk_level="medium",
        related_schools=[reg.school, reg.other_school],
    )
    person.refresh_from_db()
    assert person.decrypt_name() == "张三峰" and person.risk_level == "medium"
    row = AuditEvent.objects.filter(action=AuditAction.UPDATE).get()
    assert row.changes["fields"]["risk_level"] == ["high", "medium"]
    assert row.changes["fields"]["related_schools"] == [
        [reg.school.pk],
        sorted([reg.school.pk, reg.other_school.pk]),
    ]
    assert row.changes["encrypted"] == ["name"]
    assert "张三峰" not in str(row.changes)


def test_update_keeps_the_birth_date_when_only_the_id_number_is_removed(reg, person):
    services.person_update(actor=reg.users["officer"], person=person, id_number="")
    person.refresh_from_db()
    assert person.id_number_hash == "" and person.decrypt_birth_date() == dt.date(1979, 3, 14)


def test_update_rejects_a_birth_date_against_the_id_number(reg, person):
    before = register_state()
    with pytest.raises(ValidationError):
        services.person_update(actor=reg.users["officer"], person=person, birth_date="1980-01-01")
    assert register_state() == before


def test_wrong_role_cannot_write(reg, person):
    before = register_state()
    for who in ("lvp", "farpolice", "principal"):
        with pytest.raises(PermissionDenied):
            services.person_update(actor=reg.users[who], person=person, risk_level="low")
        with pytest.raises(PermissionDenied):
            services.person_close(actor=reg.users[who], person=person, reason="risk_resolved")
    assert register_state() == before


def test_close_and_reopen(reg, person):
    with pytest.raises(ValidationError) as exc:
        services.person_close(actor=reg.users["police"], person=person, reason="other")
    assert "note" in exc.value.message_dict
    services.person_close(
        actor=reg.users["police"], person=person, reason="moved_away", note="迁往外省"
    )
    person.refresh_from_db()
    assert person.status == "closed" and person.decrypt_closed_note() == "迁往外省"
    with pytest.raises(ValidationError):
        services.person_update(actor=reg.users["police"], person=person, risk_level="low")
    with pytest.raises(ValidationError):
        services.follow_up_add(
            actor=reg.users["police"],
            person=person,
            on=timezone.localdate(),
            method="phone",
            assessment="stable",
            finding="x",
        )
    services.person_reopen(actor=reg.users["police"], person=person)
    person.refresh_from_db()
    assert person.status == "active" and person.closed_reason == ""
    assert person.next_review_on >= timezone.localdate()


def test_measures(reg, person):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        services.measure_add(
            actor=reg.users["officer"],
            person=person,
            kind="nap",
            started_on=today,
            ended_on=today - dt.timedelta(days=1),
            responsible=reg.users["lvp"],
        )
    assert set(exc.value.message_dict) == {"kind", "ended_on", "responsible_id"}
    measure = services.measure_add(
        actor=reg.users["officer"],
        person=person,
        kind="stabilisation",
        started_on=today,
        responsible=reg.users["postofficer"],
        notes="落实监护人看管",
    )
    assert measure.notes_encrypted.startswith("v1:") and measure.decrypt_notes() == "落实监护人看管"
    services.measure_end(actor=reg.users["officer"], measure=measure, ended_on=today)
    measure.refresh_from_db()
    assert measure.ended_on == today


def test_follow_up_sets_the_next_review(reg, person):
    today = dt.date(2027, 3, 1)
    follow_up = services.follow_up_add(
        actor=reg.users["officer"],
        person=person,
        on=today,
        method="home_visit",
        assessment="stable",
        finding="情绪稳定，在家务农",
        today=today,
    )
    person.refresh_from_db()
    assert person.next_review_on == today + dt.timedelta(days=7)  # high risk
    assert follow_up.finding_encrypted.startswith("v1:")
    assert follow_up.decrypt_finding() == "情绪稳定，在家务农"
    with pytest.raises(ValidationError) as exc:
        services.follow_up_add(
            actor=reg.users["officer"],
            person=person,
            on=today + dt.timedelta(days=1),
            method="x",
            assessment="x",
            finding="",
            today=today,
        )
    assert set(exc.value.message_dict) == {"on", "method", "assessment", "finding"}


def test_whereabouts_unknown_alerts_the_station_register_users(reg, person):
    services.follow_up_add(
        actor=reg.users["officer"],
        person=person,
        on=timezone.localdate(),
        method="via_contacts",
        assessment="whereabouts_unknown",
        finding="村干部反映已外出三天",
    )
    told = set(
        Delivery.objects.filter(channel="inbox").values_list("recipient__username", flat=True)
    )
    assert told == {"police", "officer", "postofficer"}
    body = Delivery.objects.filter(channel="inbox").first().notification.body
    assert PERSON_NAME not in body and person.reference in body


def test_photo(reg, person):
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    services.person_photo_set(actor=reg.users["officer"], person=person, data=png)
    person.refresh_from_db()
    assert person.photo.content_type == "image/png" and person.photo.size == len(png)
    assert person.photo.data_encrypted.startswith("v1:")
    for bad in (b"GIF89a....", b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024)):
        with pytest.raises(ValidationError) as exc:
            services.person_photo_set(actor=reg.users["officer"], person=person, data=bad)
        assert "photo" in exc.value.message_dict
    services.person_photo_remove(actor=reg.users["officer"], person=person)
    assert not PersonPhoto.objects.filter(person=person).exists()
