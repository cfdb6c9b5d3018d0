from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class StaffRole(models.TextChoices):
    PRINCIPAL = "principal", _("Principal")
    VICE_PRINCIPAL = "vice_principal", _("Vice-principal")
    TEACHER = "teacher", _("Teacher")
    CHILDCARE = "childcare", _("Childcare worker")
    SECURITY_OFFICER = "security_officer", _("Security officer")
    GUARD = "guard", _("Guard")
    HEALTH_STAFF = "health_staff", _("Health staff")
    COOK = "cook", _("Cook")
    DRIVER = "driver", _("Driver")
    DORMITORY_MANAGER = "dormitory_manager", _("Dormitory manager")
    OTHER = "other", _("Other")


class BackgroundCheck(models.TextChoices):
    NOT_DONE = "not_done", _("Not done")
    PENDING = "pending", _("Pending")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class Relationship(models.TextChoices):
    FATHER = "father", _("Father")
    MOTHER = "mother", _("Mother")
    GRANDFATHER = "grandfather", _("Grandfather")
    GRANDMOTHER = "grandmother", _("Grandmother")
    RELATIVE = "relative", _("Other relative")
    OTHER = "other", _("Other authorised adult")
