"""Choices of the camera registry and legal vice-principal assignments."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CameraKind(models.TextChoices):
    GATE = "gate", _("Gate")
    PERIMETER = "perimeter", _("Perimeter")
    PLAYGROUND = "playground", _("Playground")
    CORRIDOR = "corridor", _("Corridor")
    CANTEEN = "canteen", _("Canteen")
    DORMITORY = "dormitory", _("Dormitory")
    OTHER = "other", _("Other")
