"""Helpers shared by the pass, vehicle and contraband pages (issue 5, ADR 0024)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from huxiao.orgs.models import Organization

MAX_ID = 2**63 - 1


def object_id(value: int) -> int:
    if value > MAX_ID:
        raise Http404
    return value


def submit(form, call) -> bool:
    """Validate the form, call the service, put its errors next to the fields."""
    if not form.is_valid():
        return False
    try:
        call(**form.service_kwargs())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return False
    return True


def gate_school(request, ids: frozenset[int]) -> Organization | None:
    """The school a gate page works on: `school` from the query or form, or the only one in
    `ids`. None when the user has several and chose none; another school is 404."""
    return school_of(request.POST.get("school") or request.GET.get("school") or "", ids)


def school_of(raw: str, ids: frozenset[int]) -> Organization | None:
    """`gate_school` from the raw `school` parameter (a list page's export passes its query)."""
    if not raw:
        if len(ids) != 1:
            return None
        school_id = next(iter(ids))
    else:
        try:
            school_id = int(raw)
        except ValueError:
            raise Http404 from None
        if school_id not in ids:
            raise Http404
    return get_object_or_404(Organization.objects.schools(), pk=school_id)


def choose_school(request, ids: frozenset[int], title: str):
    """A list of the user's schools, each a link back to this page for that school."""
    schools = Organization.objects.schools().filter(pk__in=ids).order_by("name")
    return render(
        request,
        "access/passes/choose_school.html",
        {"schools": schools[:500], "title": title, "path": request.path},
    )
