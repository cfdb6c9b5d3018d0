"""The shared pieces every health area relies on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from huxiao.health.choices import Party, SuspensionScope
from huxiao.health.directory import four_party_directory, tel_href
from huxiao.health.models import ClassSuspension, HealthContact
from huxiao.health.recipients import health_recipients
from huxiao.health.suspensions import suspended_class_ids
from huxiao.health.symptoms import clean_symptoms, clean_temperature, with_fever
from huxiao.people.tests.factories import SchoolClassFactory


@pytest.mark.parametrize("value", ["33.9", "43.1", "abc", "NaN", "Infinity", "-37"])
def test_temperature_out_of_range_is_refused_in_chinese(value):
    with pytest.raises(ValidationError) as err:
        clean_temperature(value)
    assert "temperature" in err.value.message_dict
    text = err.value.message_dict["temperature"][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text), text


def test_temperature_and_symptoms_clean():
    assert clean_temperature(" 37,46 ") == Decimal("37.5")
    assert clean_temperature("") is None
    assert clean_temperature("34") == Decimal("34.0")
    assert clean_symptoms(["cough", "fever", "cough"]) == ["fever", "cough"]
    assert with_fever(["cough"], Decimal("37.3")) == ["fever", "cough"]
    assert with_fever(["cough"], Decimal("37.2")) == ["cough"]
    with pytest.raises(ValidationError):
        clean_symptoms(["plague"])


def test_recipients_are_school_health_side_and_health_centre_never_police(hworld):
    w = hworld
    got = health_recipients([w.school, w.far_school])
    u = w.users
    assert got[w.school.pk] == [u["nurse"].pk, u["principal"].pk, u["health"].pk]
    assert got[w.far_school.pk] == []
    police = {u["police"].pk, u["officer"].pk, u["postofficer"].pk}
    assert not police & set(got[w.school.pk])
    wide = health_recipients([w.school], with_offices=True)[w.school.pk]
    assert wide[-2:] == [u["edu"].pk, u["liaison"].pk]


def test_directory_names_first_then_switchboards(hworld):
    w = hworld
    entries = four_party_directory(w.school)
    assert [e.party for e in entries][:2] == [Party.HEALTH_CENTRE, Party.GOVERNMENT]
    assert all(e.is_switchboard for e in entries)
    HealthContact.objects.create(
        school=w.school, party=Party.HEALTH_CENTRE, name="郑医生", phone="138 0000 1111"
    )
    entries = four_party_directory(w.school)
    first = entries[0]
    assert (first.name, first.is_switchboard) == ("郑医生", False)
    assert tel_href(first.phone) == "tel:13800001111"


def test_suspended_classes_by_class_grade_and_school(hworld):
    w = hworld
    day = dt.date(2026, 11, 30)
    w.school_class.grade = "小班"
    w.school_class.save()
    second = SchoolClassFactory(school=w.school, name="小二班", grade="小班")
    third = SchoolClassFactory(school=w.school, name="大一班", grade="大班")
    common = {"school": w.school, "reason": "x", "decided_at": "2026-11-30T08:00Z"}
    ClassSuspension.objects.create(
        scope=SuspensionScope.GRADE, grade="小班", starts_on=day, ends_on=day, **common
    )
    assert suspended_class_ids(w.school.pk, day) == {w.school_class.pk, second.pk}
    assert suspended_class_ids(w.school.pk, day + dt.timedelta(days=1)) == set()
    ClassSuspension.objects.create(
        scope=SuspensionScope.SCHOOL, starts_on=day, ends_on=day, resumed_on=day, **common
    )
    assert third.pk not in suspended_class_ids(w.school.pk, day)


def test_suspended_classes_of_several_schools_at_once(hworld):
    w = hworld
    day = dt.date(2026, 11, 30)
    common = {"reason": "x", "decided_at": "2026-11-30T08:00Z", "starts_on": day, "ends_on": day}
    ClassSuspension.objects.create(
        school=w.school, scope=SuspensionScope.CLASS, school_class=w.school_class, **common
    )
    ClassSuspension.objects.create(school=w.other_school, scope=SuspensionScope.SCHOOL, **common)
    from huxiao.health.suspensions import suspended_class_ids_at

    got = suspended_class_ids_at([w.school.pk, w.other_school.pk, w.far_school.pk], day)
    assert got == {w.school_class.pk, w.other_class.pk}
    assert suspended_class_ids_at([w.far_school.pk], day) == set()
