from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "huxiao.security"
    label = "security"
    verbose_name = _("Security staffing, equipment and defences")

    def ready(self) -> None:
        # Register the real indicator sources over the supervision placeholders.
        from huxiao.security import indicators  # noqa: F401
