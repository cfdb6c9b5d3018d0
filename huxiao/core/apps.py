from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "huxiao.core"
    label = "core"
    verbose_name = "HuXiao core"
