"""Pages of the surveillance: the alerts list and an alert (scope, the read logged, the
directory box, closing, linking a case), a school's days and the schools in scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from huxiao.audit.models import AuditAction, AuditEvent
from huxiao.health import surveillance_selectors as sel
from huxiao.health import surveillance_services as services
from huxiao.health.choices import AbsenceCause, AlertStatus, CaseStatus, SuspensionScope
from huxiao.health.models import (
    Absence,
    ChildCheck,
    ClassSuspension,
    ClusterAlert,
    HealthCheck,
    MonitoringPlan,
)
from huxiao.health.tests.surveillance_fixtures import kids, make_case, sick
from huxiao.people.tests.factories import SchoolClassFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


@pytest.fixture
def alert(hworld):
    for child in kids(hworld.school_class, 3):
        sick(child, timezone.localdate())
    return services.clusters_evaluate()[0]


def _get(client, user, url):
    client.force_login(user)
    return client.get(url)


# ------------------------------------------------------------------ alerts list


@pytest.mark.parametrize(
    ("name", "status", "sees"),
    [
        ("police", 403, False),
        ("officer", 403, False),
        ("postofficer", 403, False),
        ("teacher", 403, False),
        ("guard", 403, False),
        ("edu", 403, False),
        ("liaison", 403, False),
        ("principal2", 200, False),
        ("principal", 200, True),
        ("nurse", 200, True),
        ("dutylead", 200, True),
        ("health", 200, True),
        ("countyhealth", 200, True),
    ],
)
def test_alerts_list_scope(client, hworld, alert, name, status, sees):
    response = _get(client, hworld.users[name], reverse("health:alerts"))
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert (f'data-alert="{alert.pk}"' in body) is sees


def test_alerts_list_anonymous_goes_to_login(client, alert):
    response = client.get(reverse("health:alerts"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_alerts_list_open_first_with_children_and_filters(client, hworld, alert):
    w = hworld
    older = ClusterAlert.objects.create(
        school=w.school,
        kind="school_cluster",
        symptom_group="digestive",
        key="closed-one",
        window_start=TODAY,
        window_end=TODAY,
        status=AlertStatus.CLOSED,
        raised_at=timezone.now() + dt.timedelta(hours=1),
        note="处理完毕",
    )
    response = _get(client, w.users["health"], reverse("health:alerts"))
    body = response.content.decode()
    assert body.index(f'data-alert="{alert.pk}"') < body.index(f'data-alert="{older.pk}"')
    for child in alert.children.all():
        assert child.name in body
    closed = client.get(reverse("health:alerts") + "?status=closed").content.decode()
    assert f'data-alert="{older.pk}"' in closed and f'data-alert="{alert.pk}"' not in closed
    assert client.get(reverse("health:alerts") + "?status=bogus").status_code == 400
    assert client.get(reverse("health:alerts") + f"?school={w.far_school.pk}").status_code == 404
    mine = client.get(reverse("health:alerts") + f"?school={w.school.pk}")
    assert mine.status_code == 200 and f'data-alert="{alert.pk}"' in mine.content.decode()


# ------------------------------------------------------------------ one alert


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("police", 403),
        ("teacher", 403),
        ("principal2", 404),
        ("principal", 200),
        ("nurse", 200),
        ("dutylead", 200),
        ("health", 200),
        ("countyhealth", 200),
    ],
)
def test_alert_page_scope(client, hworld, alert, name, status):
    response = _get(client, hworld.users[name], reverse("health:alert", args=[alert.pk]))
    assert response.status_code == status


def test_alert_page_shows_directory_children_and_logs_the_read(client, hworld, alert):
    user = hworld.users["health"]
    response = _get(client, user, reverse("health:alert", args=[alert.pk]))
    body = response.content.decode()
    assert 'data-testid="four-party-directory"' in body
    assert body.count('data-testid="child-') == 3
    assert 'data-testid="close-form"' in body
    read = AuditEvent.objects.get(action=AuditAction.READ_SENSITIVE, actor=user)
    assert read.object_type == "health.clusteralert" and read.object_id == str(alert.pk)
    assert read.changes == {"field": "health", "purpose": "cluster alert"}
    client.get(reverse("health:alert", args=[alert.pk]))
    assert AuditEvent.objects.filter(action=AuditAction.READ_SENSITIVE).count() == 2


def test_a_duty_leader_reads_but_does_not_close(client, hworld, alert):
    client.force_login(hworld.users["dutylead"])
    body = client.get(reverse("health:alert", args=[alert.pk])).content.decode()
    assert 'data-testid="close-form"' not in body
    response = client.post(reverse("health:alert_close", args=[alert.pk]), {"note": "看过"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_closing_an_alert(client, hworld, alert):
    w = hworld
    client.force_login(w.users["nurse"])
    url = reverse("health:alert_close", args=[alert.pk])
    empty = client.post(url, {"note": "   "})
    assert empty.status_code == 400 and 'data-testid="error-note"' in empty.content.decode()
    assert client.post(url, {"note": "x" * 501}).status_code == 400
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    response = client.post(url, {"note": "三名幼儿均已就医，诊断为普通感冒；班级加强晨午检。"})
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED and alert.closed_by == w.users["nurse"]
    assert alert.note.startswith("三名幼儿") and alert.closed_at is not None
    assert AuditEvent.objects.filter(
        object_type="health.clusteralert", object_id=str(alert.pk), action=AuditAction.UPDATE
    ).exists()
    again = client.post(url, {"note": "再关一次"})
    assert again.status_code == 409 and 'data-testid="refusal"' in again.content.decode()
    page = client.get(reverse("health:alert", args=[alert.pk])).content.decode()
    assert 'data-testid="alert-handling"' in page and "普通感冒" in page


def test_closing_out_of_scope_is_404_and_police_403(client, hworld, alert):
    url = reverse("health:alert_close", args=[alert.pk])
    client.force_login(hworld.users["principal2"])
    assert client.post(url, {"note": "x"}).status_code == 404
    client.force_login(hworld.users["police"])
    assert client.post(url, {"note": "x"}).status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_linking_an_alert_to_a_case_of_its_school(client, hworld, alert):
    w = hworld
    case = make_case(alert.children.first(), notifiable=False)
    foreign = make_case(w.other_child, notifiable=False)
    client.force_login(w.users["health"])
    url = reverse("health:alert_link_case", args=[alert.pk])
    assert client.post(url, {"case_id": foreign.pk}).status_code == 400
    assert client.post(url, {"case_id": case.pk}).status_code == 302
    alert.refresh_from_db()
    assert alert.case_id == case.pk
    assert client.post(url, {"case_id": ""}).status_code == 302
    alert.refresh_from_db()
    assert alert.case_id is None
    client.force_login(w.users["dutylead"])
    assert client.post(url, {"case_id": case.pk}).status_code == 403


def test_link_case_service_refuses_a_case_of_another_school(hworld, alert):
    from django.core.exceptions import ValidationError

    foreign = make_case(hworld.other_child, notifiable=False)
    with pytest.raises(ValidationError) as err:
        services.cluster_alert_link_case(
            actor=hworld.users["countyhealth"], alert_id=alert.pk, case_id=foreign.pk
        )
    assert "case_id" in err.value.message_dict


# ------------------------------------------------------------------ a school's days


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("police", 403),
        ("teacher", 403),
        ("principal2", 404),
        ("principal", 200),
        ("nurse", 200),
        ("health", 200),
        ("countyhealth", 200),
    ],
)
def test_school_surveillance_scope(client, hworld, name, status):
    url = reverse("health:surveillance", args=[hworld.school.pk])
    assert _get(client, hworld.users[name], url).status_code == status


def test_school_surveillance_anonymous_and_bad_days(client, hworld):
    url = reverse("health:surveillance", args=[hworld.school.pk])
    assert client.get(url).status_code == 302
    client.force_login(hworld.users["health"])
    assert client.get(url + "?days=0").status_code == 400
    assert client.get(url + "?days=abc").status_code == 400
    assert client.get(url + "?days=61").status_code == 400
    assert client.get(url + "?days=3").content.decode().count('data-testid="day"') == 3
    far = reverse("health:surveillance", args=[hworld.far_school.pk])
    assert client.get(far).status_code == 404  # another town: not the health centre's
    assert client.get(reverse("health:surveillance", args=[999999])).status_code == 404


def _check(w, klass, day, session="morning", unwell=()):
    check = HealthCheck.objects.create(
        school=w.school,
        school_class=klass,
        date=day,
        session=session,
        recorded_at=timezone.now(),
    )
    for child in unwell:
        ChildCheck.objects.create(
            health_check=check,
            school=w.school,
            child=child,
            date=day,
            checked_at=timezone.now(),
            is_well=False,
            symptoms=["fever"],
        )
    return check


def test_school_surveillance_counts_a_day(client, hworld):
    w = hworld
    day = TODAY - dt.timedelta(days=TODAY.weekday())  # this week's Monday
    second = SchoolClassFactory(school=w.school, name="小二班", grade="小班")
    third = SchoolClassFactory(school=w.school, name="中一班", grade="中班")
    kids(second, 1, prefix="小二")
    kids(third, 1, prefix="中一")
    SchoolClassFactory(school=w.school, name="空班", grade="大班")  # nobody enrolled: no check
    a, b, c, d = kids(w.school_class, 4)
    _check(w, w.school_class, day, unwell=[a])
    _check(w, w.school_class, day, session="noon")
    # The second class is under a monitoring plan (two checks) and did one; the third is
    # suspended that day.
    MonitoringPlan.objects.create(
        school=w.school, school_class=second, starts_on=day, ends_on=day, checks_per_day=2
    )
    _check(w, second, day)
    ClassSuspension.objects.create(
        school=w.school,
        scope=SuspensionScope.CLASS,
        school_class=third,
        starts_on=day,
        ends_on=day,
        reason="x",
        decided_at=timezone.now(),
    )
    common = {"school": w.school, "school_class": w.school_class, "date": day}
    common["recorded_at"] = timezone.now()
    Absence.objects.create(child=b, cause=AbsenceCause.ILLNESS, symptoms=["vomiting"], **common)
    sick(b, day, "vomiting", source="absence")
    Absence.objects.create(child=c, cause=AbsenceCause.UNKNOWN, **common)
    Absence.objects.create(child=d, cause=AbsenceCause.UNKNOWN, chased_at=timezone.now(), **common)
    client.force_login(w.users["health"])
    url = reverse("health:surveillance", args=[w.school.pk]) + "?days=14"
    body = client.get(url).content.decode()
    row = body[body.index(f'data-date="{day:%Y-%m-%d}"') :]
    row = row[: row.index("</tr>")]
    # Expected: the first class 1 + the second 2 (plan) + the third 0 (suspended) + the
    # empty class 0 = 3; done: 1 (the noon check is beyond the one expected) + 1.
    assert 'data-done="2" data-expected="3"' in row
    assert 'data-testid="unwell"><strong>1</strong>' in row
    assert 'data-total="3" data-illness="1" data-personal="0" data-unknown="2"' in row
    assert 'data-testid="unchased" data-n="1"' in row
    assert 'data-testid="illness-group"' in row
    assert 'data-testid="four-party-directory"' in body


def test_school_surveillance_query_count_is_fixed(client, hworld, django_assert_max_num_queries):
    w = hworld
    for n in range(5):
        klass = SchoolClassFactory(school=w.school, name=f"班{n}")
        _check(w, klass, TODAY - dt.timedelta(days=n), unwell=kids(klass, 2, prefix=f"{n}"))
    client.force_login(w.users["health"])
    url = reverse("health:surveillance", args=[w.school.pk])
    client.get(url)  # warm the session and the scope
    with django_assert_max_num_queries(30):
        assert client.get(url).status_code == 200


# ------------------------------------------------------------------ the schools in scope


@pytest.mark.parametrize(
    ("name", "status", "rows"),
    [
        ("police", 403, None),
        ("teacher", 403, None),
        ("edu", 403, None),
        ("principal", 200, 1),
        ("principal2", 200, 1),
        ("health", 200, 2),
        ("countyhealth", 200, 3),
    ],
)
def test_town_surveillance_scope(client, hworld, name, status, rows):
    response = _get(client, hworld.users[name], reverse("health:surveillance_town"))
    assert response.status_code == status
    if rows is not None:
        assert response.content.decode().count('data-testid="school-row"') == rows


def test_town_surveillance_rows_put_schools_with_alerts_and_cases_first(client, hworld, alert):
    w = hworld
    case = make_case(w.other_child, notifiable=False)
    case.status = CaseStatus.ACTIVE
    case.save()
    today = timezone.localdate()
    Absence.objects.create(
        school=w.school,
        school_class=w.school_class,
        child=w.child,
        date=today,
        cause=AbsenceCause.ILLNESS,
        recorded_at=timezone.now(),
    )
    _check(w, w.school_class, today)
    client.force_login(w.users["countyhealth"])
    body = client.get(reverse("health:surveillance_town")).content.decode()
    first_far = body.index(f'data-school="{w.far_school.pk}"')
    assert body.index(f'data-school="{w.school.pk}"') < first_far
    assert body.index(f'data-school="{w.other_school.pk}"') < first_far
    row = body[body.index(f'data-school="{w.school.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-testid="illness">1<' in row
    assert 'data-testid="alerts"><a' in row
    if today.weekday() < 5:
        assert 'data-done="1" data-expected="1"' in row
    assert client.get(reverse("health:surveillance_town")).status_code == 200


def test_a_case_is_open_until_closed_on_both_overviews(client, hworld):
    """A confirmed (or cleared) case is still being handled: it counts as open, as on the
    case list and the health home, and puts its school first."""
    w = hworld
    case = make_case(w.child, notifiable=False)
    case.status = CaseStatus.CONFIRMED
    case.save()
    cleared = make_case(w.other_child, notifiable=False)
    cleared.status = CaseStatus.CLOSED
    cleared.save()
    client.force_login(w.users["countyhealth"])
    body = client.get(reverse("health:surveillance", args=[w.school.pk])).content.decode()
    assert 'data-testid="open-cases" class="hx-sv-warn"><strong>1</strong>' in body
    rows = {r.school.pk: r for r in sel.schools_today(actor=w.users["countyhealth"])}
    assert rows[w.school.pk].open_cases == 1 and rows[w.other_school.pk].open_cases == 0
    body = client.get(reverse("health:surveillance_town")).content.decode()
    first_row = body[body.index('data-testid="school-row"') :]
    assert first_row.startswith(f'data-testid="school-row" data-school="{w.school.pk}"')


def test_the_town_overview_expects_checks_of_classes_with_children(hworld):
    """Classes without an enrolled child expect no check (as on the health home), also
    when a suspension covers them; a Saturday with the attendance taken is a school day."""
    w = hworld
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    SchoolClassFactory(school=w.school, name="空班", grade="大班")
    empty_suspended = SchoolClassFactory(school=w.school, name="空班二", grade="大班")
    ClassSuspension.objects.create(
        school=w.school,
        scope=SuspensionScope.CLASS,
        school_class=empty_suspended,
        starts_on=monday,
        ends_on=monday + dt.timedelta(days=6),
        reason="x",
        decided_at=timezone.now(),
    )
    rows = {r.school.pk: r for r in sel.schools_today(actor=w.users["health"], today=monday)}
    row = rows[w.school.pk]
    assert (row.classes, row.suspended, row.checks_expected) == (1, 0, 1)
    saturday = monday + dt.timedelta(days=5)
    from huxiao.health.tests.case_fixtures import attendance

    attendance(w.school_class, saturday)
    rows = {r.school.pk: r for r in sel.schools_today(actor=w.users["health"], today=saturday)}
    assert rows[w.school.pk].school_day and rows[w.school.pk].checks_expected == 1
    assert not rows[w.other_school.pk].school_day
