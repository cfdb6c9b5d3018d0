from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "huxiao.audit"
    label = "audit"
