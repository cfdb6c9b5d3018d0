"""The shipped checklists: present after the migration, complete, 100 points each, loaded
once however often the loader runs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from huxiao.hazards.choices import HazardCategory, TemplateKind
from huxiao.hazards.models import ChecklistTemplate, TemplateItem
from huxiao.hazards.shipped_templates import SHIPPED_TEMPLATES, load_shipped_templates

pytestmark = pytest.mark.django_db
CODES = {spec["code"] for spec in SHIPPED_TEMPLATES}


def test_the_loader_creates_every_shipped_template_once():
    load_shipped_templates()
    assert load_shipped_templates() == []
    shipped = ChecklistTemplate.objects.filter(owner=None)
    assert set(shipped.values_list("code", flat=True)) == CODES
    assert shipped.count() == len(CODES)
    for template in shipped:
        assert (template.version, template.is_published, template.is_current) == (1, True, True)
        assert template.published_at is not None


def test_a_missing_template_is_loaded_again_and_the_others_left_alone():
    load_shipped_templates()
    ChecklistTemplate.objects.filter(code="surroundings").delete()
    items_before = TemplateItem.objects.count()
    assert load_shipped_templates() == ["surroundings"]
    assert TemplateItem.objects.count() > items_before
    assert ChecklistTemplate.objects.filter(code="six-measures").count() == 1


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_shipped_template_scores_100(code):
    load_shipped_templates()
    template = ChecklistTemplate.objects.get(code=code, version=1)
    assert template.max_score == Decimal(100)
    items = TemplateItem.objects.filter(section__template=template)
    assert items.exists()
    for item in items:
        assert item.text and item.category in HazardCategory.values
        assert item.max_score > 0


def test_the_policy_shapes_are_there():
    load_shipped_templates()
    kinds = set(ChecklistTemplate.objects.filter(owner=None).values_list("kind", flat=True))
    assert kinds == set(TemplateKind.values) - {TemplateKind.CUSTOM}
    six = ChecklistTemplate.objects.get(code="six-measures")
    assert six.sections.count() == 6
    items_3_18 = ChecklistTemplate.objects.get(code="long-term-3-18")
    titles = list(items_3_18.sections.order_by("order").values_list("title", flat=True))
    assert len(titles) == 16 and titles[0].startswith("第3条") and titles[-1].startswith("第18条")
    refs = set(
        TemplateItem.objects.filter(section__template=items_3_18).values_list(
            "reference", flat=True
        )
    )
    assert refs == {f"§2 {n}" for n in range(3, 19)}
    key_areas = ChecklistTemplate.objects.get(code="key-areas-gbt29315")
    area_titles = "".join(key_areas.sections.values_list("title", flat=True))
    for area in ("门卫", "周界", "监控室", "宿舍", "食堂", "教学楼", "危化品", "车辆", "配电"):
        assert area in area_titles
    # Physical things are photographed.
    assert (
        TemplateItem.objects.filter(
            section__template=key_areas, category=HazardCategory.PHYSICAL, photo_required=False
        ).count()
        == 0
    )
    surroundings = "".join(
        TemplateItem.objects.filter(section__template__code="surroundings").values_list(
            "text", flat=True
        )
    )
    for topic in ("摊", "网吧", "交通", "施工"):
        assert topic in surroundings
