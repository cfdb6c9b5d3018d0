"""Services of warnings both ways: transitions, notifications, bad input, the chase job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from huxiao.audit.models import AuditEvent
from huxiao.intel import warnings_services as services
from huxiao.intel.models import (
    EarlyWarning,
    EarlyWarningRecipient,
    WarningSign,
    WarningSignAttachment,
    WarningSignEvent,
)
from huxiao.intel.tests.warnings_fixtures import NOW, png
from huxiao.notify.models import Delivery, Notification

pytestmark = pytest.mark.django_db(transaction=False)


def _inbox(user, event_type):
    return Delivery.objects.filter(recipient=user, notification__event_type=event_type).count()


# ------------------------------------------------------------------ warning signs


def test_report_notifies_station_and_leaves_trace(
    ww, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign = services.warning_sign_report(
            actor=ww.users["teacher"],
            school=ww.school,
            category="threat",
            description="家长群里有人扬言报复老师",
            files=[png()],
        )
    assert sign.status == "reported"
    assert sign.attachments.count() == 1
    assert list(sign.events.values_list("status", flat=True)) == ["reported"]
    assert AuditEvent.objects.filter(
        object_type="intel.warningsign", object_id=str(sign.pk)
    ).exists()
    for name in ("police", "officer", "postofficer"):
        assert _inbox(ww.users[name], "intel.warning_sign.reported") == 1
    assert _inbox(ww.users["farpolice"], "intel.warning_sign.reported") == 0
    (event,) = [e for e in published if e[1] == "intel.warning_sign.reported"]
    # The school and its police only: never the town or county offices.
    assert set(event[0]) == {
        f"school.{ww.school.pk}",
        f"station.{ww.station.pk}",
        f"post.{ww.post.pk}",
    }


def test_transitions_in_order_with_feedback(ww, sign):
    police = ww.users["officer"]
    services.warning_sign_transition(
        actor=police, sign=sign, status="assessing", note="已派民警核查"
    )
    sign = services.warning_sign_transition(
        actor=police, sign=sign, status="action_taken", note="已对该男子盘查并登记"
    )
    assert sign.status == "action_taken" and sign.closed_at is not None
    assert sign.feedback == "已对该男子盘查并登记"
    assert list(sign.events.values_list("status", flat=True)) == [
        "reported",
        "assessing",
        "action_taken",
    ]
    # The reporter is told each step.
    assert _inbox(ww.users["guard"], "intel.warning_sign.feedback") == 2


@pytest.mark.parametrize(
    ("steps", "target"),
    [
        ([], "action_taken"),
        ([], "no_action"),
        ([], "reported"),
        (["assessing"], "assessing"),
        (["assessing", "no_action"], "action_taken"),
        (["assessing", "no_action"], "assessing"),
        ([], "bogus"),
    ],
)
def test_transition_out_of_order_is_refused(ww, sign, steps, target):
    for step in steps:
        services.warning_sign_transition(actor=ww.users["police"], sign=sign, status=step, note="n")
    before = WarningSignEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.warning_sign_transition(
            actor=ww.users["police"], sign=sign, status=target, note="x"
        )
    assert "status" in exc.value.message_dict
    assert WarningSignEvent.objects.count() == before


def test_transition_needs_a_note(ww, sign):
    with pytest.raises(ValidationError) as exc:
        services.warning_sign_transition(
            actor=ww.users["police"], sign=sign, status="assessing", note=" "
        )
    assert "note" in exc.value.message_dict
    assert WarningSign.objects.get(pk=sign.pk).status == "reported"


@pytest.mark.parametrize("name", ["principal", "guard", "farpolice", "edu", "county", "health"])
def test_transition_by_non_police_is_refused(ww, sign, name):
    with pytest.raises(PermissionDenied):
        services.warning_sign_transition(
            actor=ww.users[name], sign=sign, status="assessing", note="n"
        )
    assert WarningSign.objects.get(pk=sign.pk).status == "reported"


@pytest.mark.parametrize("name", ["principal2", "police", "edu", "health", "farpolice"])
def test_report_for_a_school_not_yours_is_refused(ww, name):
    with pytest.raises(PermissionDenied):
        services.warning_sign_report(
            actor=ww.users[name], school=ww.school, category="other", description="x"
        )
    assert not WarningSign.objects.exists()


def test_bad_fields_are_refused(ww):
    with pytest.raises(ValidationError) as exc:
        services.warning_sign_report(
            actor=ww.users["guard"],
            school=ww.school,
            category="nonsense",
            description="",
            time_node="halloween",
            observed_at=NOW + dt.timedelta(days=1),
            now=NOW,
        )
    assert set(exc.value.message_dict) == {"category", "description", "time_node", "observed_at"}
    assert not WarningSign.objects.exists()


def test_oversize_and_wrong_type_attachments_are_refused(ww, settings, tmp_path):
    big = png("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (services.ATTACHMENT_MAX_BYTES + 1))
    exe = png("virus.exe", b"MZ\x90\0" + b"\0" * 100)
    with pytest.raises(ValidationError) as exc:
        services.warning_sign_report(
            actor=ww.users["guard"],
            school=ww.school,
            category="other",
            description="x",
            files=[png("ok.png"), big, exe],
        )
    messages = exc.value.message_dict["attachments"]
    assert len(messages) == 2
    assert any("big.png" in m for m in messages) and any("virus.exe" in m for m in messages)
    assert not WarningSign.objects.exists()
    assert not WarningSignAttachment.objects.exists()
    assert not list(tmp_path.rglob("*.png"))


def test_too_many_attachments(ww):
    with pytest.raises(ValidationError):
        services.warning_sign_report(
            actor=ww.users["guard"],
            school=ww.school,
            category="other",
            description="x",
            files=[png(f"{i}.png") for i in range(services.ATTACHMENT_MAX_COUNT + 1)],
        )
    assert not WarningSign.objects.exists()


def test_attach_only_before_assessment(ww, sign):
    services.warning_sign_attach(actor=ww.users["principal"], sign=sign, files=[png("2.png")])
    assert sign.attachments.count() == 2
    services.warning_sign_transition(
        actor=ww.users["police"], sign=sign, status="assessing", note="n"
    )
    with pytest.raises(ValidationError):
        services.warning_sign_attach(actor=ww.users["principal"], sign=sign, files=[png("3.png")])
    assert sign.attachments.count() == 2


# ------------------------------------------------------------------ early warnings


def test_issue_to_all_schools_of_jurisdiction(ww, published, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        warning = services.early_warning_issue(
            actor=ww.users["police"],
            all_schools=True,
            title="高度戒备",
            content="开学期间提高警戒",
            level="yellow",
            valid_from=NOW,
            now=NOW,
            valid_until=NOW + dt.timedelta(days=1),
        )
    assert warning.issuer == ww.station
    schools = set(warning.recipients.values_list("school_id", flat=True))
    assert schools == {ww.school.pk, ww.other_school.pk}
    for name in ("principal", "guard", "duty", "principal2"):
        assert _inbox(ww.users[name], "intel.early_warning.issued") == 1
    assert _inbox(ww.users["teacher"], "intel.early_warning.issued") == 0
    assert {e[2]["school_id"] for e in published} == schools
    assert AuditEvent.objects.filter(object_type="intel.earlywarning").exists()


def test_post_issues_only_to_its_schools(ww):
    warning = services.early_warning_issue(
        actor=ww.users["postofficer"],
        all_schools=True,
        title="t",
        content="c",
        level="blue",
        valid_from=NOW,
        now=NOW,
        valid_until=NOW + dt.timedelta(hours=1),
    )
    assert warning.issuer == ww.post
    assert list(warning.recipients.values_list("school_id", flat=True)) == [ww.school.pk]


@pytest.mark.parametrize("name", ["police", "postofficer"])
def test_out_of_jurisdiction_school_is_refused_with_reason(ww, name):
    target = ww.far_school if name == "police" else ww.other_school
    with pytest.raises(ValidationError) as exc:
        services.early_warning_issue(
            actor=ww.users[name],
            school_ids=[ww.school.pk, target.pk],
            title="t",
            content="c",
            level="red",
            valid_from=NOW,
            now=NOW,
            valid_until=NOW + dt.timedelta(hours=1),
        )
    (message,) = exc.value.message_dict["school_ids"]
    assert str(target.pk) in message and target.name not in message
    assert not EarlyWarning.objects.exists()


@pytest.mark.parametrize("name", ["principal", "guard", "edu", "county", "health", "nobody"])
def test_only_police_issue(ww, name):
    with pytest.raises(PermissionDenied):
        services.early_warning_issue(
            actor=ww.users[name],
            all_schools=True,
            title="t",
            content="c",
            level="red",
            valid_from=NOW,
            now=NOW,
            valid_until=NOW + dt.timedelta(hours=1),
        )
    assert not EarlyWarning.objects.exists()


def test_validity_end_before_start_is_refused(ww):
    with pytest.raises(ValidationError) as exc:
        services.early_warning_issue(
            actor=ww.users["police"],
            all_schools=True,
            title="",
            content="c",
            level="purple",
            valid_from=NOW,
            now=NOW,
            valid_until=NOW - dt.timedelta(minutes=1),
        )
    assert set(exc.value.message_dict) == {"title", "level", "valid_until"}
    assert not EarlyWarning.objects.exists()


def test_no_schools_chosen(ww):
    with pytest.raises(ValidationError) as exc:
        services.early_warning_issue(
            actor=ww.users["police"],
            title="t",
            content="c",
            level="red",
            valid_from=NOW,
            now=NOW,
            valid_until=NOW + dt.timedelta(hours=1),
        )
    assert "school_ids" in exc.value.message_dict


def test_acknowledge_once(ww, early):
    recipient = early.recipients.get(school=ww.school)
    later = NOW + dt.timedelta(minutes=5)
    services.early_warning_acknowledge(actor=ww.users["guard"], recipient=recipient, now=later)
    services.early_warning_acknowledge(
        actor=ww.users["principal"], recipient=recipient, now=later + dt.timedelta(minutes=1)
    )
    recipient.refresh_from_db()
    assert recipient.acknowledged_at == later
    assert recipient.acknowledged_by == ww.users["guard"]


@pytest.mark.parametrize("name", ["principal2", "teacher", "police", "edu"])
def test_acknowledge_for_another_school_or_role_is_refused(ww, early, name):
    recipient = early.recipients.get(school=ww.school)
    with pytest.raises(PermissionDenied):
        services.early_warning_acknowledge(actor=ww.users[name], recipient=recipient)
    recipient.refresh_from_db()
    assert recipient.acknowledged_at is None


# ------------------------------------------------------------------ the chase job


def test_chase_schedule():
    assert services.chase_step_due(NOW, NOW + dt.timedelta(minutes=29)) == 0
    assert services.chase_step_due(NOW, NOW + dt.timedelta(minutes=30)) == 1
    assert services.chase_step_due(NOW, NOW + dt.timedelta(minutes=89)) == 1
    assert services.chase_step_due(NOW, NOW + dt.timedelta(minutes=90)) == 2
    assert services.chase_step_due(NOW, NOW + dt.timedelta(minutes=150)) == 3


def test_chase_reminds_unacknowledged_once_per_step(ww, early):
    services.early_warning_acknowledge(
        actor=ww.users["principal2"],
        recipient=early.recipients.get(school=ww.other_school),
        now=NOW + dt.timedelta(minutes=10),
    )
    reminders = Notification.objects.filter(event_type="intel.early_warning.reminder")
    assert services.early_warnings_chase(now=NOW + dt.timedelta(minutes=29)) == 0
    assert services.early_warnings_chase(now=NOW + dt.timedelta(minutes=31)) == 1
    assert services.early_warnings_chase(now=NOW + dt.timedelta(minutes=45)) == 0  # same step
    assert reminders.count() == 1
    assert _inbox(ww.users["guard"], "intel.early_warning.reminder") == 1
    assert _inbox(ww.users["principal2"], "intel.early_warning.reminder") == 0
    assert services.early_warnings_chase(now=NOW + dt.timedelta(minutes=91)) == 1
    assert services.early_warnings_chase(now=NOW + dt.timedelta(minutes=91)) == 0
    recipient = EarlyWarningRecipient.objects.get(warning=early, school=ww.school)
    assert recipient.chase_count == 2
    assert reminders.count() == 2
    # Acknowledged: no more reminders.
    services.early_warning_acknowledge(actor=ww.users["guard"], recipient=recipient)
    assert services.early_warnings_chase(now=NOW + dt.timedelta(hours=5)) == 0


def test_chase_skips_missed_steps_and_stops_at_expiry(ww, early):
    # The job was down for hours: one reminder, not one per missed step.
    assert services.early_warnings_chase(now=NOW + dt.timedelta(hours=5)) == 2
    assert services.early_warnings_chase(now=NOW + dt.timedelta(hours=5, minutes=10)) == 0
    assert services.early_warnings_chase(now=NOW + dt.timedelta(days=4)) == 0


# NOW is 16:00 in Shanghai; quiet hours are 22:00–07:00 local time by default.
LOCAL_2230 = NOW + dt.timedelta(hours=6, minutes=30)
LOCAL_0300 = NOW + dt.timedelta(hours=11)
LOCAL_0700 = NOW + dt.timedelta(hours=15)


def _issue(ww, **extra):
    data = {
        "actor": ww.users["police"],
        "school_ids": [ww.school.pk, ww.other_school.pk],
        "title": "在逃人员预警",
        "content": "一名在逃人员可能在辖区出现",
        "level": "orange",
        "valid_from": NOW,
        "valid_until": NOW + dt.timedelta(days=3),
        "now": NOW,
    }
    data.update(extra)
    return services.early_warning_issue(**data)


def test_chase_starts_when_the_warning_comes_into_force(ww):
    start = NOW + dt.timedelta(days=1)
    warning = _issue(ww, valid_from=start)
    assert services.early_warnings_chase(now=NOW + dt.timedelta(minutes=31)) == 0
    assert services.early_warnings_chase(now=NOW + dt.timedelta(hours=5)) == 0
    assert services.early_warnings_chase(now=start + dt.timedelta(minutes=29)) == 0
    assert services.early_warnings_chase(now=start + dt.timedelta(minutes=31)) == 2
    assert set(warning.recipients.values_list("chase_count", flat=True)) == {1}


def test_quiet_hours_in_local_time(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert not services.is_quiet_time(NOW + dt.timedelta(hours=5, minutes=59))  # 21:59
    assert services.is_quiet_time(NOW + dt.timedelta(hours=6))  # 22:00
    assert services.is_quiet_time(LOCAL_0300)
    assert services.is_quiet_time(NOW + dt.timedelta(hours=14, minutes=59))  # 06:59
    assert not services.is_quiet_time(LOCAL_0700)
    settings.EARLY_WARNING_QUIET_HOURS = (0, 6)
    assert not services.is_quiet_time(LOCAL_2230) and services.is_quiet_time(LOCAL_0300)
    settings.EARLY_WARNING_QUIET_HOURS = (0, 0)
    assert not services.is_quiet_time(LOCAL_0300)


def test_no_chasing_in_quiet_hours(ww, early):
    assert services.early_warnings_chase(now=LOCAL_2230) == 0
    assert services.early_warnings_chase(now=LOCAL_0300) == 0
    assert not EarlyWarningRecipient.objects.filter(chase_count__gt=0).exists()
    # On waking, one reminder per school, not one per missed step.
    assert services.early_warnings_chase(now=LOCAL_0700) == 2
    assert set(early.recipients.values_list("chase_count", flat=True)) == {1}


def test_quiet_hours_are_a_setting(ww, early, settings):
    settings.EARLY_WARNING_QUIET_HOURS = (0, 0)
    assert services.early_warnings_chase(now=LOCAL_2230) == 2


def test_chase_stops_after_three_reminders_and_tells_the_issuer_once(ww, early):
    for hours in (0.5, 1.5, 2.5):
        now = NOW + dt.timedelta(hours=hours, minutes=1)
        assert services.early_warnings_chase(now=now) == 2
        assert services.early_warnings_chase(now=now) == 0  # same step, second run
    for hours in (3.5, 4.5, 5.5):
        assert services.early_warnings_chase(now=NOW + dt.timedelta(hours=hours, minutes=1)) == 0
    assert set(early.recipients.values_list("chase_count", flat=True)) == {3}
    assert _inbox(ww.users["guard"], "intel.early_warning.reminder") == 3
    told = Notification.objects.filter(event_type="intel.early_warning.unacknowledged")
    assert sorted(n.payload["school_id"] for n in told) == sorted(
        [ww.school.pk, ww.other_school.pk]
    )
    assert {n.organization_id for n in told} == {ww.station.pk}
    assert _inbox(ww.users["police"], "intel.early_warning.unacknowledged") == 2
    assert _inbox(ww.users["guard"], "intel.early_warning.unacknowledged") == 0


def test_an_acknowledged_school_is_not_reported_to_the_issuer(ww, early):
    services.early_warnings_chase(now=NOW + dt.timedelta(minutes=31))
    services.early_warning_acknowledge(
        actor=ww.users["guard"],
        recipient=early.recipients.get(school=ww.school),
        now=NOW + dt.timedelta(minutes=40),
    )
    for hours in (1.5, 2.5, 3.5):
        services.early_warnings_chase(now=NOW + dt.timedelta(hours=hours, minutes=1))
    told = Notification.objects.filter(event_type="intel.early_warning.unacknowledged")
    assert [n.payload["school_id"] for n in told] == [ww.other_school.pk]


def test_never_chased_after_valid_until(ww):
    _issue(ww, valid_until=NOW + dt.timedelta(minutes=80))
    assert services.early_warnings_chase(now=NOW + dt.timedelta(minutes=31)) == 2
    assert services.early_warnings_chase(now=NOW + dt.timedelta(minutes=80)) == 0
    assert services.early_warnings_chase(now=NOW + dt.timedelta(hours=2)) == 0


def test_validity_already_over_is_refused(ww):
    with pytest.raises(ValidationError) as exc:
        _issue(
            ww,
            valid_from=NOW - dt.timedelta(days=2),
            valid_until=NOW - dt.timedelta(minutes=1),
        )
    assert set(exc.value.message_dict) == {"valid_until"}
    with pytest.raises(ValidationError) as exc:
        _issue(ww, valid_from=NOW - dt.timedelta(days=2), valid_until=NOW)
    assert set(exc.value.message_dict) == {"valid_until"}
    assert not EarlyWarning.objects.exists()
    # A warning in force since yesterday until tomorrow is fine.
    _issue(ww, valid_from=NOW - dt.timedelta(days=1), valid_until=NOW + dt.timedelta(days=1))
