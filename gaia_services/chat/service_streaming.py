"""Chat RPCs for Chat, StreamChat, chat status/history/prompt/cache (a mixin of ``ChatServicer``)."""

from __future__ import annotations

__all__ = ["StreamingRpcs"]


class StreamingRpcs:
    """Not built yet: the generated base class answers UNIMPLEMENTED."""
