"""A failed item becomes a hazard in one step (生成隐患).

These tests call `hazard_services.hazard_report`, which the hazards area owns: until it
lands they fail with NotImplementedError (the refusals before the call pass regardless)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from huxiao.hazards import hazard_services
from huxiao.hazards import inspection_services as services
from huxiao.hazards.choices import InspectionKind
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
        actor=insp.users["edu"],
        answer=answer,
        level="major",
        deadline=timezone.localdate() + dt.timedelta(days=60),
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


# ------------------------------------------------------------------ review fixes


def test_a_finding_with_a_note_becomes_a_hazard(insp):
    """The fire item fails with the note 堆放杂物: item text and note on two lines."""
    inspection = plan(insp)
    fire = fill(insp, inspection)
    hazard = services.finding_to_hazard(actor=insp.users["edu"], answer=fire, now=NOW)
    assert hazard.description == "消防通道畅通\n堆放杂物"


def test_the_inspected_school_cannot_write_up_an_outside_finding(insp):
    """Review fix 2: the principal pre-empted the police's finding with a mild title, a
    general level and a deadline in 2099."""
    inspection = plan(insp, "police", kind=InspectionKind.POLICE)
    fill(insp, inspection, who="police", gate="fail")
    answer = inspection.answers.get(item=insp.template.gate)
    for who in ("principal", "security", "edu"):  # school leaders; an outsider not named
        with pytest.raises(PermissionDenied):
            services.finding_to_hazard(
                actor=insp.users[who], answer=answer, title="小问题", level="general", now=NOW
            )
    assert not Hazard.objects.exists()
    # Nor through hazard_report with the answer (the API's POST /hazards with answer_id).
    with pytest.raises(PermissionDenied):
        hazard_services.hazard_report(
            actor=insp.users["principal"],
            school=insp.school,
            category="staffing",
            level="general",
            title="小问题",
            description="小问题",
            answer=answer,
            now=NOW,
        )
    hazard = services.finding_to_hazard(
        actor=insp.users["police"], answer=answer, level="major", now=NOW
    )
    assert hazard.level == "major"


def test_a_self_checks_findings_are_written_up_by_the_schools_leaders(insp):
    inspection = plan(insp, "security", kind=InspectionKind.SELF_CHECK)
    fire = fill(insp, inspection, who="security")
    hazard = services.finding_to_hazard(actor=insp.users["principal"], answer=fire, now=NOW)
    assert hazard.inspection == inspection


@pytest.mark.parametrize(
    "deadline", [dt.date(2099, 1, 1), dt.date(2025, 3, 2), NOW.date() + dt.timedelta(days=366)]
)
def test_the_findings_deadline_is_bounded(insp, deadline):
    _inspection, answer = _failed(insp)
    with pytest.raises(ValidationError) as exc:
        services.finding_to_hazard(
            actor=insp.users["edu"], answer=answer, deadline=deadline, now=NOW
        )
    assert "deadline" in exc.value.message_dict
    hazard = services.finding_to_hazard(
        actor=insp.users["edu"],
        answer=answer,
        deadline=NOW.date() + dt.timedelta(days=365),
        now=NOW,
    )
    assert hazard.deadline == dt.date(2026, 3, 3)


def test_an_answers_result_is_fixed_once_a_hazard_came_from_it(insp):
    """Review fix 5: the answer was flipped to "pass" after its hazard, and the signed-off
    report contradicted the open hazard."""
    inspection, answer = _failed(insp)
    services.finding_to_hazard(actor=insp.users["edu"], answer=answer, now=NOW)
    gate = insp.template.gate
    with pytest.raises(ValidationError) as exc:
        services.inspection_answer(
            actor=insp.users["edu"], inspection=inspection, item=gate, result="pass", now=NOW
        )
    assert "result" in exc.value.message_dict
    answer.refresh_from_db()
    assert answer.result == "fail"
    # The note and further photos may still be added.
    services.inspection_answer(
        actor=insp.users["edu"],
        inspection=inspection,
        item=gate,
        result="fail",
        note="补充说明",
        photos=[inspection_fixtures.png()],
        now=NOW,
    )
    answer.refresh_from_db()
    assert answer.note == "补充说明" and answer.photos.count() == 2


def test_api_report_from_an_answer_twice_is_a_clear_400(api, insp):
    """Review fix 7: the answer is locked, so a second report (even a concurrent one) is
    refused with a message, not an IntegrityError."""
    _inspection, answer = _failed(insp)
    body = {
        "school_id": insp.school.pk,
        "category": "staffing",
        "title": "门卫缺岗",
        "description": "门卫缺岗",
        "answer_id": answer.pk,
    }
    assert api("post", "/api/v1/hazards", insp.users["edu"], json=body).status_code == 201
    again = api("post", "/api/v1/hazards", insp.users["edu"], json=body)
    assert again.status_code == 400 and "answer" in again.json()["errors"]
    assert Hazard.objects.count() == 1
