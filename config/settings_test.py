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

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
