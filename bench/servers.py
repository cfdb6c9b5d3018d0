"""Start a granian WSGI server in its own process group and stop it (and its workers) cleanly."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def granian_path() -> str:
    candidate = Path(sys.executable).with_name("granian")
    return str(candidate) if candidate.exists() else "granian"


class GranianWSGI:
    """`granian --interface wsgi` with the same flags as `manage.py serve` (ADR 0002)."""

    def __init__(
        self,
        target: str,
        *,
        env: dict[str, str],
        log_path: Path,
        workers: int = 1,
        blocking_threads: int = 8,
        host: str = "127.0.0.1",
    ):
        self.target = target
        self.env = env
        self.log_path = log_path
        self.host = host
        self.port = free_port()
        self.command = [
            granian_path(),
            "--interface",
            "wsgi",
            "--host",
            host,
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--blocking-threads",
            str(blocking_threads),
            "--no-ws",
            target,
        ]
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, ready_path: str = "/healthz", timeout_s: float = 30.0) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child
        try:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() reaches the workers
            )
        finally:
            log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"{self.target} exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                with urllib.request.urlopen(self.base_url + ready_path, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise ServerError(
            f"{self.target} did not answer within {timeout_s:g}s; see {self.log_path}"
        )

    def stop(self, timeout_s: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        pgid = process.pid  # start_new_session: the group id is the child's pid
        if process.poll() is None:
            try:
                os.killpg(pgid, signal.SIGTERM)
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(pgid, signal.SIGKILL)
                process.wait(timeout=5)
            except ProcessLookupError:
                pass
        # Workers that outlived the main process (they share its group).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
