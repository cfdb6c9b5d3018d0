"""The production layout on this machine: nginx (deploy/nginx/huxiao.conf, rendered by
deploy/nginx/render.sh) with TLS in front of two WSGI and two ASGI granian servers, the huey
worker, PostgreSQL and Redis, all in subprocesses with HUXIAO_ENV=production.

Scale mode needs PostgreSQL and Redis: without a postgres DATABASE_URL and a REDIS_URL the
test skips and says so (the CI pass that sets both runs it). Where the stack cannot start
(no nginx, openssl, envsubst or granian) it skips with the reason; under CI (CI=true) that
is a failure, never a skip. scripts/install-deploy-tools.sh installs nginx and the rest.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse

import pytest

from bench.alarm_servers import GranianASGI
from bench.servers import GranianWSGI, ServerError, free_port

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "huxiao.conf"
RENDER = ROOT / "deploy" / "nginx" / "render.sh"
DEVICES = 8  # alarm boxes seeded: the load's concurrency
CONSOLES = 8  # console sockets of the load, spread by nginx over the ASGI servers


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def stack_unavailable(message: str):
    if _ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def scale_mode_configured() -> tuple[bool, str]:
    database = urlparse(os.environ.get("DATABASE_URL", "")).scheme
    if database not in {"postgres", "postgresql", "pgsql"}:
        return False, "scale mode needs a postgres DATABASE_URL"
    if not os.environ.get("REDIS_URL"):
        return False, "scale mode needs REDIS_URL"
    return True, ""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None
    )


# ------------------------------------------------------------------ PostgreSQL and Redis


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


def _redis_delete(url: str, prefix: str) -> int:
    """Delete the keys holding `prefix` (cache, channel layer, huey): the stack's only."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
        return len(keys)
    finally:
        client.close()


# ------------------------------------------------------------------ processes


