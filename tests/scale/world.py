"""Seed and inspect the database of the scale-mode test; run in a subprocess with the
stack's own environment (its throwaway PostgreSQL database), never the test database.

    python -m tests.scale.world seed --devices 8 --consoles 8 --password PW   → JSON
    python -m tests.scale.world alarms                                          → JSON

The seed is the fault tests' world (tests/faults/world.py: a station, a school of its
precinct, alarm boxes, a police commander) plus what a browser needs: passwords for the
commander and for a guard of the school, the commander's second factor, and one API token
per console socket.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def seed(devices: int, consoles: int, password: str) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from huxiao.accounts.services import api_token_issue
    from huxiao.core.roles import Role
    from huxiao.orgs.models import Membership, Organization
    from tests.faults.world import seed as faults_seed

    world = faults_seed(devices)
    users = get_user_model().objects
    with transaction.atomic():
        police = users.get(username="fault-police")
        police.set_password(password)
        police.save(update_fields=["password"])
        guard = users.create_user(username="scale-guard", password=password)
        Membership.objects.create(
            user=guard,
            organization=Organization.objects.get(pk=world["school_id"]),
            role=Role.GUARD,
        )
    return {
        **world,
        "police_username": police.username,
        "guard_username": guard.username,
        "police_totp_secret": _enrol_two_factor(police),
        "console_tokens": [api_token_issue(user=police) for _ in range(consoles)],
    }


def _enrol_two_factor(user) -> str:
    """Production asks police for a TOTP code after the password (ADR 0034): enrol the
    commander as the enrolment page would, and hand the secret to the test's authenticator.
    Empty where this build has no two-factor step."""
    try:
        import pyotp

        from huxiao.accounts import two_factor
    except ImportError:
        return ""
    if not two_factor.two_factor_required(user):
        return ""
    secret = two_factor.two_factor_enrol_start(user=user)
    two_factor.two_factor_enrol_confirm(user=user, code=pyotp.TOTP(secret).now())
    return secret


def alarms() -> dict:
    from huxiao.alarms.models import Alarm

    return {
        "alarms": [
            {
                "id": alarm.pk,
                "note": alarm.note,
                "status": alarm.status,
                "acknowledged_by": alarm.acknowledged_by.username
                if alarm.acknowledged_by
                else None,
                "escalation_level": alarm.escalation_level,
            }
            for alarm in Alarm.objects.select_related("acknowledged_by").order_by("pk")
        ]
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    seed_parser = sub.add_parser("seed")
    seed_parser.add_argument("--devices", type=int, default=8)
    seed_parser.add_argument("--consoles", type=int, default=8)
    seed_parser.add_argument("--password", required=True)
    sub.add_parser("alarms")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if args.command == "seed":
        result = seed(args.devices, args.consoles, args.password)
    else:
        result = alarms()
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
