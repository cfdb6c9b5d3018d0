from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "huxiao.demo"
    label = "demo"
