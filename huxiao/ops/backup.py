"""Backups of the database and the uploaded files, and their restore (ADR 0034).

One backup is one directory under HUXIAO_BACKUP_DIR, named after the UTC moment it began:

    huxiao-20260301T183000Z/
        database.sqlite3 | database.pgdump   a consistent snapshot of the database
        media.tar                            everything under MEDIA_ROOT, as media/…
        manifest.json                        format, time, database vendor, migration state,
                                             row counts of every model table, sha256 of parts

It is assembled under a hidden `.partial-…` name and renamed only when every part and the
manifest are on disk, so a directory named `huxiao-…` with a manifest is a complete backup
and nothing else is. Backups into one directory take a lock; the partial directories left
by a killed backup are removed by the next one.

The database snapshot and its row counts are taken from the same moment: on SQLite the counts
are read from the copy itself; on PostgreSQL pg_dump runs on the snapshot exported by the
transaction that counts. The restore compares the restored database with those counts, so a
difference means the restore is wrong, never that the server wrote in between.

The media archive is taken after the database: a file uploaded in between is kept without a
row pointing at it (harmless), whereas the other order would lose files that rows name.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connections, transaction

logger = logging.getLogger(__name__)

FORMAT = "huxiao-backup"
FORMAT_VERSION = 1
NAME_PREFIX = "huxiao-"
PARTIAL_PREFIX = ".partial-"
MANIFEST = "manifest.json"
MEDIA_PART = "media.tar"
MEDIA_ARCNAME = "media"
DATABASE_PARTS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
_NAME_RE = re.compile(r"^huxiao-(\d{8}T\d{6}Z)(?:-(\d+))?$")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


@dataclass
class BackupResult:
    path: Path
    manifest: dict
    seconds: float
    pruned: list[Path] = field(default_factory=list)


@dataclass
class RestoreResult:
    manifest: dict
    # table → (rows in the backup, rows after the restore; None: the table is missing)
    counts: dict[str, tuple[int, int | None]]
    seconds: float
    migrations_pending: list[str] = field(default_factory=list)
    migrations_unknown: list[str] = field(default_factory=list)

    @property
    def mismatches(self) -> dict[str, tuple[int, int | None]]:
        return {table: pair for table, pair in self.counts.items() if pair[0] != pair[1]}


# ---------------------------------------------------------------------------- listing


def backup_list(root: Path | str | None = None) -> list[Path]:
    """The complete backups under `root`, oldest first."""
    root = Path(root or settings.HUXIAO_BACKUP_DIR)
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        match = _NAME_RE.match(entry.name)
        if match and entry.is_dir() and (entry / MANIFEST).is_file():
            found.append(((match.group(1), int(match.group(2) or 1)), entry))
    return [path for _key, path in sorted(found)]


def backup_prune(root: Path | str, keep: int) -> list[Path]:
    """Delete the oldest complete backups beyond the newest `keep`; 0 keeps everything."""
    if keep <= 0:
        return []
    doomed = backup_list(root)[:-keep]
    for path in doomed:
        shutil.rmtree(path)
        logger.info("backup pruned: %s", path)
    return doomed


# ---------------------------------------------------------------------------- backup


def backup_create(
    *, output_dir: Path | str | None = None, keep: int | None = None, using: str = "default"
) -> BackupResult:
    """Write one complete backup under `output_dir` (HUXIAO_BACKUP_DIR), then keep the newest
    `keep` (HUXIAO_BACKUP_KEEP). Raises BackupError; a failed backup leaves nothing behind
    that looks complete."""
    root = Path(output_dir or settings.HUXIAO_BACKUP_DIR)
    keep = settings.HUXIAO_BACKUP_KEEP if keep is None else keep
    if keep < 0:
        raise BackupError(f"--keep must be 0 (keep all) or more, got {keep}")
    started = time.monotonic()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"Cannot create the backup directory {root}: {exc}") from exc
    with _backup_lock(root):
        _remove_partials(root)
        created_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
        name = _unique_name(root, created_at)
        work = Path(tempfile.mkdtemp(prefix=f"{PARTIAL_PREFIX}{name}-", dir=root))
        try:
            database = _database_dump(work, using)
            media = _media_archive(work / MEDIA_PART, exclude=root)
            for part in (database["part"], MEDIA_PART):
                _fsync_file(work / part)
            parts = {
                part: {"bytes": (work / part).stat().st_size, "sha256": _sha256(work / part)}
                for part in (database["part"], MEDIA_PART)
            }
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "created_at": created_at.isoformat().replace("+00:00", "Z"),
                "app_version": _app_version(),
                "database": {k: v for k, v in database.items() if k != "row_counts"},
                "row_counts": database["row_counts"],
                "media": media,
                "parts": parts,
            }
            _write_durably(work / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
            final = root / name
            os.rename(work, final)
            _fsync_dir(root)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        pruned = backup_prune(root, keep)
    result = BackupResult(
        path=final, manifest=manifest, seconds=time.monotonic() - started, pruned=pruned
    )
    logger.info(
        "backup created: %s (%s, %d bytes, %.1f s, %d pruned)",
        final,
        manifest["database"]["vendor"],
        sum(p["bytes"] for p in parts.values()),
        result.seconds,
        len(pruned),
    )
    return result


@contextmanager
def _backup_lock(root: Path) -> Iterator[None]:
    """One backup at a time per directory: the nightly task and a hand-run command must not
    prune each other's work or both take the same name."""
    with open(root / ".lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"Another backup is running in {root}; try again later") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_partials(root: Path) -> None:
    # Under the lock no other backup is running: a partial directory is a killed one's.
    for entry in root.iterdir():
        if entry.name.startswith(PARTIAL_PREFIX) and entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
            logger.warning("backup: removed the unfinished %s", entry)


def _unique_name(root: Path, created_at: dt.datetime) -> str:
    base = NAME_PREFIX + created_at.strftime("%Y%m%dT%H%M%SZ")
    name, n = base, 1
    while (root / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def _database_dump(work: Path, using: str) -> dict:
    connection = connections[using]
    if connection.vendor == "sqlite":
        return _sqlite_dump(connection, work / DATABASE_PARTS["sqlite"])
    if connection.vendor == "postgresql":
        try:
            return _postgres_dump(connection, work / DATABASE_PARTS["postgresql"])
        except DatabaseError as exc:
            raise BackupError(f"Backup of the PostgreSQL database failed: {exc}") from exc
    raise BackupError(f"Backups of a {connection.vendor} database are not supported")


def _sqlite_path(connection) -> Path:
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        raise BackupError("An in-memory SQLite database cannot be backed up")
    return Path(name)


def _sqlite_dump(connection, target: Path) -> dict:
    source_path = _sqlite_path(connection)
    if not source_path.is_file():
        raise BackupError(f"The SQLite database {source_path} does not exist")
    source = sqlite3.connect(source_path, timeout=20)
    copy = sqlite3.connect(target)
    try:
        source.execute("PRAGMA busy_timeout=20000")
        # All pages in one step: one read transaction, so the copy is the database as of one
        # moment while the servers go on writing (WAL readers do not block writers).
        source.backup(copy)
        # The copy stands alone: no -wal beside it, readable read-only at restore.
        copy.execute("PRAGMA journal_mode=DELETE")
        _sqlite_check(copy, f"the copy of {source_path}")
        return {
            "vendor": "sqlite",
            "part": target.name,
            "sqlite_version": sqlite3.sqlite_version,
            "migrations": _migration_state(_sqlite_rows(copy)),
            "row_counts": _row_counts(_sqlite_rows(copy), _sqlite_tables(copy), '"'),
        }
    except sqlite3.Error as exc:
        raise BackupError(f"Backup of the SQLite database {source_path} failed: {exc}") from exc
    finally:
        copy.close()
        source.close()


def _sqlite_check(conn: sqlite3.Connection, what: str) -> None:
    result = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
    if result != ["ok"]:
        raise BackupError(f"Integrity check of {what} failed: {'; '.join(result[:5])}")


def _sqlite_rows(conn: sqlite3.Connection):
    def rows(sql: str) -> list[tuple]:
        return conn.execute(sql).fetchall()

    return rows


def _sqlite_tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _postgres_dump(connection, target: Path) -> dict:
    if connection.in_atomic_block:
        raise BackupError("A backup cannot run inside a database transaction")
    connection.ensure_connection()
    server_major = connection.pg_version // 10000
    pg_dump = _pg_tool("pg_dump", server_major)
    name = connection.settings_dict["NAME"]
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # pg_dump joins this transaction's snapshot, so the counts below are those of the dump
        # even while the servers write.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        _run_pg(
            [
                pg_dump,
                "--format=custom",
                "--no-password",
                f"--snapshot={snapshot}",
                f"--file={target}",
            ],
            connection,
            what=f"pg_dump of the database {name}",
        )

        def rows(sql: str) -> list[tuple]:
            cursor.execute(sql)
            return cursor.fetchall()

        tables = set(connection.introspection.table_names(cursor))
        return {
            "vendor": "postgresql",
            "part": target.name,
            "server_version": connection.pg_version,
            "database_name": name,
            "migrations": _migration_state(rows),
            "row_counts": _row_counts(rows, tables, '"'),
        }


def _model_tables() -> list[str]:
    """The tables of every model (and many-to-many table), each once, sorted."""
    tables = set()
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and not meta.swapped:
            tables.add(meta.db_table)
    return sorted(tables)


def _quote(name: str, quote: str) -> str:
    return quote + name.replace(quote, quote * 2) + quote


def _row_counts(rows, existing: set[str], quote: str) -> dict[str, int]:
    return {
        table: rows(f"SELECT COUNT(*) FROM {_quote(table, quote)}")[0][0]  # noqa: S608
        for table in _model_tables()
        if table in existing
    }


def _migration_state(rows) -> dict[str, str]:
    """The last applied migration of each app, in the order they were applied."""
    last: dict[str, str] = {}
    for app, name in rows("SELECT app, name FROM django_migrations ORDER BY applied, id"):
        last[app] = name
    return dict(sorted(last.items()))


def _media_archive(target: Path, *, exclude: Path) -> dict:
    """MEDIA_ROOT as media/… in an uncompressed tar (uploads are photos and PDFs, already
    compressed). A file deleted while the archive is written is skipped, not an error."""
    media_root = Path(settings.MEDIA_ROOT)
    if media_root.exists() and not media_root.is_dir():
        raise BackupError(f"MEDIA_ROOT {media_root} is not a directory")
    files = total = 0
    exclude = exclude.resolve()
    try:
        with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
            if not media_root.exists():
                info = tarfile.TarInfo(MEDIA_ARCNAME)
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
                tar.addfile(info)
            else:
                tar.add(media_root, arcname=MEDIA_ARCNAME, recursive=False)
                for dirpath, dirnames, filenames in os.walk(media_root):
                    here = Path(dirpath)
                    # A backup directory inside MEDIA_ROOT must not swallow itself.
                    dirnames[:] = sorted(d for d in dirnames if (here / d).resolve() != exclude)
                    for name in sorted(dirnames) + sorted(filenames):
                        path = here / name
                        arcname = f"{MEDIA_ARCNAME}/{path.relative_to(media_root).as_posix()}"
                        try:
                            tar.add(path, arcname=arcname, recursive=False)
                        except FileNotFoundError:
                            continue
                        if name in filenames and not path.is_symlink():
                            files += 1
                            total += path.stat().st_size if path.exists() else 0
    except OSError as exc:
        raise BackupError(f"Archiving MEDIA_ROOT {media_root} failed: {exc}") from exc
    return {"files": files, "bytes": total}


# ---------------------------------------------------------------------------- verify


def backup_verify(path: Path | str) -> dict:
    """The manifest of the backup at `path`, once every part's size and sha256 match it.
    Raises BackupError before anything is touched."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not path.is_dir() or not manifest_path.is_file():
        raise BackupError(f"{path} is not a HuXiao backup (no {MANIFEST} in a directory)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"The manifest of {path} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a HuXiao backup (unknown manifest format)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(
            f"{path} has backup format {version!r}; this version of HuXiao reads up to "
            f"{FORMAT_VERSION}. Restore it with the HuXiao version that made it"
        )
    database = manifest.get("database") or {}
    parts = manifest.get("parts") or {}
    expected = {database.get("part"), MEDIA_PART}
    if set(parts) != expected or not isinstance(manifest.get("row_counts"), dict):
        raise BackupError(f"The manifest of {path} is incomplete")
    problems = []
    for part, facts in sorted(parts.items()):
        # Part names are plain file names; a manifest must not point outside the backup.
        if Path(part).name != part or part in {"", ".", ".."}:
            raise BackupError(f"The manifest of {path} names an invalid part {part!r}")
        file = path / part
        if not file.is_file():
            problems.append(f"{part}: missing")
        elif file.stat().st_size != facts.get("bytes"):
            problems.append(
                f"{part}: {file.stat().st_size} bytes, the manifest says {facts.get('bytes')}"
            )
        elif _sha256(file) != facts.get("sha256"):
            problems.append(f"{part}: sha256 differs from the manifest")
    if problems:
        raise BackupError(
            f"The backup {path} is damaged; nothing was changed. " + "; ".join(problems)
        )
    return manifest


def restore_plan(path: Path | str, *, using: str = "default") -> tuple[dict, list[str]]:
    """Verify the backup and say, line by line, what a restore would replace."""
    manifest = backup_verify(path)
    connection = connections[using]
    vendor = manifest["database"].get("vendor")
    if vendor != connection.vendor:
        raise BackupError(
            f"This backup holds a {vendor} database but the configured database is "
            f"{connection.vendor}; nothing was changed. Restore it into a {vendor} "
            f"deployment (DATABASE_URL), then move the data with dumpdata/loaddata if needed"
        )
    rows = sum(manifest["row_counts"].values())
    media_root = Path(settings.MEDIA_ROOT)
    lines = [
        f"backup {Path(path).resolve()} made {manifest['created_at']} by HuXiao "
        f"{manifest.get('app_version', '?')}: {rows} rows in "
        f"{len(manifest['row_counts'])} tables, {manifest['media']['files']} files",
        f"would replace the whole {connection.vendor} database {_database_label(connection)}",
        f"would replace everything under MEDIA_ROOT {media_root} "
        f"({_count_files(media_root)} files now)",
    ]
    return manifest, lines


def _database_label(connection) -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return str(s["NAME"])
    return f"{s['NAME']} on {s.get('HOST') or 'the local socket'}:{s.get('PORT') or 5432}"


def _count_files(root: Path) -> int:
    return sum(len(files) for _d, _s, files in os.walk(root)) if root.is_dir() else 0


# ---------------------------------------------------------------------------- restore


def backup_restore(path: Path | str, *, using: str = "default") -> RestoreResult:
    """Replace the database and MEDIA_ROOT with the backup at `path`, then compare the row
    counts with the manifest. The servers and the task worker should be stopped first.

    Order: verify every part; unpack the media next to MEDIA_ROOT (nothing replaced yet);
    restore the database (a failure leaves it as it was: one transaction on PostgreSQL, one
    backup step on SQLite); swap the media in; count."""
    started = time.monotonic()
    path = Path(path)
    manifest, _lines = restore_plan(path, using=using)
    connection = connections[using]
    staged = _media_stage(path / MEDIA_PART)
    try:
        # Restore replaces the file or the schema under the connections; none may linger.
        connections.close_all()
        part = path / manifest["database"]["part"]
        if connection.vendor == "sqlite":
            _sqlite_restore(connection, part)
        else:
            _postgres_restore(connection, part)
        _media_swap(staged)
    finally:
        shutil.rmtree(staged.parent, ignore_errors=True)
    counts = _counts_now(connection, manifest["row_counts"])
    pending, unknown = _migrations_after_restore(connection)
    result = RestoreResult(
        manifest=manifest,
        counts=counts,
        seconds=time.monotonic() - started,
        migrations_pending=pending,
        migrations_unknown=unknown,
    )
    log = logger.error if result.mismatches else logger.info
    log(
        "backup restored: %s into %s (%.1f s, %d tables, %d differ)",
        path,
        connection.vendor,
        result.seconds,
        len(counts),
        len(result.mismatches),
    )
    return result


def _sqlite_restore(connection, part: Path) -> None:
    live = _sqlite_path(connection)
    live.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{part}?mode=ro", uri=True)
    target = sqlite3.connect(live, timeout=20)
    try:
        target.execute("PRAGMA busy_timeout=20000")
        # Through the backup API rather than a file copy: it takes the database's locks and
        # writes through its journal, so a reader left running never sees a half-copied file.
        source.backup(target)
        _sqlite_check(target, f"the restored {live}")
    except sqlite3.Error as exc:
        raise BackupError(f"Restore into the SQLite database {live} failed: {exc}") from exc
    finally:
        target.close()
        source.close()


def _postgres_restore(connection, part: Path) -> None:
    connection.ensure_connection()
    server_major = connection.pg_version // 10000
    connection.close()
    pg_restore = _pg_tool("pg_restore", server_major)
    name = connection.settings_dict["NAME"]
    _run_pg(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-acl",
            # All or nothing: a failed restore leaves the database as it was.
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={name}",
            str(part),
        ],
        connection,
        what=f"pg_restore into the database {name}",
    )


def _counts_now(connection, expected: dict[str, int]) -> dict[str, tuple[int, int | None]]:
    counts = {}
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        for table, rows in sorted(expected.items()):
            if table not in existing:
                counts[table] = (rows, None)
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = (rows, cursor.fetchone()[0])
    return counts


def _migrations_after_restore(connection) -> tuple[list[str], list[str]]:
    """Migrations of this code not in the restored database (run migrate), and migrations in
    the database this code does not know (the backup is from a newer version)."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    pending = [
        f"{m.app_label}.{m.name}" for m, _back in executor.migration_plan(graph.leaf_nodes())
    ]
    unknown = [
        f"{app}.{name}"
        for app, name in sorted(executor.loader.applied_migrations)
        if (app, name) not in graph.nodes
    ]
    return pending, unknown


