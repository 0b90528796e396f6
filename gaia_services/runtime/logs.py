"""Process logging: one line per record, tagged with the request id of the call being served."""

from __future__ import annotations

import logging
import sys

from gaia_services.runtime.calls import current_call

__all__ = ["configure_logging"]


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        call = current_call.get()
        record.request_id = call.request_id[:12] if call else "-"
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "nats"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
