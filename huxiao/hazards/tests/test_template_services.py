"""Copy, edit, version and publish checklists: who may, what is refused and why, and that
inspections keep the version they were filled against."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from huxiao.audit.models import AuditEvent
from huxiao.hazards import template_services as services
from huxiao.hazards.choices import HazardCategory, InspectionKind
from huxiao.hazards.models import ChecklistTemplate, Inspection, TemplateItem, TemplateSection
from huxiao.hazards.tests.template_fixtures import first_item, publish, shipped, tpl_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

SHIPPED_REFUSED = "平台内置的检查表不能修改，请复制一份后再编辑。"
PUBLISHED_REFUSED = "已发布的版本不能修改，请新建版本后再编辑。"
NOT_OWNER = "只有该检查表所属单位可以修改。"
ROLE_REFUSED = "您的角色无权进行此操作。"


def messages_of(exc) -> list[str]:
    return [str(m) for m in exc.value.messages]


def item_fields(**overrides):
    fields = {
        "text": "消防通道畅通",
        "guidance": "",
        "reference": "§2 5",
        "max_score": "2.5",
        "photo_required": True,
        "category": HazardCategory.PHYSICAL,
    }
    fields.update(overrides)
    return fields


# ------------------------------------------------------------------ copy


def test_copy_is_a_draft_of_the_copiers_office_with_the_same_content(tpl):
    w = tpl
    draft = w.draft
    assert draft.owner == w.edu_office and draft.code != w.monthly.code
    assert (draft.version, draft.is_published, draft.is_current) == (1, False, False)
    assert draft.based_on == w.monthly and draft.name == "本镇月查"
    assert draft.max_score == w.monthly.max_score == Decimal(100)
    source = list(
        TemplateItem.objects.filter(section__template=w.monthly)
        .order_by("section__order", "order")
        .values_list("text", "max_score", "photo_required", "category", "reference")
    )
    copied = list(
        TemplateItem.objects.filter(section__template=draft)
        .order_by("section__order", "order")
        .values_list("text", "max_score", "photo_required", "category", "reference")
    )
    assert copied == source
    assert AuditEvent.objects.filter(
        object_type="hazards.checklisttemplate", object_id=str(draft.pk), action="create"
    ).exists()


@pytest.mark.parametrize("who", ["principal", "guard", "police", "officer", "nobody"])
def test_roles_without_manage_templates_cannot_copy(tpl, who):
    before = ChecklistTemplate.objects.count()
    with pytest.raises(PermissionDenied) as refused:
        services.template_copy(actor=tpl.users[who], template=tpl.monthly, name="我的")
    assert str(refused.value) == ROLE_REFUSED
    assert ChecklistTemplate.objects.count() == before


def test_governance_office_may_copy_too(tpl):
    copy = services.template_copy(actor=tpl.users["gov"], template=tpl.monthly, name="综治月查")
    assert copy.owner.name == "综治办"


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "此项为必填项。"), ("   ", "此项为必填项。"), ("长" * 101, "最多 100 个字。")],
)
def test_copy_needs_a_name(tpl, name, message):
    before = ChecklistTemplate.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.template_copy(actor=tpl.users["edu"], template=tpl.monthly, name=name)
    assert refused.value.message_dict == {"name": [message]}
    assert ChecklistTemplate.objects.count() == before


def test_another_offices_draft_cannot_be_copied(tpl):
    with pytest.raises(PermissionDenied):
        services.template_copy(actor=tpl.users["edu2"], template=tpl.draft, name="偷看")


# ------------------------------------------------------------------ editing drafts


def test_the_owner_edits_a_draft_add_change_reorder_remove(tpl):
    w = tpl
    edu = w.users["edu"]
    section = services.section_add(actor=edu, template=w.draft, title="消防")
    item = services.item_add(actor=edu, section=section, **item_fields())
    assert (item.order, item.max_score, item.photo_required) == (1, Decimal("2.5"), True)
    second = services.item_add(actor=edu, section=section, **item_fields(text="灭火器有效"))
    services.item_move(actor=edu, item=second, direction="up")
    assert list(section.items.order_by("order").values_list("pk", flat=True)) == [
        second.pk,
        item.pk,
    ]
    services.item_update(
        actor=edu, item=item, **item_fields(text="疏散通道畅通", max_score="3", photo_required="")
    )
    item.refresh_from_db()
    assert (item.text, item.max_score, item.photo_required) == ("疏散通道畅通", Decimal(3), False)
    services.section_update(actor=edu, section=section, title="消防安全")
    services.section_move(actor=edu, section=section, direction="up")
    section.refresh_from_db()
    assert section.order == w.draft.sections.count() - 1
    services.item_remove(actor=edu, item=second)
    assert not TemplateItem.objects.filter(pk=second.pk).exists()
    services.section_remove(actor=edu, section=section)
    assert not TemplateSection.objects.filter(pk=section.pk).exists()
    services.template_update(actor=edu, template=w.draft, name="新名称", description="说明")
    assert ChecklistTemplate.objects.get(pk=w.draft.pk).name == "新名称"
    audited = AuditEvent.objects.filter(actor=edu).values_list("object_type", "action")
    assert ("hazards.templateitem", "create") in audited
    assert ("hazards.templateitem", "update") in audited
    assert ("hazards.templateitem", "delete") in audited
    assert ("hazards.templatesection", "delete") in audited


def test_the_published_version_is_immutable(tpl):
    w = tpl
    publish(w)
    edu = w.users["edu"]
    item = first_item(w.draft)
    section = item.section
    for call in (
        lambda: services.item_update(actor=edu, item=item, **item_fields()),
        lambda: services.item_add(actor=edu, section=section, **item_fields()),
        lambda: services.item_remove(actor=edu, item=item),
        lambda: services.item_move(actor=edu, item=item, direction="down"),
        lambda: services.section_add(actor=edu, template=w.draft, title="新"),
        lambda: services.section_remove(actor=edu, section=section),
        lambda: services.template_update(actor=edu, template=w.draft, name="改名"),
        lambda: services.template_publish(actor=edu, template=w.draft),
        lambda: services.template_discard(actor=edu, template=w.draft),
    ):
        with pytest.raises(ValidationError) as refused:
            call()
        assert messages_of(refused) == [PUBLISHED_REFUSED]
    item.refresh_from_db()
    assert item.text == first_item(w.monthly).text
    assert TemplateSection.objects.filter(pk=section.pk).exists()


def test_shipped_templates_are_only_copied(tpl):
    w = tpl
    edu = w.users["edu"]
    for call in (
        lambda: services.item_update(actor=edu, item=first_item(w.monthly), **item_fields()),
        lambda: services.section_add(actor=edu, template=w.monthly, title="新"),
        lambda: services.template_new_version(actor=edu, template=w.monthly),
    ):
        with pytest.raises(ValidationError) as refused:
            call()
        assert messages_of(refused) == [SHIPPED_REFUSED]
    assert ChecklistTemplate.objects.filter(code=w.monthly.code).count() == 1


@pytest.mark.parametrize("who", ["principal", "police", "edu2", "county"])
def test_no_one_but_the_owning_office_edits_its_draft(tpl, who):
    w = tpl
    item = first_item(w.draft)
    with pytest.raises(PermissionDenied):
        services.item_update(actor=w.users[who], item=item, **item_fields(text="别人改的"))
    with pytest.raises(PermissionDenied):
        services.template_publish(actor=w.users[who], template=w.draft)
    with pytest.raises(PermissionDenied):
        services.template_new_version(actor=w.users[who], template=w.draft)
    item.refresh_from_db()
    assert item.text != "别人改的"
    assert not ChecklistTemplate.objects.get(pk=w.draft.pk).is_published


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"text": ""}, {"text": ["此项为必填项。"]}),
        ({"text": "x" * 501}, {"text": ["最多 500 个字。"]}),
        ({"guidance": "x" * 2001}, {"guidance": ["最多 2000 个字。"]}),
        ({"reference": "x" * 101}, {"reference": ["最多 100 个字。"]}),
        ({"max_score": "-1"}, {"max_score": ["分值须在 0 到 100 之间。"]}),
        ({"max_score": "101"}, {"max_score": ["分值须在 0 到 100 之间。"]}),
        ({"max_score": "abc"}, {"max_score": ["分值请填写数字，例如 2 或 2.5。"]}),
        ({"max_score": "NaN"}, {"max_score": ["分值请填写数字，例如 2 或 2.5。"]}),
        ({"max_score": "1.25"}, {"max_score": ["最多保留一位小数。"]}),
        ({"max_score": ""}, {"max_score": ["此项为必填项。"]}),
        ({"category": "weather"}, {"category": ["请从列出的类别中选择。"]}),
        ({"text": "a\x00b"}, {"text": ["请删除其中不可见的控制字符。"]}),
    ],
)
def test_bad_item_input_is_a_clear_message_and_writes_nothing(tpl, fields, errors):
    w = tpl
    section = w.draft.sections.first()
    count = TemplateItem.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.item_add(actor=w.users["edu"], section=section, **item_fields(**fields))
    assert refused.value.message_dict == errors
    assert TemplateItem.objects.count() == count


def test_zero_score_items_are_allowed(tpl):
    section = tpl.draft.sections.first()
    item = services.item_add(actor=tpl.users["edu"], section=section, **item_fields(max_score="0"))
    assert item.max_score == Decimal(0)


def test_bad_section_title_and_direction(tpl):
    w = tpl
    with pytest.raises(ValidationError) as refused:
        services.section_add(actor=w.users["edu"], template=w.draft, title=" ")
    assert refused.value.message_dict == {"title": ["此项为必填项。"]}
    with pytest.raises(ValidationError) as refused:
        services.item_move(actor=w.users["edu"], item=first_item(w.draft), direction="left")
    assert messages_of(refused) == ["请选择上移或下移。"]


# ------------------------------------------------------------------ versions and publishing


def test_publish_needs_at_least_one_item(tpl):
    w = tpl
    edu = w.users["edu"]
    for section in list(w.draft.sections.all()):
        services.section_remove(actor=edu, section=section)
    with pytest.raises(ValidationError) as refused:
        publish(w)
    assert messages_of(refused) == ["发布前请至少添加一个检查项。"]
    services.section_add(actor=edu, template=w.draft, title="空分项")
    with pytest.raises(ValidationError):
        publish(w)
    assert not ChecklistTemplate.objects.get(pk=w.draft.pk).is_published


def test_publish_refuses_empty_sections(tpl):
    w = tpl
    services.section_add(actor=w.users["edu"], template=w.draft, title="空分项")
    with pytest.raises(ValidationError) as refused:
        publish(w)
    assert messages_of(refused) == ["以下分项没有检查项，请添加或删除：空分项"]


def test_versions_publish_switches_current_and_inspections_keep_theirs(tpl):
    w = tpl
    edu = w.users["edu"]
    v1 = publish(w)
    assert (v1.is_published, v1.is_current) == (True, True)
    inspection = Inspection.objects.create(
        school=w.school,
        template=v1,
        kind=InspectionKind.GOVERNANCE,
        organization=w.edu_office,
        planned_on=dt.date(2025, 3, 3),
    )
    v2 = services.template_new_version(actor=edu, template=v1)
    assert (v2.code, v2.version, v2.is_published, v2.is_current) == (v1.code, 2, False, False)
    assert v2.owner == w.edu_office and v2.based_on == v1
    with pytest.raises(ValidationError) as refused:
        services.template_new_version(actor=edu, template=v1)
    assert messages_of(refused) == ["该检查表的第 2 版仍是草稿，请先编辑或发布它。"]
    services.item_update(
        actor=edu, item=first_item(v2), **item_fields(text="改过的第一项", max_score="9")
    )
    services.template_publish(actor=edu, template=v2)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.is_current, v2.is_current, v2.is_published) == (False, True, True)
    assert ChecklistTemplate.objects.filter(code=v1.code, is_current=True).get() == v2
    inspection.refresh_from_db()
    assert inspection.template == v1
    assert first_item(inspection.template).text == first_item(w.monthly).text
    assert v1.max_score == Decimal(100) and v2.max_score != v1.max_score
    v3 = services.template_new_version(actor=edu, template=v1)
    assert v3.version == 3 and first_item(v3).text == first_item(v1).text


def test_discard_a_draft(tpl):
    w = tpl
    pk = w.draft.pk
    services.template_discard(actor=w.users["edu"], template=w.draft)
    assert not ChecklistTemplate.objects.filter(pk=pk).exists()
    assert AuditEvent.objects.filter(object_id=str(pk), action="delete").exists()
