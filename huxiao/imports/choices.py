from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    """Which roster a spreadsheet holds; each has its own columns (imports.columns)."""

    CLASSES = "classes", _("Classes")
    CHILDREN = "children", _("Children")
    GUARDIANS = "guardians", _("Guardians")
    STAFF = "staff", _("Staff")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded, waiting to be checked")
    VALIDATING = "validating", _("Checking rows")
    READY = "ready", _("Checked, ready to import")
    FAILED_VALIDATION = "failed_validation", _("Rows have errors")
    COMMITTING = "committing", _("Importing")
    DONE = "done", _("Import complete")
    FAILED = "failed", _("Import failed, nothing written")


# The job page polls while a job is in one of these states.
RUNNING_STATUSES = frozenset(
    {ImportStatus.UPLOADED, ImportStatus.VALIDATING, ImportStatus.COMMITTING}
)
# The uploaded file is kept (encrypted) only while it may still be needed.
FINISHED_STATUSES = frozenset(
    {ImportStatus.FAILED_VALIDATION, ImportStatus.DONE, ImportStatus.FAILED}
)
