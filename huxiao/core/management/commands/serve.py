"""Start HuXiao: HTTP over WSGI, WebSockets over ASGI, and the task worker (ADR 0002).

One command a person types; three processes underneath, supervised here. If any of them
stops, the others are stopped too, so a half-running platform never looks healthy.

Workers: in embedded mode one WSGI and one ASGI worker process. In scale mode (REDIS_URL)
the channel layer spans processes, so both servers run several worker processes by default
(HUXIAO_HTTP_WORKERS, HUXIAO_WS_WORKERS: 2 each; ADR 0015).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def _granian() -> str:
    candidate = Path(sys.executable).with_name("granian")
    return str(candidate) if candidate.exists() else "granian"


def _workers(variable: str) -> int:
    """Worker processes of one server: the variable if set, else 2 in scale mode (Redis
    carries every push to every process) and 1 in embedded mode."""
    default = 2 if getattr(settings, "REDIS_URL", "") else 1
    return int(os.environ.get(variable) or default)


def _metrics_dir(configured: str | None) -> str:
    """The directory where the servers and the task worker write their metrics, so that
    /metrics on either server reports all of them (huxiao/core/metrics.py). Emptied here:
    the counts of a previous run belong to processes that are gone."""
    directory = Path(configured or settings.VAR_DIR / "run" / "metrics")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    return str(directory)


class Command(BaseCommand):
    help = "Serve HTTP (WSGI, granian), WebSockets (ASGI, granian) and run the task worker."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HUXIAO_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("HUXIAO_PORT", "8000")))
        parser.add_argument("--ws-port", type=int, default=settings.HUXIAO_WS_PORT)
        parser.add_argument("--http-workers", type=int, default=_workers("HUXIAO_HTTP_WORKERS"))
        parser.add_argument("--ws-workers", type=int, default=_workers("HUXIAO_WS_WORKERS"))
        parser.add_argument(
            "--http-threads", type=int, default=int(os.environ.get("HUXIAO_HTTP_THREADS", "8"))
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start the task worker."
        )
        parser.add_argument(
            "--no-mqtt",
            action="store_true",
            help="Do not start the MQTT bridge even if HUXIAO_MQTT_URL is set.",
        )

    def handle(self, *args, **options):
        host, port, ws_port = options["host"], options["port"], options["ws_port"]
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings"),
        }
        env["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir(env.get("PROMETHEUS_MULTIPROC_DIR"))
        commands = {
            "http (wsgi)": [
                _granian(),
                "--interface",
                "wsgi",
                "--host",
                host,
                "--port",
                str(port),
                "--workers",
                str(options["http_workers"]),
                "--blocking-threads",
                str(options["http_threads"]),
                "--no-ws",
                "config.wsgi:application",
            ],
            "websocket (asgi)": [
                _granian(),
                "--interface",
                "asginl",
                "--host",
                host,
                "--port",
                str(ws_port),
                "--workers",
                str(options["ws_workers"]),
                "config.asgi:application",
            ],
        }
        if not options["no_worker"]:
            commands["tasks (huey)"] = [sys.executable, "manage.py", "run_huey", "--quiet"]
        # Alarm boxes that speak MQTT (ADR 0012). The bridge reads HUXIAO_MQTT_URL from the
        # environment it inherits: a broker password never appears in the process list.
        if getattr(settings, "HUXIAO_MQTT_URL", "") and not options["no_mqtt"]:
            commands["mqtt bridge"] = [sys.executable, "manage.py", "mqtt_bridge"]
        processes: dict[str, subprocess.Popen] = {}
        for name, command in commands.items():
            processes[name] = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)  # noqa: S603
        self.stdout.write(
            self.style.SUCCESS(
                f"HuXiao is serving at http://{host}:{port}/  (WebSockets on ws://{host}:{ws_port}/ws/;"
                f" {options['http_workers']} HTTP and {options['ws_workers']} WebSocket workers)"
            )
        )
        stopping = False

        def _stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        exit_code = 0
        try:
            while not stopping:
                for name, process in processes.items():
                    code = process.poll()
                    if code is not None:
                        self.stderr.write(
                            f"{name} stopped with exit code {code}; stopping the rest"
                        )
                        exit_code = code or 1
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            deadline = time.monotonic() + 10
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
        if exit_code:
            sys.exit(exit_code)
