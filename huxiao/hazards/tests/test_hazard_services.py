"""The hazard state machine: every move allowed and refused (table-driven), who may make it
(role × scope), bad input, and what each move leaves behind (event, audit, notification)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import OrgKind, Role
from huxiao.hazards import hazard_services as hs
from huxiao.hazards.choices import (
    AnswerResult,
    HazardStatus,
    InspectionKind,
    InspectionStatus,
    PhotoKind,
    TemplateKind,
)
from huxiao.hazards.models import (
    ChecklistTemplate,
    Hazard,
    HazardPhoto,
    Inspection,
    InspectionAnswer,
    TemplateItem,
    TemplateSection,
)
from huxiao.hazards.tests.hazard_fixtures import (
    MONDAY,
    advance,
    at,
    day,
    photo,
    report,
)
from huxiao.notify.models import Delivery
from huxiao.orgs.models import Organization
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

STATES = ["reported", "assigned", "rectifying", "submitted", "closed"]
# The state machine of ADR 0026, written out independently of hs.MOVES.
ALLOWED = {
    ("assign", "reported"): "assigned",
    ("assign", "assigned"): "assigned",
    ("start", "assigned"): "rectifying",
    ("submit", "rectifying"): "submitted",
    ("verify", "submitted"): "closed",
    ("reject", "submitted"): "rectifying",
    ("reopen", "closed"): "rectifying",
}
MOVE_ACTOR = {
    "assign": "principal",
    "start": "security",
    "submit": "security",
    "verify": "edu",
    "reject": "edu",
    "reopen": "edu",
}


def in_state(w, state):
    h = report(w)
    return h if state == "reported" else advance(w, h, state)


def do(move, w, hazard, actor_name=None, **overrides):
    actor = w.users[actor_name or MOVE_ACTOR[move]]
    now = overrides.pop("now", at(MONDAY, "11:00"))
    if move == "assign":
        # Assigning again keeps the deadline (only the supervising side extends it).
        deadline = day(7) if hazard.deadline is None else hazard.deadline
        kwargs = {"owner": w.users["security"], "deadline": deadline, "plan": "计划"}
        kwargs.update(overrides)
        return hs.hazard_assign(actor=actor, hazard=hazard, now=now, **kwargs)
    if move == "start":
        return hs.hazard_start(actor=actor, hazard=hazard, now=now, **overrides)
    if move == "submit":
        kwargs = {"note": "整改完成", "photos": [photo()]}
        kwargs.update(overrides)
        return hs.hazard_submit(actor=actor, hazard=hazard, now=now, **kwargs)
    if move == "verify":
        return hs.hazard_verify(actor=actor, hazard=hazard, now=now, **overrides)
    kwargs = {"reason": "照片不清楚"}
    if move == "reopen":
        kwargs["deadline"] = day(7)
    kwargs.update(overrides)
    func = hs.hazard_reject if move == "reject" else hs.hazard_reopen
    return func(actor=actor, hazard=hazard, now=now, **kwargs)


def test_moves_table_matches_the_adr():
    table = {(m.name, s): m.target for m in hs.MOVES.values() for s in m.sources}
    assert table == ALLOWED


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("move", list(MOVE_ACTOR))
def test_every_move_from_every_state(hworld, media, move, state):
    h = in_state(hworld, state)
    events_before = h.events.count()
    if (move, state) in ALLOWED:
        h = do(move, hworld, h)
        h.refresh_from_db()
        assert h.status == ALLOWED[(move, state)]
        last = h.events.order_by("-id").first()
        assert (last.from_status, last.to_status) == (state, h.status)
        assert h.events.count() == events_before + 1
    else:
        with pytest.raises(hs.HazardTransitionRefused) as exc:
            do(move, hworld, h)
        assert exc.value.code == "transition"
        h.refresh_from_db()
        assert h.status == state
        assert h.events.count() == events_before


def test_refusal_message_is_chinese(hworld, media):
    h = report(hworld)
    with pytest.raises(hs.HazardTransitionRefused) as exc:
        do("verify", hworld, h)
    assert "只有已提交" in exc.value.messages[0]


def test_happy_path_leaves_a_timeline_audit_and_notifications(hworld, media):
    w = hworld
    h = report(w)
    h = advance(w, h, "closed")
    assert [e.to_status for e in h.events.order_by("id")] == [
        "reported",
        "assigned",
        "rectifying",
        "submitted",
        "closed",
    ]
    assert h.closed_at is not None and h.verified_by == w.users["edu"]
    assert h.photos.filter(kind=PhotoKind.EVIDENCE).count() == 1
    audit = AuditEvent.objects.filter(object_type="hazards.hazard", object_id=str(h.pk))
    assert audit.count() == 5
    owner_inbox = Delivery.objects.filter(recipient=w.users["security"], channel="inbox")
    assert {d.notification.event_type for d in owner_inbox} >= {
        "hazards.assigned",
        "hazards.closed",
    }
    reporter_inbox = Delivery.objects.filter(recipient=w.users["police"], channel="inbox")
    assert "hazards.submitted" in {d.notification.event_type for d in reporter_inbox}


# ------------------------------------------------------------------ role × scope


@pytest.mark.parametrize(
    ("move", "state", "actor", "expected"),
    [
        ("assign", "reported", "principal", "ok"),
        ("assign", "reported", "security", "ok"),
        ("assign", "reported", "teacher", 403),
        ("assign", "reported", "guard", 403),
        ("assign", "reported", "edu", 403),
        ("assign", "reported", "police", 403),
        ("assign", "reported", "principal2", 404),
        ("assign", "reported", "farpolice", 404),
        ("assign", "reported", "nobody", 404),
        ("start", "assigned", "security", "ok"),  # the owner
        ("start", "assigned", "principal", "ok"),
        ("start", "assigned", "teacher", 403),
        ("start", "assigned", "principal2", 404),
        ("submit", "rectifying", "principal", "ok"),
        ("submit", "rectifying", "guard", 403),
        ("submit", "rectifying", "police", 403),
        ("verify", "submitted", "edu", "ok"),
        ("verify", "submitted", "gov", "ok"),
        ("verify", "submitted", "county", "ok"),
        ("verify", "submitted", "police", "ok"),
        ("verify", "submitted", "officer", "ok"),
        ("verify", "submitted", "principal", 403),
        ("verify", "submitted", "security", 403),
        ("verify", "submitted", "farpolice", 404),
        ("verify", "submitted", "principal2", 404),
        ("reject", "submitted", "police", "ok"),
        ("reject", "submitted", "principal", 403),
        ("reject", "submitted", "farpolice", 404),
        ("reopen", "closed", "gov", "ok"),
        ("reopen", "closed", "principal", 403),
        ("reopen", "closed", "farpolice", 404),
    ],
)
def test_role_and_scope(hworld, media, move, state, actor, expected):
    h = in_state(hworld, state)
    if expected == "ok":
        do(move, hworld, h, actor)
        return
    error = PermissionDenied if expected == 403 else Http404
    with pytest.raises(error):
        do(move, hworld, h, actor)
    h.refresh_from_db()
    assert h.status == state


def test_closing_a_hazard_of_another_school_is_not_found(hworld, media):
    """The town's edu office sees both schools; the far town's police sees neither."""
    w = hworld
    far = report(w, school=w.far_school, actor=w.users["farpolice"])
    with pytest.raises(Http404):
        hs.hazard_verify(actor=w.users["edu"], hazard=far, now=at(MONDAY))
    with pytest.raises(Http404):
        hs.hazard_assign(
            actor=w.users["principal"],
            hazard=far,
            owner=w.users["security"],
            deadline=day(3),
            now=at(MONDAY),
        )


def test_verifying_ones_own_submission_is_refused(hworld, media):
    """A user who leads the school and sits in the education office submits, then tries
    to verify: refused, nothing changes."""
    w = hworld
    both = UserFactory(username="both")
    MembershipFactory(user=both, organization=w.school, role=Role.PRINCIPAL)
    MembershipFactory(user=both, organization=w.edu_office, role=Role.EDUCATION_SUPERVISOR)
    h = advance(w, report(w), "rectifying")
    h = hs.hazard_submit(actor=both, hazard=h, note="完成", photos=[photo()], now=at(MONDAY))
    assert "verify" not in hs.allowed_moves(both, h)
    with pytest.raises(PermissionDenied) as exc:
        hs.hazard_verify(actor=both, hazard=h, now=at(MONDAY))
    assert "外" in str(exc.value) or "自己" in str(exc.value)
    h.refresh_from_db()
    assert h.status == HazardStatus.SUBMITTED


def test_submitter_outside_the_school_cannot_verify(hworld, media):
    """An officer who was made owner elsewhere? No — the submitter rule alone: the last
    submitter may not verify even without a membership at the school."""
    w = hworld
    h = advance(w, report(w), "submitted")
    # Pretend the edu supervisor had submitted it (e.g. entering it for the school).
    h.events.filter(to_status="submitted").update(actor=w.users["edu"])
    with pytest.raises(PermissionDenied) as exc:
        hs.hazard_verify(actor=w.users["edu"], hazard=h, now=at(MONDAY))
    assert "自己" in str(exc.value)
    hs.hazard_verify(actor=w.users["gov"], hazard=h, now=at(MONDAY))


def test_a_school_member_with_an_outside_role_cannot_verify_its_own_school(hworld, media):
    w = hworld
    teacher_cop = UserFactory(username="teachercop")
    MembershipFactory(user=teacher_cop, organization=w.school, role=Role.TEACHER)
    MembershipFactory(user=teacher_cop, organization=w.station, role=Role.POLICE_OFFICER)
    h = advance(w, report(w), "submitted")
    with pytest.raises(PermissionDenied) as exc:
        hs.hazard_reject(actor=teacher_cop, hazard=h, reason="x", now=at(MONDAY))
    assert "学校以外" in str(exc.value)


# ------------------------------------------------------------------ bad input


def test_report_requires_the_fields(hworld, media):
    w = hworld
    with pytest.raises(ValidationError) as exc:
        hs.hazard_report(
            actor=w.users["police"],
            school=w.school,
            category="nope",
            level="huge",
            title=" ",
            description="",
            now=at(MONDAY),
        )
    assert set(exc.value.error_dict) == {"category", "level", "title", "description"}
    assert not Hazard.objects.exists()


def test_report_refuses_a_past_deadline_and_accepts_today(hworld, media):
    w = hworld
    with pytest.raises(ValidationError) as exc:
        report(w, deadline=MONDAY - dt.timedelta(days=1))
    assert set(exc.value.error_dict) == {"deadline"}
    assert "不能早于今天" in exc.value.error_dict["deadline"][0].messages[0]
    assert report(w, deadline=MONDAY).deadline == MONDAY
    with pytest.raises(ValidationError):
        report(w, deadline="2025-13-01")


def test_report_needs_the_right_and_the_scope(hworld, media):
    w = hworld
    nurse = UserFactory(username="nurse")
    MembershipFactory(user=nurse, organization=w.school, role=Role.HEALTH_STAFF)
    with pytest.raises(PermissionDenied):
        report(w, actor=nurse)  # sees the school, may not report
    with pytest.raises(Http404):
        report(w, actor=w.users["nobody"])
    with pytest.raises(Http404):
        report(w, school=w.far_school, actor=w.users["police"])
    # A teacher (school staff) may report at the school.
    assert report(w, actor=w.users["teacher"]).reported_by == w.users["teacher"]
    assert not Hazard.objects.filter(school=w.far_school).exists()


def test_report_with_photos_checks_each(hworld, media):
    w = hworld
    h = report(w, photos=[photo(), photo("b.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20)])
    assert h.photos.filter(kind=PhotoKind.FINDING).count() == 2
    with pytest.raises(ValidationError) as exc:
        report(w, photos=[photo("x.gif", b"GIF89a....")])
    assert "JPEG" in exc.value.error_dict["photos"][0].messages[0]


def test_assign_checks_owner_and_deadline(hworld, media):
    w = hworld
    h = report(w)
    for kwargs, field in [
        ({"owner": w.users["principal2"]}, "owner"),  # another school's principal
        ({"owner": w.users["edu"]}, "owner"),
        ({"owner": None}, "owner"),
        ({"deadline": None}, "deadline"),
        ({"deadline": MONDAY - dt.timedelta(days=1)}, "deadline"),
    ]:
        with pytest.raises(ValidationError) as exc:
            do("assign", w, h, now=at(MONDAY), **kwargs)
        assert field in exc.value.error_dict
    h.refresh_from_db()
    assert h.status == HazardStatus.REPORTED and h.owner is None


def test_inactive_member_cannot_own(hworld, media):
    w = hworld
    w.users["teacher"].memberships.update(is_active=False)
    with pytest.raises(ValidationError):
        do("assign", w, report(w), owner=w.users["teacher"])


def test_submit_needs_a_note_and_a_photo(hworld, media):
    w = hworld
    h = advance(w, report(w), "rectifying")
    with pytest.raises(ValidationError) as exc:
        do("submit", w, h, photos=[])
    assert "至少" in exc.value.error_dict["photos"][0].messages[0]
    with pytest.raises(ValidationError) as exc:
        do("submit", w, h, note="")
    assert "note" in exc.value.error_dict
    h.refresh_from_db()
    assert h.status == HazardStatus.RECTIFYING
    assert not HazardPhoto.objects.filter(kind=PhotoKind.EVIDENCE).exists()


@pytest.mark.parametrize("move", ["reject", "reopen"])
def test_send_back_and_reopen_need_a_reason(hworld, media, move):
    w = hworld
    h = advance(w, report(w), "submitted" if move == "reject" else "closed")
    with pytest.raises(ValidationError) as exc:
        do(move, w, h, reason="  ")
    assert "reason" in exc.value.error_dict


def test_reopen_clears_the_closing(hworld, media):
    w = hworld
    h = do("reopen", w, advance(w, report(w), "closed"))
    assert (h.closed_at, h.verified_by, h.status) == (None, None, "rectifying")


def test_stale_object_is_reloaded(hworld, media):
    """Two verifiers press at once: the second sees the locked, current row and is refused."""
    w = hworld
    h = advance(w, report(w), "submitted")
    stale = Hazard.objects.get(pk=h.pk)
    do("verify", w, h)
    with pytest.raises(hs.HazardTransitionRefused):
        do("verify", w, stale, "gov")


# ------------------------------------------------------------------ from an inspection


@pytest.fixture
def inspection(hworld):
    w = hworld
    template = ChecklistTemplate.objects.create(
        code="t", name="月检", kind=TemplateKind.MONTHLY_SELF_CHECK, is_published=True
    )
    section = TemplateSection.objects.create(template=template, title="门卫")
    items = [
        TemplateItem.objects.create(section=section, order=i, text=f"项目{i}") for i in range(3)
    ]
    insp = Inspection.objects.create(
        school=w.school,
        template=template,
        kind=InspectionKind.POLICE,
        organization=w.station,
        planned_on=MONDAY,
        status=InspectionStatus.IN_PROGRESS,
        created_by=w.users["police"],
    )
    answers = [
        InspectionAnswer.objects.create(
            inspection=insp, item=item, result=result, score=Decimal(0), answered_at=at(MONDAY)
        )
        for item, result in zip(
            items, [AnswerResult.FAIL, AnswerResult.PASS, AnswerResult.FAIL], strict=True
        )
    ]
    insp.answers_list = answers
    return insp


def test_report_from_a_failed_answer(hworld, media, inspection):
    w = hworld
    failed = inspection.answers_list[0]
    finding = HazardPhoto(school=w.school, answer=failed, kind=PhotoKind.FINDING)
    finding.file.save("f.jpg", photo(), save=True)
    h = report(w, answer=failed)
    assert h.inspection == inspection and h.answer == failed
    assert list(h.photos.all()) == [finding]
    with pytest.raises(ValidationError) as exc:
        report(w, answer=failed)
    assert "answer" in exc.value.error_dict
    assert Hazard.objects.count() == 1


def test_report_refuses_bad_answers(hworld, media, inspection):
    w = hworld
    passed = inspection.answers_list[1]
    with pytest.raises(ValidationError):
        report(w, answer=passed)
    Inspection.objects.filter(pk=inspection.pk).update(status=InspectionStatus.PLANNED)
    failed = InspectionAnswer.objects.get(pk=inspection.answers_list[2].pk)
    with pytest.raises(ValidationError):
        report(w, answer=failed)
    Inspection.objects.filter(pk=inspection.pk).update(status=InspectionStatus.SIGNED_OFF)
    failed = InspectionAnswer.objects.get(pk=inspection.answers_list[2].pk)
    with pytest.raises(ValidationError) as exc:
        report(w, school=w.other_school, answer=failed)
    assert "inspection" in exc.value.error_dict
    assert report(w, answer=failed).answer == failed


def test_escalation_office_of_a_linked_school(hworld):
    w = hworld
    other_office = Organization.objects.create(
        kind=OrgKind.EDUCATION_OFFICE, name="县教育局", region=w.region
    )
    Organization.objects.filter(pk=w.school.pk).update(education_office=other_office)
    w.school.refresh_from_db()
    offices = hs.supervising_offices([w.school, w.other_school])
    assert offices == {w.school.pk: [other_office.pk], w.other_school.pk: [w.edu_office.pk]}
