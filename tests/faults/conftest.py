"""Fault tests: a real server stack in subprocesses, killed and restarted.

They run in `make test` like every other test. Where the stack cannot start (no granian),
they skip with the reason; under CI (CI=true) that is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

import pytest

from bench.servers import GranianWSGI, ServerError
from huxiao.core.layers import relay_dir_for

ROOT = Path(__file__).resolve().parents[2]
THREADS = 8  # alarm boxes (device tokens) seeded; granian's blocking threads


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "faults: starts and kills a real server stack in subprocesses"
    )


def stack_unavailable(message: str):
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


# ------------------------------------------------------------------ the stack


def _backends() -> list:
    backends = ["sqlite"]
    url = os.environ.get("DATABASE_URL", "")
    if urlparse(url).scheme in {"postgres", "postgresql", "pgsql"}:
        backends.append("postgres")
    return backends


def _pg_admin(url: str, statement: str) -> None:
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    params = {
        "host": parsed.hostname or "",
        "port": parsed.port or 5432,
        "user": unquote(parsed.username or ""),
        "password": unquote(parsed.password or ""),
        "dbname": "postgres",
    }
    name = unquote(parsed.path.lstrip("/"))
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(name)))


@dataclass
class Stack:
    env: dict
    var_dir: Path
    database_url: str = ""
    seed: dict = field(default_factory=dict)

    def python(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [sys.executable, *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    def server(self) -> GranianWSGI:
        return GranianWSGI(
            "config.wsgi:application",
            env=self.env,
            log_path=self.var_dir / "granian.log",
            workers=1,
            blocking_threads=THREADS,
        )

    def log_tail(self) -> str:
        path = self.var_dir / "granian.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"

    def dump(self) -> dict:
        return json.loads(self.python("-m", "tests.faults.world", "dump"))


def _stack_env(var_dir: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # The stack is embedded mode on its own database; nothing of the test process's.
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "HUXIAO_ENV"}
        and not key.startswith("PYTEST_")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "HUXIAO_ENV": "embedded",
            "HUXIAO_VAR_DIR": str(var_dir),
            "HUXIAO_TASKS_IMMEDIATE": "0",
            "HUXIAO_LOG_LEVEL": "WARNING",
            "HUXIAO_SECRET_KEY": "fault-test-only-secret-key-not-for-any-deployment",
            "HUXIAO_DATA_KEY": "fault-test-only-data-key-not-for-any-deployment",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _migrate(env: dict) -> None:
    # A loaded two-core machine has needed more than seven minutes for all the migrations;
    # hence the migrated template below, made once per test session and backend.
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise AssertionError(f"migrate failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@dataclass
class MigratedTemplate:
    """A migrated database each stack starts from: a SQLite file to copy, or a PostgreSQL
    database to CREATE DATABASE … TEMPLATE from (or pg_dump for another cluster)."""

    sqlite_file: Path | None = None
    pg_url: str = ""


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory):
    made: dict[str, MigratedTemplate] = {}

    def get(backend: str) -> MigratedTemplate:
        if backend in made:
            return made[backend]
        var_dir = tmp_path_factory.mktemp(f"template-{backend}")
        env = _stack_env(var_dir)
        if backend == "postgres":
            parsed = urlparse(os.environ["DATABASE_URL"])
            name = f"huxiao_faults_tpl_{uuid.uuid4().hex[:10]}"
            url = urlunparse(parsed._replace(path="/" + name))
            _pg_admin(url, "CREATE DATABASE {}")
            made[backend] = MigratedTemplate(pg_url=url)
            env["DATABASE_URL"] = url
            _migrate(env)
        else:
            _migrate(env)
            made[backend] = MigratedTemplate(sqlite_file=var_dir / "huxiao.sqlite3")
        return made[backend]

    yield get
    for template in made.values():
        if template.pg_url:
            _pg_admin(template.pg_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")


@contextlib.contextmanager
def build_stack(
    tmp_path: Path,
    templates,
    backend: str,
    *,
    redis_url: str = "",
    database_url: str = "",
    devices: int = THREADS,
):
    """A seeded stack on a fresh database copied from the migrated template. `database_url`
    names an empty database that exists already (another cluster): the template is
    restored into it with pg_dump | pg_restore."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    env = _stack_env(var_dir)
    template = templates(backend)
    created_url = ""
    if backend == "postgres" and database_url:
        _pg_restore(template.pg_url, database_url)
        env["DATABASE_URL"] = database_url
    elif backend == "postgres":
        parsed = urlparse(template.pg_url)
        name = f"huxiao_faults_{uuid.uuid4().hex[:10]}"
        created_url = urlunparse(parsed._replace(path="/" + name))
        template_name = unquote(parsed.path.lstrip("/"))
        _pg_admin(created_url, f'CREATE DATABASE {{}} TEMPLATE "{template_name}"')
        env["DATABASE_URL"] = created_url
    else:
        shutil.copyfile(template.sqlite_file, var_dir / "huxiao.sqlite3")
    if redis_url:
        env["REDIS_URL"] = redis_url
    stack = Stack(env=env, var_dir=var_dir, database_url=env.get("DATABASE_URL", ""))
    try:
        stack.seed = json.loads(
            stack.python("-m", "tests.faults.world", "seed", "--devices", str(devices))
        )
        yield stack
    finally:
        if created_url:
            _pg_admin(created_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")
        # The servers' relay sockets sit in a short directory under the temp dir (the
        # var dir is too long for a socket address); it would outlive tmp_path.
        shutil.rmtree(relay_dir_for(var_dir / "run" / "channels"), ignore_errors=True)


def _pg_restore(source_url: str, target_url: str) -> None:
    """Copy a database to another cluster (same major version): pg_dump | pg_restore."""
    bin_dir = pg_bin_dir()
    dump = subprocess.run(
        [str(bin_dir / "pg_dump"), "--format=custom", "--no-owner", "--dbname", source_url],
        capture_output=True,
        timeout=300,
        check=True,
    )
    subprocess.run(
        [str(bin_dir / "pg_restore"), "--no-owner", "--dbname", target_url],
        input=dump.stdout,
        capture_output=True,
        timeout=300,
        check=True,
    )


def pg_bin_dir() -> Path:
    """The PostgreSQL server binaries (initdb, pg_ctl, pg_dump) of the newest installed
    major version, Debian's layout."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not candidates:
        stack_unavailable("no PostgreSQL server binaries under /usr/lib/postgresql")
    return candidates[-1]


@pytest.fixture(params=_backends())
def stack(request, tmp_path, migrated_templates):
    with build_stack(tmp_path, migrated_templates, request.param) as stack:
        yield stack


def start_server(stack: Stack, server=None):
    server = server or stack.server()
    try:
        server.start(timeout_s=30)
    except (ServerError, FileNotFoundError, PermissionError) as exc:
        server.stop()
        stack_unavailable(f"granian could not start {server.target}: {exc}\n{stack.log_tail()}")
    return server
