"""The embedded mode's task queue on SQLite with the main database's durability (ADR 0003).

huey's `SqliteStorage` leaves SQLite's `synchronous` at its default, FULL: in WAL mode every
enqueue then waits for an fsync of `var/tasks.sqlite3`. An alarm schedules its escalation
check on commit, inside the request of the alarm box that raised it, so that fsync
(0.5 ms on a quiet disk, far more on a busy one) was paid by every alarm, after the alarm
itself had been committed to the main database with `synchronous=NORMAL`
(config/env.py). NORMAL in WAL mode survives a crash of any process; on a power loss the
last transactions may be lost, never the database — the same for both files now. A task
lost that way is re-created by the periodic sweeps (escalations, reminders), as for a
task whose worker died.
"""

from __future__ import annotations

from huey import SqliteHuey
from huey.storage import SqliteStorage


class DurableAsMainSqliteStorage(SqliteStorage):
    def _create_connection(self):
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


class EmbeddedHuey(SqliteHuey):
    storage_class = DurableAsMainSqliteStorage
