from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "huxiao.access"
    label = "access"
    verbose_name = _("The school gate: visitors, vehicles, passes, contraband, pick-up")
