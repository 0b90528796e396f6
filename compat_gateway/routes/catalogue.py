"""Routes of the catalogue area (rows of the one route table)."""

from __future__ import annotations

from compat_gateway.routes.table import Route

__all__ = ["ROUTES"]

ROUTES: tuple[Route, ...] = ()
