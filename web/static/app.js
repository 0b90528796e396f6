// Gaia web UI: the one small script beside htmx.
// - streams a chat reply (POST /chat/send relays the shim's SSE) into the page token by token; Stop aborts
//   the fetch, which cancels the whole chain upstream (the partial reply is kept and marked);
// - streams an asset generation's progress (POST /assets/generate) and adds the new card to the gallery;
// - Enter sends a message, Shift+Enter is a new line; [data-copy] buttons copy; [data-confirm] asks first.
// Model output is only ever inserted as text, or as the HTML the server rendered from it safely.
"use strict";

async function* sseEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const line = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (!line.startsWith("data: ")) continue;
      try { yield JSON.parse(line.slice(6)); } catch (_) { /* not ours */ }
    }
  }
}

async function openStream(form, signal) {
  const response = await fetch(form.action, {
    method: "POST",
    body: new URLSearchParams(new FormData(form)),
    headers: {"Accept": "text/event-stream"},
    signal,
  });
  if (response.ok && response.body) return {response};
  let detail = `The request failed (HTTP ${response.status}).`;
  try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
  if (response.status === 401) { window.location.assign("/login"); }
  const prefix = {429: "Limit reached: ", 503: "Unavailable: ", 404: "Not found: "}[response.status] || "";
  return {error: prefix + detail};
}

function showError(element, text) {
  element.textContent = text;
  element.hidden = !text;
}

function article(log, role) {
  const node = document.createElement("article");
  node.className = `msg ${role}`;
  node.dataset.role = role;
  const body = document.createElement("div");
  body.className = role === "user" ? "body plain" : "body";
  node.appendChild(body);
  log.appendChild(node);
  return {node, body};
}

function badge(node, text) {
  const mark = document.createElement("p");
  mark.className = "badge";
  mark.textContent = text;
  node.appendChild(mark);
}

async function sendChat(form) {
  const input = form.elements.message;
  if (!input.value.trim()) { input.focus(); return; }
  const log = document.getElementById("messages");
  const error = document.getElementById("chat-error");
  const send = form.querySelector("button[type=submit]");
  const stop = form.querySelector("[data-stop]");
  const controller = new AbortController();
  const conversation = form.elements.conversation_id;
  const isNew = !conversation.value;
  showError(error, "");
  article(log, "user").body.textContent = input.value;
  const reply = article(log, "assistant");
  reply.node.classList.add("streaming");
  reply.node.setAttribute("aria-busy", "true");
  const pending = {stopped: false};
  stop.onclick = () => { pending.stopped = true; controller.abort(); };
  send.disabled = true; stop.disabled = false;
  try {
    const opened = await openStream(form, controller.signal);
    input.value = "";
    if (opened.error) { reply.node.remove(); showError(error, opened.error); return; }
    for await (const event of sseEvents(opened.response)) {
      if (event.type === "metadata" && event.conversation_id && !conversation.value) {
        conversation.value = event.conversation_id;
        history.pushState({}, "", `/chat/${event.conversation_id}`);
      } else if (event.type === "content") {
        reply.body.appendChild(document.createTextNode(event.content));
        log.scrollTop = log.scrollHeight;
      } else if (event.type === "reply") {
        reply.body.innerHTML = event.html;  // rendered and escaped by the server
      } else if (event.type === "error") {
        reply.node.classList.add("error");
        badge(reply.node, `Error: ${event.error}`);
      }
    }
  } catch (exc) {
    if (pending.stopped) {
      reply.node.dataset.cut = "true";
      badge(reply.node, "Stopped · partial reply");
    } else {
      showError(error, "The connection to Gaia was lost. Check that it is running, then try again.");
    }
  } finally {
    reply.node.classList.remove("streaming");
    reply.node.removeAttribute("aria-busy");
    send.disabled = false; stop.disabled = true;
    input.focus();
    if (isNew && conversation.value && window.htmx) {
      htmx.ajax("GET", "/chat/list", {target: "#conversation-list", swap: "outerHTML"});
    }
  }
}

async function generateAsset(form) {
  const button = form.querySelector("button[type=submit]");
  const box = form.querySelector(".progress");
  const bar = box.querySelector("progress");
  const stage = box.querySelector(".stage");
  button.disabled = true; box.hidden = false; bar.value = 0; stage.textContent = "Starting…";
  try {
    const opened = await openStream(form);
    if (opened.error) { stage.textContent = opened.error; return; }
    for await (const event of sseEvents(opened.response)) {
      if (event.type === "progress") {
        bar.value = event.percent;
        stage.textContent = `${event.message} (${event.percent}%)`;
      } else if (event.type === "card") {
        const gallery = document.getElementById("gallery");
        const empty = gallery.querySelector("p.muted");
        if (empty) empty.remove();
        gallery.insertAdjacentHTML("afterbegin", event.html);  // rendered and escaped by the server
      } else if (event.type === "done") {
        bar.value = 100; stage.textContent = "Done: your asset is in the gallery.";
      } else if (event.type === "error") {
        stage.textContent = `Failed: ${event.error}`;
      }
    }
  } catch (_) {
    stage.textContent = "The connection to Gaia was lost. Try again.";
  } finally {
    button.disabled = false;
  }
}

const streams = {chat: sendChat, asset: generateAsset};

document.addEventListener("submit", (event) => {
  const form = event.target;
  const asks = event.submitter && event.submitter.dataset.confirm;
  if (asks && !window.confirm(asks)) { event.preventDefault(); return; }
  const run = streams[form.dataset.stream];
  if (!run) return;
  event.preventDefault();
  run(form);
});

document.addEventListener("keydown", (event) => {
  const box = event.target;
  if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
  if (!(box instanceof HTMLTextAreaElement) || box.name !== "message") return;
  event.preventDefault();
  const form = box.form;
  if (!form.querySelector("button[type=submit]").disabled) form.requestSubmit();
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  field.select();
  try { await navigator.clipboard.writeText(field.value); } catch (_) { document.execCommand("copy"); }
  button.textContent = "Copied";
});
