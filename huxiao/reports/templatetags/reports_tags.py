from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

register = template.Library()


@register.inclusion_tag("reports/_export_button.html", takes_context=True)
def export_button(context, name: str, label: str = "", **params):
    """A button that exports the current list page (its filters) to Excel. Named values
    (`school=school.pk`) are set in the page's query string, for a list chosen by the
    page's path or by a default the page picked; an empty value removes the key."""
    request = context.get("request")
    query = request.GET.copy() if request is not None else None
    if query is not None:
        for key, value in params.items():
            if value is None or value == "":
                query.pop(key, None)
            else:
                query[key] = str(value)
    return {
        "action": reverse("reports:export_request", args=[name]),
        "query": query.urlencode() if query is not None else "",
        "label": label,
        "name": name,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def css_string(value) -> str:
    """Text for the inside of a double-quoted CSS string (PDF running heads): every
    character that could end the string, the rule or the <style> element is a CSS escape
    (`\\22 `), which CSS decodes back to the character."""
    out = []
    for ch in str(value if value is not None else ""):
        if ch in "\"\\<>&'" or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return mark_safe("".join(out))  # noqa: S308 - every special character is escaped above
