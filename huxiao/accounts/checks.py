"""Deployment checks of the accounts app (manage.py check --deploy)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def two_factor_enforced(app_configs, **kwargs):
    if settings.TWO_FACTOR_ENFORCED:
        return []
    return [
        Warning(
            "Two-factor authentication is off (HUXIAO_TWO_FACTOR=0): police and office "
            "accounts log in with a password alone.",
            hint="Unset HUXIAO_TWO_FACTOR or set it to 1 (ADR 0034).",
            id="huxiao.W001",
        )
    ]
