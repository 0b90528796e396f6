"""Assets: generate one with live progress from the streamed generation, and the gallery of the caller's
assets with previews, downloads and a filter by type."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import quote

from fasthtml.common import (
    H2,
    A,
    Article,
    Audio,
    Button,
    Div,
    Form,
    Img,
    Input,
    Label,
    Nav,
    Option,
    P,
    Progress,
    Section,
    Select,
    Span,
    Textarea,
    to_xml,
)
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from web.layout import csrf_field, page
from web.relay import relay
from web.view import Page, View

__all__ = ["ROUTES", "asset_card"]

#: The types offered: (category sent to the shim, label).
TYPES: tuple[tuple[str, str], ...] = (
    ("image", "Image"),
    ("audio", "Audio"),
    ("prop", "3D model"),
    ("texture", "Texture"),
)
_IMAGES = {"png", "jpg", "jpeg", "webp", "gif", "svg"}
_SOUNDS = {"mp3", "wav", "ogg", "flac", "m4a"}


def _file(asset_id: str, *, download: bool = False) -> str:
    return f"/assets/{quote(asset_id, safe='')}/file" + ("?download=1" if download else "")


def asset_card(asset: dict[str, Any]) -> Any:
    data = asset.get("asset_data") or {}
    metadata = asset.get("metadata") or {}
    asset_id = str(asset.get("asset_id", ""))
    kind = str(data.get("file_format", "")).lower()
    prompt = str(metadata.get("prompt", ""))
    if kind in _IMAGES:
        preview: Any = Img(src=_file(asset_id), alt=prompt or "Generated image", loading="lazy")
    elif kind in _SOUNDS:
        preview = Audio(
            src=_file(asset_id), controls=True, preload="none", aria_label=prompt or "Generated audio"
        )
    else:
        preview = Div(Span("⬢", aria_hidden="true"), Span(kind.upper() or "FILE"), cls="placeholder")
    return Article(
        Div(preview, cls="preview"),
        P(prompt or "(no prompt)", cls="prompt"),
        P(
            Span(str(metadata.get("style", ""))),
            Span(f"${float(asset.get('cost') or 0):.4f}"),
            Span(kind or "?"),
            cls="meta muted",
        ),
        A("Download", href=_file(asset_id, download=True), cls="button quiet", download=True),
        cls="asset",
        data_asset_id=asset_id,
    )


def _generator(view: View) -> Any:
    return Section(
        H2("Generate an asset"),
        Form(
            csrf_field(view),
            Div(
                Label(
                    "Type", Select(*(Option(label, value=value) for value, label in TYPES), name="category")
                ),
                Label("Style", Input(name="style", value="realistic", required=True, maxlength="50")),
                cls="row",
            ),
            Label("Description", Textarea(name="description", rows="3", required=True, maxlength="2000")),
            Div(Button("Generate", type="submit"), cls="actions"),
            Div(
                Progress(value="0", max="100", aria_label="Generation progress"),
                P("", cls="stage", aria_live="polite"),
                cls="progress",
                hidden=True,
            ),
            id="asset-form",
            method="post",
            action="/assets/generate",
            data_stream="asset",
            cls="stack",
        ),
        cls="panel",
    )


def _filters(active: str) -> Any:
    links = [("", "All"), *TYPES]
    return Nav(
        *(
            A(
                label,
                href=f"/assets?category={value}" if value else "/assets",
                cls="chip active" if value == active else "chip",
            )
            for value, label in links
        ),
        aria_label="Filter by type",
        cls="filters",
    )


async def assets(view: View) -> Any:
    category = view.param("category")
    known = {value for value, _ in TYPES}
    params: dict[str, Any] = {"limit": 100}
    if category in known:
        params["category"] = category
    listing = await view.call("GET", "/api/v1/assets", params=params)
    cards = [asset_card(a) for a in listing.get("assets", [])]
    return page(
        view,
        "Assets",
        _generator(view),
        Section(
            H2(f"Your assets ({listing.get('total', len(cards))})"),
            _filters(category if category in known else ""),
            Div(*cards, id="gallery", cls="gallery")
            if cards
            else Div(P("No assets yet.", cls="muted"), id="gallery", cls="gallery"),
            cls="panel",
        ),
        active="/assets",
    )


async def generate(view: View) -> Response:
    form = await view.form()
    body = {
        "category": form.get("category", "image"),
        "style": form.get("style", "").strip() or "realistic",
        "description": form.get("description", "").strip(),
    }
    assert view.creds is not None

    def finish(data: dict[str, Any]) -> dict[str, Any] | None:
        if data.get("type") == "done" and isinstance(data.get("asset"), dict):
            return {"type": "card", "html": to_xml(asset_card(data["asset"]))}
        return None

    return await relay(view.shim.stream("/api/v1/assets/generate/stream", view.creds, body), finish)


async def file(view: View) -> Response:
    """The stored file, streamed from the shim with the caller's credentials (so an <img> can show it)."""
    assert view.creds is not None
    asset_id = view.param("asset_id")
    stack = AsyncExitStack()
    response = await stack.enter_async_context(
        view.shim.download(f"/api/v1/assets/{quote(asset_id, safe='')}/download", view.creds)
    )
    headers = {"Cache-Control": "private, max-age=3600"}
    if view.request.query_params.get("download"):
        disposition = response.headers.get("content-disposition") or f'attachment; filename="{asset_id}"'
        headers["Content-Disposition"] = disposition.replace("inline", "attachment")

    async def body() -> Any:
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        finally:
            await stack.aclose()

    media_type = response.headers.get("content-type", "application/octet-stream")
    return StreamingResponse(
        body(), media_type=media_type, headers=headers, background=BackgroundTask(stack.aclose)
    )


ROUTES: tuple[Page, ...] = (
    Page("GET", "/assets", assets),
    Page("POST", "/assets/generate", generate),
    Page("GET", "/assets/{asset_id}/file", file),
)
