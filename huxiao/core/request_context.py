"""The current request's id, client address and actor, for audit rows and logs."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str = ""
    path: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "huxiao_request_context",
    default=RequestContext(),  # noqa: B039 - frozen dataclass, immutable
)


def current() -> RequestContext:
    return _current.get()


def set_current(context: RequestContext) -> contextvars.Token:
    return _current.set(context)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
