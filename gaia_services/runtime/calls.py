"""The state of the RPC being served (request id, deadline, caller), carried to outgoing calls.

A ``ContextVar`` is task-local, so each served call sees its own value; outgoing-call interceptors read it to
propagate the deadline, the request id and the caller's credentials.
"""

from __future__ import annotations

import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

from gaia_services.runtime.errors import CredentialsRejected
from gaia_services.runtime.principal import Credentials, Principal
from gaia_services.runtime.wire import NOT_AUTHENTICATED

__all__ = ["CallState", "caller", "current_call", "new_request_id"]


def new_request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class CallState:
    method: str
    request_id: str
    credentials: Credentials = field(default_factory=Credentials)
    principal: Principal | None = None
    deadline: float | None = None  # time.monotonic() value, or None for no deadline

    def time_remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())


current_call: ContextVar[CallState | None] = ContextVar("gaia_current_call", default=None)


def caller() -> Principal:
    """The authenticated caller of the RPC being served; ``CredentialsRejected`` when there is none (a
    public method, or code run outside a call)."""
    state = current_call.get()
    if state is None or state.principal is None:
        raise CredentialsRejected(NOT_AUTHENTICATED)
    return state.principal
