from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrillsConfig(AppConfig):
    name = "huxiao.drills"
    label = "drills"
    verbose_name = _("Safety education and drills")

    def ready(self) -> None:
        # Register the real "drills_held" indicator source over the supervision placeholder.
        from huxiao.drills import indicators  # noqa: F401
