from django.urls import include, path

from huxiao.core.api import register_routers

api = register_routers()

urlpatterns = [
    path("", include("huxiao.core.urls")),
    path("accounts/", include("huxiao.accounts.urls")),
    path("orgs/", include("huxiao.orgs.urls")),
    path("people/", include("huxiao.people.urls")),
    path("imports/", include("huxiao.imports.urls")),
    path("audit/", include("huxiao.audit.urls")),
    path("alarms/", include("huxiao.alarms.urls")),
    path("incidents/", include("huxiao.incidents.urls")),
    path("patrols/", include("huxiao.patrols.urls")),
    path("gate/", include("huxiao.access.urls")),
    path("hazards/", include("huxiao.hazards.urls")),
    path("supervision/", include("huxiao.supervision.urls")),
    path("security/", include("huxiao.security.urls")),
    path("duty/", include("huxiao.duty.urls")),
    path("drills/", include("huxiao.drills.urls")),
    path("transport/", include("huxiao.transport.urls")),
    path("health/", include("huxiao.health.urls")),
    path("reports/", include("huxiao.reports.urls")),
    path("intel/", include("huxiao.intel.urls")),
    path("notify/", include("huxiao.notify.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
]

handler404 = "huxiao.core.views.page_not_found"
handler403 = "huxiao.core.views.permission_denied"
handler400 = "huxiao.core.views.bad_request"
handler500 = "huxiao.core.views.server_error"
