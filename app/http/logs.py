"""The server's log: one JSON object a line (or plain text), each line inside a request naming
its id.

``configure`` gives the app's loggers (``app.*``, and ``conflictdb.access`` for the line per
request that ``app.http.observe`` writes) a handler on standard error, once per process. They
still propagate, so a handler an operator puts on the root logger sees them too (and would
print them twice: put it on these loggers instead).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any, Literal

import orjson

from app.core import context

ACCESS_LOGGER = "conflictdb.access"
_NAMESPACES = ("app", "conflictdb")
_configured: str | None = None
_lock = threading.Lock()

LogFormat = Literal["json", "text"]


def _utc(created: float) -> str:
    seconds = time.gmtime(created)
    return time.strftime("%Y-%m-%dT%H:%M:%S", seconds) + f".{int(created % 1 * 1000):03d}Z"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...}``: the fields a record carries in
    ``extra={"fields": {...}}`` (the access line's), and the current request's id."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _utc(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            out.update(fields)
        elif (current := context.current()) is not None:
            out["request_id"] = current.request_id
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


class TextFormatter(logging.Formatter):
    """``time level logger [request id] message key=value ...``, for a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None) or {}
        request_id = fields.get("request_id")
        if request_id is None and (current := context.current()) is not None:
            request_id = current.request_id
        parts = [_utc(record.created), record.levelname.lower(), record.name]
        if request_id:
            parts.append(f"[{request_id}]")
        parts.append(record.getMessage())
        parts += [f"{k}={v}" for k, v in fields.items() if k != "request_id" and v is not None]
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(log_format: LogFormat) -> None:
    """Give the app's loggers a handler on standard error in ``log_format``, at INFO; once per
    process (``create_app`` runs once per worker, and more often in tests)."""
    global _configured
    with _lock:
        if _configured == log_format:
            return
        formatter = JsonFormatter() if log_format == "json" else TextFormatter()
        for name in _NAMESPACES:
            logger = logging.getLogger(name)
            for handler in list(logger.handlers):
                if getattr(handler, "conflictdb", False):
                    logger.removeHandler(handler)
            handler = logging.StreamHandler(sys.stderr)
            handler.conflictdb = True  # type: ignore[attr-defined]  # ours, to replace
            handler.setFormatter(formatter)
            logger.addHandler(handler)
            if logger.level == logging.NOTSET:
                logger.setLevel(logging.INFO)
        _configured = log_format
