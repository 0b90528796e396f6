"""Chat: the conversation sidebar (new, search, rename, delete), the open conversation, model and persona
pickers, and one streamed turn relayed from the shim's v0.3 SSE."""

from __future__ import annotations

import asyncio
from typing import Any

from fasthtml.common import (
    H2,
    A,
    Article,
    Aside,
    Button,
    Details,
    Div,
    Form,
    Hidden,
    Input,
    Label,
    Li,
    NotStr,
    Optgroup,
    Option,
    P,
    RedirectResponse,
    Section,
    Select,
    Summary,
    Textarea,
    Ul,
)
from starlette.responses import Response

from web import markdown
from web.layout import csrf_field, page, post_form
from web.relay import relay
from web.shim_client import ShimError
from web.view import Page, View

__all__ = ["ROUTES", "message_article"]

_UNTITLED = "New Conversation"


def message_article(message: dict[str, Any]) -> Any:
    """One stored message: the user's text as typed, the assistant's as safe markdown."""
    role = "user" if message.get("role") == "user" else "assistant"
    content = str(message.get("content", ""))
    body = (
        Div(content, cls="body plain")
        if role == "user"
        else Div(NotStr(markdown.render(content)), cls="body")
    )
    cut = bool(message.get("cut"))
    return Article(
        body,
        P("Stopped · partial reply", cls="badge") if cut else "",
        data_role=role,
        data_cut="true" if cut else None,
        cls=f"msg {role}",
    )


def _matches(conversation: dict[str, Any], query: str) -> bool:
    return not query or query.casefold() in str(conversation.get("title") or _UNTITLED).casefold()


def conversation_list(conversations: list[dict[str, Any]], active: str, query: str = "") -> Any:
    items = [
        Li(
            A(
                c.get("title") or _UNTITLED,
                href=f"/chat/{c['id']}",
                cls="active" if c["id"] == active else "",
                aria_current="page" if c["id"] == active else None,
            )
        )
        for c in conversations
        if _matches(c, query)
    ]
    empty = Li(P("No conversations match." if query else "No conversations yet.", cls="muted"))
    return Ul(*(items or [empty]), id="conversation-list", cls="conversations")


def _sidebar(conversations: list[dict[str, Any]], active: str, query: str) -> Any:
    return Aside(
        Form(Button("New conversation", type="submit"), method="get", action="/chat"),
        Form(
            Input(
                type="search",
                name="q",
                value=query,
                placeholder="Search by title",
                aria_label="Search conversations",
                hx_get="/chat/list",
                hx_trigger="input changed delay:200ms, search",
                hx_target="#conversation-list",
                hx_swap="outerHTML",
                hx_include="this",
            ),
            method="get",
            action="/chat",
            role="search",
        ),
        conversation_list(conversations, active, query),
        cls="sidebar",
        aria_label="Conversations",
    )


def _model_picker(models: list[dict[str, Any]], chosen: str) -> Any:
    by_provider: dict[str, list[str]] = {}
    for model in models:
        by_provider.setdefault(str(model.get("owned_by", "other")), []).append(str(model["id"]))
    groups = [
        Optgroup(*(Option(m, value=m, selected=m == chosen) for m in ids), label=provider)
        for provider, ids in sorted(by_provider.items())
    ]
    return Label("Model", Select(Option("Default model", value=""), *groups, name="model"))


def _persona_picker(view: View, personas: list[dict[str, Any]], current: str) -> Any:
    options = [Option(p.get("name", "?"), value=p["id"], selected=p["id"] == current) for p in personas]
    return Label(
        "Persona",
        Select(
            *options,
            name="persona_id",
            hx_post="/chat/persona",
            hx_trigger="change",
            hx_swap="none",
            hx_headers=f'{{"X-CSRF-Token": "{view.csrf}"}}',
        ),
    )


def _toolbar(view: View, conversation: dict[str, Any] | None) -> Any:
    if conversation is None:
        return Div(H2("New conversation"), cls="toolbar")
    cid = conversation["id"]
    return Div(
        H2(conversation.get("title") or _UNTITLED, id="conversation-title"),
        Details(
            Summary("Rename"),
            post_form(
                view,
                f"/chat/{cid}/rename",
                Label(
                    "Title",
                    Input(
                        name="title", value=conversation.get("title") or "", required=True, maxlength="200"
                    ),
                ),
                Button("Save title", type="submit"),
                cls="inline",
            ),
            cls="rename",
        ),
        post_form(
            view,
            f"/chat/{cid}/delete",
            Button("Delete", type="submit", cls="danger", data_confirm="Delete this conversation?"),
            cls="inline",
        ),
        cls="toolbar",
    )


