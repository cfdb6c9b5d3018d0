from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HazardsConfig(AppConfig):
    name = "huxiao.hazards"
    label = "hazards"
    verbose_name = _("Inspections and hazards")
