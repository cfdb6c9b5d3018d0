from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DutyConfig(AppConfig):
    name = "huxiao.duty"
    label = "duty"
    verbose_name = _("Duty, monitoring room and patrol rounds")

    def ready(self) -> None:
        # Register the real indicator sources over the supervision placeholders.
        from huxiao.duty import indicators  # noqa: F401
