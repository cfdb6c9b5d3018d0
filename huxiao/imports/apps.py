from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "huxiao.imports"
    label = "imports"
