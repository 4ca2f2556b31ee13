// Helpers shared by the widget's chat module and the agent console (plain ES module, no dependencies).

/** A random UUID for idempotent sends (crypto.randomUUID where the page is a secure context, else built by hand). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map(v => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The URL as a URL object if it is absolute http(s), else null. */
export function httpUrl(value) {
  try {
    const u = new URL(String(value));
    return u.protocol === "http:" || u.protocol === "https:" ? u : null;
  } catch {
    return null;
  }
}

/**
 * The readable part of a hub error. The gateway words them "{code}: {message}" inside SignalR's
 * "An unexpected error occurred invoking 'X' on the server. HubException: ..."; the user sees only the message.
 */
export function errorText(e) {
  const m = hubMessage(e);
  return errorCode(e) ? m.slice(m.indexOf(": ") + 2) : m;
}

/**
 * The reason code of a hub error ("offline", "invalid_input", …), or "" when the error carries none.
 * Codes are lower-case words joined by underscores, followed by ": " and the explanation.
 */
export function errorCode(e) {
  const c = /^([a-z]+(?:_[a-z]+)*): (?=\S)/.exec(hubMessage(e));
  return c ? c[1] : "";
}

function hubMessage(e) {
  const m = String(e?.message ?? e ?? "Unknown error");
  const i = m.indexOf("HubException: ");
  if (i >= 0) return m.slice(i + "HubException: ".length);
  return m.replace(/^An unexpected error occurred invoking '[^']*' on the server\.\s*(?=\S)/, "");
}

/** Creates an element. attrs: attributes, except `dataset` (object) and `on` (listeners). Children: nodes or strings (as text). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "on") for (const [type, fn] of Object.entries(v)) el.addEventListener(type, fn);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c != null) el.append(c);
  return el;
}
