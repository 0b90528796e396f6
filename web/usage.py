"""Usage: cost and tokens over time (a server-drawn SVG chart), per-provider totals for the month."""

from __future__ import annotations

import asyncio
from typing import Any

from fasthtml.common import H2, A, Div, Nav, P, Section, Strong, Table, Tbody, Td, Th, Thead, Tr

from web.chart import Day, usage_chart
from web.layout import page
from web.view import Page, View

__all__ = ["ROUTES"]

PERIODS = (7, 30, 90)


def _days(history: dict[str, Any]) -> list[Day]:
    return [
        Day(
            date=str(d.get("date", "")),
            cost=float(d.get("total_cost") or 0),
            tokens=int(d.get("total_tokens") or 0),
            requests=int(d.get("total_requests") or 0),
        )
        for d in history.get("usage_history", [])
    ]


def _figure(label: str, value: str) -> Any:
    return Div(P(label, cls="muted"), Strong(value), cls="figure")


async def usage(view: View) -> Any:
    try:
        days = int(view.param("days") or 30)
    except ValueError:
        days = 30
    days = days if days in PERIODS else 30
    history, current = await asyncio.gather(
        view.call("GET", "/api/v0.2/usage/history", params={"days": days}),
        view.call("GET", "/api/v0.2/usage/current"),
    )
    series = _days(history)
    summary = history.get("summary", {})
    providers = current.get("providers", {})
    rows = [
        Tr(
            Td(name),
            Td(str(p.get("requests", 0))),
            Td(str(p.get("tokens", 0))),
            Td(f"${float(p.get('cost') or 0):.4f}"),
        )
        for name, p in sorted(providers.items())
    ]
    return page(
        view,
        "Usage",
        Section(
            H2("Usage over time"),
            Nav(
                *(
                    A(f"{n} days", href=f"/usage?days={n}", cls="chip active" if n == days else "chip")
                    for n in PERIODS
                ),
                aria_label="Period",
                cls="filters",
            ),
            Div(
                _figure("Cost", f"${float(summary.get('total_cost') or 0):.4f}"),
                _figure("Requests", str(summary.get("total_requests", 0))),
                _figure("Tokens", str(sum(d.tokens for d in series))),
                _figure("Busiest day", str(summary.get("peak_cost_day") or "—")),
                cls="figures",
            ),
            Div(usage_chart(series), cls="chart-box"),
            P("Bars: cost per day. Line: tokens per day.", cls="muted"),
            cls="panel",
        ),
        Section(
            H2("This month by provider"),
            Table(
                Thead(Tr(Th("Provider"), Th("Requests"), Th("Tokens"), Th("Cost"))),
                Tbody(*rows) if rows else Tbody(Tr(Td("Nothing recorded yet.", colspan="4"))),
                cls="table",
            ),
            cls="panel",
        ),
        active="/usage",
    )


ROUTES: tuple[Page, ...] = (Page("GET", "/usage", usage),)
