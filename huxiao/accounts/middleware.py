"""Session idle timeout (ADR 0034, "Sessions").

Every session ends SESSION_COOKIE_AGE after login (8 h, one shift). Accounts that must use
two-factor authentication (police and offices) are also logged out after
SESSION_IDLE_SECONDS without a request (30 min); school accounts after
SESSION_IDLE_SECONDS_SCHOOL (0: never), since a gate kiosk or class tablet stays open all
day. Only page and API requests count as activity: an open alarm console receives its
pushes over the WebSocket, which is not logged out by this (it re-authenticates with the
session, which still ends at SESSION_COOKIE_AGE), so a console left open never goes deaf.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext as _

SESSION_KEY = "hx_last_seen"
# Writing the session on every request would cost a database write per click.
TOUCH_EVERY_SECONDS = 60


def idle_limit_for(user) -> int:
    from huxiao.accounts.two_factor import TWO_FACTOR_ROLES
    from huxiao.core.scoping import memberships_of

    if user.is_superuser or any(m.role in TWO_FACTOR_ROLES for m in memberships_of(user)):
        return settings.SESSION_IDLE_SECONDS
    return settings.SESSION_IDLE_SECONDS_SCHOOL


class SessionIdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not getattr(user, "is_device", False):
            now = int(time.time())
            last_seen = request.session.get(SESSION_KEY)
            limit = idle_limit_for(user)
            if limit and isinstance(last_seen, int) and now - last_seen > limit:
                logout(request)
                messages.info(request, _("You were logged out after a period of inactivity."))
                if request.path.startswith("/api/"):
                    from django.http import JsonResponse

                    return JsonResponse(
                        {"detail": _("Your session has expired. Log in again."), "errors": {}},
                        status=401,
                    )
                return redirect_to_login(request.get_full_path())
            if not isinstance(last_seen, int) or now - last_seen >= TOUCH_EVERY_SECONDS:
                request.session[SESSION_KEY] = now
        return self.get_response(request)


def stamp_login(sender, request, user, **kwargs) -> None:
    """A new session starts as seen now, saved with the login itself: the first request
    after logging in does not write the session again."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = int(time.time())
