"""Settings for the test suite: the same settings module with the test environment."""

import os

os.environ.setdefault("HUXIAO_ENV", "test")
os.environ.setdefault("HUXIAO_TASKS_IMMEDIATE", "1")
os.environ.setdefault(
    "HUXIAO_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test")
)
# Fixed, obviously-fake keys so encrypted test data is reproducible; never used outside tests.
os.environ.setdefault("HUXIAO_SECRET_KEY", "test-only-secret-key-not-for-any-deployment-0000")
os.environ.setdefault("HUXIAO_DATA_KEY", "test-only-data-key-not-for-any-deployment-00000")

from config.settings import *  # noqa: E402,F403
from config.settings import CACHES, CHANNEL_LAYERS, HUEY, REDIS_URL  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if REDIS_URL:  # scale mode: the same suite against real Redis
    import uuid

    # The pytest-xdist workers of one run, and runs side by side, share one Redis: every
    # key of a worker starts with its own prefix (ADR 0015). Otherwise group "school.1",
    # which every worker's test database has, would deliver one worker's alarms to
    # another's consoles. conftest.py deletes the prefix's keys when the worker ends;
    # whatever an interrupted run leaves expires by itself (messages 60 s, cache entries
    # 300 s, groups after the group_expiry below).
    _run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    HUXIAO_TEST_REDIS_PREFIX = f"huxiao-test:{_run[:12]}:{_worker}:"
    CACHES["default"]["KEY_PREFIX"] = HUXIAO_TEST_REDIS_PREFIX + "cache"
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = HUXIAO_TEST_REDIS_PREFIX + "layer:"
    CHANNEL_LAYERS["default"]["CONFIG"]["group_expiry"] = 3600
    # Tasks run at once in memory (HUXIAO_TASKS_IMMEDIATE); a queue that reaches Redis
    # is still the worker's own.
    HUEY = {**HUEY, "name": HUXIAO_TEST_REDIS_PREFIX + "tasks"}
