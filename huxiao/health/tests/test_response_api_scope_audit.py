"""Scope audit of the WHOLE health API (issue 9; ADR 0032): every `/api/v1/health/...`
operation listed in the OpenAPI document is called as the police roles, the other school's
principal, a teacher and anonymously, against a school (`world.school`) planted with health
data of every kind; none may hand that data out.

- anonymous: 401 everywhere;
- police commander, officer, post officer: no health action → 403 (404 accepted), nothing
  written, no read logged;
- `principal2` (another school of the same town): 403/404 on everything aimed at
  `world.school`; the lists without a school filter answer but carry nothing of it;
- `teacher` (RECORD_HEALTH, not VIEW_HEALTH): the data entry of §3 3 and the records every
  school role reads (`TEACHER_MAY`, ADR 0032) may answer, but never with the case, alert or
  aftercare records; every other operation 403/404.

A new operation without its ids and body below fails `test_every_operation_is_audited`: add
it here, with what the brief expects of it.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from huxiao.audit.models import AuditEvent
from huxiao.health.choices import (
    AbsenceCause,
    AftercareKind,
    AlertStatus,
    CheckSession,
    DisinfectionArea,
    DisinfectionKind,
    Party,
    RuleKind,
    Step,
    SuspensionScope,
    SymptomGroup,
)
from huxiao.health.models import (
    Absence,
    AftercareTask,
    AttendanceDay,
    CaseContact,
    ChildCheck,
    ClassSuspension,
    ClusterAlert,
    Disinfection,
    HealthCase,
    HealthCheck,
    HealthContact,
    MonitoringPlan,
    OfficialStatement,
)
from huxiao.health.steps import step_record
from huxiao.notify.models import Notification
from huxiao.people.tests.factories import ChildFactory

pytestmark = pytest.mark.django_db

PREFIX = "/api/v1/health/"
POLICE = ("police", "officer", "postofficer")
# Written into every planted record of `world.school`: none may come back to someone who
# may not read it.
MARK = "审计标记"
CASE_MARK = f"{MARK}病例"  # the case, its contacts, alerts and aftercare: VIEW_HEALTH only
CHILD2 = f"{MARK}孩子"

# The operations a teacher may use at their own school (ADR 0032: the check/attendance data
# entry, a case report, and the records every school role or RECORD_HEALTH reads). Their
# answers are still searched for the case's records.
TEACHER_MAY = {
    ("GET", "/api/v1/health/checks"),
    ("POST", "/api/v1/health/checks"),
    ("POST", "/api/v1/health/attendance"),
    ("GET", "/api/v1/health/absences"),
    ("POST", "/api/v1/health/absences/{absence_id}/cause"),
    ("POST", "/api/v1/health/cases"),
    ("GET", "/api/v1/health/disinfections"),
    ("GET", "/api/v1/health/monitoring-plans"),
    ("GET", "/api/v1/health/suspensions"),
    ("GET", "/api/v1/health/statements"),
    ("GET", "/api/v1/health/directory"),
}
# County thresholds are no school's data: whoever may read them may (police may not).
NOT_SCHOOL_DATA = {("GET", "/api/v1/health/rules")}


class Planted:
    pass


@pytest.fixture
def planted(hworld):
    """Health data of every kind at `world.school`, each carrying MARK."""
    w = hworld
    now = timezone.now()
    today = timezone.localdate()
    p = Planted()
    p.w = w
    p.child2 = ChildFactory(school_class=w.school_class, name=CHILD2)
    p.case = HealthCase.objects.create(
        school=w.school,
        school_class=w.school_class,
        child=w.child,
        symptoms=["fever", "cough"],
        temperature=Decimal("38.6"),
        suspected_disease=CASE_MARK,
        onset_date=today,
        reported_at=now - dt.timedelta(hours=1),
        reported_by=w.users["teacher"],
        note=CASE_MARK,
    )
    for step in (Step.REPORTED, Step.VERIFIED, Step.STARTED):
        step_record(actor=w.users["principal"], case=p.case, step=step, note=CASE_MARK)
    CaseContact.objects.create(case=p.case, child=p.child2, reasons=["same_class"])
    check = HealthCheck.objects.create(
        school=w.school,
        school_class=w.school_class,
        date=today,
        session=CheckSession.MORNING,
        checkpoint=f"{MARK}门口",
        recorded_at=now - dt.timedelta(hours=2),
    )
    ChildCheck.objects.create(
        health_check=check,
        school=w.school,
        child=w.child,
        date=today,
        checkpoint=check.checkpoint,
        checked_at=now - dt.timedelta(hours=2),
        temperature=Decimal("38.6"),
        symptoms=["fever"],
        is_well=False,
        note=f"{MARK}晨检",
    )
    AttendanceDay.objects.create(
        school=w.school,
        school_class=w.school_class,
        date=today,
        enrolled=3,
        absent=1,
        recorded_at=now,
    )
    p.absence = Absence.objects.create(
        school=w.school,
        school_class=w.school_class,
        child=p.child2,
        date=today,
        cause=AbsenceCause.UNKNOWN,
        note=f"{MARK}缺勤",
        recorded_at=now,
    )
    p.alert = ClusterAlert.objects.create(
        school=w.school,
        school_class=w.school_class,
        kind=RuleKind.CLASS_CLUSTER,
        symptom_group=SymptomGroup.RESPIRATORY,
        key=f"class:{w.school.pk}:{w.school_class.pk}:audit",
        window_start=today,
        window_end=today,
        child_count=1,
        status=AlertStatus.OPEN,
        raised_at=now,
        note=CASE_MARK,
    )
    p.alert.children.add(w.child)
    p.disinfection = Disinfection.objects.create(
        school=w.school,
        case=p.case,
        kind=DisinfectionKind.EMERGENCY,
        area=DisinfectionArea.CLASSROOM,
        area_detail=f"{MARK}教室",
        method="擦拭",
        done_by_name="郭秀兰",
        done_at=now - dt.timedelta(minutes=30),
    )
    p.suspension = ClassSuspension.objects.create(
        school=w.school,
        scope=SuspensionScope.CLASS,
        school_class=w.school_class,
        starts_on=today,
        ends_on=today + dt.timedelta(days=6),
        reason=f"{MARK}停课",
        case=p.case,
        decided_at=now,
    )
    p.statement = OfficialStatement.objects.create(
        school=w.school, case=p.case, text=f"{MARK}声明", published_at=now, approved_by="校长"
    )
    p.task = AftercareTask.objects.create(
        case=p.case, kind=AftercareKind.SUPPLIES, description=CASE_MARK
    )
    p.plan = MonitoringPlan.objects.create(
        school=w.school,
        school_class=w.school_class,
        case=p.case,
        starts_on=today,
        ends_on=today + dt.timedelta(days=13),
        checks_per_day=2,
    )
    p.contact = HealthContact.objects.create(
        school=w.school, party=Party.SCHOOL, name=f"{MARK}联系人", phone="13812345678"
    )
    return p


# ------------------------------------------------------------------ requests


def _path_ids(p: Planted) -> dict:
    return {
        "case_id": p.case.pk,
        "alert_id": p.alert.pk,
        "absence_id": p.absence.pk,
        "suspension_id": p.suspension.pk,
        "task_id": p.task.pk,
        "plan_id": p.plan.pk,
        "contact_id": p.contact.pk,
    }


def _query(p: Planted) -> dict:
    w = p.w
    return {
        "school_id": w.school.pk,
        "class_id": w.school_class.pk,
        "case_id": p.case.pk,
        "region_id": w.region.pk,
    }


def _bodies(p: Planted) -> dict:
    """A body each write would accept from someone allowed to make it."""
    w = p.w
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    moment = (timezone.localtime() - dt.timedelta(minutes=10)).isoformat()
    return {
        ("POST", "/api/v1/health/checks"): {
            "class_id": w.school_class.pk,
            "date": yesterday.isoformat(),
            "session": "morning",
            "results": [],
        },
        ("POST", "/api/v1/health/attendance"): {
            "class_id": w.school_class.pk,
            "date": yesterday.isoformat(),
            "absences": [],
        },
        ("POST", "/api/v1/health/absences/{absence_id}/cause"): {"cause": "personal"},
        ("PUT", "/api/v1/health/rules"): {
            "region_id": w.region.pk,
            "rules": [
                {
                    "kind": "class_cluster",
                    "symptom_group": "any",
                    "min_children": 9,
                    "window_days": 3,
                }
            ],
        },
        ("POST", "/api/v1/health/alerts/{alert_id}/close"): {"note": "已处理"},
        ("POST", "/api/v1/health/alerts/{alert_id}/case"): {"case_id": p.case.pk},
        ("POST", "/api/v1/health/cases"): {
            "class_id": w.school_class.pk,
            "child_id": w.child.pk,
            "symptoms": ["fever"],
            "temperature": "38.5",
            "onset_date": today.isoformat(),
        },
        ("POST", "/api/v1/health/cases/{case_id}/steps"): {
            "step": "parents_notified",
            "note": "已通知",
        },
        ("POST", "/api/v1/health/cases/{case_id}/close"): {"note": "结案"},
        ("POST", "/api/v1/health/disinfections"): {
            "school_id": w.school.pk,
            "case_id": p.case.pk,
            "area": "isolation",
            "method": "喷洒",
            "done_by_name": "郭秀兰",
            "done_at": moment,
        },
        ("POST", "/api/v1/health/suspensions"): {
            "school_id": w.school.pk,
            "scope": "school",
            "starts_on": (today + dt.timedelta(days=20)).isoformat(),
            "ends_on": (today + dt.timedelta(days=22)).isoformat(),
            "reason": "疑似流感",
            "health_centre_opinion": "建议停课",
            "education_office_opinion": "同意",
        },
        ("POST", "/api/v1/health/suspensions/{suspension_id}/resume"): {
            "resumed_on": today.isoformat()
        },
        ("POST", "/api/v1/health/cases/{case_id}/no-suspension"): {"note": "无需停课"},
        ("POST", "/api/v1/health/statements"): {
            "school_id": w.school.pk,
            "case_id": p.case.pk,
            "text": "官方声明",
            "published_at": moment,
            "approved_by": "校长",
        },
        ("POST", "/api/v1/health/aftercare"): {
            "case_id": p.case.pk,
            "kind": AftercareKind.SUPPLIES,
            "description": "补充隔离用品",
        },
        ("POST", "/api/v1/health/aftercare/{task_id}/done"): {"note": "已完成"},
        ("POST", "/api/v1/health/monitoring-plans"): {
            "school_id": w.school.pk,
            "school_class_id": w.school_class.pk,
            "starts_on": today.isoformat(),
            "ends_on": (today + dt.timedelta(days=20)).isoformat(),
            "checks_per_day": 3,
        },
        ("POST", "/api/v1/health/monitoring-plans/{plan_id}/end"): {"ends_on": today.isoformat()},
        ("POST", "/api/v1/health/directory"): {
            "party": "school",
            "name": "王老师",
            "phone": "13900001111",
        },
        ("POST", "/api/v1/health/directory/fill"): None,
        ("PATCH", "/api/v1/health/directory/{contact_id}"): {"name": "改名"},
        ("DELETE", "/api/v1/health/directory/{contact_id}"): None,
    }


def _operations(api) -> list[tuple[str, str, dict]]:
    schema = api("GET", "/api/v1/openapi.json").json()
    ops = []
    for path, methods in schema["paths"].items():
        if not path.startswith(PREFIX):
            continue
        for method, op in methods.items():
            ops.append((method.upper(), path, op))
    return ops


def _request(p: Planted, method: str, path: str, op: dict, *, filters: bool = True):
    """The URL (path ids and query filters of `world.school`) and the body."""
    ids = _path_ids(p)
    url = path
    query = {}
    for param in op.get("parameters", []):
        name = param["name"]
        if param["in"] == "path":
            assert name in ids, f"{method} {path}: add the path id {name!r} to the audit"
            url = url.replace("{" + name + "}", str(ids[name]))
        elif param["in"] == "query" and (filters or param.get("required")):
            if name in _query(p):
                query[name] = _query(p)[name]
            else:
                assert not param.get("required"), f"{method} {path}: add {name!r} to the audit"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    body = None
    if "requestBody" in op:
        bodies = _bodies(p)
        assert (method, path) in bodies, f"{method} {path}: add its body to the audit"
        body = bodies[(method, path)]
    return url, body


def _call(api, user, method, url, body):
    if body is None:
        return api(method, url, user=user)
    return api(method, url, user=user, json=body)


# ------------------------------------------------------------------ what leaks


def _school_ids_in(data) -> set:
    found = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "school_id" and isinstance(value, int):
                found.add(value)
            else:
                found |= _school_ids_in(value)
    elif isinstance(data, list):
        for item in data:
            found |= _school_ids_in(item)
    return found


def _leaks(p: Planted, response, *, markers, school_ids: bool = True) -> list[str]:
    """What of `world.school`'s health data the answer carries (its markers and, with
    `school_ids`, any row of it)."""
    text = response.content.decode("utf-8", "replace")
    data = None
    if response.get("Content-Type", "").startswith("application/json") and text:
        data = json.loads(text)
        text = json.dumps(data, ensure_ascii=False)  # "\u5ba1…" would hide a marker
    found = [m for m in markers if m in text]
    if school_ids and response.status_code < 300 and p.w.school.pk in _school_ids_in(data):
        found.append(f"school_id={p.w.school.pk}")
    return found


def _counts() -> dict:
    rows = {m.__name__: m.objects.count() for m in apps.get_app_config("health").get_models()}
    rows["AuditEvent"] = AuditEvent.objects.count()
    rows["Notification"] = Notification.objects.count()
    return rows


def _everyone_markers(p: Planted) -> list[str]:
    return [MARK, p.w.child.name]


# ------------------------------------------------------------------ the audit


def test_every_operation_is_audited(api, planted):
    """Every health operation of the OpenAPI document has its ids and body here."""
    ops = _operations(api)
    assert len(ops) >= 37
    for method, path, op in ops:
        _request(planted, method, path, op)


@pytest.mark.parametrize("who", [None, *POLICE])
def test_anonymous_and_police_get_nothing_anywhere(api, planted, who):
    p = planted
    user = p.w.users[who] if who else None
    expected = {401} if who is None else {403, 404}
    if user is not None:
        api.token_for(user)  # issuing the token is audited
    before = _counts()
    problems = []
    for method, path, op in _operations(api):
        for filters in (True, False):
            url, body = _request(p, method, path, op, filters=filters)
            response = _call(api, user, method, url, body)
            if response.status_code not in expected:
                problems.append(f"{method} {url}: {response.status_code}")
            leaks = _leaks(p, response, markers=_everyone_markers(p))
            if leaks:
                problems.append(f"{method} {url}: leaks {leaks}")
    assert problems == []
    assert _counts() == before


def test_police_get_403_not_404(api, planted):
    """ADR 0032: no health action anywhere is a 403 (the record's existence is not the
    point: the police may not use the health API at all)."""
    p = planted
    problems = []
    for who in POLICE:
        for method, path, op in _operations(api):
            url, body = _request(p, method, path, op)
            status = _call(api, p.w.users[who], method, url, body).status_code
            if status != 403:
                problems.append(f"{who} {method} {url}: {status}")
    assert problems == []


def test_another_schools_principal_gets_nothing_of_this_school(api, planted):
    p = planted
    user = p.w.users["principal2"]
    api.token_for(user)  # issuing the token is audited
    before = _counts()
    problems = []
    for method, path, op in _operations(api):
        url, body = _request(p, method, path, op)
        response = _call(api, user, method, url, body)
        if (method, path) not in NOT_SCHOOL_DATA and response.status_code not in {403, 404}:
            problems.append(f"{method} {url}: {response.status_code}")
        if response.status_code >= 500:
            problems.append(f"{method} {url}: {response.status_code}")
        leaks = _leaks(p, response, markers=_everyone_markers(p))
        if leaks:
            problems.append(f"{method} {url}: leaks {leaks}")
        if method == "GET":
            # The same list without filters: their own school's records only.
            url, body = _request(p, method, path, op, filters=False)
            response = _call(api, user, method, url, body)
            leaks = _leaks(p, response, markers=_everyone_markers(p))
            if response.status_code >= 500 or leaks:
                problems.append(f"{method} {url} (no filter): {response.status_code} {leaks}")
    assert problems == []
    assert _counts() == before


def test_teacher_reads_no_health_record(api, planted):
    """The teacher's own school: data entry answers; the case, its contacts, the alerts and
    the aftercare never (ADR 0032: a confirmation page, not the case)."""
    p = planted
    user = p.w.users["teacher"]
    problems = []
    for method, path, op in _operations(api):
        for filters in (True, False):
            url, body = _request(p, method, path, op, filters=filters)
            response = _call(api, user, method, url, body)
            status = response.status_code
            if status >= 500:
                problems.append(f"{method} {url}: {status}")
            elif (method, path) in TEACHER_MAY or (method, path) in NOT_SCHOOL_DATA:
                leaks = _leaks(p, response, markers=[CASE_MARK], school_ids=False)
                if leaks:
                    problems.append(f"{method} {url}: leaks {leaks}")
            elif status not in {403, 404}:
                problems.append(f"{method} {url}: {status}")
    assert problems == []


def test_control_the_principal_reads_what_was_planted(api, planted):
    """The audit's detector sees the planted records where they may be read: the school's
    principal gets the case's records, the teacher the check sheet."""
    p = planted
    principal, teacher = p.w.users["principal"], p.w.users["teacher"]
    for url in (
        f"/api/v1/health/cases/{p.case.pk}",
        f"/api/v1/health/alerts/{p.alert.pk}",
        f"/api/v1/health/aftercare?case_id={p.case.pk}",
        f"/api/v1/health/cases/{p.case.pk}/response",
    ):
        response = api("GET", url, user=principal)
        assert response.status_code == 200, url
        assert _leaks(p, response, markers=[CASE_MARK]), url
    response = api("GET", f"/api/v1/health/checks?class_id={p.w.school_class.pk}", user=teacher)
    assert response.status_code == 200
    assert _leaks(p, response, markers=[MARK], school_ids=False)
