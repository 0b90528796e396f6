"""Routes of usage and billing: ``/api/v0.2/usage/*`` (served by the asset service)."""

from __future__ import annotations

from gaia.asset.v1 import asset_pb2
from pydantic import BaseModel

from compat_gateway.errors import LegacyError, wrap
from compat_gateway.inbound import Inbound
from compat_gateway.render import usage as render_usage
from compat_gateway.routes.table import Route, empty_request
from compat_gateway.schemas import usage as schemas

__all__ = ["ROUTES"]

_USAGE = "/api/v0.2/usage"


class OptionalProvider(BaseModel):
    provider: str | None = None


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
    return asset_pb2.GetCurrentUsageRequest(provider=inbound.query_model.provider or "")


def _history(inbound: Inbound) -> asset_pb2.GetUsageHistoryRequest:
    q: HistoryQuery = inbound.query_model
    if q.days < 1:
        raise LegacyError(400, wrap("days must be a positive number"))
    return asset_pb2.GetUsageHistoryRequest(days=q.days, provider=q.provider or "")


def _limits(inbound: Inbound) -> asset_pb2.GetUsageLimitsRequest:
    return asset_pb2.GetUsageLimitsRequest(provider=inbound.query_model.provider or "")


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
    Route(
        "GET",
        f"{_USAGE}/current",
        "usage_current",
        service="asset",
        rpc="GetCurrentUsage",
        build=_current_usage,
        render=render_usage.current,
        query=OptionalProvider,
        response=schemas.CurrentUsage,
        summary="The caller's usage this month",
    ),
    Route(
        "GET",
        f"{_USAGE}/history",
        "usage_history",
        service="asset",
        rpc="GetUsageHistory",
        build=_history,
        render=render_usage.history,
        query=HistoryQuery,
        response=schemas.UsageHistory,
        summary="The caller's usage per day",
    ),
    Route(
        "POST",
        f"{_USAGE}/log",
        "usage_log",
        service="asset",
        rpc="LogUsage",
        body=LogBody,
        build=_log,
        render=render_usage.logged,
        response=schemas.UsageLogged,
        summary="Record usage",
    ),
    Route(
        "GET",
        f"{_USAGE}/limits",
        "usage_limits",
        service="asset",
        rpc="GetUsageLimits",
        build=_limits,
        render=render_usage.limits,
        query=OptionalProvider,
        response=schemas.UsageLimits,
        summary="The caller's usage against limits",
    ),
    Route(
        "GET",
        f"{_USAGE}/billing/current",
        "usage_billing_current",
        service="asset",
        rpc="GetCurrentBilling",
        build=empty_request(asset_pb2.GetCurrentBillingRequest),
        render=render_usage.billing,
        response=schemas.CurrentBilling,
        summary="The caller's charges this month",
    ),
    Route(
        "GET",
        f"{_USAGE}/reports/monthly",
        "usage_reports_monthly",
        service="asset",
        rpc="GetMonthlyReport",
        build=_monthly,
        render=render_usage.monthly,
        query=MonthQuery,
        response=schemas.MonthlyReport,
        summary="One month of the caller's usage",
    ),
)
