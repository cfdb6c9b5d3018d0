from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "huxiao.reports"
    label = "reports"
    verbose_name = _("Dashboards and reports")

    def ready(self) -> None:
        # Each area registers its builders (monthly report, documents, exports) on import.
        from huxiao.reports import registry

        registry.load_builders()
