"""The inspections API: role × scope, plan/answer/sign-off, photos, bad input → 400."""

from __future__ import annotations

import pytest

from huxiao.hazards.choices import InspectionKind
from huxiao.hazards.models import ChecklistTemplate, Inspection, InspectionAnswer
from huxiao.hazards.tests import inspection_fixtures
from huxiao.hazards.tests.inspection_fixtures import TODAY, fill, make_template, plan, png
from huxiao.orgs.models import Membership

insp = inspection_fixtures.insp
BASE = "/api/v1/inspections"


def _plan_body(world, **extra):
    return {
        "school_id": world.school.pk,
        "template_id": world.template.pk,
        "kind": "central_school",
        "planned_on": TODAY.isoformat(),
        **extra,
    }


def test_anonymous_401(api, insp):
    assert api("get", BASE).status_code == 401


@pytest.mark.parametrize(
    ("who", "kind", "status"),
    [
        ("edu", "central_school", 201),
        ("police", "police", 201),
        ("principal", "self_check", 201),
        ("principal", "central_school", 403),
        ("edu", "self_check", 403),
        ("teacher", "self_check", 403),
        ("farpolice", "police", 400),
    ],
)
def test_plan_matrix(api, insp, who, kind, status):
    r = api("post", BASE, insp.users[who], json=_plan_body(insp, kind=kind))
    assert r.status_code == status, r.content
    assert Inspection.objects.count() == (1 if status == 201 else 0)


def test_plan_bad_input(api, insp):
    edu = insp.users["edu"]
    r = api("post", BASE, edu, json=_plan_body(insp, planned_on="2999-01-01"))
    assert r.status_code == 400 and "planned_on" in r.json()["errors"]
    own = make_template("own", published=False, current=False)
    ChecklistTemplate.objects.filter(pk=own.pk).update(
        owner=Membership.objects.filter(user=edu).first().organization
    )
    r = api("post", BASE, edu, json=_plan_body(insp, template_id=own.pk))
    assert r.status_code == 400 and "template" in r.json()["errors"]
    # Another office's draft answers exactly like an unknown id (review fix 8).
    other = make_template("draft", published=False, current=False)
    r_other = api("post", BASE, edu, json=_plan_body(insp, template_id=other.pk))
    r_unknown = api("post", BASE, edu, json=_plan_body(insp, template_id=2**40))
    assert r_other.status_code == r_unknown.status_code == 400
    assert r_other.json() == r_unknown.json()
    r = api("post", BASE, edu, json=_plan_body(insp, extra_field=1))
    assert r.status_code == 400
    assert not Inspection.objects.exists()


def test_list_detail_and_unannounced(api, insp):
    secret = plan(insp, "edu", unannounced=True)
    r = api("get", BASE, insp.users["edu"])
    assert r.status_code == 200 and r.json()["count"] == 1
    assert api("get", BASE, insp.users["principal"]).json()["count"] == 0
    assert api("get", f"{BASE}/{secret.pk}", insp.users["principal"]).status_code == 404
    assert api("get", f"{BASE}/{secret.pk}", insp.users["farpolice"]).status_code == 404
    body = api("get", f"{BASE}/{secret.pk}", insp.users["edu"]).json()
    assert len(body["unanswered_item_ids"]) == 4 and body["answers"] == []
    r = api("get", f"{BASE}?kind={InspectionKind.POLICE}&status=planned", insp.users["edu"])
    assert r.status_code == 200


def test_answer_photo_sign_off(api, client, insp):
    inspection = plan(insp)
    edu = insp.users["edu"]
    t = insp.template
    url = f"{BASE}/{inspection.pk}"
    r = api("post", f"{url}/answers", edu, json={"item_id": t.gate.pk, "result": "pass"})
    assert r.status_code == 200 and r.json()["score"] == "10.0"
    token = api.token_for(edu)
    r = client.post(
        f"{url}/answers/{t.gate.pk}/photo",
        {"photo": png()},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 200 and len(r.json()["photo_ids"]) == 1
    for item, result in ((t.register, "pass"), (t.dorm, "na")):
        api("post", f"{url}/answers", edu, json={"item_id": item.pk, "result": result})
    r = api("post", f"{url}/sign-off", edu, json={})
    assert r.status_code == 400 and "消防通道畅通" in str(r.json()["errors"])
    api("post", f"{url}/answers", edu, json={"item_id": t.fire.pk, "result": "fail"})
    r = api("post", f"{url}/sign-off", insp.users["police"], json={})
    assert r.status_code == 403
    r = api("post", f"{url}/sign-off", edu, json={"summary": "ok"})
    assert r.status_code == 200
    assert (r.json()["score"], r.json()["max_score"]) == ("15.0", "17.5")
    r = api("post", f"{url}/answers", edu, json={"item_id": t.fire.pk, "result": "pass"})
    assert r.status_code == 400
    assert InspectionAnswer.objects.get(item=t.fire).result == "fail"


def test_answer_bad_input(api, insp):
    inspection = plan(insp)
    edu = insp.users["edu"]
    other = make_template("other")
    url = f"{BASE}/{inspection.pk}/answers"
    r = api("post", url, edu, json={"item_id": other.gate.pk, "result": "pass"})
    assert r.status_code == 400 and "item_id" in r.json()["errors"]
    r = api(
        "post", url, edu, json={"item_id": insp.template.gate.pk, "result": "pass", "score": "11"}
    )
    assert r.status_code == 400 and "score" in r.json()["errors"]
    r = api(
        "post",
        url,
        insp.users["teacher"],
        json={"item_id": insp.template.gate.pk, "result": "pass"},
    )
    assert r.status_code == 403
    assert not InspectionAnswer.objects.exists()


def test_finding_hazard_refused_for_a_pass(api, insp):
    inspection = plan(insp)
    fill(insp, inspection)
    r = api(
        "post",
        f"{BASE}/{inspection.pk}/answers/{insp.template.register.pk}/hazard",
        insp.users["edu"],
        json={},
    )
    assert r.status_code == 400
