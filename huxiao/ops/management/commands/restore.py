"""`manage.py restore <backup> [--yes]`: replace the database and MEDIA_ROOT with a backup
made by `manage.py backup`, then compare the row counts with the backup's manifest."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from huxiao.ops.backup import BackupError, backup_restore, restore_plan


class Command(BaseCommand):
    help = (
        "Restore a backup directory made by `manage.py backup`. Stop the servers and the task "
        "worker first. Without --yes it only checks the backup and says what it would replace."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", help="a backup directory (HUXIAO_BACKUP_DIR/huxiao-…)")
        parser.add_argument(
            "--yes", action="store_true", help="really replace the database and the files"
        )

    def handle(self, *args, backup, yes=False, **options):
        try:
            # Checks every part's sha256 and the database vendor before anything is touched.
            _manifest, lines = restore_plan(backup)
        except BackupError as exc:
            raise CommandError(f"Restore refused: {exc}") from exc
        for line in lines:
            self.stdout.write(line)
        if not yes:
            raise CommandError(
                "Restore refused: nothing was changed. Stop the servers and the task worker, "
                "then run again with --yes to replace the database and the files."
            )
        try:
            result = backup_restore(backup)
        except BackupError as exc:
            raise CommandError(f"Restore failed: {exc}") from exc
        verbose = options.get("verbosity", 1) > 1
        for table, (expected, actual) in result.counts.items():
            if verbose or expected != actual:
                mark = "ok" if expected == actual else "DIFFERS"
                shown = "missing" if actual is None else actual
                self.stdout.write(f"  {table}: backup {expected}, restored {shown}  {mark}")
        rows = sum(expected for expected, _actual in result.counts.values())
        if result.migrations_pending:
            self.stdout.write(
                f"The restored database lacks {len(result.migrations_pending)} migrations of "
                f"this code: run `manage.py migrate` before starting the servers."
            )
        if result.migrations_unknown:
            self.stdout.write(
                "The backup was made by a newer HuXiao (unknown migrations: "
                + ", ".join(result.migrations_unknown[:5])
                + "): run that version's code on it."
            )
        if result.mismatches:
            raise CommandError(
                f"Restore done but {len(result.mismatches)} of {len(result.counts)} tables "
                f"differ from the backup's row counts (listed above)."
            )
        self.stdout.write(
            f"restored {backup}: {len(result.counts)} tables, {rows} rows, all row counts equal "
            f"to the backup; {result.manifest['media']['files']} media files; "
            f"{result.seconds:.1f} s"
        )
