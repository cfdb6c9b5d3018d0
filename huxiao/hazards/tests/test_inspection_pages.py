"""Inspection pages: role × scope, the phone fill flow with a photo, refusals shown in
place (400, nothing written), read-only after sign-off, and the printable report."""

from __future__ import annotations

import pytest
from django.urls import reverse

from huxiao.hazards import inspection_services as services
from huxiao.hazards.choices import InspectionKind, InspectionStatus
from huxiao.hazards.models import HazardPhoto, Inspection, InspectionAnswer
from huxiao.hazards.tests import inspection_fixtures
from huxiao.hazards.tests.inspection_fixtures import NOW, TODAY, fill, plan, png

insp = inspection_fixtures.insp


def _login(client, world, who):
    client.force_login(world.users[who])
    return client


def test_anonymous_is_sent_to_login(client, insp):
    r = client.get(reverse("hazards:inspection_list"))
    assert r.status_code == 302


@pytest.mark.parametrize(
    ("who", "status"),
    [("edu", 200), ("police", 200), ("principal", 200), ("teacher", 200), ("nobody", 403)],
)
def test_list_access(client, insp, who, status):
    r = _login(client, insp, who).get(reverse("hazards:inspection_list"))
    assert r.status_code == status


def test_list_filters_and_unannounced_hidden(client, insp):
    open_one = plan(insp, "gov", kind=InspectionKind.GOVERNANCE)
    secret = plan(insp, "edu", unannounced=True)
    other = plan(insp, "edu", school=insp.other_school)
    r = _login(client, insp, "edu").get(
        reverse("hazards:inspection_list"), {"school": insp.school.pk, "kind": "central_school"}
    )
    assert list(r.context["inspections"]) == [secret]
    r = _login(client, insp, "principal").get(reverse("hazards:inspection_list"))
    assert list(r.context["inspections"]) == [open_one]
    assert other not in r.context["inspections"]
    # Filters out of range are ignored rather than failing.
    r = client.get(reverse("hazards:inspection_list"), {"school": "x", "status": "??"})
    assert r.status_code == 200


@pytest.mark.parametrize(("who", "status"), [("principal", 404), ("farpolice", 404)])
def test_detail_hidden(client, insp, who, status):
    secret = plan(insp, "edu", unannounced=True)
    r = _login(client, insp, who).get(reverse("hazards:inspection_detail", args=[secret.pk]))
    assert r.status_code == status


def test_huge_id_is_404(client, insp):
    r = _login(client, insp, "edu").get(f"/hazards/inspections/{2**64}/")
    assert r.status_code == 404


def test_plan_page(client, insp):
    c = _login(client, insp, "edu")
    assert c.get(reverse("hazards:inspection_plan")).status_code == 200
    r = c.post(
        reverse("hazards:inspection_plan"),
        {
            "school": insp.school.pk,
            "kind": "central_school",
            "template": insp.template.pk,
            "planned_on": TODAY.isoformat(),
            "unannounced": "on",
        },
    )
    inspection = Inspection.objects.get()
    assert r.status_code == 302 and inspection.unannounced
    assert r["Location"] == reverse("hazards:inspection_detail", args=[inspection.pk])


def test_plan_page_refusals_in_place(client, insp):
    c = _login(client, insp, "principal")
    r = c.post(
        reverse("hazards:inspection_plan"),
        {
            "school": insp.school.pk,
            "kind": "central_school",
            "template": insp.template.pk,
            "planned_on": "2099-01-01",
        },
    )
    assert r.status_code == 400 and not Inspection.objects.exists()
    assert r.context["form"].errors
    assert (
        _login(client, insp, "teacher").get(reverse("hazards:inspection_plan")).status_code == 403
    )


