"""The route table: every legacy path the shim serves, and how. Read by ``dispatch.handle`` alone.

Each area keeps its rows in its own module (``local``, ``auth``, ``chat``, ``asset``); this module joins
them into the one table, in the order the router matches them.
"""

from __future__ import annotations

from compat_gateway.routes import (
    account,
    asset,
    auth,
    catalogue,
    chat,
    conversations,
    local,
    personas,
    pricing,
    usage,
)
from compat_gateway.routes.table import Route, check

__all__ = ["ROUTES", "Route", "check"]

ROUTES: tuple[Route, ...] = (
    *local.ROUTES,
    *auth.ROUTES,
    *account.ROUTES,
    *chat.ROUTES,
    *conversations.ROUTES,
    *personas.ROUTES,
    *catalogue.ROUTES,
    *asset.ROUTES,
    *pricing.ROUTES,
    *usage.ROUTES,
)
