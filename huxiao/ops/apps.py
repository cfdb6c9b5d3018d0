from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations: backups of the database and the uploaded files, and their restore.
    No models: what it keeps lives on disk under HUXIAO_BACKUP_DIR."""

    name = "huxiao.ops"
    label = "ops"
    verbose_name = _("Operations")
