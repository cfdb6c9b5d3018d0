"""A site of its own for each backup test: restore replaces the whole database, so the tests
never point it at the test database. The site is `manage.py` run in subprocesses with their
own HUXIAO_VAR_DIR (SQLite) or a throwaway PostgreSQL database, of the same vendor as the
configured one (CI runs the suite on both).

Migrating a fresh database takes about a minute here, so each worker copies its already
migrated test database once into a template (SQLite: the backup API; PostgreSQL: a database
made from a pg_dump of it) and every site starts from a copy of that template.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _pg_admin(statement: str, *names: str) -> None:
    """Run `statement` with identifiers `names` on the server of the configured database."""
    import psycopg
    from django.conf import settings
    from psycopg import sql

    s = settings.DATABASES["default"]
    params = {
        "host": s.get("HOST"),
        "port": s.get("PORT"),
        "user": s.get("USER"),
        "password": s.get("PASSWORD"),
        "dbname": "postgres",
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(*(sql.Identifier(n) for n in names)))


def _pg_url(name: str) -> str:
    from django.conf import settings

    s = settings.DATABASES["default"]
    auth = s.get("USER") or ""
    if s.get("PASSWORD"):
        auth += ":" + s["PASSWORD"]
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or "5432"
    return f"postgres://{auth}@{host}:{port}/{name}"


@pytest.fixture(scope="session")
def site_template(django_db_setup, django_db_blocker, tmp_path_factory):
    """The migrated schema (and whatever rows migrations made), copied from this worker's
    test database: a SQLite file, or the name of a PostgreSQL template database."""
    from django.db import connection

    from huxiao.ops.backup import _pg_env, _pg_tool

    with django_db_blocker.unblock():
        connection.ensure_connection()
        if connection.vendor == "sqlite":
            path = tmp_path_factory.mktemp("ops-template") / "huxiao.sqlite3"
            target = sqlite3.connect(path)
            connection.connection.backup(target)
            target.close()
            yield ("sqlite", path)
            return
        major = connection.pg_version // 10000
        dump = tmp_path_factory.mktemp("ops-template") / "schema.pgdump"
        env = _pg_env(connection)
        subprocess.run(
            [_pg_tool("pg_dump", major), "--format=custom", f"--file={dump}"],
            env=env,
            check=True,
        )
    name = f"huxiao_ops_tpl_{uuid.uuid4().hex[:10]}"
    _pg_admin("CREATE DATABASE {}", name)
    try:
        subprocess.run(
            [_pg_tool("pg_restore", major), "--no-owner", "--exit-on-error", "--dbname", name]
            + [str(dump)],
            env=env,
            check=True,
        )
        yield ("postgresql", name)
    finally:
        _pg_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


@dataclass
class Site:
    vendor: str
    var_dir: Path
    env: dict
    database_url: str = ""

    @property
    def backup_dir(self) -> Path:
        return self.var_dir / "backups"

    @property
    def media_root(self) -> Path:
        return self.var_dir / "media"

    def run(self, *args: str, env: dict | None = None, timeout: float = 300):
        return subprocess.run(
            [sys.executable, *args],
            env={**self.env, **(env or {})},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def manage(self, *args: str, ok: bool = True, env: dict | None = None):
        done = self.run("manage.py", *args, env=env)
        if ok and done.returncode != 0:
            raise AssertionError(
                f"manage.py {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout}\n{done.stderr}"
            )
        return done

    def world(self, command: str) -> dict:
        done = self.run("-m", "huxiao.ops.tests.world", command)
        if done.returncode != 0:
            raise AssertionError(f"world {command} failed:\n{done.stdout}\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def backups(self) -> list[Path]:
        if not self.backup_dir.is_dir():
            return []
        return sorted(p for p in self.backup_dir.iterdir() if p.name.startswith("huxiao-"))

    def sqlite_path(self) -> Path:
        return self.var_dir / "huxiao.sqlite3"


@pytest.fixture
def site(site_template, tmp_path):
    vendor, template = site_template
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        # The site is embedded mode on its own database: nothing of the test process's.
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
        and not key.startswith("PYTEST_")
        and (not key.startswith("HUXIAO_") or key == "HUXIAO_BACKUP_PG_BIN_DIR")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "HUXIAO_ENV": "embedded",
            "HUXIAO_VAR_DIR": str(var_dir),
            "HUXIAO_TASKS_IMMEDIATE": "1",
            "HUXIAO_LOG_LEVEL": "WARNING",
            "HUXIAO_SECRET_KEY": "ops-test-only-secret-key-not-for-any-deployment",
            "HUXIAO_DATA_KEY": "ops-test-only-data-key-not-for-any-deployment",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    if vendor == "sqlite":
        shutil.copyfile(template, var_dir / "huxiao.sqlite3")
        yield Site(vendor=vendor, var_dir=var_dir, env=env)
        return
    name = f"huxiao_ops_{uuid.uuid4().hex[:10]}"
    _pg_admin("CREATE DATABASE {} TEMPLATE {}", name, template)
    env["DATABASE_URL"] = _pg_url(name)
    try:
        yield Site(vendor=vendor, var_dir=var_dir, env=env, database_url=env["DATABASE_URL"])
    finally:
        _pg_admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)
