from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntelConfig(AppConfig):
    name = "huxiao.intel"
    label = "intel"
    verbose_name = _("Warnings and the high-risk persons register")
