"""The shipped basic protective set (issue 7 item 2; §1 二(一), §2 4; ADR 0028 "Equipment").

Eight items, the list the campaign plan names for the gatehouse (头盔、盾牌、钢叉、防刺服、
防割手套、橡胶警棍、强光手电、防暴喷雾). Each county gets its own copy the first time it is
needed (`ensure_equipment_types`) and may then rename, reorder, add or drop items on the
county equipment page, because local lists differ.

- `min_quantity` is what one school keeps at least;
- `per_guard` items (helmet, stab-resistant vest, cut-resistant gloves) are issued to each
  guard (EquipmentIssue). When the county's "equipment_complete" rule counts per guard (its
  `per_guard` parameter), a school needs one per full-time guard, never fewer than the
  minimum (`required_quantity`); otherwise the minimum alone.

Names are stored as county data, in Chinese like the policy text; the English labels here
are for reading the code and the API documentation.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from huxiao.security.models import EquipmentType


@dataclass(frozen=True)
class DefaultItem:
    key: str
    name: str
    label: object
    min_quantity: int
    per_guard: bool = False


DEFAULT_EQUIPMENT: tuple[DefaultItem, ...] = (
    DefaultItem("helmet", "头盔", _("Helmet"), 1, per_guard=True),
    DefaultItem("shield", "盾牌", _("Shield"), 2),
    DefaultItem("steel_fork", "钢叉", _("Steel fork"), 2),
    DefaultItem("stab_vest", "防刺服", _("Stab-resistant vest"), 1, per_guard=True),
    DefaultItem("cut_gloves", "防割手套", _("Cut-resistant gloves"), 1, per_guard=True),
    DefaultItem("rubber_baton", "橡胶警棍", _("Rubber baton"), 2),
    DefaultItem("flashlight", "强光手电", _("Strong flashlight"), 2),
    DefaultItem("pepper_spray", "防暴喷雾", _("Pepper spray"), 2),
)


def required_quantity(equipment_type, guard_count: int) -> int:
    """How many of an item a school must hold: the county's minimum, and for an item issued
    to each guard at least one per active guard."""
    if equipment_type.per_guard:
        return max(equipment_type.min_quantity, guard_count)
    return equipment_type.min_quantity


def ensure_equipment_types(region) -> list[EquipmentType]:
    """The county's equipment list in its order, created from DEFAULT_EQUIPMENT the first
    time it is needed (a county with no item at all). `region` is a Region or its id.

    Safe to call concurrently: the unique (region, key) constraint keeps one copy."""
    region_id = region if isinstance(region, int) else region.pk
    items = list(EquipmentType.objects.filter(region_id=region_id).order_by("order", "id"))
    if items:
        return items
    with transaction.atomic():
        EquipmentType.objects.bulk_create(
            [
                EquipmentType(
                    region_id=region_id,
                    key=item.key,
                    name=item.name,
                    min_quantity=item.min_quantity,
                    per_guard=item.per_guard,
                    is_required=True,
                    order=index,
                )
                for index, item in enumerate(DEFAULT_EQUIPMENT)
            ],
            ignore_conflicts=True,
        )
    return list(EquipmentType.objects.filter(region_id=region_id).order_by("order", "id"))
