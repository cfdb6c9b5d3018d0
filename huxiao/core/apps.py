from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "huxiao.core"
    label = "core"
    verbose_name = "HuXiao core"

    def ready(self):
        from huxiao.core.metrics import connect_task_signals

        connect_task_signals()
