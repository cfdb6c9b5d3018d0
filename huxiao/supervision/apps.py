from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "huxiao.supervision"
    label = "supervision"
    verbose_name = _("Supervision and assessment")
