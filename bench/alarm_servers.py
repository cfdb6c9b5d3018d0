"""The ASGI half of `manage.py serve` for the benchmarks, beside bench/servers.GranianWSGI."""

from __future__ import annotations

from pathlib import Path

from bench.servers import GranianWSGI, granian_path


class GranianASGI(GranianWSGI):
    """`granian --interface asginl --workers 1`, as `manage.py serve` runs the WebSocket
    server (ADR 0002); started and stopped like GranianWSGI (own process group)."""

    def __init__(self, target: str, *, env: dict[str, str], log_path: Path, workers: int = 1):
        super().__init__(target, env=env, log_path=log_path, workers=workers)
        self.command = [
            granian_path(),
            "--interface",
            "asginl",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            target,
        ]

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"