class ProxiedServer:
    """Readiness for a server behind the proxy. With HUXIAO_ENV=production Django redirects
    plain HTTP to HTTPS unless the proxy vouches for HTTPS (SECURE_PROXY_SSL_HEADER), and
    answers only the allowed host names: the probe says what nginx says."""

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        request = urllib.request.Request(
            self.base_url + "/healthz",
            headers={"X-Forwarded-Proto": "https", "Host": "127.0.0.1"},
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"{self.target} exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise ServerError(f"{self.target} did not answer within {timeout_s:g}s")

    def spawn(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                self.command,
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stop() reaches the workers
            )


class WSGIServer(ProxiedServer, GranianWSGI):
    pass


class ASGIServer(ProxiedServer, GranianASGI):
    pass


class GroupProcess:
    """A plain subprocess in its own process group (nginx, the huey worker)."""

    def __init__(self, command: list[str], *, env: dict, log_path: Path, stop_signal=None):
        self.command = command
        self.env = env
        self.log_path = log_path
        self.stop_signal = stop_signal or signal.SIGTERM
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                self.command,
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        pgid = process.pid
        if process.poll() is None:
            try:
                os.killpg(pgid, self.stop_signal)
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(pgid, signal.SIGKILL)
                process.wait(timeout=5)
            except ProcessLookupError:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


# ------------------------------------------------------------------ the stack


@dataclass
class ScaleStack:
    """What the test drives: the public origin, the certificate to trust, the logs."""

    dir: Path
    env: dict
    origin: str  # https://127.0.0.1:<port>
    http_origin: str  # http://127.0.0.1:<port> (redirects only)
    cert: Path
    nginx_access_log: Path
    static_root: Path
    password: str
    seed: dict = field(default_factory=dict)
    wsgi: list = field(default_factory=list)
    asgi: list = field(default_factory=list)
    worker: GroupProcess | None = None
    nginx: GroupProcess | None = None

    @property
    def ws_origin(self) -> str:
        return "wss://" + self.origin.removeprefix("https://")

    def python(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(  # noqa: S603
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

    def alarms(self) -> list[dict]:
        return json.loads(self.python("-m", "tests.scale.world", "alarms"))["alarms"]

    def access_log(self) -> list[dict]:
        """nginx's access lines (deploy/nginx/huxiao.conf's `huxiao` format), parsed."""
        entries = []
        if not self.nginx_access_log.exists():
            return entries
        for line in self.nginx_access_log.read_text(errors="replace").splitlines():
            try:
                request = line.split('"', 2)[1]
                status = int(line.split('"', 2)[2].split()[0])
            except (IndexError, ValueError):
                continue
            upstream = line.rsplit(" upstream=", 1)[-1].split(" ", 1)[0]
            parts = request.split(" ")
            entries.append(
                {
                    "method": parts[0],
                    "path": parts[1] if len(parts) > 1 else "",
                    "status": status,
                    "upstream": upstream,
                }
            )
        return entries

    def dead(self) -> list[str]:
        """Names of the processes that have died (empty when all run)."""
        dead = [
            f"{server.target}:{server.port}"
            for server in [*self.wsgi, *self.asgi]
            if server.process is None or server.process.poll() is not None
        ]
        dead += [
            name
            for name, p in (("worker", self.worker), ("nginx", self.nginx))
            if not (p and p.alive())
        ]
        return dead

    def tracebacks(self) -> dict[str, int]:
        """Tracebacks in the servers' and the worker's logs, by log."""
        found = {}
        for path in sorted(self.dir.glob("logs/*.log")):
            count = path.read_text(errors="replace").count("Traceback (most recent call last)")
            if count:
                found[path.name] = count
        return found

    def logs(self) -> str:
        parts = []
        for path in sorted(self.dir.glob("logs/*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}")
        return "\n".join(parts)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    done = subprocess.run(  # noqa: S603
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise AssertionError(f"openssl failed: {done.stderr}")
    return cert, key


def _render_nginx(variables: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603
        ["bash", str(RENDER), str(TEMPLATE)],
        env={**os.environ, **variables},
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        raise AssertionError(f"render.sh failed: {done.stderr}")
    return done.stdout


def _nginx_main_conf(prefix: Path, site: Path) -> str:
    """The http {} around the site, as Debian's /etc/nginx/nginx.conf puts it around
    sites-enabled/, with every path inside the test's prefix."""
    user = "user www-data;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""{user}worker_processes 2;
pid {prefix / "nginx.pid"};
error_log {prefix / "logs" / "nginx-error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
{temp}
    include {site};
}}
"""


def _wait_for_https(origin: str, cert: Path, nginx: GroupProcess, timeout_s: float = 30) -> None:
    import ssl

    context = ssl.create_default_context(cafile=str(cert))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not nginx.alive():
            raise ServerError(f"nginx exited; see {nginx.log_path}")
        try:
            with urllib.request.urlopen(  # noqa: S310
                origin + "/healthz", timeout=2, context=context
            ) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise ServerError(f"nginx did not answer on {origin} within {timeout_s:g}s")


@pytest.fixture
def scale_stack():
    """Builds and tears down the whole layout; every process in its own group, each
    stopped in `finally`, the throwaway database dropped and the Redis prefix deleted."""
    configured, reason = scale_mode_configured()
    if not configured:
        pytest.skip(reason)
    for tool in ("openssl", "envsubst"):
        if not shutil.which(tool):
            stack_unavailable(f"{tool} is missing: run scripts/install-deploy-tools.sh")
    nginx = nginx_binary()
    if not nginx:
        stack_unavailable("nginx is missing: run scripts/install-deploy-tools.sh")

    # A directory nginx's workers (www-data when the test runs as root) can read: pytest's
    # tmp_path is private to the user.
    stack_dir = Path(tempfile.mkdtemp(prefix="huxiao-scale-"))
    stack_dir.chmod(0o755)
    for sub in ("logs", "var", "temp", "tls"):
        (stack_dir / sub).mkdir()
        (stack_dir / sub).chmod(0o755)
    run_id = secrets.token_hex(5)
    redis_url = os.environ["REDIS_URL"]
    # Letters and digits only: huey drops anything else from its key names.
    redis_prefix = f"huxiaoscale{run_id}"
    parsed = urlparse(os.environ["DATABASE_URL"])
    database_url = urlunparse(parsed._replace(path=f"/huxiao_scale_{run_id}"))
    https_port, http_port = free_port(), free_port()
    origin = f"https://127.0.0.1:{https_port}"
    password = secrets.token_urlsafe(12)
    env = {
        key: value
        for key, value in os.environ.items()
        # The stack is configured here, from nothing of the test process's own settings.
        if not key.startswith(("HUXIAO_", "PYTEST_"))
        and key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "HUXIAO_ENV": "production",
            "HUXIAO_SECRET_KEY": secrets.token_urlsafe(50),
            "HUXIAO_DATA_KEY": secrets.token_urlsafe(32),
            "HUXIAO_HASH_KEY": secrets.token_urlsafe(32),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "HUXIAO_REDIS_PREFIX": redis_prefix,
            "HUXIAO_VAR_DIR": str(stack_dir / "var"),
            "HUXIAO_WS_URL": "/ws/",
            "HUXIAO_TRUSTED_PROXIES": "127.0.0.1",
            "HUXIAO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Behind a non-default port the Origin carries it; the proxy's Host does not.
            "HUXIAO_CSRF_TRUSTED_ORIGINS": origin,
            "HUXIAO_LOG_LEVEL": "WARNING",
            # Soon enough that the test sees the worker escalate unacknowledged alarms,
            # late enough that no escalation runs while latency is measured.
            "HUXIAO_ALARM_ESCALATE_AFTER_SECONDS": "10",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    cert, key = _self_signed(stack_dir / "tls")
    (stack_dir / "tls").chmod(0o755)
    key.chmod(0o644)  # throwaway key; nginx's master reads it (root), workers never do
    stack = ScaleStack(
        dir=stack_dir,
        env=env,
        origin=origin,
        http_origin=f"http://127.0.0.1:{http_port}",
        cert=cert,
        nginx_access_log=stack_dir / "logs" / "huxiao-access.log",
        static_root=stack_dir / "var" / "static",
        password=password,
    )
    database_created = False
    try:
        _pg_admin(database_url, "CREATE DATABASE {}")
        database_created = True
        # A loaded two-core machine has needed more than three minutes for all migrations.
        stack.python("manage.py", "migrate", "--noinput", timeout=900)
        stack.python("manage.py", "collectstatic", "--noinput", timeout=300)
        stack.seed = json.loads(
            stack.python(
                "-m",
                "tests.scale.world",
                "seed",
                "--devices",
                str(DEVICES),
                "--consoles",
                str(CONSOLES),
                "--password",
                password,
            )
        )
        logs = stack_dir / "logs"
        try:
            for i in range(2):
                server = WSGIServer(
                    "config.wsgi:application",
                    env=env,
                    log_path=logs / f"wsgi{i}.log",
                    workers=1,
                    blocking_threads=8,
                )
                stack.wsgi.append(server)
                server.spawn()
                server = ASGIServer(
                    "config.asgi:application", env=env, log_path=logs / f"asgi{i}.log"
                )
                stack.asgi.append(server)
                server.spawn()
            for server in [*stack.wsgi, *stack.asgi]:
                server.wait_ready()
        except (ServerError, FileNotFoundError, PermissionError) as exc:
            stack_unavailable(f"granian could not start: {exc}\n{stack.logs()}")
        stack.worker = GroupProcess(
            [sys.executable, "manage.py", "run_huey"], env=env, log_path=logs / "worker.log"
        )
        stack.worker.start()

        site = stack_dir / "huxiao.conf"
        site.write_text(
            _render_nginx(
                {
                    "HUXIAO_NGINX_SERVER_NAME": "127.0.0.1 localhost",
                    "HUXIAO_NGINX_PUBLIC_ORIGIN": origin,
                    "HUXIAO_NGINX_HTTP_LISTEN": f"127.0.0.1:{http_port}",
                    "HUXIAO_NGINX_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
                    "HUXIAO_NGINX_TLS_CERT": str(cert),
                    "HUXIAO_NGINX_TLS_KEY": str(key),
                    "HUXIAO_NGINX_STATIC_ROOT": str(stack.static_root),
                    "HUXIAO_NGINX_LOG_DIR": str(logs),
                    "HUXIAO_NGINX_WSGI_SERVERS": " ".join(
                        f"server 127.0.0.1:{s.port};" for s in stack.wsgi
                    ),
                    "HUXIAO_NGINX_ASGI_SERVERS": " ".join(
                        f"server 127.0.0.1:{s.port};" for s in stack.asgi
                    ),
                },
            )
        )
        main_conf = stack_dir / "nginx.conf"
        main_conf.write_text(_nginx_main_conf(stack_dir, site))
        nginx_command = [
            nginx,
            "-p",
            str(stack_dir),
            "-e",
            str(logs / "nginx-error.log"),
            "-c",
            str(main_conf),
        ]
        checked = subprocess.run(  # noqa: S603
            [*nginx_command, "-t"], capture_output=True, text=True, timeout=30
        )
        assert checked.returncode == 0, f"nginx -t refused the rendered template:\n{checked.stderr}"
        stack.nginx = GroupProcess(
            [*nginx_command, "-g", "daemon off;"],
            env=env,
            log_path=logs / "nginx-stdout.log",
            stop_signal=signal.SIGQUIT,  # graceful: lets the access log be written
        )
        stack.nginx.start()
        _wait_for_https(origin, cert, stack.nginx)
        yield stack
    finally:
        for process in [stack.nginx, stack.worker, *stack.wsgi, *stack.asgi]:
            if process is not None:
                with contextlib.suppress(Exception):
                    process.stop()
        with contextlib.suppress(Exception):
            _redis_delete(redis_url, redis_prefix)
        if database_created:
            _pg_admin(database_url, "DROP DATABASE IF EXISTS {} WITH (FORCE)")
        if os.environ.get("HUXIAO_SCALE_KEEP"):
            print(f"scale stack kept in {stack_dir}", file=sys.stderr)
        else:
            shutil.rmtree(stack_dir, ignore_errors=True)
