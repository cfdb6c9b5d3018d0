# ruff: noqa: F811 - pytest fixtures imported from notice_fixtures are arguments here
"""Notice services: drafting in the issuer's scope, the rules of publishing (reference,
subjects, improve_by), immutability after publishing, receipts and read marks, resolving,
notifications and the audit trail; the selectors' role × scope."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.notify.models import Delivery, Notification
from huxiao.supervision import notice_selectors as sel
from huxiao.supervision import notice_services as ns
from huxiao.supervision.choices import NoticeKind, NoticeStatus
from huxiao.supervision.models import Notice, NoticeReceipt
from huxiao.supervision.tests.notice_fixtures import (  # noqa: F401
    MONDAY,
    at,
    criticism,
    day,
    draft,
    make_draft,
    nworld,
    publish,
)

pytestmark = pytest.mark.django_db


def inbox(user) -> list[str]:
    return list(
        Delivery.objects.filter(recipient=user, channel="inbox").values_list(
            "notification__event_type", flat=True
        )
    )


def field_errors(exc: ValidationError) -> set[str]:
    return set(exc.message_dict)


# ------------------------------------------------------------------ drafting


def test_draft_is_issued_by_the_actors_office_and_audited(nworld, draft):
    w = nworld
    assert draft.status == NoticeStatus.DRAFT
    assert draft.issuer_id == w.edu_office.pk
    assert draft.created_by == w.users["edu"]
    assert list(draft.subjects.values_list("pk", flat=True)) == [w.school.pk]
    assert set(draft.receipts.values_list("organization_id", flat=True)) == {
        w.school.pk,
        w.other_school.pk,
        w.gov_office.pk,
    }
    audit = AuditEvent.objects.get(object_type="supervision.notice", action="create")
    assert audit.changes["after"]["subjects"] == [w.school.pk]
    # Nothing is sent and nobody else sees a draft.
    assert not Notification.objects.exists()
    assert not sel.notice_list(actor=w.users["principal"]).exists()


@pytest.mark.parametrize("name", ["principal", "police", "teacher", "nobody"])
def test_draft_needs_assess(nworld, name):
    with pytest.raises(PermissionDenied):
        make_draft(nworld, actor=nworld.users[name])
    assert not Notice.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("subjects", "far_school"),
        ("recipients", "far_school"),
        ("subjects", "other_station"),
        ("subjects", 10**9),
    ],
)
def test_subjects_and_recipients_stay_in_the_issuers_scope(nworld, field, value):
    w = nworld
    pk = value if isinstance(value, int) else getattr(w, value).pk
    with pytest.raises(ValidationError) as exc:
        make_draft(w, **{field: [w.school.pk, pk]})
    assert field in field_errors(exc.value)
    assert not Notice.objects.exists() and not NoticeReceipt.objects.exists()


def test_county_office_reaches_every_school_of_the_county(nworld):
    w = nworld
    notice = make_draft(
        w, actor=w.users["county"], subjects=[w.far_school.pk], recipients=[w.far_school.pk]
    )
    assert notice.issuer_id == w.county_office.pk


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": " "}, "title"),
        ({"body": ""}, "body"),
        ({"kind": "praise"}, "kind"),
        ({"improve_by": MONDAY}, "improve_by"),  # today is not after today
        ({"improve_by": day(-1)}, "improve_by"),
        ({"improve_by": day(400)}, "improve_by"),
        ({"improve_by": "03/10/2025"}, "improve_by"),
        ({"reference": "a\nb"}, "reference"),
        ({"title": "x" * 201}, "title"),
        ({"body": "bad\x00text"}, "body"),
        ({"run": 10**9}, "run"),
    ],
)
def test_draft_bad_input(nworld, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        make_draft(nworld, **kwargs)
    assert field in field_errors(exc.value)
    assert not Notice.objects.exists()


def test_commendation_has_no_improve_by(nworld):
    with pytest.raises(ValidationError) as exc:
        make_draft(nworld, kind=NoticeKind.COMMENDATION, improve_by=day(5))
    assert "improve_by" in field_errors(exc.value)
    assert make_draft(nworld, kind=NoticeKind.COMMENDATION).improve_by is None


def test_update_draft_changes_addressees_and_audits(nworld, draft):
    w = nworld
    ns.notice_update(
        actor=w.users["edu"],
        notice=draft,
        kind=NoticeKind.CRITICISM,
        title="新标题",
        body="新正文",
        reference="测试教〔2025〕2号",
        improve_by=day(9),
        subjects=[w.other_school.pk],
        recipients=[w.school.pk],
        now=at(MONDAY),
    )
    draft.refresh_from_db()
    assert draft.title == "新标题" and draft.improve_by == day(9)
    assert list(draft.subjects.values_list("pk", flat=True)) == [w.other_school.pk]
    assert list(draft.receipts.values_list("organization_id", flat=True)) == [w.school.pk]
    change = AuditEvent.objects.get(object_type="supervision.notice", action="update")
    assert change.changes["fields"]["subjects"] == [[w.school.pk], [w.other_school.pk]]


def test_another_office_cannot_touch_the_draft(nworld, draft):
    w = nworld
    # The governance office of the same town is another issuer: the draft is not its own.
    with pytest.raises(Http404):
        ns.notice_publish(actor=w.users["gov"], notice=draft, now=at(MONDAY))
    with pytest.raises(Http404):
        ns.notice_discard(actor=w.users["principal"], notice=draft)
    draft.refresh_from_db()
    assert draft.status == NoticeStatus.DRAFT


def test_discard_draft(nworld, draft):
    ns.notice_discard(actor=nworld.users["edu"], notice=draft)
    assert not Notice.objects.exists() and not NoticeReceipt.objects.exists()
    assert AuditEvent.objects.filter(object_type="supervision.notice", action="delete").exists()


# ------------------------------------------------------------------ publishing


def test_publish_adds_subjects_freezes_and_notifies(nworld):
    w = nworld
    notice = make_draft(w, subjects=[w.school.pk], recipients=[w.other_school.pk])
    notice = publish(w, notice)
    assert notice.status == NoticeStatus.PUBLISHED
    assert notice.published_at == at(MONDAY, "10:00") and notice.published_by == w.users["edu"]
    # The criticised school always receives it.
    assert set(notice.receipts.values_list("organization_id", flat=True)) == {
        w.school.pk,
        w.other_school.pk,
    }
    for name in ("principal", "guard", "teacher", "security", "principal2"):
        assert inbox(w.users[name]) == ["supervision.notice_published"], name
    for name in ("edu", "gov", "police", "farpolice"):
        assert inbox(w.users[name]) == [], name
    assert Notification.objects.count() == 2
    assert AuditEvent.objects.filter(
        object_type="supervision.notice", action="update", object_id=str(notice.pk)
    ).exists()


@pytest.mark.parametrize(
    "call",
    [
        lambda w, n: ns.notice_update(
            actor=w.users["edu"],
            notice=n,
            kind=n.kind,
            title="改",
            body="改",
            improve_by=day(8),
            now=at(MONDAY),
        ),
        lambda w, n: ns.notice_publish(actor=w.users["edu"], notice=n, now=at(MONDAY)),
        lambda w, n: ns.notice_discard(actor=w.users["edu"], notice=n),
    ],
)
def test_published_notice_is_immutable(nworld, criticism, call):
    before = (criticism.title, criticism.body, Notification.objects.count())
    with pytest.raises(ns.NoticeStateRefused):
        call(nworld, criticism)
    criticism.refresh_from_db()
    assert (criticism.title, criticism.body, Notification.objects.count()) == before
    assert criticism.status == NoticeStatus.PUBLISHED


def test_publish_rules(nworld):
    w = nworld
    notice = make_draft(w, reference="", subjects=[], improve_by=None)
    with pytest.raises(ValidationError) as exc:
        publish(w, notice)
    assert field_errors(exc.value) == {"reference", "subjects", "improve_by"}
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.DRAFT and not Notification.objects.exists()


def test_improve_by_passed_while_in_draft(nworld, draft):
    with pytest.raises(ValidationError) as exc:
        publish(nworld, draft, now=at(day(7)))
    assert "improve_by" in field_errors(exc.value)


def test_reference_once_per_issuer(nworld, criticism):
    w = nworld
    second = make_draft(w, title="另一份")
    with pytest.raises(ValidationError) as exc:
        publish(w, second)
    assert "reference" in field_errors(exc.value)
    # Another office may use the same words.
    other = make_draft(
        w, actor=w.users["gov"], title="综治办的", recipients=[w.school.pk, w.edu_office.pk]
    )
    assert publish(w, other, actor=w.users["gov"]).status == NoticeStatus.PUBLISHED


def test_draft_outside_scope_at_publish_is_refused(nworld, draft):
    w = nworld
    # The school moved to another town after the draft was written.
    w.other_school.town = w.other_town
    w.other_school.save()
    with pytest.raises(ValidationError) as exc:
        publish(w, draft)
    assert "recipients" in field_errors(exc.value)


# ------------------------------------------------------------------ reading


@pytest.mark.parametrize(
    ("name", "sees"),
    [
        ("edu", True),  # the issuer
        ("principal", True),  # a recipient
        ("guard", True),
        ("principal2", True),
        ("gov", True),  # the governance office was a recipient
        ("police", False),
        ("farpolice", False),
        ("county", False),
        ("nobody", False),
    ],
)
def test_who_sees_a_published_notice(nworld, criticism, name, sees):
    assert sel.notice_list(actor=nworld.users[name]).filter(pk=criticism.pk).exists() is sees
    if not sees:
        with pytest.raises(Http404):
            sel.notice_get(actor=nworld.users[name], notice_id=criticism.pk)


def test_boxes(nworld, criticism, draft):
    w = nworld
    received = sel.notice_list(
        actor=w.users["principal"], filters=sel.NoticeFilters(box="received")
    )
    assert list(received) == [criticism]
    issued = sel.notice_list(actor=w.users["edu"], filters=sel.NoticeFilters(box="issued"))
    assert set(issued) == {criticism} | set(Notice.objects.filter(status="draft"))
    assert not sel.notice_list(actor=w.users["edu"], filters=sel.NoticeFilters(box="received"))


def test_mark_read_keeps_the_first_reader(nworld, criticism):
    w = nworld
    ns.notice_mark_read(actor=w.users["guard"], notice=criticism, now=at(MONDAY, "11:00"))
    ns.notice_mark_read(actor=w.users["principal"], notice=criticism, now=at(MONDAY, "12:00"))
    receipt = criticism.receipts.get(organization=w.school)
    assert receipt.read_by == w.users["guard"] and receipt.read_at == at(MONDAY, "11:00")
    assert criticism.receipts.filter(read_at__isnull=False).count() == 1
    assert AuditEvent.objects.filter(object_type="supervision.noticereceipt").count() == 1


def test_mark_read_needs_a_recipient_membership(nworld, criticism):
    # The issuer sees the notice but its office is not a recipient.
    with pytest.raises(PermissionDenied):
        ns.notice_mark_read(actor=nworld.users["edu"], notice=criticism)
    with pytest.raises(Http404):
        ns.notice_mark_read(actor=nworld.users["farpolice"], notice=criticism)
    assert not NoticeReceipt.objects.filter(read_at__isnull=False).exists()


def test_draft_cannot_be_read(nworld, draft):
    with pytest.raises(Http404):  # a recipient does not even see it
        ns.notice_mark_read(actor=nworld.users["principal"], notice=draft)


# ------------------------------------------------------------------ resolving


def test_resolve_criticism(nworld, criticism):
    w = nworld
    with pytest.raises(PermissionDenied):
        ns.notice_resolve(actor=w.users["principal"], notice=criticism, resolution="已整改")
    with pytest.raises(ValidationError):
        ns.notice_resolve(actor=w.users["edu"], notice=criticism, resolution=" ")
    ns.notice_resolve(
        actor=w.users["edu"], notice=criticism, resolution="已配齐保安", now=at(day(5))
    )
    criticism.refresh_from_db()
    assert criticism.resolved_at == at(day(5)) and criticism.resolved_by == w.users["edu"]
    assert "supervision.notice_resolved" in inbox(w.users["principal"])
    with pytest.raises(ns.NoticeStateRefused):
        ns.notice_resolve(actor=w.users["edu"], notice=criticism, resolution="again")


def test_commendation_is_not_resolved(nworld):
    w = nworld
    notice = publish(w, make_draft(w, kind=NoticeKind.COMMENDATION))
    with pytest.raises(ns.NoticeStateRefused):
        ns.notice_resolve(actor=w.users["edu"], notice=notice, resolution="x")


def test_days_left_and_overdue(nworld, criticism):
    assert sel.days_left(criticism, MONDAY) == 7
    assert not sel.is_overdue(criticism, day(7))
    assert sel.days_left(criticism, day(9)) == -2 and sel.is_overdue(criticism, day(9))
