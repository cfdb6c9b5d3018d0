from django.conf import settings

from huxiao.core.context import active_membership
from huxiao.core.navigation import navigation_for
from huxiao.core.scoping import memberships_of


def websocket_url(request) -> str:
    if settings.HUXIAO_WS_URL:
        return settings.HUXIAO_WS_URL
    host = request.get_host().rsplit(":", 1)[0] if request.get_host() else "127.0.0.1"
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{host}:{settings.HUXIAO_WS_PORT}/ws/"


def huxiao(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"demo_mode": settings.DEMO_MODE}
    membership = active_membership(request)
    return {
        "demo_mode": settings.DEMO_MODE,
        "active_membership": membership,
        "memberships": memberships_of(user),
        "nav_items": navigation_for(user, membership),
        "websocket_url": websocket_url(request),
    }
