"""`manage.py backup [--output DIR] [--keep N]`: one complete backup of the database and the
uploaded files (huxiao/ops/backup.py), then the oldest beyond N removed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from huxiao.ops.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database and MEDIA_ROOT into a new directory under HUXIAO_BACKUP_DIR "
        "(or --output), then keep the newest --keep backups (HUXIAO_BACKUP_KEEP; 0 keeps all)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="DIR", help="directory of the backups")
        parser.add_argument(
            "--keep", type=int, metavar="N", help="complete backups to keep (0: all)"
        )

    def handle(self, *args, output=None, keep=None, **options):
        try:
            result = backup_create(output_dir=output, keep=keep)
        except BackupError as exc:
            raise CommandError(f"Backup failed: {exc}") from exc
        manifest = result.manifest
        size = sum(part["bytes"] for part in manifest["parts"].values())
        self.stdout.write(
            f"backup {result.path}: {manifest['database']['vendor']} database, "
            f"{sum(manifest['row_counts'].values())} rows in {len(manifest['row_counts'])} "
            f"tables, {manifest['media']['files']} media files, {size} bytes, "
            f"{result.seconds:.1f} s"
        )
        for path in result.pruned:
            self.stdout.write(f"removed the old backup {path}")
