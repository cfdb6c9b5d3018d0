"""A legal vice-principal post never gives more than the officer's own police membership, and
it ends with its term (ADR 0020, addendum): an officer who leaves the station loses the
station's pages and API at once; a term that ran out counts as ended before the nightly
sweep, and the sweep ends it (audited, as the system) with a controllable clock."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.core.roles import Action, Role, role_allows
from huxiao.core.scoping import can, clear_scope_cache, visible_school_ids
from huxiao.orgs.models import Membership
from huxiao.orgs.tests.factories import MembershipFactory, UserFactory
from huxiao.patrols import lvp_selectors, lvp_services, tasks
from huxiao.patrols.models import LegalVicePrincipal
from huxiao.patrols.tests.conftest import at

pytestmark = pytest.mark.django_db
# A station-only endpoint and page: video patrols are police records (log_patrol).
STATION_API = "/api/v1/patrols/video/patrols"
TERM_START = dt.date(2025, 9, 1)
TERM_END = dt.date(2026, 7, 31)
BEFORE_END = at(dt.date(2026, 7, 31), "18:00")
AFTER_END = at(dt.date(2026, 8, 1), "00:15")


def assign(world, *, officer=None, school=None, term_end=None, now=None, no="示公字〔2025〕8号"):
    return lvp_services.lvp_assign(
        actor=world.users["police"],
        school=school or world.school,
        officer=officer or world.users["officer"],
        term_start=TERM_START,
        term_end=term_end,
        appointment_no=no,
        now=now,
    )


def lvp_membership(world, user=None):
    return Membership.objects.get(
        user=user or world.users["officer"],
        organization=world.station,
        role=Role.LEGAL_VICE_PRINCIPAL,
    )


def police_membership(world, user=None):
    return Membership.objects.filter(
        user=user or world.users["officer"],
        organization=world.station,
        role__in=[Role.POLICE_OFFICER, Role.POLICE_COMMANDER],
    )


# ------------------------------------------------------------------ the officer leaves


def test_the_lvp_role_grants_nothing_of_its_own():
    assert not any(role_allows(Role.LEGAL_VICE_PRINCIPAL, a) for a in Action.values)


def test_officer_who_left_the_station_loses_its_pages_and_api(people, api, client):
    w = people
    officer = w.users["officer"]
    assign(w)
    assert api("get", STATION_API, officer).status_code == 200
    client.force_login(officer)
    assert client.get(reverse("patrols:video_patrols")).status_code == 200

    # Any way the police membership ends (here: straight in the table, no service called).
    police_membership(w).update(is_active=False)
    clear_scope_cache(officer)
    # The LVP membership is still active until the nightly sweep ...
    assert lvp_membership(w).is_active
    # ... and gives nothing.
    assert api("get", STATION_API, officer).status_code == 403
    assert client.get(reverse("patrols:video_patrols")).status_code == 403
    assert visible_school_ids(officer, Action.VIEW) == frozenset()
    assert not can(officer, Action.VIEW_ALARM, w.school.pk)
    # Not even the school's legal vice-principal list: the role allows "view" nowhere.
    assert api("get", "/api/v1/patrols/lvp/assignments", officer).status_code == 403


def test_a_bare_lvp_membership_sees_nothing(people, api):
    """Granted straight by an administrator, without a police membership: a title only."""
    w = people
    user = UserFactory(username="bare_lvp")
    MembershipFactory(user=user, organization=w.station, role=Role.LEGAL_VICE_PRINCIPAL)
    assert api("get", STATION_API, user).status_code == 403
    assert visible_school_ids(user, Action.VIEW) == frozenset()


def test_the_sweep_ends_the_membership_of_an_officer_who_left(people):
    w = people
    assign(w)
    police_membership(w).update(is_active=False)
    result = lvp_services.lvp_sweep(now=BEFORE_END)
    membership = lvp_membership(w)
    assert not membership.is_active
    assert result == {"ended": [], "inactive_memberships": [membership.pk]}
    # The assignment stays for the commander to end; it gives no membership meanwhile.
    assert LegalVicePrincipal.objects.get().ended_at is None
    trail = AuditEvent.objects.filter(object_type__contains="membership", object_id=membership.pk)
    assert trail.latest("id").actor is None and trail.latest("id").actor_label == "system"
    # Idempotent: a second run writes nothing.
    count = AuditEvent.objects.count()
    lvp_services.lvp_sweep(now=BEFORE_END)
    assert AuditEvent.objects.count() == count

    # Back at the station: the next sweep gives the post back.
    police_membership(w).update(is_active=True)
    lvp_services.lvp_sweep(now=BEFORE_END)
    assert lvp_membership(w).is_active


def test_the_sweep_ends_the_membership_of_a_deactivated_account(people):
    w = people
    assign(w)
    w.users["officer"].is_active = False
    w.users["officer"].save(update_fields=["is_active"])
    lvp_services.lvp_sweep(now=BEFORE_END)
    assert not lvp_membership(w).is_active


def test_sync_requires_the_police_membership(people):
    w = people
    assign(w)
    police_membership(w).update(is_active=False)
    lvp_services.lvp_membership_sync(actor=None, officer=w.users["officer"], station=w.station)
    assert not lvp_membership(w).is_active


# ------------------------------------------------------------------ the term ends


def test_the_sweep_ends_an_assignment_past_its_term(people):
    w = people
    a = assign(w, term_end=TERM_END, now=at(TERM_START, "09:00"))
    assert lvp_membership(w).is_active
    # On the last day of the term nothing happens.
    assert lvp_services.lvp_sweep(now=BEFORE_END) == {"ended": [], "inactive_memberships": []}

    result = lvp_services.lvp_sweep(now=AFTER_END)
    a.refresh_from_db()
    membership = lvp_membership(w)
    assert result == {"ended": [a.pk], "inactive_memberships": [membership.pk]}
    assert a.ended_at == timezone.make_aware(dt.datetime.combine(TERM_END, dt.time.max))
    assert a.end_reason == "任期届满"
    assert not membership.is_active
    row = AuditEvent.objects.filter(object_type__contains="legalviceprincipal").latest("id")
    assert row.actor is None and row.actor_label == "system"
    assert row.school_id == w.school.pk
    # Ending the post never touches the officer's police membership.
    assert police_membership(w).get().is_active
    # Idempotent.
    count = AuditEvent.objects.count()
    assert lvp_services.lvp_sweep(now=AFTER_END) == {"ended": [], "inactive_memberships": []}
    assert AuditEvent.objects.count() == count


def test_the_huey_task_calls_the_sweep(people, monkeypatch):
    w = people
    a = assign(w, term_end=TERM_END, now=at(TERM_START, "09:00"))
    monkeypatch.setattr(lvp_services.timezone, "now", lambda: AFTER_END)
    assert tasks.lvp_sweep.call_local()["ended"] == [a.pk]
    a.refresh_from_db()
    assert a.ended_at is not None


def test_a_term_past_counts_as_ended_without_the_sweep(people, api):
    """The sweep has not run: reads and the membership already treat the term as over."""
    w = people
    a = assign(w, term_end=TERM_END, now=at(TERM_START, "09:00"))
    after = TERM_END + dt.timedelta(days=1)
    police = w.users["police"]
    assert lvp_selectors.lvp_list(actor=police, active=True, today=TERM_END).count() == 1
    assert lvp_selectors.lvp_list(actor=police, active=True, today=after).count() == 0
    assert lvp_selectors.lvp_list(actor=police, active=False, today=after).get() == a
    assert (
        lvp_selectors.lvp_active_for_school(actor=police, school_id=w.school.pk, today=after)
        is None
    )
    lvp_services.lvp_membership_sync(
        actor=None, officer=w.users["officer"], station=w.station, today=after
    )
    assert not lvp_membership(w).is_active
    # With the real clock (today is after TERM_END), the API says the same.
    body = api("get", f"/api/v1/patrols/lvp/assignments/{a.pk}", police).json()
    assert body["is_active"] is False and body["ended_at"] is None
    path = "/api/v1/patrols/lvp/assignments"
    assert api("get", f"{path}?active=true", police).json()["count"] == 0
    assert api("get", f"{path}?active=false", police).json()["count"] == 1


def test_a_successor_can_be_appointed_the_day_after_the_term(people, api):
    """The predecessor's term ran out and the sweep has not run: appointing ends it."""
    w = people
    old = assign(w, term_end=TERM_END, now=at(TERM_START, "09:00"))
    r = api(
        "post",
        "/api/v1/patrols/lvp/assignments",
        w.users["police"],
        json={
            "school_id": w.school.pk,
            "officer_id": w.users["police"].pk,
            "term_start": "2026-08-01",
            "appointment_no": "示公字〔2026〕3号",
        },
    )
    assert r.status_code == 201, r.content
    old.refresh_from_db()
    assert old.ended_at is not None and old.end_reason == "任期届满"
    assert not lvp_membership(w).is_active
    assert lvp_membership(w, w.users["police"]).is_active


def test_a_term_already_over_is_refused(people, api):
    w = people
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    r = api(
        "post",
        "/api/v1/patrols/lvp/assignments",
        w.users["police"],
        json={
            "school_id": w.school.pk,
            "officer_id": w.users["officer"].pk,
            "term_start": "2025-09-01",
            "term_end": yesterday.isoformat(),
            "appointment_no": "示公字〔2025〕8号",
        },
    )
    assert r.status_code == 400
    assert "term_end" in r.json()["errors"]
    assert not LegalVicePrincipal.objects.exists()
    assert not Membership.objects.filter(role=Role.LEGAL_VICE_PRINCIPAL).exists()


def test_the_list_page_shows_a_term_past_as_ended(people, client):
    w = people
    a = assign(w, term_end=TERM_END, now=at(TERM_START, "09:00"))
    client.force_login(w.users["police"])
    html = client.get(reverse("patrols:lvp_list")).content.decode()
    assert f'data-testid="lvp-{a.pk}"' not in html
    html = client.get(reverse("patrols:lvp_list") + "?ended=1").content.decode()
    assert f'data-testid="lvp-{a.pk}"' in html
    assert reverse("patrols:lvp_end", args=[a.pk]) not in html
