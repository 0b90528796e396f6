// Streams a reply from the web UI's /c/<id>/send route (which relays the shim's SSE) into the page,
// token by token. Closing the page aborts the fetch, which cancels the whole chain upstream.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-stream]");
  if (!form) return;
  event.preventDefault();
  const input = form.querySelector("textarea, input[name=message]");
  const message = input.value.trim();
  if (!message) return;
  const log = document.getElementById("messages");
  const bubble = (role, text) => {
    const div = document.createElement("div");
    div.className = `msg ${role}`;
    div.textContent = text;
    log.appendChild(div);
    return div;
  };
  bubble("user", message);
  const reply = bubble("assistant streaming", "");
  input.value = "";
  const response = await fetch(form.action, {method: "POST", body: new URLSearchParams({message})});
  if (!response.ok || !response.body) {
    reply.textContent = `Error: HTTP ${response.status}`;
    reply.className = "msg error";
    return;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += value;
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const line = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (!line.startsWith("data: ")) continue;
      const event = JSON.parse(line.slice(6));
      if (event.type === "content") reply.textContent += event.content;
      if (event.type === "error") { reply.textContent += ` [${event.error}]`; reply.className = "msg error"; }
    }
    log.scrollTop = log.scrollHeight;
  }
  reply.classList.remove("streaming");
});
