# ruff: noqa: F811 - pytest fixtures imported from personnel_fixtures are arguments here
"""Regression tests of the UX review of the security pages (issue 7, ADR 0028): one
section per finding.

1. the county equipment list is linked from the rules page and the county compliance page;
2. the equipment issue date, the item name and the system name have their own msgids;
3. a refused rule form has an error summary at the top and keeps the entered values;
4. retiring a system and marking a guard as left ask once more (no script needed);
5. the item page follows the county rule's per-guard setting; yes/no rule parameters are
   boxes to tick;
6. any training hours out of 0–99.9 get the range message (page and API).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import translation

from huxiao.people.tests.factories import StaffFactory
from huxiao.security import defence_services
from huxiao.security.choices import SystemKind
from huxiao.security.defaults import ensure_equipment_types
from huxiao.security.defence_forms import DefenceProfileForm, TechnicalSystemForm
from huxiao.security.equipment_forms import EquipmentTypeForm, IssueForm
from huxiao.security.models import ComplianceRule, TechnicalSystem, TrainingRecord
from huxiao.security.personnel_forms import TrainingForm
from huxiao.security.rules import ensure_rules
from huxiao.security.tests.personnel_fixtures import pworld  # noqa: F401

RANGE = "Enter between 0 and 99.9 hours."


def _rule_form(region, **overrides) -> dict:
    """The rules page's form as posted: every rule in force with its current values."""
    from huxiao.security import rules as R

    data = {}
    for rule in ensure_rules(region):
        if rule.enabled:
            data[f"{rule.key}__enabled"] = "on"
        for name, value in R.effective_params(rule.key, rule.params).items():
            spec = R.RULES[rule.key].params[name]
            if spec.integer and spec.minimum == 0 and spec.maximum == 1:
                if value:
                    data[f"{rule.key}__{name}"] = "on"
            else:
                data[f"{rule.key}__{name}"] = str(value)
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


# ------------------------------------------------------------------ 1. links to the list


def test_rules_page_links_the_equipment_list(pworld, client):
    client.force_login(pworld.users["county"])
    page = client.get(reverse("security:rules")).content.decode()
    link = re.search(r'href="([^"]+)"[^>]*data-testid="equipment-list-link"', page)
    assert link is not None
    assert link.group(1).replace("&amp;", "&").startswith(reverse("security:equipment_types"))
    assert client.get(link.group(1).replace("&amp;", "&")).status_code == 200


def test_county_compliance_page_links_the_list_for_keepers_only(pworld, client):
    client.force_login(pworld.users["county"])
    page = client.get(reverse("security:compliance_county")).content.decode()
    assert 'data-testid="equipment-list-link"' in page
    assert reverse("security:equipment_types") in page
    for who in ("edu", "gov"):
        client.force_login(pworld.users[who])
        response = client.get(reverse("security:compliance_county"))
        if response.status_code == 200:
            assert 'data-testid="equipment-list-link"' not in response.content.decode()


# ------------------------------------------------------------------ 2. own msgids


def test_labels_do_not_reuse_person_or_certificate_msgids():
    with translation.override("en"):
        assert str(IssueForm().fields["issued_on"].label) == "Date issued"
        assert str(EquipmentTypeForm().fields["name"].label) == "Item name"
        assert str(TechnicalSystemForm().fields["name"].label) == "System name"
        assert str(DefenceProfileForm().fields["perimeter"].label) == "Perimeter enclosure"


def test_pages_do_not_show_the_person_or_certificate_words(pworld, client):
    """In Chinese: no 姓名 on the system form, no 发证日期 on the equipment pages."""
    client.force_login(pworld.users["principal"])
    new = client.get(reverse("security:defence_system_new", args=[pworld.school.pk]))
    assert new.status_code == 200 and "姓名" not in new.content.decode()
    helmet = next(i for i in ensure_equipment_types(pworld.school.region_id) if i.per_guard)
    item = client.get(reverse("security:equipment_item", args=[pworld.school.pk, helmet.pk]))
    assert item.status_code == 200 and "发证日期" not in item.content.decode()
    client.force_login(pworld.users["county"])
    types = client.get(reverse("security:equipment_types")).content.decode()
    assert "姓名" not in types


