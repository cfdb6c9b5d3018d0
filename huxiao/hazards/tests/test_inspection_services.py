"""Inspection services: role × scope matrix of planning, the unannounced rule, scoring,
sign-off refusals, read-only after sign-off, and bad input (ADR 0026, "Inspections")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from huxiao.audit.models import AuditEvent
from huxiao.hazards import inspection_selectors as selectors
from huxiao.hazards import inspection_services as services
from huxiao.hazards.choices import InspectionKind, InspectionStatus
from huxiao.hazards.models import HazardPhoto, Inspection, InspectionAnswer
from huxiao.hazards.tests import inspection_fixtures
from huxiao.hazards.tests.inspection_fixtures import (
    NOW,
    TODAY,
    fill,
    make_template,
    plan,
    png,
)

K = InspectionKind
insp = inspection_fixtures.insp


# ------------------------------------------------------------------ who may plan what


@pytest.mark.parametrize(
    ("who", "kind", "school", "org_name"),
    [
        ("edu", K.CENTRAL_SCHOOL, "school", "中心学校"),
        ("edu", K.JOINT, "other_school", "中心学校"),
        ("gov", K.GOVERNANCE, "school", "综治办"),
        ("county", K.GOVERNANCE, "far_school", "县综治中心"),
        ("police", K.POLICE, "school", "派出所"),
        ("officer", K.POLICE, "other_school", "派出所"),
        ("postofficer", K.POLICE, "school", "警务室"),
        ("principal", K.SELF_CHECK, "school", "本园"),
        ("security", K.SELF_CHECK, "school", "本园"),
    ],
)
def test_plan_allowed(insp, who, kind, school, org_name):
    inspection = plan(insp, who, kind=kind, school=getattr(insp, school))
    assert inspection.organization.name == org_name
    assert inspection.status == InspectionStatus.PLANNED
    assert list(inspection.inspectors.all()) == [insp.users[who]]
    assert inspection.template == insp.template
    assert AuditEvent.objects.filter(
        object_type="hazards.inspection", object_id=str(inspection.pk), action="create"
    ).exists()


@pytest.mark.parametrize(
    ("who", "kind", "school"),
    [
        # Out of scope.
        ("farpolice", K.POLICE, "school"),
        ("police", K.POLICE, "far_school"),
        ("postofficer", K.POLICE, "other_school"),
        ("edu", K.CENTRAL_SCHOOL, "far_school"),
        ("principal2", K.SELF_CHECK, "school"),
        # School roles: only their own school's self-check.
        ("principal", K.CENTRAL_SCHOOL, "school"),
        ("principal", K.POLICE, "school"),
        ("security", K.JOINT, "school"),
        # Outside inspectors never plan a self-check.
        ("edu", K.SELF_CHECK, "school"),
        ("police", K.SELF_CHECK, "school"),
        # An organization runs its own kind of inspection.
        ("edu", K.POLICE, "school"),
        ("police", K.GOVERNANCE, "school"),
        # No INSPECT at all.
        ("guard", K.SELF_CHECK, "school"),
        ("teacher", K.SELF_CHECK, "school"),
        ("nobody", K.SELF_CHECK, "school"),
    ],
)
def test_plan_refused(insp, who, kind, school):
    with pytest.raises(PermissionDenied):
        plan(insp, who, kind=kind, school=getattr(insp, school))
    assert not Inspection.objects.exists()
    assert not AuditEvent.objects.filter(object_type="hazards.inspection").exists()


def test_plan_message_for_school_leader(insp):
    with pytest.raises(PermissionDenied) as exc:
        plan(insp, "principal", kind=K.CENTRAL_SCHOOL)
    assert "自查" in str(exc.value)


def test_plan_with_named_inspectors_and_organization(insp):
    inspection = plan(
        insp,
        "police",
        kind=K.POLICE,
        inspectors=[insp.users["officer"], insp.users["police"]],
        organization=insp.station,
    )
    assert set(inspection.inspectors.all()) == {insp.users["officer"], insp.users["police"]}


def test_plan_refuses_unfit_inspector_and_foreign_organization(insp):
    with pytest.raises(ValidationError) as exc:
        plan(insp, "police", kind=K.POLICE, inspectors=[insp.users["teacher"]])
    assert "inspectors" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        plan(insp, "police", kind=K.POLICE, organization=insp.other_station)
    assert "organization" in exc.value.message_dict
    assert not Inspection.objects.exists()


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (dt.date(1999, 12, 31), "too_early"),
        (TODAY + dt.timedelta(days=366), "too_late"),
        ("2025-13-45", "date"),
        ("", "required"),
    ],
)
def test_plan_bad_dates(insp, day, code):
    with pytest.raises(ValidationError) as exc:
        plan(insp, planned_on=day)
    assert exc.value.error_dict["planned_on"][0].code == code
    assert not Inspection.objects.exists()


def test_plan_a_year_ahead_is_fine(insp):
    assert plan(insp, planned_on=TODAY + dt.timedelta(days=365)).pk


def test_plan_refuses_draft_template_and_bad_kind(insp):
    draft = make_template("draft", published=False, current=False)
    with pytest.raises(ValidationError) as exc:
        plan(insp, template=draft)
    assert exc.value.error_dict["template"][0].code == "draft"
    with pytest.raises(ValidationError) as exc:
        plan(insp, kind="secret")
    assert "kind" in exc.value.message_dict


def test_plan_uses_a_given_published_older_version(insp):
    older = make_template("old", published=True, current=False)
    assert plan(insp, template=older).template == older


def test_self_check_cannot_be_unannounced(insp):
    with pytest.raises(ValidationError) as exc:
        plan(insp, "principal", kind=K.SELF_CHECK, unannounced=True)
    assert "unannounced" in exc.value.message_dict


# ------------------------------------------------------------------ unannounced


def _visible(world, who):
    return set(selectors.inspection_list(actor=world.users[who]))


def test_unannounced_hidden_from_the_school_until_started(insp):
    inspection = plan(insp, "edu", unannounced=True)
    announced = plan(insp, "gov", kind=K.GOVERNANCE)
    for who in ("principal", "security", "guard", "teacher"):
        assert _visible(insp, who) == {announced}, who
        with pytest.raises(Exception) as exc:
            selectors.inspection_get(actor=insp.users[who], inspection_id=inspection.pk)
        assert exc.typename == "Http404"
    # Outside: the planner, the station and the town's offices see it.
    for who in ("edu", "gov", "police"):
        assert inspection in _visible(insp, who), who
    assert _visible(insp, "farpolice") == set()
    services.inspection_start(actor=insp.users["edu"], inspection=inspection, now=NOW)
    for who in ("principal", "guard", "teacher"):
        assert inspection in _visible(insp, who), who


def test_unannounced_starts_with_the_first_answer(insp):
    inspection = plan(insp, "edu", unannounced=True)
    services.inspection_answer(
        actor=insp.users["edu"], inspection=inspection, item=insp.template.register, result="pass"
    )
    assert inspection in _visible(insp, "principal")


# ------------------------------------------------------------------ answers and scoring


def test_scoring_hand_computed_with_not_applicable(insp):
    inspection = plan(insp)
    fill(insp, inspection)
    answers = {a.item_id: a for a in inspection.answers.all()}
    t = insp.template
    assert answers[t.gate.pk].score == Decimal("10")  # pass: the item's maximum
    assert answers[t.register.pk].score == Decimal("3.5")  # given
    assert answers[t.fire.pk].score == Decimal("0")  # fail
    signed = services.inspection_sign_off(
        actor=insp.users["edu"], inspection=inspection, summary="总体良好", now=NOW
    )
    # 10 + 3.5 + 0 over 10 + 5 + 2.5 (the dormitory, not applicable, is left out).
    assert signed.score == Decimal("13.5")
    assert signed.max_score == Decimal("17.5")
    assert signed.status == InspectionStatus.SIGNED_OFF
    assert signed.signed_off_by == insp.users["edu"]
    assert signed.summary == "总体良好"


def test_answer_can_be_changed_until_sign_off_and_is_audited(insp):
    inspection = plan(insp)
    edu = insp.users["edu"]
    t = insp.template
    services.inspection_answer(actor=edu, inspection=inspection, item=t.register, result="pass")
    services.inspection_answer(
        actor=edu, inspection=inspection, item=t.register, result="fail", note="未登记"
    )
    answer = InspectionAnswer.objects.get()
    assert (answer.result, answer.score, answer.note) == ("fail", Decimal(0), "未登记")
    events = AuditEvent.objects.filter(object_type="hazards.inspectionanswer")
    assert [e.action for e in events.order_by("id")] == ["create", "update"]
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.IN_PROGRESS


def test_photo_is_stored_as_a_finding_photo(insp):
    inspection = plan(insp)
    answer = services.inspection_answer(
        actor=insp.users["edu"],
        inspection=inspection,
        item=insp.template.gate,
        result="fail",
        photos=[png(), png()],
    )
    photos = list(HazardPhoto.objects.filter(answer=answer))
    assert len(photos) == 2
    assert {p.kind for p in photos} == {"finding"}
    assert photos[0].school == insp.school and photos[0].hazard is None


@pytest.mark.parametrize(
    ("score", "code"),
    [("10.5", "score_range"), ("-1", "score_range"), ("abc", "score"), ("1.25", "score")],
)
def test_score_out_of_range_refused(insp, score, code):
    inspection = plan(insp)
    with pytest.raises(ValidationError) as exc:
        services.inspection_answer(
            actor=insp.users["edu"],
            inspection=inspection,
            item=insp.template.gate,
            result="pass",
            score=score,
        )
    assert exc.value.error_dict["score"][0].code == code
    assert not InspectionAnswer.objects.exists()


def test_score_message_is_chinese(insp):
    inspection = plan(insp)
    with pytest.raises(ValidationError) as exc:
        services.inspection_answer(
            actor=insp.users["edu"],
            inspection=inspection,
            item=insp.template.register,
            result="pass",
            score="6",
        )
    assert "0" in exc.value.message_dict["score"][0] and "5" in exc.value.message_dict["score"][0]


def test_item_of_another_template_refused(insp):
    inspection = plan(insp)
    other = make_template("other")
    with pytest.raises(ValidationError) as exc:
        services.inspection_answer(
            actor=insp.users["edu"], inspection=inspection, item=other.gate, result="pass"
        )
    assert "item" in exc.value.message_dict
    assert not InspectionAnswer.objects.exists()


def test_bad_result_and_bad_photo_refused(insp):
    inspection = plan(insp)
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ValidationError) as exc:
        services.inspection_answer(
            actor=insp.users["edu"],
            inspection=inspection,
            item=insp.template.gate,
            result="maybe",
            photos=[SimpleUploadedFile("x.gif", b"GIF89a....")],
        )
    assert set(exc.value.message_dict) == {"result", "photos"}
    assert not InspectionAnswer.objects.exists() and not HazardPhoto.objects.exists()


def test_only_inspectors_answer(insp):
    inspection = plan(insp)
    # Police of the jurisdiction may inspect the school, but are not on this inspection.
    for who in ("police", "principal"):
        with pytest.raises(PermissionDenied):
            services.inspection_answer(
                actor=insp.users[who],
                inspection=inspection,
                item=insp.template.gate,
                result="pass",
            )
    with pytest.raises(PermissionDenied):
        services.inspection_answer(
            actor=insp.users["teacher"],
            inspection=inspection,
            item=insp.template.gate,
            result="pass",
        )
    assert not InspectionAnswer.objects.exists()


# ------------------------------------------------------------------ sign-off


def test_sign_off_refused_when_items_unanswered(insp):
    inspection = plan(insp)
    services.inspection_answer(
        actor=insp.users["edu"],
        inspection=inspection,
        item=insp.template.register,
        result="pass",
    )
    with pytest.raises(services.SignOffRefused) as exc:
        services.inspection_sign_off(actor=insp.users["edu"], inspection=inspection)
    t = insp.template
    assert exc.value.unanswered == [t.gate, t.dorm, t.fire]
    assert "门卫室24小时有人值守" in exc.value.messages[0]
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.IN_PROGRESS and inspection.score is None


def test_sign_off_refused_when_required_photo_missing(insp):
    inspection = plan(insp)
    fill(insp, inspection, gate="pass", photo=False)
    with pytest.raises(services.SignOffRefused) as exc:
        services.inspection_sign_off(actor=insp.users["edu"], inspection=inspection)
    assert exc.value.unanswered == []
    assert exc.value.missing_photos == [insp.template.gate]
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.IN_PROGRESS


def test_failed_photo_item_also_needs_a_photo_but_not_applicable_does_not(insp):
    inspection = plan(insp)
    fill(insp, inspection, gate="fail", photo=False)
    with pytest.raises(services.SignOffRefused):
        services.inspection_sign_off(actor=insp.users["edu"], inspection=inspection)
    services.inspection_answer(
        actor=insp.users["edu"], inspection=inspection, item=insp.template.gate, result="na"
    )
    signed = services.inspection_sign_off(actor=insp.users["edu"], inspection=inspection)
    assert signed.max_score == Decimal("7.5") and signed.score == Decimal("3.5")


def test_sign_off_only_by_an_inspector(insp):
    inspection = plan(insp, inspectors=[insp.users["edu"]])
    fill(insp, inspection)
    for who in ("police", "gov", "principal", "teacher"):
        with pytest.raises(PermissionDenied):
            services.inspection_sign_off(actor=insp.users[who], inspection=inspection)
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.IN_PROGRESS


def test_named_inspector_who_did_not_plan_may_sign_off(insp):
    inspection = plan(insp, "police", kind=K.POLICE, inspectors=[insp.users["officer"]])
    fill(insp, inspection, who="officer")
    assert services.inspection_sign_off(actor=insp.users["officer"], inspection=inspection).score


def test_signed_off_inspection_is_read_only(insp):
    inspection = plan(insp)
    fill(insp, inspection)
    services.inspection_sign_off(actor=insp.users["edu"], inspection=inspection)
    edu = insp.users["edu"]
    photo = HazardPhoto.objects.get()
    before = list(InspectionAnswer.objects.values_list("result", "score", "note"))
    audit_count = AuditEvent.objects.count()
    attempts = [
        lambda: services.inspection_answer(
            actor=edu, inspection=inspection, item=insp.template.fire, result="pass"
        ),
        lambda: services.inspection_answer(
            actor=edu,
            inspection=inspection,
            item=insp.template.gate,
            result="pass",
            photos=[png()],
        ),
        lambda: services.inspection_start(actor=edu, inspection=inspection),
        lambda: services.inspection_sign_off(actor=edu, inspection=inspection, summary="再签"),
        lambda: services.inspection_photo_delete(actor=edu, photo=photo),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as exc:
            attempt()
        assert exc.value.code == "signed_off"
        assert "已签发" in exc.value.messages[0] or "signed off" in exc.value.messages[0]
    assert list(InspectionAnswer.objects.values_list("result", "score", "note")) == before
    assert HazardPhoto.objects.count() == 1
    assert AuditEvent.objects.count() == audit_count


def test_photo_delete_before_sign_off(insp):
    inspection = plan(insp)
    answer = services.inspection_answer(
        actor=insp.users["edu"],
        inspection=inspection,
        item=insp.template.gate,
        result="pass",
        photos=[png()],
    )
    services.inspection_photo_delete(actor=insp.users["edu"], photo=answer.photos.get())
    assert not HazardPhoto.objects.exists()
    assert AuditEvent.objects.filter(object_type="hazards.hazardphoto", action="delete").exists()


def test_progress_counts(insp):
    inspection = plan(insp)
    fill(insp, inspection, photo=False)
    progress = services.inspection_progress(inspection)
    assert progress["unanswered"] == []
    assert progress["missing_photos"] == [insp.template.gate]
    assert (progress["score"], progress["max_score"]) == (Decimal("13.5"), Decimal("17.5"))


# ------------------------------------------------------------------ review fixes


def test_a_planned_unannounced_inspection_stays_out_of_the_schools_audit_trail(client, insp):
    """Review fix 1: the principal (VIEW_AUDIT) read the planning rows of the unannounced
    inspection in the audit trail."""
    from huxiao.audit.selectors import audit_event_list

    inspection = plan(insp, "edu", unannounced=True)
    principal = insp.users["principal"]
    rows = audit_event_list(actor=principal).filter(object_type="hazards.inspection")
    assert not rows.exists()
    client.force_login(principal)
    page = client.get("/audit/?object_type=hazards.inspection")
    assert page.status_code == 200 and inspection.get_kind_display() not in page.content.decode()
    # Filed under the inspecting organization, not lost.
    assert set(
        AuditEvent.objects.filter(
            object_type="hazards.inspection", object_id=str(inspection.pk)
        ).values_list("school_id", flat=True)
    ) == {inspection.organization_id}
    # From the start on, the school sees its inspection's trail.
    services.inspection_start(actor=insp.users["edu"], inspection=inspection, now=NOW)
    assert rows.filter(object_id=str(inspection.pk)).exists()
    # An announced inspection is the school's from the start.
    announced = plan(insp, "edu")
    assert rows.filter(object_id=str(announced.pk)).exists()


def test_school_members_inspect_only_their_self_check(insp):
    """Review fix 3: the principal, named on the central school's inspection of their own
    school, answered and signed it off."""
    principal = insp.users["principal"]
    with pytest.raises(ValidationError) as exc:
        plan(insp, "edu", inspectors=[insp.users["edu"], principal])
    assert f"#{principal.pk}" in exc.value.message_dict["inspectors"][0]
    # One named before this rule (or who joined the school since) is refused all the same.
    inspection = plan(insp, "edu")
    inspection.inspectors.add(principal)
    with pytest.raises(PermissionDenied):
        fill(insp, inspection, who="principal")
    fill(insp, inspection)
    with pytest.raises(PermissionDenied):
        services.inspection_sign_off(actor=principal, inspection=inspection, now=NOW)
    inspection.refresh_from_db()
    assert inspection.status != InspectionStatus.SIGNED_OFF
    # Their own self-check is theirs.
    own = plan(insp, "security", kind=InspectionKind.SELF_CHECK, inspectors=[principal])
    fill(insp, own, who="principal")
    assert services.inspection_sign_off(actor=principal, inspection=own, now=NOW).is_signed_off


def test_an_unfit_inspector_is_named_by_number_only(insp):
    """Review fix 8: the refusal echoed the name of any user id the planner typed."""
    far = insp.users["farpolice"]
    with pytest.raises(ValidationError) as exc:
        plan(insp, "edu", inspectors=[far])
    message = exc.value.message_dict["inspectors"][0]
    assert f"#{far.pk}" in message
    assert far.username not in message and (far.get_full_name() or "\0") not in message


@pytest.mark.parametrize("score", ["1e30", "1E+5000", "9" * 19, "1e-30", "-1e30"])
def test_absurd_scores_are_refused_with_a_message(insp, score):
    """Review fix 7: quantize raised InvalidOperation (500) on "1e30"."""
    inspection = plan(insp, "edu")
    with pytest.raises(ValidationError) as exc:
        services.inspection_answer(
            actor=insp.users["edu"],
            inspection=inspection,
            item=insp.template.register,
            result="pass",
            score=score,
            now=NOW,
        )
    assert "score" in exc.value.message_dict
    assert not InspectionAnswer.objects.exists()


def test_absurd_score_through_the_api_is_400(api, insp):
    inspection = plan(insp, "edu")
    r = api(
        "post",
        f"/api/v1/inspections/{inspection.pk}/answers",
        insp.users["edu"],
        json={"item_id": insp.template.register.pk, "result": "pass", "score": "1e30"},
    )
    assert r.status_code == 400 and "score" in r.json()["errors"]
