"""The shim's FastAPI application: the route table mounted on one generic handler, plus CORS and errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware

from compat_gateway.dispatch import endpoint_for
from compat_gateway.docs import install_docs
from compat_gateway.errors import install_error_handlers
from compat_gateway.middleware import ShimMetrics, ShimMiddleware
from compat_gateway.openapi import build_openapi
from compat_gateway.routes import ROUTES, check
from compat_gateway.shim import open_shim
from gaia_services.runtime.logs import configure_logging
from gaia_services.runtime.telemetry import open_tracing
from gaia_services.settings import Settings

__all__ = ["build_app", "create_app"]


def build_app(settings: Settings) -> FastAPI:
    check(ROUTES)  # a row whose kind does not match its RPC's fails here, at start-up
    tracing = open_tracing(settings, part="shim")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            async with open_shim(settings) as shim:
                app.state.shim = shim
                yield
        finally:
            await asyncio.to_thread(tracing.shutdown)  # export what is buffered

    app = FastAPI(title="LLM Platform", version="0.2", lifespan=lifespan, docs_url=None)
    install_docs(app)
    for route in ROUTES:
        app.add_api_route(
            route.path,
            endpoint_for(route),
            methods=[route.method],
            name=route.name,
            summary=route.summary or None,
        )
    metrics = ShimMetrics()
    app.state.metrics = metrics
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.origins,
        allow_credentials=True,
        allow_methods=["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"],  # as recorded
        allow_headers=["*"],
    )
    app.add_middleware(
        ShimMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        tracer=tracing.tracer,
        recording=tracing.recording,
    )
    install_error_handlers(app)
    document = build_openapi(ROUTES, title=app.title, version=app.version)
    app.openapi = lambda: document  # type: ignore[method-assign]
    return app


def create_app() -> FastAPI:
    """uvicorn factory: settings read once, here at the edge."""
    settings = Settings()
    configure_logging(settings.log_level, fmt=settings.log_format, service="shim")
    return build_app(settings)
