"""Prometheus metrics of the platform, served at /metrics (huxiao/core/observability.py).

Recorded as things happen:
- `huxiao_http_request_duration_seconds{route,method,status}`: every HTTP request, by URL
  pattern (`/orgs/schools/<int:school_id>/`, never the raw path: the number of series stays
  that of the URL table), method and status class (`2xx`…).
- `huxiao_alarm_ack_seconds{drill}`: raise → acknowledge, observed when the
  acknowledgement commits (huxiao/alarms/services.py).
- `huxiao_websocket_connections{route}`: sockets accepted and still open
  (huxiao/core/routing.py).
- `huxiao_task_failures_total{task}`: task runs that raised (huey's error signal, connected
  by the core app when Django starts).

Read at scrape time, from the database and the queue (`StateCollector`):
- `huxiao_task_queue_pending`, `huxiao_task_queue_scheduled`;
- `huxiao_alarms_open{drill,acknowledged}`, `huxiao_alarm_oldest_unacknowledged_seconds{drill}`;
- `huxiao_collector_up{collector}`: 0 when one of these reads failed (then its metrics are
  missing from that scrape rather than wrong).

Several processes (granian's workers, the ASGI server, the task worker): with
PROMETHEUS_MULTIPROC_DIR set in the environment of *all* of them (the same directory,
emptied before they start), each process writes its values to files there and any one
of them answers /metrics with the sum (prometheus_client's multiprocess mode). Without it,
each process reports only its own values (fine for tests and a single process).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if _MULTIPROC_DIR:
    # prometheus_client opens its files there when the metrics below are created.
    Path(_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)

from prometheus_client import (  # noqa: E402 - after the directory exists
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily  # noqa: E402

logger = logging.getLogger(__name__)

HTTP_REQUEST_SECONDS = Histogram(
    "huxiao_http_request_duration_seconds",
    "Time to answer an HTTP request, by URL pattern, method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ALARM_ACK_SECONDS = Histogram(
    "huxiao_alarm_ack_seconds",
    "Seconds from an alarm's raising to its acknowledgement (observed at acknowledgement).",
    ["drill"],
    buckets=(5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800),
)
WEBSOCKET_CONNECTIONS = Gauge(
    "huxiao_websocket_connections",
    "WebSocket connections accepted and still open.",
    ["route"],
    multiprocess_mode="livesum",
)
TASK_FAILURES = Counter(
    "huxiao_task_failures",
    "Background task runs that raised an exception (a retried task counts each time).",
    ["task"],
)

# Methods outside this set share one label: a client may send any word as its method.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# (route, method, status class) → the histogram's child: `labels()` takes a lock and
# validates its arguments on every call; the dictionary lookup is a fraction of that.
_http_children: dict[tuple[str, str, str], object] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """One HTTP request answered (called by RequestIdMiddleware for every request)."""
    key = (route, method if method in _METHODS else "other", f"{status // 100}xx")
    child = _http_children.get(key)
    if child is None:
        child = _http_children.setdefault(key, HTTP_REQUEST_SECONDS.labels(*key))
    child.observe(seconds)


def alarm_acknowledged(alarm) -> None:
    """Record the alarm's time to acknowledgement once the transaction that set it
    commits (a rolled-back acknowledgement did not happen)."""
    from django.db import transaction

    seconds = alarm.ack_seconds
    if seconds is None:
        return
    drill = "true" if alarm.is_drill else "false"
    transaction.on_commit(lambda: ALARM_ACK_SECONDS.labels(drill).observe(max(seconds, 0.0)))


def _count_task_failure(signal, task, exc=None) -> None:
    TASK_FAILURES.labels(getattr(task, "name", "unknown")).inc()


def connect_task_signals() -> None:
    """Count the failures of huey's tasks (called from CoreConfig.ready; idempotent, since
    huey's `signal()` would append the receiver a second time)."""
    from huey.contrib.djhuey import HUEY
    from huey.signals import SIGNAL_ERROR

    receivers = HUEY._signal.receivers.get(SIGNAL_ERROR, [])
    if _count_task_failure not in receivers:
        HUEY.signal(SIGNAL_ERROR)(_count_task_failure)


