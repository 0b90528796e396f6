"""Process logging: one line per record, tagged with the request id of the call being served.

``text`` (the default) is for people: ``time level logger [request id] message``. ``json``
(``GAIA_LOG_FORMAT=json``) is for log pipelines: one JSON object a line with ``ts``, ``level``, ``logger``,
``message``, ``service``, ``request_id`` and ``trace_id``/``span_id`` (null outside a call or a trace), and
``exc`` with the stack of an exception.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from gaia_services.runtime.calls import current_call
from gaia_services.runtime.telemetry import trace_ids

__all__ = ["configure_logging"]

#: uvicorn's loggers have their own handlers; in JSON mode their records go through ours instead.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        call = current_call.get()
        record.request_id = call.request_id[:12] if call else "-"
        return True


class _JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        call = current_call.get()
        ids = trace_ids()
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self._service or None,
            "request_id": call.request_id if call else None,
            "trace_id": ids[0] if ids else None,
            "span_id": ids[1] if ids else None,
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(
    level: str = "INFO", *, fmt: str = "text", service: str = "", stream: TextIO | None = None
) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter(service))
        for name in _UVICORN:
            logger = logging.getLogger(name)
            logger.handlers[:] = []
            logger.propagate = True
    else:
        handler.addFilter(_RequestIdFilter())
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "nats"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
