"""`{% four_party_directory school %}`: the directory box shown on every health page."""

from django import template

from huxiao.health.directory import four_party_directory, tel_href

register = template.Library()


@register.inclusion_tag("health/_directory.html")
def four_party_directory_box(school, compact=False):
    entries = four_party_directory(school) if school is not None else []
    for entry in entries:
        entry.href = tel_href(entry.phone)
    return {"school": school, "entries": entries, "compact": compact}
