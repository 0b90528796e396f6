"""Chat RPCs for personas (a mixin of ``ChatServicer``)."""

from __future__ import annotations

__all__ = ["PersonaRpcs"]


class PersonaRpcs:
    """Not built yet: the generated base class answers UNIMPLEMENTED."""
