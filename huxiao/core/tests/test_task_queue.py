"""The embedded task queue's SQLite file is written with the main database's durability."""

import pytest
from django.conf import settings

from huxiao.core.task_queue import EmbeddedHuey


def test_the_embedded_queue_commits_without_waiting_for_an_fsync(tmp_path):
    huey = EmbeddedHuey("t", filename=str(tmp_path / "tasks.sqlite3"))
    conn = huey.storage.conn
    # 1 = NORMAL (as config/env.py sets the main database), not SQLite's default FULL (2).
    assert conn.execute("pragma synchronous").fetchone() == (1,)
    assert conn.execute("pragma journal_mode").fetchone() == ("wal",)
    huey.storage.enqueue(b"payload")
    assert huey.storage.queue_size() == 1


def test_embedded_mode_uses_it():
    if settings.HUEY["huey_class"] == "huey.RedisHuey":
        pytest.skip("scale mode: the queue is on Redis")
    assert settings.HUEY["huey_class"] == "huxiao.core.task_queue.EmbeddedHuey"
