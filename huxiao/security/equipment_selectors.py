"""Reads of protective equipment (issue 7 item 2; ADR 0028 "Equipment"): a school's stock
against its county's list, the items issued to guards, and the county list itself.

A school's page is read by everyone with VIEW on it and changed with MANAGE_SECURITY; out of
scope is "not found". The county list is kept by county-level offices whose role has
MANAGE_SECURITY_RULES (the education and governance offices of the county); a town-level
office, a school or the police get 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from huxiao.core.roles import Action, role_allows
from huxiao.core.scoping import memberships_of
from huxiao.orgs.models import Region
from huxiao.people.choices import StaffRole
from huxiao.people.models import Staff
from huxiao.security.choices import Condition, Employment
from huxiao.security.defaults import ensure_equipment_types, required_quantity
from huxiao.security.models import EquipmentIssue, EquipmentType, SchoolEquipment
from huxiao.security.personnel_selectors import SECURITY_POSTS, require_viewer, school_get
from huxiao.security.rules import rule_params

__all__ = ["school_get", "required_quantity"]


@dataclass
class StockRow:
    """One item of the county list with the school's stock of it."""

    item: EquipmentType
    stock: SchoolEquipment | None
    required: int
    issued: int  # items out with guards (not returned)

    @property
    def quantity(self) -> int:
        return self.stock.quantity if self.stock else 0

    @property
    def condition(self) -> str:
        return self.stock.condition if self.stock else ""

    @property
    def broken(self) -> bool:
        return self.stock is not None and self.stock.condition == Condition.BROKEN

    @property
    def short(self) -> int:
        return max(self.required - self.quantity, 0)

    @property
    def missing(self) -> bool:
        """Highlighted: a required item below what the school needs, or broken."""
        return self.item.is_required and (self.short > 0 or self.broken)

    @property
    def available(self) -> int:
        return max(self.quantity - self.issued, 0)


def guard_count(school_id: int) -> int:
    """Active full-time guards of the school (a guard without a record counts as full-time,
    the record's default), as the compliance rule counts them."""
    return (
        Staff.objects.filter(school_id=school_id, role=StaffRole.GUARD, is_active=True)
        .exclude(guard_profile__employment=Employment.PART_TIME)
        .count()
    )


def counts_per_guard(region_id: int) -> bool:
    """Whether the county's equipment rule asks per-guard items once per full-time guard
    (its `per_guard` parameter); otherwise each item's minimum is what a school needs."""
    params = rule_params(region_id, "equipment_complete")
    try:
        return bool(int(params.get("per_guard") or 0))
    except (TypeError, ValueError):
        return False


def equipment_types_for(school) -> list[EquipmentType]:
    return ensure_equipment_types(school.region_id)


def stock_rows(*, actor, school) -> list[StockRow]:
    """The county's list for the school (created from the defaults the first time) with the
    school's stock, what it needs and what is out with guards. An item the county no
    longer requires is listed, needing nothing."""
    items = equipment_types_for(school)
    stock = {
        s.equipment_type_id: s
        for s in SchoolEquipment.objects.visible_to(actor, Action.VIEW)
        .filter(school_id=school.pk)
        .select_related("equipment_type")
        .annotate(
            out=Sum("issues__quantity", filter=Q(issues__returned_on__isnull=True), default=0)
        )
    }
    guards = guard_count(school.pk) if counts_per_guard(school.region_id) else 0
    rows = [
        StockRow(
            item=item,
            stock=stock.get(item.pk),
            required=required_quantity(item, guards) if item.is_required else 0,
            issued=getattr(stock.get(item.pk), "out", 0) or 0,
        )
        for item in items
    ]
    return rows


def stock_row(*, actor, school, type_id: int) -> StockRow:
    """One item of the school's county list; an item of another county is 404."""
    for row in stock_rows(actor=actor, school=school):
        if row.item.pk == type_id:
            return row
    raise Http404


def issue_list(*, actor, school_id: int, type_id: int | None = None, open_only: bool = False):
    qs = (
        EquipmentIssue.objects.visible_to(actor, Action.VIEW)
        .filter(equipment__school_id=school_id)
        .select_related("equipment__equipment_type", "staff")
        .order_by("returned_on", "-issued_on", "-id")
    )
    if type_id is not None:
        qs = qs.filter(equipment__equipment_type_id=type_id)
    if open_only:
        qs = qs.filter(returned_on__isnull=True)
    return qs


def issue_get(*, actor, issue_id: int) -> EquipmentIssue:
    require_viewer(actor)
    issue = (
        EquipmentIssue.objects.visible_to(actor, Action.VIEW)
        .filter(pk=issue_id)
        .select_related("equipment__equipment_type", "equipment__school", "staff")
        .first()
    )
    if issue is None:
        raise Http404
    return issue


def issue_candidates(school_id: int):
    """Who may receive per-guard items: the school's active security staff."""
    return Staff.objects.filter(
        school_id=school_id, role__in=SECURITY_POSTS, is_active=True
    ).order_by("role", "name", "pk")


# ------------------------------------------------------------------ the county list


def keeper_regions(actor) -> list[Region]:
    """Counties whose list the actor keeps: those of their county-level offices where the
    role has MANAGE_SECURITY_RULES, each once."""
    seen: dict[int, Region] = {}
    for m in memberships_of(actor):
        org = m.organization
        if (
            org.is_active
            and org.is_county_level
            and role_allows(m.role, Action.MANAGE_SECURITY_RULES, county_level=True)
        ):
            seen.setdefault(org.region_id, None)
    if not seen:
        return []
    return list(Region.objects.filter(pk__in=seen).order_by("name", "pk"))


def require_keeper(actor, region_id: int | None = None) -> Region:
    """The county whose list the actor keeps (`region_id` among theirs, or the first); 403
    for anyone who keeps none; 404 for a county that is not theirs."""
    regions = keeper_regions(actor)
    if not regions:
        raise PermissionDenied(
            _("Only the county's education or governance office keeps the equipment list.")
        )
    if region_id is None:
        return regions[0]
    for region in regions:
        if region.pk == region_id:
            return region
    raise Http404


def county_list(region) -> list[EquipmentType]:
    """The county's items in order, each with how many schools hold it (`in_use`)."""
    ensure_equipment_types(region)
    return list(
        EquipmentType.objects.filter(region=region)
        .annotate(in_use=Count("stock", distinct=True))
        .order_by("order", "id")
    )


def equipment_type_get(*, actor, type_id: int) -> EquipmentType:
    """An item of a county the actor keeps; 403 for non-keepers, 404 otherwise."""
    regions = keeper_regions(actor)
    if not regions:
        raise PermissionDenied(
            _("Only the county's education or governance office keeps the equipment list.")
        )
    item = (
        EquipmentType.objects.filter(pk=type_id, region__in=regions)
        .select_related("region")
        .first()
    )
    if item is None:
        raise Http404
    return item
