"""`{{ user|person_name }}` (a built-in of every template; see settings.TEMPLATES)."""

from django import template

from huxiao.core.names import person_name as _person_name

register = template.Library()


@register.filter
def person_name(user) -> str:
    return _person_name(user)
