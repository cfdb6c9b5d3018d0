"""Field helpers shared by the supervision models."""

from __future__ import annotations

from django.conf import settings
from django.db import models


def user_fk(verbose_name, related_name="+", **kwargs):
    """A nullable "by" user: people leave, their records stay."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name=related_name,
        verbose_name=verbose_name,
        **kwargs,
    )
