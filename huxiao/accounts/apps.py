from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "huxiao.accounts"
    label = "accounts"
