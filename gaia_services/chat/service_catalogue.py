"""Chat RPCs for providers, models, performance (a mixin of ``ChatServicer``)."""

from __future__ import annotations

__all__ = ["CatalogueRpcs"]


class CatalogueRpcs:
    """Not built yet: the generated base class answers UNIMPLEMENTED."""
