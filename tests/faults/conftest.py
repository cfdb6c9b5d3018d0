"""Fault tests: a real server stack in subprocesses, killed and restarted.

They run in `make test` like every other test. Where the stack cannot start (no granian),
they skip with the reason; under CI (CI=true) that is a failure, never a skip.
"""

from __future__ import annotations

import os

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "faults: starts and kills a real server stack in subprocesses"
    )


def stack_unavailable(message: str):
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
