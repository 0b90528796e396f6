"""Routes of usage and billing: ``/api/v0.2/usage/*`` (served by the asset service)."""

from __future__ import annotations

from gaia.asset.v1 import asset_pb2
from pydantic import BaseModel

from compat_gateway.errors import LegacyError, wrap
from compat_gateway.inbound import Inbound
from compat_gateway.render import usage as render_usage
from compat_gateway.routes.table import Route, Unary, empty_request
from compat_gateway.rpcs import ASSET
from compat_gateway.schemas import usage as schemas

__all__ = ["ROUTES"]

_USAGE = "/api/v0.2/usage"


class OptionalProvider(BaseModel):
    provider: str | None = None


class BudgetQuery(OptionalProvider):
    """``budgets=true`` adds the caller's spend limits (``budgets``) to the reference's body; ``session_id``
    names the budget session whose daily budget to show (default: the caller's sign-in session)."""

    budgets: bool = False
    session_id: str | None = None


class HistoryQuery(BaseModel):
    days: int = 30
    provider: str | None = None


class MonthQuery(BaseModel):
    month: str | None = None


class LogBody(BaseModel):
    provider: str | None = None
    operation: str | None = None
    cost: float | None = None
    tokens: int | None = None
    images: int | None = None
    credits: float | None = None
    quality: str | None = None
    model: str | None = None
    request_id: str | None = None


def _current_usage(inbound: Inbound) -> asset_pb2.GetCurrentUsageRequest:
    q: BudgetQuery = inbound.query_model
    return asset_pb2.GetCurrentUsageRequest(provider=q.provider or "", session_id=q.session_id or "")


def _history(inbound: Inbound) -> asset_pb2.GetUsageHistoryRequest:
    q: HistoryQuery = inbound.query_model
    if q.days < 1:
        raise LegacyError(400, wrap("days must be a positive number"))
    return asset_pb2.GetUsageHistoryRequest(days=q.days, provider=q.provider or "")


def _limits(inbound: Inbound) -> asset_pb2.GetUsageLimitsRequest:
    q: BudgetQuery = inbound.query_model
    return asset_pb2.GetUsageLimitsRequest(provider=q.provider or "", session_id=q.session_id or "")


def _monthly(inbound: Inbound) -> asset_pb2.GetMonthlyReportRequest:
    month = inbound.query_model.month
    if month == "":
        raise LegacyError(400, wrap("Invalid month format. Use YYYY-MM"))
    return asset_pb2.GetMonthlyReportRequest(month=month or "")


def _log(inbound: Inbound) -> asset_pb2.LogUsageRequest:
    b: LogBody = inbound.body_model
    # Present-but-null counts as present, as in the reference ("field in body"); then it is not a number.
    return asset_pb2.LogUsageRequest(
        provider=b.provider or "",
        operation=b.operation or "",
        cost=b.cost,
        tokens=b.tokens,
        images=b.images,
        credits=b.credits,
        quality=b.quality or "",
        model=b.model or "",
        request_id=b.request_id or "",
    )


ROUTES: tuple[Route, ...] = (
    # Usage.
    Unary(
        method="GET",
        path=f"{_USAGE}/current",
        name="usage_current",
        build=_current_usage,
        render=render_usage.current,
        query=BudgetQuery,
        response=schemas.CurrentUsage,
        summary="The caller's usage this month (budgets=true: and their spend limits, spent and remaining)",
        rpc=ASSET.GetCurrentUsage,
    ),
    Unary(
        method="GET",
        path=f"{_USAGE}/history",
        name="usage_history",
        build=_history,
        render=render_usage.history,
        query=HistoryQuery,
        response=schemas.UsageHistory,
        summary="The caller's usage per day",
        rpc=ASSET.GetUsageHistory,
    ),
    Unary(
        method="POST",
        path=f"{_USAGE}/log",
        name="usage_log",
        body=LogBody,
        build=_log,
        render=render_usage.logged,
        response=schemas.UsageLogged,
        summary="Record usage",
        rpc=ASSET.LogUsage,
    ),
    Unary(
        method="GET",
        path=f"{_USAGE}/limits",
        name="usage_limits",
        build=_limits,
        render=render_usage.limits,
        query=BudgetQuery,
        response=schemas.UsageLimits,
        summary="The caller's usage against limits (budgets=true: and their spend limits and use)",
        rpc=ASSET.GetUsageLimits,
    ),
    Unary(
        method="GET",
        path=f"{_USAGE}/billing/current",
        name="usage_billing_current",
        build=empty_request(asset_pb2.GetCurrentBillingRequest),
        render=render_usage.billing,
        response=schemas.CurrentBilling,
        summary="The caller's charges this month",
        rpc=ASSET.GetCurrentBilling,
    ),
    Unary(
        method="GET",
        path=f"{_USAGE}/reports/monthly",
        name="usage_reports_monthly",
        build=_monthly,
        render=render_usage.monthly,
        query=MonthQuery,
        response=schemas.MonthlyReport,
        summary="One month of the caller's usage",
        rpc=ASSET.GetMonthlyReport,
    ),
)
