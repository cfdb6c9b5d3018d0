"""The page context: which of the user's memberships is active (the organization switcher)."""

from __future__ import annotations

from huxiao.core.scoping import memberships_of

SESSION_KEY = "huxiao_membership_id"


def active_membership(request):
    """The membership the user chose in the switcher, else their first one.

    The switcher chooses the home page, navigation and default school; it does not narrow
    what the user may see (ADR 0005).
    """
    user = getattr(request, "user", None)
    memberships = memberships_of(user) if user is not None else []
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY)
    for membership in memberships:
        if membership.pk == chosen:
            return membership
    return memberships[0]
