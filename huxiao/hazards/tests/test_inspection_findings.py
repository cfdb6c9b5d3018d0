"""A failed item becomes a hazard in one step (生成隐患).

These tests call `hazard_services.hazard_report`, which the hazards area owns: until it
lands they fail with NotImplementedError (the refusals before the call pass regardless)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from huxiao.hazards import inspection_services as services
from huxiao.hazards.models import Hazard, HazardPhoto
from huxiao.hazards.tests import inspection_fixtures
from huxiao.hazards.tests.inspection_fixtures import NOW, fill, plan

insp = inspection_fixtures.insp


def _failed(world, *, photo=True):
    inspection = plan(world)
    fill(world, inspection, gate="fail", photo=photo)
    return inspection, inspection.answers.get(item=world.template.gate)


def test_failed_answer_becomes_a_hazard_with_its_photos(insp):
    inspection, answer = _failed(insp)
    hazard = services.finding_to_hazard(
        actor=insp.users["edu"], answer=answer, level="major", deadline=dt.date(2099, 1, 1)
    )
    assert hazard.school == insp.school and hazard.inspection == inspection
    assert hazard.answer == answer and hazard.category == "staffing" and hazard.level == "major"
    assert hazard.title == "门卫室24小时有人值守"
    assert set(HazardPhoto.objects.filter(hazard=hazard)) == set(answer.photos.all())


def test_after_sign_off_a_finding_still_becomes_a_hazard(insp):
    inspection, answer = _failed(insp)
    services.inspection_sign_off(actor=insp.users["edu"], inspection=inspection, now=NOW)
    hazard = services.finding_to_hazard(actor=insp.users["edu"], answer=answer, title="门卫缺岗")
    assert hazard.title == "门卫缺岗"


def test_only_failed_items_and_only_once(insp):
    inspection, answer = _failed(insp)
    passed = inspection.answers.get(item=insp.template.register)
    with pytest.raises(ValidationError) as exc:
        services.finding_to_hazard(actor=insp.users["edu"], answer=passed)
    assert exc.value.code == "not_failed"
    services.finding_to_hazard(actor=insp.users["edu"], answer=answer)
    with pytest.raises(ValidationError):
        services.finding_to_hazard(actor=insp.users["edu"], answer=answer)
    assert Hazard.objects.count() == 1


def test_hazard_needs_report_hazard_right(insp):
    _inspection, answer = _failed(insp)
    with pytest.raises(PermissionDenied):
        services.finding_to_hazard(actor=insp.users["farpolice"], answer=answer)
    assert not Hazard.objects.exists()


def test_bad_level_refused(insp):
    _inspection, answer = _failed(insp)
    with pytest.raises(ValidationError) as exc:
        services.finding_to_hazard(actor=insp.users["edu"], answer=answer, level="huge")
    assert "level" in exc.value.message_dict
    assert not Hazard.objects.exists()


def test_page_button(client, insp):
    inspection, answer = _failed(insp)
    client.force_login(insp.users["edu"])
    r = client.get(reverse("hazards:inspection_detail", args=[inspection.pk]))
    assert 'data-testid="finding-hazard"' in r.content.decode()
    r = client.post(
        reverse("hazards:inspection_finding_hazard", args=[inspection.pk, answer.pk]),
        {"level": "general", "title": ""},
    )
    assert r.status_code == 302 and Hazard.objects.filter(answer=answer).exists()
    r = client.post(
        reverse("hazards:inspection_finding_hazard", args=[inspection.pk, answer.pk]),
        {"level": "general"},
    )
    assert r.status_code == 400 and Hazard.objects.count() == 1


def test_api(api, insp):
    inspection, _answer = _failed(insp)
    url = f"/api/v1/inspections/{inspection.pk}/answers/{insp.template.gate.pk}/hazard"
    r = api("post", url, insp.users["edu"], json={"level": "major"})
    assert r.status_code == 201, r.content
    assert Hazard.objects.get().level == "major"