def test_fill_item_by_item_with_photo_and_sign_off(client, insp):
    inspection = plan(insp, "edu", unannounced=True)
    c = _login(client, insp, "edu")
    r = c.post(reverse("hazards:inspection_start", args=[inspection.pk]))
    t = insp.template
    assert r["Location"] == reverse("hazards:inspection_item", args=[inspection.pk, t.gate.pk])
    page = c.get(r["Location"])
    html = page.content.decode()
    assert 'accept="image/*"' in html and 'capture="environment"' in html
    r = c.post(
        reverse("hazards:inspection_item", args=[inspection.pk, t.gate.pk]),
        {"result": "fail", "note": "无人值守", "photo": png()},
    )
    assert r["Location"] == reverse("hazards:inspection_item", args=[inspection.pk, t.register.pk])
    assert HazardPhoto.objects.filter(answer__item=t.gate).count() == 1
    for item, result in ((t.register, "pass"), (t.dorm, "na"), (t.fire, "pass")):
        r = c.post(
            reverse("hazards:inspection_item", args=[inspection.pk, item.pk]), {"result": result}
        )
    assert r["Location"] == reverse("hazards:inspection_detail", args=[inspection.pk])
    photo = HazardPhoto.objects.get()
    assert c.get(reverse("hazards:inspection_photo", args=[photo.pk])).status_code == 200
    r = c.post(reverse("hazards:inspection_sign_off", args=[inspection.pk]), {"summary": "好"})
    assert r.status_code == 302
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.SIGNED_OFF
    assert (str(inspection.score), str(inspection.max_score)) == ("7.5", "17.5")


def test_bad_answer_shows_errors(client, insp):
    inspection = plan(insp)
    c = _login(client, insp, "edu")
    url = reverse("hazards:inspection_item", args=[inspection.pk, insp.template.register.pk])
    r = c.post(url, {"result": "pass", "score": "99"})
    assert r.status_code == 400 and r.context["form"].errors["score"]
    r = c.post(url, {"result": ""})
    assert r.status_code == 400
    assert not InspectionAnswer.objects.exists()


def test_item_of_another_template_is_404(client, insp):
    from huxiao.hazards.tests.inspection_fixtures import make_template

    inspection = plan(insp)
    other = make_template("other")
    r = _login(client, insp, "edu").get(
        reverse("hazards:inspection_item", args=[inspection.pk, other.gate.pk])
    )
    assert r.status_code == 404


def test_sign_off_refusal_lists_missing(client, insp):
    inspection = plan(insp)
    fill(insp, inspection, photo=False)
    r = _login(client, insp, "edu").post(
        reverse("hazards:inspection_sign_off", args=[inspection.pk])
    )
    assert r.status_code == 400
    assert "门卫室24小时有人值守" in r.context["error"]
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.IN_PROGRESS


def test_not_an_inspector_may_not_sign_off(client, insp):
    inspection = plan(insp)
    fill(insp, inspection)
    r = _login(client, insp, "police").post(
        reverse("hazards:inspection_sign_off", args=[inspection.pk])
    )
    assert r.status_code == 403
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.IN_PROGRESS


def test_signed_off_answer_refused_on_page(client, insp):
    inspection = plan(insp)
    fill(insp, inspection)
    services.inspection_sign_off(actor=insp.users["edu"], inspection=inspection, now=NOW)
    r = _login(client, insp, "edu").post(
        reverse("hazards:inspection_item", args=[inspection.pk, insp.template.fire.pk]),
        {"result": "pass"},
    )
    assert r.status_code == 400
    assert InspectionAnswer.objects.get(item=insp.template.fire).result == "fail"


def test_report_page(client, insp):
    inspection = plan(insp)
    fill(insp, inspection)
    services.inspection_sign_off(actor=insp.users["edu"], inspection=inspection, now=NOW)
    for who in ("edu", "principal"):
        r = _login(client, insp, who).get(
            reverse("hazards:inspection_report", args=[inspection.pk])
        )
        assert r.status_code == 200
        html = r.content.decode()
        assert "huxiao/print.css" in html
        assert "本园" in html and "中心学校" in html and "13.5 / 17.5" in html
        assert "消防通道畅通" in html and "堆放杂物" in html
    r = _login(client, insp, "farpolice").get(
        reverse("hazards:inspection_report", args=[inspection.pk])
    )
    assert r.status_code == 404


def test_school_member_sees_announced_inspection_but_cannot_answer(client, insp):
    inspection = plan(insp)
    c = _login(client, insp, "teacher")
    assert c.get(reverse("hazards:inspection_detail", args=[inspection.pk])).status_code == 200
    url = reverse("hazards:inspection_item", args=[inspection.pk, insp.template.gate.pk])
    assert 'data-testid="answer-form"' not in c.get(url).content.decode()
    assert c.post(url, {"result": "pass"}).status_code == 403
    assert c.post(reverse("hazards:inspection_start", args=[inspection.pk])).status_code == 403
    assert not InspectionAnswer.objects.exists()
    inspection.refresh_from_db()
    assert inspection.status == InspectionStatus.PLANNED
