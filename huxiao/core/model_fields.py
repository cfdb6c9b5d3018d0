"""Field helpers shared by the domain models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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


def school_fk(related_name):
    """The school a record belongs to (protected: records outlive nothing)."""
    return models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name=related_name,
        verbose_name=_("school"),
    )
