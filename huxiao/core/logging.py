"""Log records for people and for machines: one JSON object per line in production, a
readable line elsewhere (settings: HUXIAO_LOG_FORMAT=json|plain), each carrying the id of
the request it belongs to.

The request id and user come from context variables set by `RequestIdMiddleware`
(huxiao/core/request_context.py, huxiao/core/observability.py), so a record logged anywhere
while a request is served — a view, a service, Django's own error log — carries them, in
granian's worker threads as in the ASGI server's event loop (each request runs in its own
context). Records logged outside a request (the task worker, the MQTT bridge) have none.

What never goes into a record here: request bodies, query strings, headers, cookies. The
access line (`huxiao.access`) carries the method, the path without its query string, the
URL pattern, the status and the time taken — nothing a person typed into a form.

This module is imported by `logging.config` while Django starts, before the apps are
loaded: it must not import models.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from huxiao.core import request_context

# Attributes a record may carry (from the filter below or `extra=`) that the JSON line
# keeps, in this order after time, level, logger and message.
CONTEXT_FIELDS = (
    "request_id",
    "user_id",
    "method",
    "path",
    "route",
    "status",
    "duration_ms",
    "task",
)


class RequestContextFilter(logging.Filter):
    """Stamps every record with the current request's id and user (empty outside a
    request). Attached to the handlers, not to loggers, so that records propagated from
    any logger pass through it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_context.current().request_id
        if not hasattr(record, "user_id"):
            record.user_id = _current_user_id()
        return True


def _current_user_id():
    # Imported on first use: this module is loaded while logging is configured, before
    # the apps (observability imports the metrics, which must come after the settings).
    global _current_user_id
    from huxiao.core.observability import current_user_id

    _current_user_id = current_user_id
    return current_user_id()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC, milliseconds), level, logger,
    message, the request context when there is one, and the traceback as text."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            value = getattr(record, key, None)
            if value is not None and value != "":
                entry[key] = value
        # Cached on the record like logging.Formatter.format does, for the other handlers.
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        # Non-ASCII stays readable (Chinese messages); json escapes newlines, so a
        # traceback never breaks the one-line-per-record promise.
        return json.dumps(entry, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """`time level logger [request id] message` — the id only when there is one."""

    default_format = "%(asctime)s %(levelname)s %(name)s%(request_tag)s %(message)s"

    def __init__(self, fmt=None, datefmt=None, style="%", **kwargs):
        super().__init__(fmt or self.default_format, datefmt, style, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        request_id = getattr(record, "request_id", "")
        record.request_tag = f" [{request_id}]" if request_id else ""
        return super().format(record)
