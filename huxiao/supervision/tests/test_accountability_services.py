# ruff: noqa: F811 - pytest fixtures imported from notice_fixtures are arguments here
"""Accountability records: who may record them (HOLD_ACCOUNTABLE), about whom (the deciding
office's scope), bad input, links to a hazard or notice, the audited follow-up, and who
sees them (the subject school's principal read-only)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from huxiao.audit.models import AuditEvent
from huxiao.hazards.tests.hazard_fixtures import report
from huxiao.notify.models import Delivery
from huxiao.supervision import notice_selectors as sel
from huxiao.supervision import notice_services as ns
from huxiao.supervision.models import Accountability
from huxiao.supervision.tests.notice_fixtures import (  # noqa: F401
    MONDAY,
    at,
    criticism,
    day,
    draft,
    nworld,
    record,
)

pytestmark = pytest.mark.django_db


def test_record_is_decided_by_the_governance_office_and_audited(nworld):
    w = nworld
    rec = record(w)
    assert rec.decided_by_org_id == w.gov_office.pk and rec.created_by == w.users["gov"]
    audit = AuditEvent.objects.get(object_type="supervision.accountability", action="create")
    assert audit.school_id == w.school.pk
    assert Delivery.objects.filter(
        recipient=w.users["principal"], notification__event_type="supervision.accountability"
    ).exists()


@pytest.mark.parametrize("name", ["edu", "principal", "police", "nobody"])
def test_only_hold_accountable(nworld, name):
    with pytest.raises(PermissionDenied):
        record(nworld, actor=nworld.users[name])
    assert not Accountability.objects.exists()


def test_subject_may_be_an_office_of_the_town(nworld):
    w = nworld
    rec = record(w, subject=w.station, person_name="", person_position="")
    assert rec.subject_id == w.station.pk
    assert not AuditEvent.objects.get(object_type="supervision.accountability").school_id


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"subject": "far_school"}, "subject"),
        ({"subject": "other_station"}, "subject"),
        ({"subject": 10**9}, "subject"),
        ({"subject": "gov_office"}, "subject"),  # not itself
        ({"reason": "  "}, "reason"),
        ({"reason": "x" * 4001}, "reason"),
        ({"kind": "fine"}, "kind"),
        ({"decided_on": day(1)}, "decided_on"),  # the future (now is MONDAY)
        ({"decided_on": "yesterday"}, "decided_on"),
        ({"decided_on": None}, "decided_on"),
        ({"decided_on": "1999-12-31"}, "decided_on"),
        ({"person_name": "a\nb"}, "person_name"),
        ({"person_position": "x" * 101}, "person_position"),
        ({"hazard": 10**9}, "hazard"),
        ({"notice": 10**9}, "notice"),
    ],
)
def test_bad_input(nworld, kwargs, field):
    w = nworld
    value = kwargs.get("subject")
    if isinstance(value, str):
        kwargs["subject"] = getattr(w, value)
    with pytest.raises(ValidationError) as exc:
        record(w, **kwargs)
    assert field in exc.value.message_dict
    assert not Accountability.objects.exists()


def test_links_must_be_about_the_same_subject(nworld, criticism, settings, tmp_path):
    w = nworld
    settings.MEDIA_ROOT = tmp_path
    hazard = report(w)  # at the kindergarten
    other_hazard = report(w, school=w.other_school)
    rec = record(w, hazard=hazard, notice=criticism)
    assert (rec.hazard_id, rec.notice_id) == (hazard.pk, criticism.pk)
    with pytest.raises(ValidationError) as exc:
        record(w, hazard=other_hazard)
    assert "hazard" in exc.value.message_dict
    # The criticism is about the kindergarten, not the other school.
    with pytest.raises(ValidationError) as exc:
        record(w, subject=w.other_school, notice=criticism)
    assert "notice" in exc.value.message_dict


def test_draft_notice_cannot_be_linked(nworld, draft):
    with pytest.raises(ValidationError) as exc:
        record(nworld, notice=draft)
    assert "notice" in exc.value.message_dict


def test_follow_up_is_editable_and_audited(nworld):
    w = nworld
    rec = record(w)
    ns.accountability_follow_up(
        actor=w.users["gov"], record=rec, follow_up="已约谈，园长表态一周内整改。", now=at(day(1))
    )
    ns.accountability_follow_up(
        actor=w.users["county"], record=rec, follow_up="复查：已整改到位。", now=at(day(8))
    )
    rec.refresh_from_db()
    assert rec.follow_up == "复查：已整改到位。" and rec.follow_up_by == w.users["county"]
    changes = AuditEvent.objects.filter(
        object_type="supervision.accountability", action="update"
    ).order_by("id")
    assert [c.changes["fields"]["follow_up"][1] for c in changes] == [
        "已约谈，园长表态一周内整改。",
        "复查：已整改到位。",
    ]
    with pytest.raises(ValidationError):
        ns.accountability_follow_up(actor=w.users["gov"], record=rec, follow_up="")


def test_principal_reads_but_cannot_write(nworld):
    w = nworld
    rec = record(w)
    assert sel.accountability_get(actor=w.users["principal"], record_id=rec.pk) == rec
    with pytest.raises(PermissionDenied):
        ns.accountability_follow_up(actor=w.users["principal"], record=rec, follow_up="x")
    rec.refresh_from_db()
    assert rec.follow_up == ""


@pytest.mark.parametrize(
    ("name", "sees"),
    [
        ("gov", True),
        ("county", True),
        ("principal", True),
        ("principal2", False),
        ("guard", False),
        ("teacher", False),
        ("edu", False),
        ("police", False),
        ("farpolice", False),
        ("nobody", False),
    ],
)
def test_who_sees_a_record(nworld, name, sees):
    w = nworld
    rec = record(w)
    assert sel.accountability_list(actor=w.users[name]).filter(pk=rec.pk).exists() is sees
    if not sees:
        with pytest.raises(Http404):
            sel.accountability_get(actor=w.users[name], record_id=rec.pk)
        with pytest.raises((Http404, PermissionDenied)):
            ns.accountability_follow_up(actor=w.users[name], record=rec, follow_up="x")


def test_list_per_subject_and_per_town(nworld):
    w = nworld
    mine = record(w)
    other = record(w, subject=w.other_school)
    far = record(w, actor=w.users["county"], subject=w.far_school)
    gov, county = w.users["gov"], w.users["county"]
    assert set(sel.accountability_list(actor=gov)) == {mine, other}
    assert set(sel.accountability_list(actor=county)) == {mine, other, far}
    by_subject = sel.AccountabilityFilters(subject_id=w.other_school.pk)
    assert list(sel.accountability_list(actor=county, filters=by_subject)) == [other]
    by_town = sel.AccountabilityFilters(town_id=w.other_town.pk)
    assert list(sel.accountability_list(actor=county, filters=by_town)) == [far]
    assert list(sel.accountability_list(actor=gov, filters=by_town)) == []