def _media_stage(archive: Path) -> Path:
    """Unpack the archive into a new directory beside MEDIA_ROOT (same file system, so the
    swap is a rename) and return the unpacked media directory."""
    media_root = Path(settings.MEDIA_ROOT)
    media_root.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".restore-media-", dir=media_root.parent))
    try:
        with tarfile.open(archive, "r") as tar:
            for member in tar.getmembers():
                if member.name != MEDIA_ARCNAME and not member.name.startswith(MEDIA_ARCNAME + "/"):
                    raise BackupError(f"{archive} holds {member.name!r} outside media/")
            # The "data" filter refuses absolute paths, .. and links leaving the directory.
            tar.extractall(stage, filter="data")
    except (OSError, tarfile.TarError) as exc:
        shutil.rmtree(stage, ignore_errors=True)
        raise BackupError(f"Unpacking {archive} failed: {exc}") from exc
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return stage / MEDIA_ARCNAME


def _media_swap(staged: Path) -> None:
    media_root = Path(settings.MEDIA_ROOT)
    previous = staged.parent / "previous"
    try:
        if media_root.exists():
            os.rename(media_root, previous)
        os.rename(staged, media_root)
    except OSError:
        # MEDIA_ROOT is a mount point (or otherwise cannot be renamed): swap its contents.
        media_root.mkdir(parents=True, exist_ok=True)
        previous.mkdir(exist_ok=True)
        for entry in list(media_root.iterdir()):
            os.rename(entry, previous / entry.name)
        for entry in list(staged.iterdir()):
            os.rename(entry, media_root / entry.name)


