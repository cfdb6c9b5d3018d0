from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatrolsConfig(AppConfig):
    name = "huxiao.patrols"
    label = "patrols"
    verbose_name = _("Gate posts, patrols and police-post visits")
