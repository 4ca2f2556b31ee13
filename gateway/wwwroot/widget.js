/* SupportGrid loader: draws the chat button and loads /widget/chat.js only when it is needed. */
(() => {
  const s = document.currentScript || document.querySelector('script[src*="widget.js"][data-site]');
  if (!s || window.__sgLoader) return;
  window.__sgLoader = 1;
  const base = new URL(s.src, location.href).origin;
  const site = s.dataset.site || "default";
  const queue = s.dataset.queue || "default";
  let live = false;
  try { live = !!JSON.parse(sessionStorage.getItem(`sg:${site}:session`) || "null")?.token; } catch { /* no storage */ }
  // An agent's join link (?sg-join=CODE): open the chat at once, offering to join their chat.
  let join = new URLSearchParams(location.search).get("sg-join");
  let btn, loading;

  const open = auto => {
    const code = auto ? null : join;
    join = null; // used once
    btn.disabled = true;
    loading ??= import(base + "/widget/chat.js");
    loading.then(m => m.open({ base, site, queue, auto, join: code }), e => {
      loading = null;
      btn.textContent = "Chat unavailable, retry";
      console.error("SupportGrid:", e);
    }).finally(() => { btn.disabled = false; });
  };

  const draw = () => {
    const host = document.createElement("div");
    host.id = "sg-widget";
    const root = host.attachShadow({ mode: "open" });
    const css = document.createElement("style");
    css.textContent = ":host{all:initial}[data-sg=chat-button]{position:fixed;right:20px;bottom:20px;z-index:2147483000;" +
      "font:600 15px/1 system-ui,sans-serif;color:#fff;background:#2155d6;border:0;border-radius:24px;padding:14px 20px;" +
      "box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}[data-sg=chat-button]:focus-visible{outline:3px solid #f5b400}" +
      "[hidden]{display:none!important}";
    btn = document.createElement("button");
    btn.type = "button";
    btn.dataset.sg = "chat-button";
    btn.textContent = "Chat with us";
    btn.onclick = () => open(false);
    root.append(css, btn);
    document.body.append(host);
    if (join) open(false);
    else if (live) open(true);
  };

  document.body ? draw() : addEventListener("DOMContentLoaded", draw, { once: true });
})();