# ---------------------------------------------------------------------------- PostgreSQL tools

# libpq connection options that Django passes in OPTIONS, as the variables the tools read.
_PG_OPTION_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "options": "PGOPTIONS",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
}


def _pg_env(connection) -> dict[str, str]:
    """The connection of settings.DATABASES as libpq variables. The password goes in
    PGPASSWORD, never on a command line that `ps` shows to every user."""
    s = connection.settings_dict
    env = dict(os.environ)
    for key, var in (
        ("NAME", "PGDATABASE"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
    ):
        if s.get(key):
            env[var] = str(s[key])
    for option, var in _PG_OPTION_ENV.items():
        if option in (s.get("OPTIONS") or {}):
            env[var] = str(s["OPTIONS"][option])
    return env


def _pg_tool(name: str, server_major: int) -> str:
    """The pg_dump/pg_restore for this server: HUXIAO_BACKUP_PG_BIN_DIR, then Debian's
    /usr/lib/postgresql/<major>/bin, then PATH. An older tool than the server is refused
    (pg_dump would refuse it anyway, less clearly)."""
    candidates = []
    if settings.HUXIAO_BACKUP_PG_BIN_DIR:
        candidates.append(Path(settings.HUXIAO_BACKUP_PG_BIN_DIR) / name)
    candidates.append(Path(f"/usr/lib/postgresql/{server_major}/bin/{name}"))
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    tool = next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)
    if tool is None:
        raise BackupError(
            f"{name} was not found. Install the PostgreSQL {server_major} client tools "
            f"(scripts/install-ops-tools.sh) or set HUXIAO_BACKUP_PG_BIN_DIR"
        )
    version = subprocess.run(  # noqa: S603
        [str(tool), "--version"], capture_output=True, text=True, check=False
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", version)
    if match and int(match.group(1)) < server_major:
        raise BackupError(
            f"{tool} is version {match.group(1)} but the server is PostgreSQL {server_major}; "
            f"install the PostgreSQL {server_major} client tools or set HUXIAO_BACKUP_PG_BIN_DIR"
        )
    return str(tool)


def _run_pg(args: list[str], connection, *, what: str) -> None:
    done = subprocess.run(  # noqa: S603
        args, env=_pg_env(connection), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise BackupError(f"{what} failed (exit {done.returncode}): " + " / ".join(detail))


# ---------------------------------------------------------------------------- small helpers


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _write_durably(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _app_version() -> str:
    try:
        import tomllib

        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, ValueError):
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("huxiao")
        except PackageNotFoundError:
            return "unknown"
