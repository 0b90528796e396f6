"""How a provider failure reads on the wire: the reference's words, rendered here from the error's fields.

The reference embedded the provider SDK's ``str(error)`` in its legacy error bodies (FINDINGS §9), and
SDK releases reword it (anthropic 2.17 and openai 3.63 did), so the text is never taken from the SDK:
only the status code and the provider's decoded body are, and the format is the one the reference sent.
"""

from __future__ import annotations

import json

import httpx2

__all__ = [
    "CONNECTION_ERROR",
    "TIMED_OUT",
    "UNREADABLE",
    "http_error_text",
    "stream_error_text",
    "transport_text",
]

CONNECTION_ERROR = "Connection error."
TIMED_OUT = "Request timed out."
UNREADABLE = "The provider sent an unreadable response"


def http_error_text(response: httpx2.Response) -> str:
    """An HTTP error status answered by the provider: ``Error code: 400 - {'type': 'error', ...}`` (the
    whole decoded JSON body as a Python repr), the body's text when it was not JSON, or the bare code.

    The body is decoded from the response the SDK read, not taken from ``exc.body``: the openai SDK keeps
    only the body's ``error`` member there."""
    status = response.status_code
    try:
        text = response.text.strip()
    except httpx2.ResponseNotRead:
        text = ""
    if not text:
        return f"Error code: {status}"
    try:
        return f"Error code: {status} - {json.loads(text)}"
    except ValueError:
        return text


def stream_error_text(body: object) -> str:
    """An error event inside a stream (which opened with 200): the event's decoded body as a Python repr
    with no ``Error code`` prefix: ``{'type': 'error', 'error': {'type': 'overloaded_error', ...}}``."""
    if body is None or body == "":
        return "Error code: 200"
    return body if isinstance(body, str) else f"{body}"


def transport_text(exc: httpx2.HTTPError) -> str:
    """A transport failure the SDK did not wrap (an idle stream, a dropped connection)."""
    return TIMED_OUT if isinstance(exc, httpx2.TimeoutException) else CONNECTION_ERROR
