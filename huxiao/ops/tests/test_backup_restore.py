"""`manage.py backup` and `manage.py restore` on a site of their own (conftest.site), on the
configured database vendor: SQLite by default, PostgreSQL with DATABASE_URL."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time

import pytest

from huxiao.ops.backup import MANIFEST, MEDIA_PART

# Only so that pytest-django creates the test database, which conftest.site_template copies;
# the tests themselves work on sites of their own.
pytestmark = pytest.mark.django_db


def _manifest(backup) -> dict:
    return json.loads((backup / MANIFEST).read_text())


def _flip_byte(path, offset: int) -> bytes:
    data = bytearray(path.read_bytes())
    original = bytes(data)
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    return original


def test_restore_brings_back_rows_encrypted_ids_and_files(site):
    seeded = site.world("seed")
    before = site.world("dump")
    assert len(before["children"]) == 3
    assert all(len(child[2]) == 18 for child in before["children"])  # decrypted ID numbers
    assert before["reports"][0][3] is True  # the report's PDF bytes as written
    assert len(before["media"]) == 2

    done = site.manage("backup")
    [backup] = site.backups()
    assert str(backup) in done.stdout
    manifest = _manifest(backup)
    assert manifest["format_version"] == 1
    assert manifest["database"]["vendor"] == site.vendor
    assert manifest["database"]["migrations"]["people"].startswith("0001")
    assert manifest["row_counts"]["people_child"] == 3
    assert manifest["row_counts"]["people_guardian"] == 3
    assert manifest["row_counts"]["reports_report"] == 1
    assert manifest["media"]["files"] == 2
    for part, facts in manifest["parts"].items():
        content = (backup / part).read_bytes()
        assert facts == {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}

    changed = site.world("mutate")
    mutated = site.world("dump")
    # The damage is real: every sampled kind of record and file differs before the restore.
    for key in ("children", "guardians", "staff", "media"):
        assert mutated[key] != before[key], key
    assert mutated["reports"][0][3] is False
    assert changed["deleted_child"] not in [c[0] for c in mutated["children"]]

    done = site.manage("restore", str(backup), "--yes")
    assert "all row counts equal to the backup" in done.stdout
    after = site.world("dump")
    assert after == before
    assert seeded["children"] == [c[0] for c in after["children"]]


def test_restore_without_yes_says_what_and_changes_nothing(site):
    site.world("seed")
    site.manage("backup")
    [backup] = site.backups()
    site.world("mutate")
    mutated = site.world("dump")

    done = site.manage("restore", str(backup), ok=False)
    assert done.returncode != 0
    assert "would replace the whole" in done.stdout
    assert str(site.media_root) in done.stdout
    assert "--yes" in done.stderr
    assert site.world("dump") == mutated


@pytest.mark.parametrize("part", ["database", "media"])
def test_a_damaged_part_is_refused_before_anything_changes(site, part):
    site.world("seed")
    site.manage("backup")
    [backup] = site.backups()
    manifest = _manifest(backup)
    name = manifest["database"]["part"] if part == "database" else MEDIA_PART
    target = backup / name
    _flip_byte(target, target.stat().st_size // 2)
    site.world("mutate")
    mutated = site.world("dump")

    done = site.manage("restore", str(backup), "--yes", ok=False)
    assert done.returncode != 0
    assert f"{name}: sha256 differs from the manifest" in done.stderr
    assert "nothing was changed" in done.stderr
    assert site.world("dump") == mutated


def test_a_backup_of_the_other_vendor_is_refused(site):
    site.manage("backup")
    [backup] = site.backups()
    manifest = _manifest(backup)
    other = "postgresql" if site.vendor == "sqlite" else "sqlite"
    manifest["database"]["vendor"] = other
    (backup / MANIFEST).write_text(json.dumps(manifest))

    done = site.manage("restore", str(backup), "--yes", ok=False)
    assert done.returncode != 0
    assert (
        f"This backup holds a {other} database but the configured database is {site.vendor}"
        in done.stderr
    )


def test_a_failed_backup_leaves_nothing_that_looks_complete(site, tmp_path):
    not_a_directory = tmp_path / "media-is-a-file"
    not_a_directory.write_text("x")

    done = site.manage("backup", ok=False, env={"HUXIAO_MEDIA_ROOT": str(not_a_directory)})
    assert done.returncode != 0
    assert "Backup failed" in done.stderr
    assert "is not a directory" in done.stderr
    # The database part had been written; it went with its unfinished directory.
    assert [p.name for p in site.backup_dir.iterdir()] == [".lock"]


def test_retention_keeps_the_newest_and_the_nightly_task(site):
    site.backup_dir.mkdir()
    stale = site.backup_dir / ".partial-huxiao-20000101T000000Z-abc"
    stale.mkdir()
    (stale / "database.sqlite3").write_bytes(b"killed half way")
    script = (
        "import json\n"
        "from huxiao.ops.tasks import backup_nightly\n"
        "print(json.dumps([backup_nightly.call_local() for _ in range(3)]))\n"
    )

    off = site.manage("shell", "-c", script, env={"HUXIAO_BACKUP_SCHEDULE": "0"})
    assert json.loads(off.stdout.splitlines()[-1]) == [{"skipped": True}] * 3
    assert site.backups() == []

    on = site.manage(
        "shell", "-c", script, env={"HUXIAO_BACKUP_SCHEDULE": "1", "HUXIAO_BACKUP_KEEP": "2"}
    )
    runs = json.loads(on.stdout.splitlines()[-1])
    made = [run["path"].rsplit("/", 1)[-1] for run in runs]
    assert [run["pruned"] for run in runs] == [[], [], [made[0]]]
    assert [p.name for p in site.backups()] == made[1:]
    assert not stale.exists()

    site.manage("backup", "--keep", "1")
    [kept] = site.backups()
    assert kept.name not in made


def test_the_nightly_backup_is_at_half_past_two_local_time():
    import datetime as dt

    from huxiao.ops.tasks import backup_nightly

    # huey checks its crontabs against local naive time (settings.HUEY utc=False).
    task = backup_nightly.task_class()
    assert task.validate_datetime(dt.datetime(2026, 3, 1, 2, 30))
    assert not task.validate_datetime(dt.datetime(2026, 3, 1, 2, 31))
    assert not task.validate_datetime(dt.datetime(2026, 3, 1, 14, 30))


# ------------------------------------------------------------------ a backup under writes

BATCH = 5  # rows per writer transaction


class Writer(threading.Thread):
    """Commits BATCH regions per transaction, as fast as it can, until stopped."""

    def __init__(self, site):
        super().__init__(daemon=True)
        self.site = site
        self.batches = 0
        self.error: BaseException | None = None
        self.stopped = threading.Event()

    def run(self):
        try:
            if self.site.vendor == "sqlite":
                self._run_sqlite()
            else:
                self._run_postgres()
        except BaseException as exc:  # reported by the test
            self.error = exc

    def _rows(self):
        return [(f"写入{self.batches}", f"W{self.batches:06d}{i}") for i in range(BATCH)]

    def _run_sqlite(self):
        conn = sqlite3.connect(self.site.sqlite_path(), timeout=30, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA journal_mode=WAL")  # as the servers open it
        try:
            while not self.stopped.is_set():
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany("INSERT INTO orgs_region (name, code) VALUES (?, ?)", self._rows())
                conn.execute("COMMIT")
                self.batches += 1
        finally:
            conn.close()

    def _run_postgres(self):
        import psycopg

        with psycopg.connect(self.site.database_url) as conn:
            while not self.stopped.is_set():
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO orgs_region (name, code) VALUES (%s, %s)", self._rows()
                    )
                self.batches += 1


def _query(site, sql: str, params=()) -> list[tuple]:
    if site.vendor == "sqlite":
        conn = sqlite3.connect(site.sqlite_path(), timeout=30)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(site.database_url, autocommit=True) as conn:
        return conn.execute(sql.replace("?", "%s"), params).fetchall()


def _pad(site, megabytes: int) -> None:
    """A table of filler so the copy takes long enough for the writer to commit meanwhile."""
    blob = bytes(range(256)) * 40  # 10 KiB
    rows = [(blob,)] * (megabytes * 100)
    if site.vendor == "sqlite":
        conn = sqlite3.connect(site.sqlite_path())
        with conn:
            conn.execute("CREATE TABLE ops_test_padding (id INTEGER PRIMARY KEY, data BLOB)")
            conn.executemany("INSERT INTO ops_test_padding (data) VALUES (?)", rows)
        conn.close()
        return
    import psycopg

    with psycopg.connect(site.database_url) as conn:
        conn.execute("CREATE TABLE ops_test_padding (id serial PRIMARY KEY, data bytea)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO ops_test_padding (data) VALUES (%s)", rows)


def test_a_backup_taken_while_writing_restores_to_one_consistent_moment(site):
    _pad(site, 30)
    base = _query(site, "SELECT COUNT(*) FROM orgs_region")[0][0]
    writer = Writer(site)
    writer.start()
    try:
        while writer.batches < 20 and writer.error is None:
            time.sleep(0.01)
        batches_before = writer.batches
        site.manage("backup")
        batches_after = writer.batches
    finally:
        writer.stopped.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    # The writer went on committing while the backup ran.
    assert batches_after > batches_before

    [backup] = site.backups()
    in_backup = _manifest(backup)["row_counts"]["orgs_region"] - base
    # Whole transactions only, and from a moment within the backup.
    assert in_backup % BATCH == 0
    batches_in_backup = in_backup // BATCH
    assert batches_before <= batches_in_backup <= batches_after

    done = site.manage("restore", str(backup), "--yes")
    assert "all row counts equal to the backup" in done.stdout
    codes = {
        code for (code,) in _query(site, "SELECT code FROM orgs_region WHERE code LIKE ?", ("W%",))
    }
    assert codes == {f"W{b:06d}{i}" for b in range(batches_in_backup) for i in range(BATCH)}
    if site.vendor == "sqlite":
        assert _query(site, "PRAGMA integrity_check") == [("ok",)]
    assert _query(site, "SELECT COUNT(*) FROM ops_test_padding") == [(3000,)]
