"""``/openapi.json`` built from the route table: every route with its parameters, request body, security,
and the response shapes (the route's model when it has one, and the legacy error envelopes, or OpenAI's
error body on the OpenAI door)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from compat_gateway.errors import ErrorStyle
from compat_gateway.routes.table import Choice, Local, Relayed, Route

__all__ = ["build_openapi"]

_REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"{([^}]+)}")

_DETAIL = {"type": "object", "properties": {"detail": {}}, "required": ["detail"]}
_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
_OPENAI_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
            "required": ["message", "type", "param", "code"],
        }
    },
    "required": ["error"],
}
#: The OpenAI door's error statuses (CONTRACT §3), all with OpenAI's error body.
_OPENAI_RESPONSES = {
    "400": "Malformed input (invalid_request_error naming the first problem)",
    "401": "Missing or invalid credentials (invalid_api_key)",
    "404": "Unknown model (model_not_found)",
    "429": "Rate limited (rate_limit_exceeded, Retry-After)",
    "503": "Service unavailable (api_error)",
    "default": "An unexpected failure (api_error)",
}
_WRAPPED_NOTE = 'Service errors are wrapped: {"detail":"Service error: {\\"detail\\":...}"}'
_SECURITY: list[dict[str, list[str]]] = [{"ApiKey": []}, {"Bearer": []}]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _model_schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=_REF)
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=_REF)
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _service(route: Route) -> str | None:
    """The service a row calls; None for the shim's own rows and for a ``Choice`` (its rows call one)."""
    return None if isinstance(route, Local | Choice) else route.rpc.service


def _legacy_errors(route: Route) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    detail = _json(_DETAIL)
    if route.auth:
        responses["401"] = {"description": "No or invalid credentials", **detail}
        responses["403"] = {"description": "Invalid API key", **detail}
        responses["429"] = {"description": "Rate limited (Retry-After)", **_json(_ERROR)}
    if route.body is not None or route.query is not None or route.method in ("POST", "PUT"):
        responses["422"] = {"description": "Malformed input (FastAPI's item list)", **detail}
    service = _service(route)
    if service is not None or isinstance(route, Choice):
        down = f"Service {service} unavailable" if service else "A service unavailable"
        responses["503"] = {"description": down, **detail}
        responses["default"] = {"description": "A service error with the legacy envelope", **detail}
    return responses


def _openai_errors() -> dict[str, Any]:
    body = _json(_OPENAI_ERROR)
    return {status: {"description": text, **body} for status, text in _OPENAI_RESPONSES.items()}


def _operation(route: Route, components: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(route.path)
    ]
    if route.query is not None:
        parameters.extend(_query_parameters(route.query))
    ok: dict[str, Any] = {"description": "Successful response"}
    if isinstance(route, Relayed):
        ok["content"] = {"text/event-stream": {"schema": {}}}
    elif isinstance(route, Choice):  # the request picks the answer's format: JSON, or SSE when it streams
        ok.update(_json(_model_schema(route.response, components) if route.response else {}))
        ok["content"]["text/event-stream"] = {"schema": {}}
    elif route.status_code == 204:
        pass
    elif route.media_type != "application/json":
        ok["content"] = {route.media_type: {"schema": {"type": "string"}}}
    else:
        ok.update(_json(_model_schema(route.response, components) if route.response else {}))
    responses: dict[str, Any] = {str(route.status_code): ok}
    responses.update(_openai_errors() if route.errors is ErrorStyle.OPENAI else _legacy_errors(route))
    for status in route.error_statuses:
        responses[str(status)] = {"description": "The reference's bare error body", **_json(_ERROR)}
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary or route.name.replace("_", " "),
        "tags": [_service(route) or "gateway"],
        "parameters": parameters,
        "responses": responses,
    }
    if route.errors is ErrorStyle.WRAPPED and _service(route) is not None:
        operation["description"] = _WRAPPED_NOTE
    if route.body is not None:
        operation["requestBody"] = {"required": True, **_json(_model_schema(route.body, components))}
    if route.auth:
        operation["security"] = _SECURITY
    return operation


def build_openapi(routes: tuple[Route, ...], *, title: str, version: str) -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "Bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }
