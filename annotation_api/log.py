"""Structured logs (one JSON object per line) carrying the request id.

The request id crosses gateway -> server in the `x-request-id` header / gRPC
metadata; whoever handles a request puts it into `request_id_var`, and every
log line written while handling that request carries it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

REQUEST_ID_HEADER = "x-request-id"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged as a field.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "color_message"}
)


def new_request_id() -> str:
    """A fresh request id for a request that arrived without one."""
    return uuid.uuid4().hex


def accept_request_id(value: str | None) -> str:
    """The caller's request id when it is a safe token, else a fresh one.

    The gateway (HTTP header) and the server (gRPC metadata) both use this rule.
    A client-chosen id ends up in headers, gRPC metadata and every log line, so
    it is bounded and limited to letters, digits and `._:-`.
    """
    if value and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, message, request id, extras;
    with `pid`, the process id too (the serving processes of `serve --workers N` share stderr)."""

    def __init__(self, *, pid: int | None = None) -> None:
        super().__init__()
        self.pid = pid

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if self.pid is not None:
            entry["pid"] = self.pid
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the `sys.stderr` of the moment, not to the one at configuration time.

    Whoever replaces sys.stderr (pytest's capture, a daemon's redirection) and closes
    the old one would otherwise leave every later record failing on a closed file.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass  # always sys.stderr


def configure_logging(level: str = "INFO", *, with_pid: bool = False) -> None:
    """Send every log record to stderr as JSON lines (idempotent); `with_pid` adds this
    process's id to each line.

    Records leave out what the JSON line never shows (the Logging HOWTO's "Optimization"):
    the caller's source location, which costs a walk up the stack per record, and the
    thread and process fields. A server writes a line per call, so this is per-call cost.
    """
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter(pid=os.getpid() if with_pid else None))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Alembic announces every plugin it loads at INFO; the migrations themselves stay visible.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
