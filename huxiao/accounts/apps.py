from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "huxiao.accounts"
    label = "accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from huxiao.accounts import checks  # noqa: F401 - registers the deploy checks
        from huxiao.accounts.middleware import stamp_login

        user_logged_in.connect(stamp_login, dispatch_uid="accounts-stamp-login")
