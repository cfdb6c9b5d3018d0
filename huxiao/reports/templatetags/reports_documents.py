"""`{% documents_panel "incident" incident %}`: the generated PDFs of one record and the
button that generates a new one, for the record's own page (ADR 0033)."""

from django import template
from django.urls import reverse

from huxiao.reports import document_builders

register = template.Library()


@register.inclusion_tag("reports/_documents.html", takes_context=True)
def documents_panel(context, slug: str, record):
    """The page has already loaded `record` through its app's scoped selector."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    doc = document_builders.document_for_slug(slug)
    reports = []
    if user is not None and getattr(user, "is_authenticated", False):
        reports = document_builders.document_list(actor=user, slug=slug, subject_id=record.pk)
    return {
        "slug": slug,
        "heading": doc.heading,
        "action": reverse("reports:document_request", args=[slug, record.pk]),
        "reports": reports,
        "csrf_token": context.get("csrf_token"),
    }
