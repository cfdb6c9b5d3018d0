"""Roster import jobs: one uploaded spreadsheet, checked, previewed and then imported."""

from __future__ import annotations

import base64

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huxiao.core import crypto
from huxiao.core.scoping import ScopedQuerySet
from huxiao.imports.choices import RUNNING_STATUSES, ImportKind, ImportStatus


class ImportJob(models.Model):
    """One uploaded roster file and what became of it.

    The upload is kept in the database, encrypted, rather than as a FileField under MEDIA_ROOT:
    - it holds plain resident ID numbers, which are encrypted at rest everywhere else
      (ADR 0004), so it is sealed with the same key ring;
    - in scale mode the task worker may run on another machine with no shared disk, while
      the database is shared by definition;
    - it lives and dies with the job row in the same transaction, so there is no orphan file
      to clean up and nothing to back up separately;
    - it is wiped as soon as it is no longer needed, so rosters do not pile up in a second
      place. Files are capped by IMPORT_MAX_BYTES (20 MB).

    Once checked, the file itself is replaced by the rows the check read (`rows_encrypted`,
    sealed the same way): the import re-checks those rows against the database inside its
    transaction without parsing the spreadsheet a second time — parsing is most of the cost
    of a check. The sealed rows are wiped when the job finishes.
    """

    scope_school_field = "school"

    school = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="import_jobs",
        verbose_name=_("school"),
    )
    kind = models.CharField(_("roster"), max_length=20, choices=ImportKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    original_filename = models.CharField(_("file name"), max_length=255)
    file_size = models.PositiveIntegerField(_("file size (bytes)"), default=0)
    file_encrypted = models.TextField(_("file (encrypted)"), blank=True)
    rows_encrypted = models.TextField(_("checked rows (encrypted)"), blank=True)
    # Messages are written by the task worker, which has no request: it uses the language
    # the uploader was using.
    language = models.CharField(_("language"), max_length=10, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ImportStatus.choices,
        default=ImportStatus.UPLOADED,
        db_index=True,
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    errors = models.JSONField(
        _("row errors"),
        default=list,
        blank=True,
        help_text=_("[{row, column, message}], at most 500 kept."),
    )
    preview = models.JSONField(_("preview"), default=list, blank=True)
    created_count = models.PositiveIntegerField(_("records created"), default=0)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set on every step (services update it explicitly): stale running jobs are found by it.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    audit_exclude = ("file_encrypted", "rows_encrypted", "errors", "preview")

    class Meta:
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["school", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.original_filename}"

    # The file is sealed as base64 text: crypto.encrypt works on text, and reusing it keeps
    # one key ring and one rotation procedure for all sensitive data.
    def set_file(self, data: bytes) -> None:
        self.file_encrypted = crypto.encrypt(base64.b64encode(data).decode("ascii"))
        self.file_size = len(data)

    def read_file(self) -> bytes:
        if not self.file_encrypted:
            return b""
        return base64.b64decode(crypto.decrypt(self.file_encrypted))

    def set_rows(self, text: str) -> None:
        self.rows_encrypted = crypto.encrypt(text) if text else ""

    def read_rows(self) -> str:
        return crypto.decrypt(self.rows_encrypted) if self.rows_encrypted else ""

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING_STATUSES

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)
