"""`{% hazard_supervision hazard %}`: the hazard page's block of listed supervision and
surroundings tasks (ADR 0026, "Listed supervision and surroundings tasks"). A tag, so that
the hazard views need not know about listings and tasks; it reads through the same scoped
selectors as the listing and task pages."""

from __future__ import annotations

from django import template

from huxiao.hazards import listing_selectors, listing_services, task_selectors, task_services
from huxiao.hazards.choices import HazardLevel, HazardStatus
from huxiao.hazards.models import ListedSupervision

register = template.Library()


@register.inclusion_tag("hazards/listings/_hazard_block.html", takes_context=True)
def hazard_supervision(context, hazard):
    user = context["request"].user
    listing = listing_selectors.listing_of_hazard(actor=user, hazard=hazard)
    no_office = (
        listing is None
        and hazard.level == HazardLevel.MAJOR
        and not ListedSupervision.objects.filter(hazard_id=hazard.pk).exists()
        and listing_services.town_governance_office(hazard.school) is None
    )
    return {
        "hazard": hazard,
        "listing": listing,
        "countdown": listing_selectors.countdown(listing) if listing is not None else None,
        "no_office": no_office,
        # A lifted listing does not stop a reopened hazard from being listed again.
        "can_list": listing_services.may_list_hazard(user, hazard),
        "tasks": task_selectors.tasks_of_hazard(actor=user, hazard=hazard),
        "can_give": hazard.status != HazardStatus.CLOSED
        and task_services.may_give(user, hazard.school),
    }
