"""`{% school_lvp school %}`: the school page's small legal vice-principal box (ADR 0020)."""

from django import template

from huxiao.patrols.lvp_selectors import lvp_active_for_school

register = template.Library()


@register.inclusion_tag("patrols/lvp/_school_lvp.html", takes_context=True)
def school_lvp(context, school):
    user = context["request"].user
    return {"school": school, "lvp": lvp_active_for_school(actor=user, school_id=school.pk)}
