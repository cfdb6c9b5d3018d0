from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "huxiao.people"
    label = "people"
