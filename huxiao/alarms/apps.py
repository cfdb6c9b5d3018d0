from django.apps import AppConfig


class AlarmsConfig(AppConfig):
    name = "huxiao.alarms"
    label = "alarms"