# ------------------------------------------------------------------ 3. error summary


def test_refused_rule_form_has_a_summary_at_the_top(pworld, client):
    client.force_login(pworld.users["county"])
    region = pworld.school.region
    data = _rule_form(
        region,
        guards_staffing__small_threshold="999999",
        video_retention__min_days="0",
        security_body__min_officers="abc",
    )
    response = client.post(reverse("security:rules"), data)
    assert response.status_code == 400
    page = response.content.decode()
    summary = re.search(r'<div[^>]*data-testid="error-summary".*?</div>', page, re.S)
    assert summary is not None and 'role="alert"' in summary.group(0)
    # Above the form, and before the first rule.
    assert page.index('data-testid="error-summary"') < page.index('data-testid="rule-form"')
    anchors = re.findall(r'href="#([^"]+)" data-testid="error-summary-link"', summary.group(0))
    assert sorted(anchors) == sorted(
        [
            "id_guards_staffing__small_threshold",
            "id_video_retention__min_days",
            "id_security_body__min_officers",
        ]
    )
    for anchor in anchors:
        assert f'id="{anchor}"' in page
    assert "未保存：有 3 处需要修改" in page
    # The entered values are kept, the good ones and the bad ones.
    assert 'value="999999"' in page and 'value="abc"' in page
    assert not ComplianceRule.objects.exclude(params={}).exists()


def test_good_rule_form_has_no_summary(pworld, client):
    client.force_login(pworld.users["county"])
    page = client.get(reverse("security:rules")).content.decode()
    assert 'data-testid="error-summary"' not in page


# ------------------------------------------------------------------ 4. confirmations


@pytest.fixture
def system(pworld):
    return defence_services.technical_system_add(
        actor=pworld.users["principal"],
        school=pworld.school,
        kind=SystemKind.ONE_CLICK_ALARM,
        name="门卫室一键报警",
        networked_to_police=True,
    )


def test_retire_button_is_behind_a_confirmation(pworld, client, system):
    client.force_login(pworld.users["principal"])
    page = client.get(reverse("security:defence", args=[pworld.school.pk])).content.decode()
    confirm = re.search(
        rf'<details[^>]*data-testid="system-retire-confirm-{system.pk}".*?</details>', page, re.S
    )
    assert confirm is not None
    assert f'data-testid="system-retire-{system.pk}"' in confirm.group(0)
    assert "onclick" not in confirm.group(0) and "onsubmit" not in confirm.group(0)
    # The edit link and the retire step sit in one row of actions, not under a "·".
    actions = re.search(
        rf'data-testid="system-actions-{system.pk}".*?</details>\s*</div>', page, re.S
    )
    assert actions is not None and f'data-testid="system-edit-{system.pk}"' in actions.group(0)
    # The list's bullets are off in the page's stylesheet (static: the policy allows no
    # inline style).
    assert "/static/security/defence.css" in page
    stylesheet = Path(finders.find("security/defence.css")).read_text(encoding="utf-8")
    assert ".hx-df-list > li { list-style: none; }" in stylesheet
    response = client.post(reverse("security:defence_system_retire", args=[system.pk]))
    assert response.status_code == 302
    assert not TechnicalSystem.objects.get(pk=system.pk).is_active


def test_mark_as_left_is_behind_a_confirmation(pworld, client):
    client.force_login(pworld.users["principal"])
    url = reverse("security:personnel_detail", args=[pworld.guard_staff.pk])
    page = client.get(url).content.decode()
    confirm = re.search(r'<details[^>]*data-testid="person-left-confirm".*?</details>', page, re.S)
    assert confirm is not None and 'data-testid="person-left"' in confirm.group(0)
    client.post(reverse("security:personnel_left", args=[pworld.guard_staff.pk]))
    pworld.guard_staff.refresh_from_db()
    assert not pworld.guard_staff.is_active
    # Coming back needs no confirmation.
    page = client.get(url).content.decode()
    assert 'data-testid="person-left-confirm"' not in page
    assert 'data-testid="person-left"' in page


# ------------------------------------------------------------------ 5. per-guard need


def _set_per_guard(region, value: int) -> None:
    ensure_rules(region)
    ComplianceRule.objects.filter(region=region, key="equipment_complete").update(
        params={"per_guard": value}, enabled=True
    )


