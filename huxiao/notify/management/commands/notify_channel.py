"""Configure an organization's notification channels (until an administration page exists).

    manage.py notify_channel list [ORG_ID]
    manage.py notify_channel add ORG_ID wecom "值班群" --target https://qyapi…?key=…
    manage.py notify_channel add ORG_ID sms "短信" --target https://gw/send --secret-env SMS_KEY
    manage.py notify_channel disable CHANNEL_ID | enable CHANNEL_ID | delete CHANNEL_ID

Secrets are read from an environment variable or typed at a prompt, never from the command
line, so they do not end up in the shell history or the process list.
"""

import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from huxiao.notify import services
from huxiao.notify.choices import CONFIGURABLE_KINDS
from huxiao.notify.models import ChannelConfig
from huxiao.orgs.models import Organization


class Command(BaseCommand):
    help = "List, add, enable, disable or delete notification channels (audited as system)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list")
        listing.add_argument("organization_id", type=int, nargs="?")
        add = sub.add_parser("add")
        add.add_argument("organization_id", type=int)
        add.add_argument("kind", choices=sorted(CONFIGURABLE_KINDS))
        add.add_argument("name")
        add.add_argument("--target", required=True, help="URL, or email addresses")
        add.add_argument("--phones", default="", help="comma-separated mobile numbers")
        add.add_argument("--secret-env", default="", help="read the secret from this variable")
        add.add_argument("--secret-prompt", action="store_true", help="type the secret")
        for name in ("enable", "disable", "delete"):
            sub.add_parser(name).add_argument("channel_id", type=int)

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc

    def _list(self, organization_id=None, **options):
        configs = ChannelConfig.objects.select_related("organization").order_by(
            "organization_id", "kind", "name"
        )
        if organization_id:
            configs = configs.filter(organization_id=organization_id)
        for config in configs:
            state = "on " if config.is_active else "off"
            self.stdout.write(
                f"{config.pk:>5} {state} {config.organization.name} · {config.kind} · "
                f"{config.name} · {config.target_display}"
            )

    def _add(self, organization_id, kind, name, target, phones, secret_env, secret_prompt, **o):
        organization = Organization.objects.filter(pk=organization_id).first()
        if organization is None:
            raise CommandError("Unknown organization")
        secret = ""
        if secret_env:
            secret = os.environ.get(secret_env, "")
            if not secret:
                raise CommandError(f"The variable {secret_env} is empty or unset")
        elif secret_prompt:
            secret = getpass.getpass("Secret: ")
        config = services.channel_config_create(
            actor=None,
            organization=organization,
            kind=kind,
            name=name,
            target=target,
            secret=secret,
            phones=phones,
        )
        self.stdout.write(f"{config} (id {config.pk}) {config.target_display}")

    def _config(self, channel_id) -> ChannelConfig:
        config = ChannelConfig.objects.select_related("organization").filter(pk=channel_id).first()
        if config is None:
            raise CommandError("Unknown channel")
        return config

    def _enable(self, channel_id, **options):
        services.channel_config_update(actor=None, config=self._config(channel_id), is_active=True)

    def _disable(self, channel_id, **options):
        services.channel_config_update(actor=None, config=self._config(channel_id), is_active=False)

    def _delete(self, channel_id, **options):
        services.channel_config_delete(actor=None, config=self._config(channel_id))
