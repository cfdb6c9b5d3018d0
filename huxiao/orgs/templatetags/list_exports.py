"""`{% export_list_button "<app>.<list>" school=school.pk %}`: the reports export button
(`reports_tags.export_button`) for a page whose list is chosen by its path (a school's
staff, a ranking run) or by a default the page picked (the school of the active
membership): the named values are added to the page's query string, so the export
holds the list the page shows. Without values it is the plain export button."""

from __future__ import annotations

from django import template

from huxiao.reports.templatetags.reports_tags import export_button

register = template.Library()


@register.inclusion_tag("reports/_export_button.html", takes_context=True)
def export_list_button(context, name: str, label: str = "", **params):
    """The export button with path-chosen values (kept as a name for the templates that
    use it; `export_button` itself takes the values)."""
    return export_button(context, name, label, **params)