class StateCollector:
    """Metrics read when scraped: the task queue's length and the open alarms. Each read
    that fails is reported as `huxiao_collector_up{collector=…} 0` and logged; the scrape
    itself still succeeds."""

    def collect(self):
        up = GaugeMetricFamily(
            "huxiao_collector_up",
            "1 when the scrape-time read of this collector succeeded.",
            labels=["collector"],
        )
        for name, read in (("tasks", self._tasks), ("alarms", self._alarms)):
            try:
                families = list(read())
            except Exception:  # noqa: BLE001 - a scrape must not fail for one source
                logger.warning("metrics collector %s failed", name, exc_info=True)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from families
        yield up

    @staticmethod
    def _tasks():
        from huey.contrib.djhuey import HUEY

        yield GaugeMetricFamily(
            "huxiao_task_queue_pending",
            "Background tasks waiting in the queue for a worker.",
            value=HUEY.pending_count(),
        )
        yield GaugeMetricFamily(
            "huxiao_task_queue_scheduled",
            "Background tasks scheduled for later (retries, delayed tasks).",
            value=HUEY.scheduled_count(),
        )

    @staticmethod
    def _alarms():
        from django.db.models import Count, Min, Q

        from huxiao.alarms.choices import OPEN_STATUSES
        from huxiao.alarms.models import Alarm

        unacknowledged = Q(acknowledged_at__isnull=True)
        rows = (
            Alarm.objects.filter(status__in=OPEN_STATUSES)
            .order_by()  # the model's ordering would split the groups
            .values("is_drill")
            .annotate(
                total=Count("id"),
                waiting=Count("id", filter=unacknowledged),
                oldest=Min("raised_at", filter=unacknowledged),
            )
        )
        by_drill = {row["is_drill"]: row for row in rows}
        open_alarms = GaugeMetricFamily(
            "huxiao_alarms_open",
            "Alarms not yet resolved or cancelled, by whether someone acknowledged them.",
            labels=["drill", "acknowledged"],
        )
        oldest = GaugeMetricFamily(
            "huxiao_alarm_oldest_unacknowledged_seconds",
            "Age of the oldest open alarm nobody has acknowledged (0 when none).",
            labels=["drill"],
        )
        now = time.time()
        for is_drill in (False, True):
            # Both series always exist, so that an alert on them is never "no data".
            row = by_drill.get(is_drill, {"total": 0, "waiting": 0, "oldest": None})
            drill = "true" if is_drill else "false"
            open_alarms.add_metric([drill, "false"], row["waiting"])
            open_alarms.add_metric([drill, "true"], row["total"] - row["waiting"])
            age = now - row["oldest"].timestamp() if row["oldest"] else 0.0
            oldest.add_metric([drill], max(age, 0.0))
        yield open_alarms
        yield oldest


class _Scrape:
    """What one scrape collects: the processes' metrics and the scrape-time reads."""

    def __init__(self, *sources):
        self.sources = sources

    def collect(self):
        for source in self.sources:
            yield from source.collect()


def _forget_dead_processes(directory: str) -> None:
    """Drop the live-gauge files of processes that no longer exist (a killed ASGI worker
    would otherwise keep counting its sockets). Counters and histograms stay: their
    totals must not go down. All writers run on this host, so a pid means a process."""
    from prometheus_client import multiprocess

    for path in Path(directory).glob("gauge_live*_*.db"):
        try:
            pid = int(path.stem.rsplit("_", 1)[1])
        except ValueError:
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, directory)
        except PermissionError:
            pass  # alive, another user's


def render() -> tuple[bytes, str]:
    """The exposition text and its content type."""
    if _MULTIPROC_DIR:
        from prometheus_client import multiprocess

        _forget_dead_processes(_MULTIPROC_DIR)
        source = multiprocess.MultiProcessCollector(None, path=_MULTIPROC_DIR)
    else:
        source = REGISTRY
    return generate_latest(_Scrape(source, StateCollector())), CONTENT_TYPE_LATEST
