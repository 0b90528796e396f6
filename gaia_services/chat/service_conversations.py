"""Chat RPCs for conversations and messages (a mixin of ``ChatServicer``)."""

from __future__ import annotations

__all__ = ["ConversationRpcs"]


class ConversationRpcs:
    """Not built yet: the generated base class answers UNIMPLEMENTED."""
