from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from huxiao.core.scoping import can


def require(actor, action: str, school_id: int | None) -> None:
    """Raise PermissionDenied unless `actor` may do `action` at the school.

    Callers first fetch the record through `visible_to(actor, "view")`, so a record out of
    scope has already answered 404; this only separates "may see" from "may change".
    """
    if not can(actor, action, school_id):
        raise PermissionDenied(_("Your role does not allow this action."))
