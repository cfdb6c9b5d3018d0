"""Fixtures for import tests."""

from __future__ import annotations

import pytest

from huxiao.imports.tests.sheets import upload


@pytest.fixture
def run_job(django_capture_on_commit_callbacks):
    """Create a job through the service and let its queued check run (huey is immediate)."""
    from huxiao.imports import services

    def run(*, actor, school, kind, data, name="roster.xlsx"):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.import_job_create(
                actor=actor, school=school, kind=kind, uploaded_file=upload(data, name)
            )
        job.refresh_from_db()
        return job

    return run


@pytest.fixture(autouse=True)
def english_messages():
    """Service-level assertions read the English messages; pages keep the default language
    (Chinese), since the test client's requests activate their own language."""
    from django.utils import translation

    with translation.override("en"):
        yield