def _needed(client, school, item) -> str:
    page = client.get(reverse("security:equipment_item", args=[school.pk, item.pk]))
    assert page.status_code == 200
    return re.search(r'data-testid="item-needed">(.*?)</td>', page.content.decode(), re.S).group(1)


def test_item_page_follows_the_rule_per_guard_setting(pworld, client):
    school = pworld.school
    for n in range(2):
        StaffFactory(school=school, name=f"保安{n}", role="guard")  # 3 full-time guards now
    helmet = next(i for i in ensure_equipment_types(school.region_id) if i.per_guard)
    client.force_login(pworld.users["principal"])
    with translation.override("en"):
        _set_per_guard(school.region, 0)
        off = _needed(client, school, helmet)
        assert off.strip() == str(helmet.min_quantity)
        _set_per_guard(school.region, 1)
        on = _needed(client, school, helmet)
        assert on.startswith("3") and "现有专职保安员 3 名" in on


def test_rules_page_flags_are_checkboxes(pworld, client, django_capture_on_commit_callbacks):
    client.force_login(pworld.users["county"])
    url = reverse("security:rules")
    page = client.get(url).content.decode()
    for name in ("equipment_complete__per_guard", "monitoring_room__require_24h"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
        assert 'type="checkbox"' in tag
    assert re.search(r'<input[^>]*name="monitoring_room__require_24h"[^>]*checked', page)
    region = pworld.school.region
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(url, _rule_form(region, equipment_complete__per_guard="on"))
    assert saved.status_code == 302
    rule = ComplianceRule.objects.get(region=region, key="equipment_complete")
    assert rule.params == {"per_guard": 1}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, _rule_form(region, monitoring_room__require_24h=None))
    rule.refresh_from_db()
    assert rule.params == {"per_guard": 1}
    room = ComplianceRule.objects.get(region=region, key="monitoring_room")
    assert room.params == {"require_24h": 0}


# ------------------------------------------------------------------ 6. training hours


@pytest.mark.parametrize("hours", ["99999999999", "100", "-1", "1e10", "-99999999999.99"])
def test_training_form_range_message(hours):
    data = {"held_on": "2026-01-10", "topic": "复训", "hours": hours}
    with translation.override("en"):
        form = TrainingForm(data)
        assert not form.is_valid()
        assert [str(m) for m in form.errors["hours"]] == [RANGE]


def test_training_page_range_message(pworld, client):
    client.force_login(pworld.users["principal"])
    add = reverse("security:personnel_training_add", args=[pworld.guard_staff.pk])
    data = {"held_on": "2026-01-10", "topic": "复训", "hours": "99999999999"}
    response = client.post(add, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert list(response.context["training_form"].errors["hours"]) == [RANGE] or (
        list(response.context["training_form"].errors["hours"]) == ["学时应在 0 到 99.9 之间。"]
    )
    assert not TrainingRecord.objects.exists()


@pytest.mark.parametrize("hours", ["99999999999", 99999999999, "100", -1, "1e10", 1e300])
def test_training_api_range_message(pworld, api, hours):
    url = f"/api/v1/security/personnel/{pworld.guard_staff.pk}/trainings"
    body = {"held_on": "2026-01-10", "topic": "复训", "hours": hours}
    with translation.override("en"):
        response = api("post", url, pworld.users["principal"], body, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    errors = response.json()["errors"]["hours"]
    assert errors in ([RANGE], ["学时应在 0 到 99.9 之间。"])
    assert not TrainingRecord.objects.exists()


def test_rules_page_flags_still_read_numbers(pworld, client, django_capture_on_commit_callbacks):
    """A script posting the old numbers ("0"/"1") gets what it means."""
    client.force_login(pworld.users["county"])
    region = pworld.school.region
    data = _rule_form(region, equipment_complete__per_guard="1", monitoring_room__require_24h="0")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("security:rules"), data).status_code == 302
    assert ComplianceRule.objects.get(region=region, key="equipment_complete").params == {
        "per_guard": 1
    }
    assert ComplianceRule.objects.get(region=region, key="monitoring_room").params == {
        "require_24h": 0
    }
