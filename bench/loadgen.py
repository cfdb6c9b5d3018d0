"""Run wrk and read its report: requests/s, latency percentiles, errors (which are fatal)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

STATUS_SCRIPT = Path(__file__).with_name("status.lua")
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


class LoadError(RuntimeError):
    """The load run failed or saw an error response: its figures must not be used."""


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    requests: int

    def as_dict(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        raise LoadError("wrk is not installed: run scripts/install-bench-tools.sh")
    return found


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse(output: str) -> Sample:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s*(\d+) requests in ", output, re.M)
    pct = {
        int(p): _ms(v, u)
        for p, v, u in re.findall(
            r"^\s+(50|75|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M
        )
    }
    if not rps or not total or set(pct) != {50, 75, 90, 99}:
        raise LoadError(f"could not read the wrk report:\n{output}")
    problems = []
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket and any(int(n) for n in socket.groups()):
        problems.append(socket.group(0))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non2xx and int(non2xx.group(1)):
        problems.append(non2xx.group(0))
    not_ok = re.search(r"^HUXIAO_NOT_OK (\d+) (\d+)", output, re.M)
    if not_ok is None:
        problems.append("the status counter did not report")
    elif int(not_ok.group(1)):
        problems.append(f"{not_ok.group(1)} responses were not 200 (e.g. {not_ok.group(2)})")
    if int(total.group(1)) == 0:
        problems.append("no request completed")
    if problems:
        raise LoadError("; ".join(problems) + f"\n{output}")
    return Sample(
        rps=float(rps.group(1)),
        p50_ms=pct[50],
        p75_ms=pct[75],
        p90_ms=pct[90],
        p99_ms=pct[99],
        requests=int(total.group(1)),
    )


def run_wrk(
    url: str,
    *,
    headers: dict[str, str],
    threads: int,
    connections: int,
    duration_s: int,
    timeout_s: float = 5.0,
    script: Path = STATUS_SCRIPT,
    script_args: Sequence[str] = (),
) -> Sample:
    return parse(
        run_wrk_output(
            url,
            headers=headers,
            threads=threads,
            connections=connections,
            duration_s=duration_s,
            timeout_s=timeout_s,
            script=script,
            script_args=script_args,
        )
    )


def run_wrk_output(
    url: str,
    *,
    headers: dict[str, str],
    threads: int,
    connections: int,
    duration_s: int,
    timeout_s: float = 5.0,
    script: Path = STATUS_SCRIPT,
    script_args: Sequence[str] = (),
) -> str:
    """wrk's report as text. `script` must print the HUXIAO_NOT_OK line as status.lua does;
    `script_args` reach its init(args)."""
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{int(duration_s)}s",  # wrk takes whole seconds
        f"--timeout={timeout_s:g}s",
        "--latency",
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration_s + timeout_s + 30
    )
    if done.returncode != 0:
        raise LoadError(f"wrk exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout
