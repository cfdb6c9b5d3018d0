"""manage.py twofactor_reset <username>: remove a user's second factor (lost phone).

The user enrols again at their next login. The reset is audited (actor: the command, or the
administrator named with --by) with the reason given.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from huxiao.accounts.two_factor import two_factor_reset


class Command(BaseCommand):
    help = "Reset a user's two-factor authentication; they set it up again at next login."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--by", default="", help="username of the administrator doing it")
        parser.add_argument("--reason", default="", help="why (kept in the audit trail)")

    def handle(self, *args, username, by, reason, **options):
        users = get_user_model().objects
        user = users.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        actor = None
        if by:
            actor = users.filter(username=by).first()
            if actor is None:
                raise CommandError(f"No user named {by!r} (--by).")
        if two_factor_reset(actor=actor, user=user, reason=reason):
            self.stdout.write(
                f"Two-factor authentication of {username} reset; they set it up at next login."
            )
        else:
            self.stdout.write(f"{username} had no two-factor authentication; nothing to reset.")