def _composer(view: View, conversation_id: str, pickers: tuple[Any, ...]) -> Any:
    return Form(
        csrf_field(view),
        Hidden(name="conversation_id", value=conversation_id),
        Div(*pickers, cls="pickers"),
        Label(
            "Message",
            Textarea(
                name="message", rows="2", placeholder="Message Gaia… (Enter sends, Shift+Enter: new line)"
            ),
        ),
        Div(
            Button("Send", type="submit"),
            Button("Stop", type="button", data_stop="1", disabled=True, cls="quiet"),
            cls="actions",
        ),
        id="composer",
        method="post",
        action="/chat/send",
        data_stream="chat",
    )


async def _chat(view: View, conversation_id: str) -> Any:
    query = view.param("q")
    conversations, models, personas, current = await asyncio.gather(
        view.call("GET", "/api/v1/conversations"),
        view.call("GET", "/v1/models"),
        view.call("GET", "/api/v0.2/personas"),
        view.call("GET", "/api/v0.2/personas/current"),
    )
    conversation, messages = None, []
    if conversation_id:
        try:
            conversation, listing = await asyncio.gather(
                view.call("GET", f"/api/v1/conversations/{conversation_id}"),
                view.call("GET", f"/api/v0.3/conversations/{conversation_id}/messages"),
            )
        except ShimError as exc:
            if exc.status != 404:
                raise
            view.flash("That conversation does not exist any more.", "error")
            return RedirectResponse("/chat", status_code=303)
        messages = listing["messages"]
    pickers = (
        _model_picker(models.get("data", []), str(view.session.get("model", ""))),
        _persona_picker(view, personas.get("personas", []), str(current.get("persona", {}).get("id", ""))),
    )
    log = Div(
        *(message_article(m) for m in messages),
        role="log",
        id="messages",
        aria_live="polite",
        aria_label="Conversation",
    )
    title = (conversation or {}).get("title") or "Chat"
    return page(
        view,
        title,
        Div(
            _sidebar(conversations["conversations"], conversation_id, query),
            Section(
                _toolbar(view, conversation),
                log,
                P("", id="chat-error", role="alert", cls="notice error", hidden=True),
                _composer(view, conversation_id, pickers),
                cls="conversation",
            ),
            cls="chat-layout",
        ),
        active="/chat",
        wide=True,
    )


async def new_chat(view: View) -> Any:
    return await _chat(view, "")


async def open_chat(view: View) -> Any:
    return await _chat(view, view.param("conversation_id"))


async def list_fragment(view: View) -> Any:
    conversations = await view.call("GET", "/api/v1/conversations")
    return conversation_list(conversations["conversations"], "", view.param("q"))


async def send(view: View) -> Response:
    """One turn, relayed as it streams; the reply is rendered as safe HTML once complete."""
    form = await view.form()
    model = form.get("model", "")
    view.session["model"] = model
    body: dict[str, Any] = {
        "message": form.get("message", ""),
        "conversation_id": form.get("conversation_id") or "new",
        "stream": True,
    }
    if model:
        body["model"] = model
    assert view.creds is not None
    reply: list[str] = []

    def finish(data: dict[str, Any]) -> dict[str, Any] | None:
        if data.get("type") == "content":
            reply.append(str(data.get("content", "")))
        elif data.get("type") == "done":
            return {"type": "reply", "html": markdown.render("".join(reply))}
        return None

    return await relay(view.shim.stream("/api/v0.3/chat", view.creds, body), finish)


async def rename(view: View) -> Any:
    cid = view.param("conversation_id")
    title = (await view.form()).get("title", "").strip()
    await view.act(
        "PATCH",
        f"/api/v1/conversations/{cid}",
        body={"title": title},
        done="Conversation renamed.",
        failed="Could not rename: ",
    )
    return RedirectResponse(f"/chat/{cid}", status_code=303)


async def delete(view: View) -> Any:
    cid = view.param("conversation_id")
    await view.act(
        "DELETE", f"/api/v1/conversations/{cid}", done="Conversation deleted.", failed="Could not delete: "
    )
    return RedirectResponse("/chat", status_code=303)


async def choose_persona(view: View) -> Any:
    persona_id = (await view.form()).get("persona_id", "")
    await view.call("POST", "/api/v0.2/personas/set", body={"persona_id": persona_id})
    if view.request.headers.get("hx-request"):
        return Response(status_code=204)
    return RedirectResponse("/chat", status_code=303)


ROUTES: tuple[Page, ...] = (
    Page("GET", "/chat", new_chat),
    Page("GET", "/chat/list", list_fragment),
    Page("POST", "/chat/send", send),
    Page("POST", "/chat/persona", choose_persona),
    Page("GET", "/chat/{conversation_id}", open_chat),
    Page("POST", "/chat/{conversation_id}/rename", rename),
    Page("POST", "/chat/{conversation_id}/delete", delete),
)
