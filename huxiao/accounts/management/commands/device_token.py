"""Issue a device token for a gate terminal or alarm box (printed once, stored hashed)."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from huxiao.accounts.models import DeviceKind
from huxiao.accounts.services import device_token_issue
from huxiao.orgs.models import Organization


class Command(BaseCommand):
    help = "Issue a device token bound to one school. The token is shown once."

    def add_arguments(self, parser):
        parser.add_argument("--school", type=int, required=True, help="school id")
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", choices=DeviceKind.values, required=True)
        parser.add_argument(
            "--valid-until",
            type=dt.date.fromisoformat,
            default=None,
            help="last valid day, YYYY-MM-DD (default: valid until revoked)",
        )

    def handle(self, *args, school, name, kind, valid_until, **options):
        target = Organization.objects.schools().filter(pk=school).first()
        if target is None:
            raise CommandError(f"No school with id {school}")
        try:
            device, token = device_token_issue(
                actor=None, school=target, name=name, kind=kind, valid_until=valid_until
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        expiry = f", valid until {device.expires_at:%Y-%m-%d %H:%M %Z}" if device.expires_at else ""
        self.stdout.write(f"device {device.pk} at {target.name}{expiry}: {token}")
