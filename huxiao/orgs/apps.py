from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "huxiao.orgs"
    label = "orgs"
