// SupportGrid agent console. Plain ES module; needs the SignalR UMD client (/lib/signalr.min.js) as window.signalR.
// All user-supplied text (customer details, messages, URLs) is rendered with textContent; no innerHTML anywhere.

import { uuid, httpUrl, errorText, errorCode, h } from "../shared/util.js";

const TOKEN_KEY = "sg:console:token";
const USER_KEY = "sg:console:username";
const RECONNECT_DELAYS = [0, 1000, 2000, 5000, 10000, 10000, 30000];
const RESTART_DELAYS = [1000, 2000, 5000, 10000, 30000];
const MAX_MESSAGE = 4000;
const TYPING_THROTTLE_MS = 2000;
const TYPING_IDLE_MS = 3000;
const TYPING_SHOW_MAX_MS = 8000;
const WITHDRAWN_SHOW_MS = 4000;
const MAX_TRANSFER_NOTE = 500;
const TARGETS_MAX_AGE_MS = 2000; // GetTransferTargets again when a transfer list is opened after this long
const TRANSFER_CONFIRM_MS = 3000; // no ChatLeft this long after TransferChat returned: fetch the events ourselves
const STATUSES = ["available", "away", "offline"];
const BASE_TITLE = document.title;
const THROTTLED_SHOW_MS = 4000;

// ---------------------------------------------------------------------------------------------------------------------
// helpers

const $ = sel => document.querySelector(`[data-sg="${sel}"]`);

const isUnauthorized = e => e?.statusCode === 401 || /\b401\b|unauthori[sz]ed/i.test(String(e?.message ?? ""));
const cls = s => String(s ?? "").toLowerCase().replace(/[^a-z0-9-]/g, "");
const num = v => (Number.isFinite(Number(v)) ? Number(v) : 0);

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const m = Math.floor(s / 60);
  return m ? `${m}:${String(s % 60).padStart(2, "0")} min` : `${s} s`;
}

function timeLabel(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** Seconds until a JWT's exp, or Infinity if it has none / cannot be read. */
function tokenSecondsLeft(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const payload = JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), "=")));
    return typeof payload.exp === "number" ? payload.exp - Date.now() / 1000 : Infinity;
  } catch {
    return Infinity;
  }
}

function loadSignalR() {
  if (window.signalR) return Promise.resolve(window.signalR);
  return new Promise((resolve, reject) => {
    const script = h("script", { src: "/lib/signalr.min.js" });
    script.onload = () => (window.signalR ? resolve(window.signalR) : reject(new Error("The SignalR client did not load.")));
    script.onerror = () => reject(new Error("The SignalR client (/lib/signalr.min.js) could not be downloaded."));
    document.head.append(script);
  });
}

function storageGet(key) {
  try { return sessionStorage.getItem(key); } catch { return null; }
}
function storageSet(key, value) {
  try { value == null ? sessionStorage.removeItem(key) : sessionStorage.setItem(key, value); } catch { /* storage unavailable */ }
}

// ---------------------------------------------------------------------------------------------------------------------
// state

const ui = {
  signInView: $("sign-in-view"),
  signInForm: $("sign-in-form"),
  username: $("username"),
  password: $("password"),
  signIn: $("sign-in"),
  signInError: $("error"),
  app: $("app"),
  me: $("me"),
  displayName: $("agent-display-name"),
  status: $("status"),
  statusLabel: $("status-label"),
  capacity: $("capacity"),
  signOut: $("sign-out"),
  connection: $("connection"),
  error: $("console-error"),
  offers: $("offers"),
  offersEmpty: $("offers-empty"),
  chatList: $("chat-list"),
  chatsEmpty: $("chats-empty"),
  chats: $("chats"),
};

const state = {
  token: null,
  conn: null,
  connecting: null,
  stopping: null,
  wantConnected: false,
  restartAttempt: 0,
  restartTimer: 0,
  refreshing: null,
  refreshAgain: false,
  agent: { agentId: "", displayName: "", status: "", capacity: 0 },
  offers: new Map(), // sessionId -> { offer, el, receivedAt, refs }
  chats: new Map(), // channelId -> chat (see createChat)
  tick: 0,
  targets: { queues: [], agents: [] }, // GetTransferTargets, for every chat's transfer list
  targetsAt: 0,
  targetsLoading: null,
};

// ---------------------------------------------------------------------------------------------------------------------
// sign in / out

ui.signInForm.addEventListener("submit", async ev => {
  ev.preventDefault();
  const username = ui.username.value.trim();
  const password = ui.password.value;
  if (!username || !password) {
    ui.signInError.textContent = "Enter your username and password.";
    return;
  }
  ui.signInError.textContent = "";
  ui.signIn.disabled = true;
  try {
    const res = await fetch("/api/auth/token", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ username, password }),
    });
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const detail = body?.detail || body?.title;
      throw new Error(res.status === 401
        ? detail && !/^unauthori[sz]ed$/i.test(detail) ? detail : "Wrong username or password."
        : detail || `Sign-in failed (HTTP ${res.status}).`);
    }
    if (!body?.accessToken) throw new Error("The server did not return an access token.");
    ui.password.value = "";
    storageSet(USER_KEY, username);
    await signedIn(String(body.accessToken));
  } catch (err) {
    ui.signInError.textContent = err instanceof TypeError ? "The server cannot be reached." : errorText(err);
  } finally {
    ui.signIn.disabled = false;
  }
});

ui.signOut.addEventListener("click", () => signOut(""));

async function signedIn(token) {
  state.token = token;
  storageSet(TOKEN_KEY, token);
  ui.signInView.hidden = true;
  ui.app.hidden = false;
  ui.me.hidden = false;
  ui.displayName.textContent = storageGet(USER_KEY) || "";
  ui.error.textContent = "";
  ui.status.disabled = true; // enabled once the state is loaded, so a change is never sent before that
  try {
    await connect();
    await refresh();
    ui.status.disabled = false;
  } catch (err) {
    if (isUnauthorized(err)) signOut("Your sign-in has expired. Please sign in again.");
    else {
      showError(`Cannot connect: ${errorText(err)}`);
      scheduleRestart();
    }
  }
}

function signOut(message) {
  state.token = null;
  storageSet(TOKEN_KEY, null);
  stopConnection();
  for (const o of state.offers.values()) o.el.remove();
  state.offers.clear();
  for (const chat of state.chats.values()) disposeChat(chat);
  state.chats.clear();
  clearInterval(state.tick);
  state.tick = 0;
  updateEmpty();
  setConnectionLine("");
  ui.app.hidden = true;
  ui.me.hidden = true;
  ui.signInView.hidden = false;
  ui.signInError.textContent = message || "";
  ui.username.value = storageGet(USER_KEY) || ui.username.value;
  (ui.username.value ? ui.password : ui.username).focus();
}

function showError(text) {
  ui.error.textContent = text || "";
}

function setConnectionLine(text) {
  ui.connection.textContent = text || "";
  ui.connection.hidden = !text;
}

// ---------------------------------------------------------------------------------------------------------------------
// connection

async function connect() {
  const signalR = await loadSignalR();
  if (state.stopping) await state.stopping;
  if (!state.conn) {
    const conn = new signalR.HubConnectionBuilder()
      .withUrl("/hubs/agent", { withCredentials: false, accessTokenFactory: () => state.token ?? "" })
      .withAutomaticReconnect(RECONNECT_DELAYS)
      .configureLogging(signalR.LogLevel.Warning)
      .build();
    // Registered once: this console builds exactly one HubConnection and restarts that same object.
    conn.on("Offer", offer => upsertOffer(offer));
    conn.on("OfferWithdrawn", (sessionId, reason) => withdrawOffer(String(sessionId), reason));
    conn.on("Status", status => setStatus(status));
    conn.on("Message", (channelId, evt) => onChatEvent(String(channelId), evt));
    conn.on("Typing", (channelId, from, isTyping) => onRemoteTyping(String(channelId), from, isTyping));
    conn.on("ChatEnded", (channelId, reason) => onChatEnded(String(channelId), reason));
    conn.on("ChatLeft", (channelId, reason) => onChatLeft(String(channelId), reason));
    conn.on("Invitation", invitation => upsertInvitation(invitation));
    conn.on("InvitationClosed", (channelId, reason) => onInvitationClosed(String(channelId), reason));
    conn.on("CustomerPage", (channelId, presence) => onCustomerPage(String(channelId), presence));
    conn.on("CustomerActivity", (channelId, activity) => onCustomerActivity(String(channelId), activity));
    conn.on("CustomerPageView", (channelId, view) => onCustomerPageView(String(channelId), view));
    conn.on("Reconnect", () => reconnectElsewhere());
    conn.onreconnecting(() => {
      ui.status.disabled = true;
      setConnectionLine("Connection lost. Reconnecting…");
    });
    conn.onreconnected(() => {
      setConnectionLine("");
      afterConnected();
    });
    conn.onclose(err => {
      ui.status.disabled = true;
      if (!state.wantConnected || !state.token) return;
      if (isUnauthorized(err)) signOut("Your sign-in has expired. Please sign in again.");
      else scheduleRestart();
    });
    state.conn = conn;
  }
  state.wantConnected = true;
  if (state.conn.state === signalR.HubConnectionState.Disconnected) {
    state.connecting ??= state.conn.start().finally(() => { state.connecting = null; });
  }
  if (state.connecting) await state.connecting;
  if (state.conn.state !== signalR.HubConnectionState.Connected) throw new Error("Not connected.");
  state.restartAttempt = 0;
  setConnectionLine("");
}

function stopConnection() {
  state.wantConnected = false;
  clearTimeout(state.restartTimer);
  const conn = state.conn;
  if (!conn || conn.state === window.signalR?.HubConnectionState.Disconnected) return;
  const stopping = conn.stop().catch(() => {}).finally(() => { if (state.stopping === stopping) state.stopping = null; });
  state.stopping = stopping;
}

function isConnected() {
  return state.conn?.state === window.signalR?.HubConnectionState.Connected;
}

/** The gateway is stopping: reconnect now (the load balancer picks another gateway), then refresh as after any reconnect. */
async function reconnectElsewhere() {
  if (!state.wantConnected || !state.token) return;
  stopConnection();
  try {
    await connect();
    afterConnected();
  } catch (err) {
    if (isUnauthorized(err)) signOut("Your sign-in has expired. Please sign in again.");
    else if (!isConnected()) scheduleRestart();
  }
}

function scheduleRestart() {
  clearTimeout(state.restartTimer);
  const delay = RESTART_DELAYS[Math.min(state.restartAttempt, RESTART_DELAYS.length - 1)];
  state.restartAttempt++;
  setConnectionLine(`Disconnected. Retrying in ${Math.round(delay / 1000)} s…`);
  state.restartTimer = setTimeout(async () => {
    if (!state.token) return;
    try {
      setConnectionLine("Reconnecting…");
      await connect();
      afterConnected();
    } catch (err) {
      if (isUnauthorized(err)) signOut("Your sign-in has expired. Please sign in again.");
      else if (!isConnected()) scheduleRestart();
    }
  }, delay);
}

async function afterConnected() {
  await refresh();
  ui.status.disabled = false;
  for (const chat of state.chats.values()) flushOutbox(chat);
}

function invoke(method, ...args) {
  if (!state.conn) return Promise.reject(new Error("Not connected."));
  return state.conn.invoke(method, ...args);
}

/** GetState(), single-flight: the snapshot after (re)connecting. Offers and chats are upserted by id, never duplicated. */
function refresh() {
  if (state.refreshing) {
    state.refreshAgain = true;
    return state.refreshing;
  }
  state.refreshing = (async () => {
    do {
      state.refreshAgain = false;
      if (!isConnected()) return;
      const startedAt = performance.now();
      try {
        applySnapshot(await invoke("GetState"), startedAt);
      } catch (err) {
        showError(errorText(err));
        return;
      }
    } while (state.refreshAgain);
  })().finally(() => { state.refreshing = null; });
  return state.refreshing;
}

function applySnapshot(s, startedAt) {
  if (!s) return;
  state.agent.agentId = String(s.agentId ?? "");
  state.agent.displayName = String(s.displayName ?? "");
  state.agent.capacity = num(s.capacity);
  ui.displayName.textContent = state.agent.displayName || storageGet(USER_KEY) || "";
  setStatus(s.status);

  const offers = Array.isArray(s.offers) ? s.offers : [];
  const invitations = Array.isArray(s.invitations) ? s.invitations : [];
  const offerIds = new Set([...offers.map(o => String(o.sessionId)), ...invitations.map(i => invitationKey(i.channelId))]);
  for (const [id, o] of state.offers) if (!offerIds.has(id) && o.receivedAt < startedAt) removeOffer(id);
  for (const o of offers) upsertOffer(o);
  for (const i of invitations) upsertInvitation(i);

  const chats = Array.isArray(s.chats) ? s.chats : [];
  const chatIds = new Set();
  for (const c of chats) {
    reopenIfLeft(String(c.channelId), startedAt);
    const chat = upsertChat(c);
    chatIds.add(chat.channelId);
    applyChatEvents(chat, Array.isArray(c.events) ? c.events : []);
    loadCustomers(chat);
  }
  // A chat we show that the server no longer lists has ended while we were away: fetch its last events.
  for (const chat of state.chats.values()) {
    if (!chatIds.has(chat.channelId) && !chat.ended && chat.addedAt < startedAt) {
      fillGap(chat).then(() => { if (!chat.ended) endChatUi(chat, "This chat is no longer active."); });
    }
  }
  updateCapacity();
}

// ---------------------------------------------------------------------------------------------------------------------
// status

ui.status.addEventListener("change", async () => {
  const wanted = ui.status.value;
  const previous = state.agent.status;
  ui.status.disabled = true;
  try {
    await invoke("SetStatus", wanted);
    setStatus(wanted);
    showError("");
  } catch (err) {
    if (STATUSES.includes(previous)) ui.status.value = previous;
    showError(`Could not change status: ${errorText(err)}`);
  } finally {
    ui.status.disabled = !isConnected();
  }
});

function setStatus(status) {
  const s = String(status ?? "");
  state.agent.status = s;
  ui.statusLabel.textContent = s;
  ui.statusLabel.dataset.status = cls(s);
  if (STATUSES.includes(s)) ui.status.value = s;
}

function updateCapacity() {
  const open = [...state.chats.values()].filter(c => !c.ended).length;
  ui.capacity.textContent = state.agent.capacity ? `${open} / ${state.agent.capacity} chats` : `${open} chats`;
}

// ---------------------------------------------------------------------------------------------------------------------
// offers

function upsertOffer(o) {
  if (!o || o.sessionId == null) return;
  const id = String(o.sessionId);
  const existing = state.offers.get(id);
  if (existing && !existing.withdrawn) {
    existing.offer = o;
    existing.receivedAt = performance.now();
    fillOffer(existing);
    return;
  }
  if (existing) existing.el.remove(); // offered again while the "withdrawn" note was still showing
  const rec = { offer: o, receivedAt: performance.now(), withdrawn: false, refs: {} };
  const r = rec.refs;
  r.name = h("strong", { class: "offer-name" });
  r.queue = h("span", { class: "badge" });
  r.details = h("dl", { class: "details" });
  r.waited = h("span", { dataset: { sg: "waited" } });
  r.expires = h("span", { dataset: { sg: "expires" } });
  r.accept = h("button", { type: "button", dataset: { sg: "accept" } }, "Accept");
  r.decline = h("button", { type: "button", class: "secondary", dataset: { sg: "decline" } }, "Decline");
  r.note = h("p", { class: "error", dataset: { sg: "offer-error" }, role: "alert" });
  // With a chat open, the customer can instead join that chat (a family shopping together, a guided tour).
  r.into = h("select", { dataset: { sg: "accept-into-chat" }, "aria-label": "Chat to add the customer to" });
  r.acceptInto = h("button", { type: "button", class: "secondary", dataset: { sg: "accept-into" }, title: "Add this customer to one of your open chats (uses no extra chat slot)" }, "Accept into chat");
  r.intoRow = h("div", { class: "buttons accept-into", hidden: true }, r.into, r.acceptInto);
  r.transfer = h("p", { class: "transfer-note", dataset: { sg: "offer-transfer-note" }, hidden: true });
  const kind = o.invitation ? "invitation" : "offer";
  rec.el = h("li", { class: `${kind} card`, dataset: { sg: kind, sessionId: id } },
    h("div", { class: "offer-head" }, r.name, r.queue),
    r.transfer,
    r.details,
    o.invitation
      ? h("p", { class: "timers" }, "Invitation expires in ", r.waited, r.expires)
      : h("p", { class: "timers" }, "Waiting ", r.waited, " · offer expires in ", r.expires),
    h("div", { class: "buttons" }, r.accept, r.decline),
    o.invitation ? null : r.intoRow,
    r.note);
  r.accept.addEventListener("click", () => acceptOffer(rec));
  r.acceptInto.addEventListener("click", () => acceptOffer(rec, r.into.value));
  r.decline.addEventListener("click", () => declineOffer(rec));
  state.offers.set(id, rec);
  fillOffer(rec);
  ui.offers.append(rec.el);
  updateEmpty();
  startTicking();
}

function fillOffer(rec) {
  const { offer: o, refs: r } = rec;
  const c = o.customer ?? {};
  r.name.textContent = String(c.name ?? "Customer");
  r.queue.textContent = String(o.queue ?? "");
  r.queue.hidden = !o.queue;
  fillTransferNote(r.transfer, o.transfer ?? o.invitedBy, o.invitedBy ? "Invited by" : "Transferred by");
  rec.el.classList.toggle("transferred", Boolean(o.transfer ?? o.invitedBy));
  fillDetails(r.details, c, o.pageTitle, o.pageUrl);
  fillIntoTargets(rec);
  tickOffer(rec);
}

/** The open chats an offered customer can be accepted into ("Accept into chat"); hidden while there are none. */
function fillIntoTargets(rec) {
  const r = rec.refs;
  if (rec.offer.invitation) return;
  const open = [...state.chats.values()].filter(c => !c.ended);
  const key = open.map(c => `${c.channelId}:${c.customer?.name ?? ""}:${c.customers.size}`).join("|");
  if (key === r.intoKey) return;
  r.intoKey = key;
  const selected = r.into.value;
  r.into.replaceChildren(...open.map(c => {
    const others = c.customers.size > 1 ? ` (+${c.customers.size - 1})` : "";
    return h("option", { value: c.channelId }, `${String(c.customer?.name ?? "Customer")}${others}`);
  }));
  if (open.some(c => c.channelId === selected)) r.into.value = selected;
  r.intoRow.hidden = open.length === 0;
}

/** "Transferred by Alice: wants a refund" for an offer (or chat) handed on by another agent; hidden otherwise. */
function fillTransferNote(el, transfer, label = "Transferred by") {
  el.replaceChildren();
  el.hidden = !transfer;
  if (!transfer) return;
  const from = String(transfer.fromAgent ?? "").trim();
  const note = String(transfer.note ?? "").trim();
  el.append(h("strong", {}, from ? `${label} ${from}` : label.replace(/ by$/, "")));
  if (note) el.append(": ", h("span", { class: "note-text" }, note));
}

/** Customer details as a definition list: phone, email, IP, customer id (verified), page. */
function fillDetails(dl, c, pageTitle, pageUrl) {
  const rows = [
    ["Phone", c.phone, "phone"],
    ["Email", c.email, "email"],
    ["IP", c.ip, "ip"],
    ["Customer ID", c.customerId ? `${c.customerId}${c.customerIdVerified ? " (verified)" : " (not verified)"}` : "", "id"],
    ["Page", [pageTitle, pageUrl].filter(Boolean).join(" — "), "page"],
  ];
  dl.replaceChildren();
  for (const [label, value, hook] of rows) {
    const dd = h("dd", { dataset: { sg: `customer-${hook}` } }, value ? String(value) : "—");
    if (hook === "id" && c.customerIdVerified && c.customerId) dd.classList.add("verified");
    dl.append(h("dt", {}, label), dd);
  }
}

function tickOffer(rec) {
  if (rec.withdrawn) return;
  const elapsed = (performance.now() - rec.receivedAt) / 1000;
  rec.refs.waited.textContent = rec.offer.invitation ? "" : duration(num(rec.offer.waitedSeconds) + elapsed);
  const expires = Date.parse(rec.offer.expiresAt);
  const left = Number.isNaN(expires) ? NaN : (expires - Date.now()) / 1000;
  rec.refs.expires.textContent = Number.isNaN(left) ? "—" : left > 0 ? `${Math.ceil(left)} s` : "0 s";
  rec.el.classList.toggle("urgent", left <= 5);
  fillIntoTargets(rec); // chats open and end while the offer stands
}

function startTicking() {
  if (state.tick) return;
  state.tick = setInterval(() => {
    if (!state.offers.size) {
      clearInterval(state.tick);
      state.tick = 0;
      return;
    }
    for (const rec of state.offers.values()) tickOffer(rec);
  }, 1000);
}

/** Accepts an offer or invitation; with `intoChannelId`, the offered customer joins that open chat instead (AcceptOfferInto). */
async function acceptOffer(rec, intoChannelId = null) {
  const id = String(rec.offer.sessionId);
  setOfferBusy(rec, true);
  rec.refs.note.textContent = "";
  try {
    const result = rec.offer.invitation
      ? await invoke("AcceptInvitation", rec.offer.channelId)
      : intoChannelId
        ? await invoke("AcceptOfferInto", rec.offer.sessionId, intoChannelId)
        : await invoke("AcceptOffer", rec.offer.sessionId);
    if (result?.channelId == null) throw new Error("The server did not say which chat was opened.");
    removeOffer(id);
    const into = intoChannelId ? state.chats.get(String(result.channelId)) : null;
    if (into) {
      // A further customer of a chat we have: its events (with "… joined the chat.") and the customer list.
      applyChatEvents(into, Array.isArray(result?.events) ? result.events : []);
      loadCustomers(into);
      into.refs.input.focus();
      into.el.scrollIntoView({ block: "nearest", behavior: "smooth" });
      return;
    }
    reopenIfLeft(String(result.channelId));
    const chat = upsertChat({ ...result, queue: result?.queue ?? rec.offer.queue, pageTitle: rec.offer.pageTitle, transfer: rec.offer.transfer ?? null });
    // A transferred chat comes with its earlier history: every event is rendered.
    applyChatEvents(chat, Array.isArray(result?.events) ? result.events : []);
    loadCustomers(chat);
    updateCapacity();
    chat.refs.input.focus();
    chat.el.scrollIntoView({ block: "nearest", behavior: "smooth" });
  } catch (err) {
    if (!rec.withdrawn) {
      rec.refs.note.textContent = errorText(err);
      setOfferBusy(rec, false);
    }
  }
}

async function declineOffer(rec) {
  const id = String(rec.offer.sessionId);
  setOfferBusy(rec, true);
  rec.refs.note.textContent = "";
  try {
    if (rec.offer.invitation) await invoke("DeclineInvitation", rec.offer.channelId);
    else await invoke("DeclineOffer", rec.offer.sessionId);
    removeOffer(id);
  } catch (err) {
    if (!rec.withdrawn) {
      rec.refs.note.textContent = errorText(err);
      setOfferBusy(rec, false);
    }
  }
}

function setOfferBusy(rec, busy) {
  rec.refs.accept.disabled = busy;
  rec.refs.acceptInto.disabled = busy;
  rec.refs.decline.disabled = busy;
}

/** OfferWithdrawn: the element stops being an offer at once (data-sg changes), shows the reason briefly, then goes. */
function withdrawOffer(id, reason) {
  const rec = state.offers.get(id);
  if (!rec || rec.withdrawn) return;
  rec.withdrawn = true;
  rec.el.dataset.sg = "offer-withdrawn";
  rec.el.classList.add("withdrawn");
  setOfferBusy(rec, true);
  rec.refs.note.textContent = reason ? `Withdrawn: ${reason}` : "This offer was withdrawn.";
  rec.refs.expires.textContent = "—";
  updateEmpty();
  setTimeout(() => { if (state.offers.get(id) === rec) removeOffer(id); }, WITHDRAWN_SHOW_MS);
}

// ----- invitations: a colleague asks this agent to join their chat; shown and answered like an offer -----

function invitationKey(channelId) {
  return `invitation:${channelId}`;
}

function upsertInvitation(i) {
  if (!i || i.channelId == null) return;
  upsertOffer({
    sessionId: invitationKey(i.channelId), channelId: i.channelId, invitation: true, queue: i.queue, customer: i.customer,
    pageUrl: i.pageUrl, expiresAt: i.expiresAt, invitedBy: { fromAgent: i.fromAgent, note: i.note },
  });
}

/** InvitationClosed: an invitation to this agent lapsed, or (to the inviter) the colleague declined. */
function onInvitationClosed(channelId, reason) {
  if (state.offers.has(invitationKey(channelId))) {
    withdrawOffer(invitationKey(channelId), reason);
    return;
  }
  const chat = state.chats.get(channelId);
  if (chat && !chat.ended) showChatError(chat, String(reason || "Your invitation was not taken up."));
}

function removeOffer(id) {
  const rec = state.offers.get(id);
  if (!rec) return;
  rec.el.remove();
  state.offers.delete(id);
  updateEmpty();
}

function updateEmpty() {
  const live = [...state.offers.values()].filter(o => !o.withdrawn).length;
  ui.offersEmpty.hidden = live > 0;
  ui.chatsEmpty.hidden = state.chats.size > 0;
  document.title = live ? `(${live}) ${BASE_TITLE}` : BASE_TITLE;
}

// ---------------------------------------------------------------------------------------------------------------------
// chats

/** Creates or updates the chat panel for { channelId, sessionId, queue, customer, pageUrl, pageTitle? }. */
function upsertChat(c) {
  const channelId = String(c.channelId);
  let chat = state.chats.get(channelId);
  if (!chat) {
    chat = createChat(channelId);
    state.chats.set(channelId, chat);
    ui.chats.append(chat.el);
    ui.chatList.append(chat.tab);
    updateEmpty();
  }
  if (c.sessionId != null) chat.sessionId = String(c.sessionId);
  if (c.queue) chat.queue = String(c.queue);
  if (c.customer) chat.customer = c.customer;
  if (c.pageTitle) chat.pageTitle = String(c.pageTitle);
  if (c.transfer) chat.transfer = c.transfer;
  if (c.pageUrl && chat.lastSeq === 0) chat.pageUrl = String(c.pageUrl); // later pages come from navigate events
  if (!chat.siteUrl && httpUrl(c.pageUrl)) chat.siteUrl = String(c.pageUrl); // where the customer started: their site
  renderChatHeader(chat);
  fillTransferNote(chat.refs.transferNote, chat.transfer);
  return chat;
}

/** A chat this console left (transferred away) that comes back to this agent: the old panel gives way to a fresh one. */
function reopenIfLeft(channelId, before = Infinity) {
  const chat = state.chats.get(channelId);
  if (!chat || !chat.left || chat.leftAt >= before) return; // a snapshot taken before we left still lists it
  disposeChat(chat);
  state.chats.delete(channelId);
}

function createChat(channelId) {
  const chat = {
    channelId,
    sessionId: "",
    queue: "",
    customer: {},
    pageUrl: "",
    pageTitle: "",
    siteUrl: "",
    lastSeq: 0,
    ended: false, // no longer ours: the chat ended, or we left it (then `left` too)
    left: false,
    leftAt: 0,
    transfer: null, // { fromAgent, note } when the chat was transferred to us
    transferPending: false,
    transferTimer: 0,
    addedAt: performance.now(),
    filling: null,
    fillAgain: false,
    pending: [], // own messages not yet seen in the transcript: { id, text, el, seq, state }
    typingOn: false,
    typingSentAt: 0,
    typingIdleTimer: 0,
    typingShowTimer: 0,
    customers: new Map(), // sessionId -> { presence, el, refs } (see upsertCustomer)
    customersLoading: null,
    customersAgain: false,
    view: null, // the live page view open in this chat: { sessionId, refs, mirror, early }
    refs: {},
  };
  const r = chat.refs;
  const id = `chat-${channelId.replace(/[^a-zA-Z0-9-]/g, "")}`;
  r.title = h("h3", { id: `${id}-title` });
  r.queue = h("span", { class: "badge" });
  r.state = h("span", { class: "chat-state", dataset: { sg: "chat-state" } }, "active");
  r.close = h("button", { type: "button", class: "secondary", dataset: { sg: "close-chat" }, disabled: true, title: "Close this panel (once the chat has ended)" }, "Close");
  r.details = h("dl", { class: "details" });
  r.openPage = h("a", { target: "_blank", rel: "noopener noreferrer", dataset: { sg: "open-page" } }, "Open customer's page");
  r.transcript = h("ol", { class: "transcript", dataset: { sg: "transcript" }, role: "log", "aria-live": "polite", "aria-label": "Transcript" });
  r.typing = h("p", { class: "typing", dataset: { sg: "typing" }, "aria-live": "polite" });
  r.endReason = h("p", { class: "end-reason", dataset: { sg: "end-reason" }, hidden: true });
  r.error = h("p", { class: "error", dataset: { sg: "chat-error" }, role: "alert" });
  r.input = h("textarea", { id: `${id}-input`, rows: 2, maxlength: MAX_MESSAGE, placeholder: "Write to the customer… (Enter sends, Shift+Enter for a new line)", dataset: { sg: "chat-input" } });
  r.send = h("button", { type: "submit", dataset: { sg: "chat-send" } }, "Send");
  r.composer = h("form", { class: "composer" }, h("label", { for: `${id}-input`, class: "sr-only" }, "Message"), r.input, r.send);
  r.navUrl = h("input", { id: `${id}-nav`, type: "url", inputmode: "url", maxlength: 2048, placeholder: "https://shop.example/page", dataset: { sg: "nav-url" } });
  r.navSend = h("button", { type: "submit", class: "secondary", dataset: { sg: "nav-send" } }, "Send customer to this page");
  r.customers = h("ul", { class: "customers", dataset: { sg: "customers" }, "aria-label": "Customers in this chat" });
  r.createJoin = h("button", { type: "button", class: "secondary", dataset: { sg: "create-join-code" }, title: "A code and link that let more customers join this chat" }, "Invite customers");
  r.joinCode = h("strong", { class: "join-code", dataset: { sg: "join-code" } });
  r.joinLink = h("a", { target: "_blank", rel: "noopener noreferrer", dataset: { sg: "join-link" } });
  r.joinExpires = h("span", { class: "muted", dataset: { sg: "join-expires" } });
  r.joinInfo = h("p", { class: "join-info", dataset: { sg: "join-info" }, hidden: true }, "Code ", r.joinCode, " · link ", r.joinLink, " ", r.joinExpires);
  r.navForm = h("form", { class: "nav-form", novalidate: true }, h("label", { for: `${id}-nav` }, "Page URL"), r.navUrl, r.navSend);
  // Show the customers an element of their page: an outline around it, or scroll them to it (only shown while they let us guide).
  r.guideSelector = h("input", { id: `${id}-guide`, type: "text", maxlength: 300, spellcheck: "false", placeholder: "CSS selector, e.g. #add-to-cart or p.price", dataset: { sg: "guide-selector" } });
  r.guideHighlight = h("button", { type: "submit", class: "secondary", dataset: { sg: "guide-highlight" } }, "Highlight");
  r.guideScroll = h("button", { type: "button", class: "secondary", dataset: { sg: "guide-scroll" } }, "Scroll them to it");
  r.guideClear = h("button", { type: "button", class: "secondary", dataset: { sg: "guide-clear" } }, "Clear");
  r.guideForm = h("form", { class: "nav-form guide-form", novalidate: true },
    h("label", { for: `${id}-guide` }, "Element"), r.guideSelector, r.guideHighlight, r.guideScroll, r.guideClear);
  r.end = h("button", { type: "button", class: "danger", dataset: { sg: "end-chat" } }, "End chat");
  r.leave = h("button", { type: "button", class: "secondary", dataset: { sg: "leave-chat" }, title: "Leave the chat to the other agent in it" }, "Leave chat");
  r.transferNote = h("p", { class: "transfer-note", dataset: { sg: "chat-transfer-note" }, hidden: true });
  r.transferTarget = h("select", { id: `${id}-transfer`, dataset: { sg: "transfer-target" } });
  r.transferNoteInput = h("input", { id: `${id}-transfer-note`, type: "text", maxlength: MAX_TRANSFER_NOTE, placeholder: "Note for the next agent (optional)", dataset: { sg: "transfer-note" } });
  r.transferSend = h("button", { type: "submit", class: "secondary", dataset: { sg: "transfer-send" } }, "Transfer");
  r.inviteSend = h("button", { type: "button", class: "secondary", dataset: { sg: "invite-send" }, title: "Ask the chosen agent to join this chat with you" }, "Invite to join");
  r.transferForm = h("form", { class: "transfer-form", dataset: { sg: "transfer-form" }, novalidate: true },
    h("label", { for: `${id}-transfer` }, "Transfer to"), r.transferTarget,
    h("label", { for: `${id}-transfer-note`, class: "sr-only" }, "Note for the next agent"), r.transferNoteInput,
    r.transferSend, r.inviteSend);
  fillTransferTargets(r.transferTarget);

  chat.el = h("article", { class: "chat card", dataset: { sg: "chat", channelId }, "aria-labelledby": `${id}-title`, tabindex: "-1" },
    h("header", { class: "chat-head" }, h("div", {}, r.title, " ", r.queue, " ", r.state), r.close),
    r.transferNote,
    r.details,
    h("p", { class: "page-link" }, r.openPage),
    h("div", { class: "customers-box" }, r.customers, h("div", { class: "join-row" }, r.createJoin, r.joinInfo)),
    r.transcript, r.typing, r.endReason,
    r.composer,
    r.navForm,
    r.guideForm,
    r.transferForm,
    h("div", { class: "chat-actions" }, r.leave, r.end),
    r.error);

  r.tabName = h("span");
  r.tabBadge = h("span", { class: "new-dot", hidden: true }, "new");
  chat.tab = h("li", {}, h("button", { type: "button", class: "chat-tab", dataset: { sg: "chat-tab", channelId } }, r.tabName, " ", r.tabBadge));

  chat.tab.firstChild.addEventListener("click", () => {
    chat.el.scrollIntoView({ block: "nearest", behavior: "smooth" });
    (chat.ended ? chat.el : r.input).focus({ preventScroll: true });
  });
  chat.el.addEventListener("focusin", () => { r.tabBadge.hidden = true; });
  r.composer.addEventListener("submit", ev => { ev.preventDefault(); sendChatMessage(chat); });
  r.input.addEventListener("keydown", ev => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); sendChatMessage(chat); }
  });
  r.input.addEventListener("input", () => onLocalTyping(chat));
  r.input.addEventListener("blur", () => stopTyping(chat));
  r.navForm.addEventListener("submit", ev => { ev.preventDefault(); navigateCustomer(chat); });
  r.guideForm.addEventListener("submit", ev => { ev.preventDefault(); guideCustomers(chat, "highlight"); });
  r.guideScroll.addEventListener("click", () => guideCustomers(chat, "scroll"));
  r.guideClear.addEventListener("click", () => guideCustomers(chat, "clear"));
  r.createJoin.addEventListener("click", () => createJoinCode(chat));
  r.end.addEventListener("click", () => endChat(chat));
  r.close.addEventListener("click", () => closeChat(chat));
  r.transferForm.addEventListener("submit", ev => { ev.preventDefault(); transferChat(chat); });
  r.inviteSend.addEventListener("click", () => inviteColleague(chat));
  r.leave.addEventListener("click", () => leaveChat(chat));
  // The list is filled from GetTransferTargets when the chat opens, and again when it is opened later (statuses change).
  for (const type of ["focus", "pointerdown"]) r.transferTarget.addEventListener(type, () => loadTransferTargets(false, chat));
  loadTransferTargets(false);
  return chat;
}

function renderChatHeader(chat) {
  const r = chat.refs;
  const name = String(chat.customer?.name ?? "Customer");
  r.title.textContent = name;
  r.tabName.textContent = name;
  r.queue.textContent = chat.queue;
  r.queue.hidden = !chat.queue;
  fillDetails(r.details, chat.customer ?? {}, chat.pageTitle, chat.pageUrl);
  const u = httpUrl(chat.pageUrl);
  if (u) {
    r.openPage.href = u.href;
    r.openPage.removeAttribute("aria-disabled");
    r.openPage.title = u.href;
  } else {
    r.openPage.removeAttribute("href");
    r.openPage.setAttribute("aria-disabled", "true");
    r.openPage.title = "The customer's page is not an http(s) address.";
  }
}

function onChatEvent(channelId, evt) {
  if (!evt || !Number.isFinite(evt.seq)) return;
  const chat = state.chats.get(channelId);
  if (!chat) {
    refresh(); // a chat this console does not know yet (accepted in another tab, or before AcceptOffer returned)
    return;
  }
  if (evt.seq <= chat.lastSeq) return;
  if (evt.seq > chat.lastSeq + 1) {
    fillGap(chat); // GetEvents returns this one too, in order
    return;
  }
  applyChatEvents(chat, [evt]);
  applyAnswered(chat);
}

/** This console's own messages whose answer came before the events ahead of them: each applied once it is next. */
function applyAnswered(chat) {
  for (;;) {
    const next = !chat.ended && state.chats.get(chat.channelId) === chat && chat.pending.find(p => p.event && p.seq === chat.lastSeq + 1);
    if (!next) return;
    applyChatEvents(chat, [next.event]);
  }
}

/** GetEvents(channelId, lastSeq), single-flight per chat; repeats if asked again meanwhile. */
function fillGap(chat) {
  if (chat.filling) {
    chat.fillAgain = true;
    return chat.filling;
  }
  chat.filling = (async () => {
    do {
      chat.fillAgain = false;
      if (!isConnected()) return;
      try {
        const events = await invoke("GetEvents", chat.channelId, chat.lastSeq);
        applyChatEvents(chat, Array.isArray(events) ? events : [], true);
      } catch (err) {
        showChatError(chat, errorText(err));
        return;
      }
    } while (chat.fillAgain);
  })().finally(() => { chat.filling = null; });
  return chat.filling;
}

/** Appends events in seq order, ignoring what is already shown. A gap is filled with GetEvents first (unless these
 *  events are GetEvents' own answer, which is taken as it is). */
function applyChatEvents(chat, list, fromGetEvents = false) {
  const events = list.filter(x => x && Number.isFinite(x.seq)).sort((a, b) => a.seq - b.seq);
  const firstNew = events.find(x => x.seq > chat.lastSeq);
  if (firstNew && firstNew.seq > chat.lastSeq + 1 && !fromGetEvents) {
    fillGap(chat);
    return;
  }
  let headerChanged = false;
  let ownPresence = null; // this agent's last joined/left event in the batch (a transferred chat's history may hold earlier ones)
  for (const evt of events) {
    if (evt.seq <= chat.lastSeq) continue;
    chat.lastSeq = evt.seq;
    renderChatEvent(chat, evt);
    if ((evt.type === "joined" || evt.type === "left") && isMe(evt.from)) ownPresence = evt;
    if (evt.type === "message") {
      for (const p of [...chat.pending]) if (p.state === "sent" && p.seq && p.seq <= evt.seq) dropPending(chat, p);
      if (evt.from?.role === "customer") {
        hideRemoteTyping(chat);
        if (!chat.el.contains(document.activeElement)) chat.refs.tabBadge.hidden = false;
      }
    } else if (evt.type === "navigate" && evt.url) {
      markNavigationSent(chat, evt);
      if (!evt.to) {
        chat.pageUrl = String(evt.url);
        chat.pageTitle = "";
        headerChanged = true;
      }
    } else if ((evt.type === "joined" || evt.type === "left") && evt.from?.role === "customer") {
      loadCustomers(chat); // someone came with the join code, or left

    } else if (evt.type === "ended") {
      endChatUi(chat, evt.text ? String(evt.text) : "");
    }
  }
  // Our own "left" event (a transfer) closes the chat for us even if the ChatLeft push was missed.
  if (ownPresence?.type === "left" && !chat.ended) leftChatUi(chat, "");
  if (headerChanged) renderChatHeader(chat);
  const t = chat.refs.transcript;
  t.scrollTop = t.scrollHeight;
}

function renderChatEvent(chat, evt) {
  const role = cls(evt.from?.role);
  const name = String(evt.from?.name ?? "");
  const li = h("li", { class: `ev ev-${cls(evt.type)} from-${role}` });
  li.dataset.seq = String(evt.seq);
  const t = timeLabel(evt.at);
  const time = t ? h("time", { datetime: String(evt.at) }, t) : null;
  switch (evt.type) {
    case "message":
      li.append(h("span", { class: "who" }, name || role || "?"), h("span", { class: "text" }, String(evt.text ?? "")), time);
      break;
    case "navigate": {
      const one = evt.to ? chat.customers.get(String(evt.to))?.presence?.name || "one customer" : "";
      li.append(h("span", { class: "text" }, one
        ? `${name || "Agent"} sent ${one} to ${evt.url ?? ""}`
        : `${name || "Agent"} sent the customer to ${evt.url ?? ""}`), time);
      break;
    }
    case "joined":
      li.append(h("span", { class: "text" }, evt.text || `${name || "Someone"} joined the chat.`), time);
      break;
    case "left":
      li.append(h("span", { class: "text" }, name ? `${name} left the chat.` : evt.text || "Someone left the chat."), time);
      break;
    case "ended":
      li.append(h("span", { class: "text" }, evt.text || "The chat has ended."), time);
      break;
    default:
      li.append(h("span", { class: "text" }, String(evt.text ?? evt.type ?? "")), time);
  }
  chat.refs.transcript.insertBefore(li, chat.refs.transcript.querySelector(".pending"));
}

const isMe = from => from?.role === "agent" && Boolean(state.agent.displayName) && String(from?.name ?? "") === state.agent.displayName;

/** ChatLeft: this agent is out of the chat (it was transferred); the customer carries on with someone else. */
function onChatLeft(channelId, reason) {
  const chat = state.chats.get(channelId);
  if (!chat) return;
  leftChatUi(chat, reason ? String(reason) : "");
}

function leftChatUi(chat, reason) {
  if (chat.left) {
    if (reason && chat.refs.endReason.dataset.generic) {
      chat.refs.endReason.textContent = reason;
      delete chat.refs.endReason.dataset.generic;
    }
    return;
  }
  if (chat.ended) return; // ended before we left: that is what it is
  chat.left = true;
  chat.leftAt = performance.now();
  endChatUi(chat, reason || "You left the chat.", "left");
  if (!reason) chat.refs.endReason.dataset.generic = "1"; // ChatLeft's own wording replaces it when it comes
}

function onChatEnded(channelId, reason) {
  const chat = state.chats.get(channelId);
  if (!chat) return;
  endChatUi(chat, reason ? String(reason) : "");
  fillGap(chat); // pick up the "ended" event itself
}

/** The chat is over: show the reason, disable its inputs, allow closing the panel. Idempotent. */
function endChatUi(chat, reason, label = "ended") {
  const r = chat.refs;
  if (chat.ended) {
    if (reason && !r.endReason.textContent) r.endReason.textContent = reason;
    return;
  }
  chat.ended = true;
  chat.transferPending = false;
  clearTimeout(chat.transferTimer);
  stopTyping(chat);
  hideRemoteTyping(chat);
  for (const p of [...chat.pending]) if (p.state !== "sent") markFailed(chat, p, "Not sent: the chat has ended.");
  r.endReason.textContent = reason || "The chat has ended.";
  r.endReason.hidden = false;
  r.state.textContent = label;
  chat.el.classList.add("ended");
  chat.tab.classList.add("ended");
  for (const b of r.customers.querySelectorAll("button")) b.disabled = true;
  for (const el of [r.guideSelector, r.guideHighlight, r.guideScroll, r.guideClear]) el.disabled = true;
  if (chat.view) chat.view.refs.state.textContent = "stopped: the chat is over";
  for (const el of [r.createJoin, r.input, r.send, r.navUrl, r.navSend, r.end, r.leave, r.transferTarget, r.transferNoteInput, r.transferSend, r.inviteSend]) el.disabled = true;
  r.input.placeholder = label === "left" ? "You are no longer in this chat." : "This chat has ended.";
  r.close.disabled = false;
  updateCapacity();
}

function closeChat(chat) {
  if (!chat.ended) return;
  disposeChat(chat);
  state.chats.delete(chat.channelId);
  updateEmpty();
  updateCapacity();
}

function disposeChat(chat) {
  clearTimeout(chat.transferTimer);
  clearTimeout(chat.typingIdleTimer);
  clearTimeout(chat.typingShowTimer);
  closePageView(chat, false);
  chat.el.remove();
  chat.tab.remove();
}

function showChatError(chat, text) {
  chat.refs.error.textContent = text || "";
}

async function endChat(chat) {
  if (chat.ended) return;
  chat.refs.end.disabled = true;
  showChatError(chat, "");
  try {
    await invoke("EndChat", chat.channelId);
    fillGap(chat);
  } catch (err) {
    showChatError(chat, errorText(err));
    if (!chat.ended) chat.refs.end.disabled = false;
  }
}

async function navigateCustomer(chat, sessionId = null) {
  if (chat.ended) return;
  const r = chat.refs;
  let url = r.navUrl.value.trim();
  if (!url) {
    showChatError(chat, "Enter the address of the page to send the customer to.");
    r.navUrl.focus();
    return;
  }
  // A path such as "/checkout" is taken on the customer's site (the page they started the chat on); anything else goes
  // as typed and the server decides (it refuses what is not an absolute http(s) URL, and says why).
  const site = httpUrl(chat.siteUrl);
  if (site && url.startsWith("/") && !url.startsWith("//")) url = new URL(url, site).href;
  r.navSend.disabled = true;
  showChatError(chat, "");
  try {
    const result = sessionId
      ? await invoke("NavigateCustomer", chat.channelId, sessionId, url)
      : await invoke("NavigateCustomers", chat.channelId, url);
    r.navUrl.value = "";
    if (result && num(result.seq) > chat.lastSeq) setTimeout(() => { if (num(result.seq) > chat.lastSeq) fillGap(chat); }, 1500);
  } catch (err) {
    showChatError(chat, errorText(err));
  } finally {
    r.navSend.disabled = chat.ended;
  }
}

/** GuideCustomers: an outline around the element the selector names, a scroll to it, or clear (pointer: see the live view). */
async function guideCustomers(chat, kind, extra = {}) {
  if (chat.ended) return;
  const r = chat.refs;
  const selector = r.guideSelector.value.trim();
  if (kind !== "clear" && kind !== "pointer" && !selector) {
    showChatError(chat, "Enter a CSS selector of the element to show, for example #add-to-cart.");
    r.guideSelector.focus();
    return;
  }
  if (kind !== "pointer") showChatError(chat, "");
  try {
    await invoke("GuideCustomers", chat.channelId, { kind, x: extra.x ?? null, y: extra.y ?? null, selector: kind === "highlight" || kind === "scroll" ? selector : null, sessionId: null });
  } catch (err) {
    showChatError(chat, errorText(err));
  }
}

// ----- customers of a chat: where each one is, and whether they followed (several with a join code) -----

/** GetCustomers, single-flight per chat: the server's word on who is in the chat and where. */
function loadCustomers(chat) {
  if (chat.customersLoading) {
    chat.customersAgain = true;
    return chat.customersLoading;
  }
  chat.customersLoading = (async () => {
    do {
      chat.customersAgain = false;
      if (!isConnected() || chat.ended) return;
      try {
        const list = await invoke("GetCustomers", chat.channelId);
        const ids = new Set();
        for (const p of Array.isArray(list) ? list : []) {
          if (p?.sessionId == null) continue;
          ids.add(String(p.sessionId));
          upsertCustomer(chat, p, true);
        }
        for (const [id, c] of chat.customers) if (!ids.has(id)) { c.el.remove(); chat.customers.delete(id); }
        renderNavLabel(chat);
      } catch (err) {
        if (!chat.ended) showChatError(chat, errorText(err));
        return;
      }
    } while (chat.customersAgain);
  })().finally(() => { chat.customersLoading = null; });
  return chat.customersLoading;
}

function onCustomerPage(channelId, presence) {
  const chat = state.chats.get(channelId);
  if (!chat || chat.ended || presence?.sessionId == null) return;
  upsertCustomer(chat, presence, false);
  renderNavLabel(chat);
}

/** A navigation event: each customer it is for waits to report from the new page (unless they already did). */
function markNavigationSent(chat, evt) {
  for (const [id, c] of chat.customers) {
    if (evt.to && String(evt.to) !== id) continue;
    if (num(c.presence.navigateSeq) >= evt.seq) continue;
    c.presence = { ...c.presence, navigateSeq: evt.seq, navigateUrl: evt.url, navigation: "pending" };
    fillCustomer(c);
  }
}

function upsertCustomer(chat, p, fromSnapshot) {
  const id = String(p.sessionId);
  let c = chat.customers.get(id);
  if (c && !fromSnapshot && num(p.navigateSeq) < num(c.presence.navigateSeq)) {
    p = { ...p, navigateSeq: c.presence.navigateSeq, navigateUrl: c.presence.navigateUrl, navigation: c.presence.navigation };
  }
  if (!c) {
    const refs = {
      name: h("strong", { dataset: { sg: "customer-name" } }),
      page: h("span", { class: "customer-page", dataset: { sg: "customer-page" } }),
      nav: h("span", { class: "customer-nav", dataset: { sg: "customer-nav" } }),
      guide: h("span", { class: "customer-guide", dataset: { sg: "customer-guide" }, hidden: true }, "guiding off"),
      activity: h("span", { class: "customer-activity", dataset: { sg: "customer-activity" } }),
      one: h("button", { type: "button", class: "secondary small", dataset: { sg: "navigate-one" }, title: "Send only this customer to the page in the address field below" }, "Send only them"),
      view: h("button", { type: "button", class: "secondary small", dataset: { sg: "view-page" }, title: "See this customer's page live (if they let you guide)" }, "View page"),
    };
    c = { presence: p, activity: {}, activityAt: {}, refs, el: h("li", { class: "customer", dataset: { sg: "customer", sessionId: id } }, refs.name, " ", refs.guide, " ", refs.nav, " ", refs.page, " ", refs.one, " ", refs.view, refs.activity) };
    refs.one.addEventListener("click", () => navigateCustomer(chat, id));
    refs.view.addEventListener("click", () => openPageView(chat, id));
    chat.customers.set(id, c);
    chat.refs.customers.append(c.el);
  }
  c.presence = p;
  fillCustomer(c);
  // A snapshot carries the customer's latest activity of each kind; a push newer than it stays.
  for (const a of Array.isArray(p.activity) ? p.activity : []) if (a?.activity?.kind) noteActivity(c, a);
  fillActivity(c);
}

const NAV_TEXT = {
  pending: "sent, waiting for the page",
  followed: "followed",
  not_followed: "could not follow (outside the site's origins)",
};

function fillCustomer(c) {
  const p = c.presence;
  c.refs.name.textContent = String(p.name || "Customer");
  const status = p.navigation ? String(p.navigation) : "";
  const guideOff = p.guided === false;
  c.refs.guide.hidden = !guideOff;
  c.refs.nav.textContent = status === "not_followed" && guideOff ? "did not follow (the customer turned guiding off)"
    : status ? NAV_TEXT[status] ?? status : "";
  c.refs.nav.dataset.status = status;
  c.refs.nav.hidden = !status;
  const where = [p.pageTitle, p.pageUrl].filter(Boolean).map(String).join(" — ");
  c.refs.page.textContent = where ? `on ${where}` : "page not reported yet";
  c.refs.page.title = p.pageUrl ? String(p.pageUrl) : "";
}

/** CustomerActivity: the latest of each kind (viewport, scroll, visibility, click, focus) under the customer's row. */
function onCustomerActivity(channelId, a) {
  const chat = state.chats.get(channelId);
  const act = a?.activity;
  if (!chat || chat.ended || a?.sessionId == null || !act?.kind) return;
  let c = chat.customers.get(String(a.sessionId));
  if (!c) {
    // Activity can come before GetCustomers has answered (the widget reports its viewport as soon as the agent joins):
    // a row from what the activity says, which GetCustomers then completes.
    upsertCustomer(chat, { sessionId: a.sessionId, name: a.name }, false);
    c = chat.customers.get(String(a.sessionId));
    loadCustomers(chat);
  }
  if (act.kind === "throttled") {
    // The gateway refused some of this customer's page events (more than it relays a second): say so for a while.
    // Made when needed and removed after, so that the row's text is only the customer's otherwise.
    c.refs.throttled ??= h("span", { class: "customer-throttled", dataset: { sg: "customer-throttled" }, title: "The customer's page sent more events than are relayed; some were left out" }, "events throttled");
    if (!c.refs.throttled.isConnected) c.el.append(" ", c.refs.throttled);
    clearTimeout(c.throttledTimer);
    c.throttledTimer = setTimeout(() => c.refs.throttled.remove(), THROTTLED_SHOW_MS);
    return;
  }
  noteActivity(c, a);
  fillActivity(c);
}

/** Keeps the latest activity of its kind (by the time the channel received it). */
function noteActivity(c, a) {
  const kind = String(a.activity.kind);
  const at = Date.parse(a.at) || 0;
  if ((c.activityAt[kind] ?? -1) > at) return;
  c.activityAt[kind] = at;
  c.activity[kind] = a.activity;
}

function fillActivity(c) {
  const parts = [];
  const { viewport, scroll, visibility, click, focus } = c.activity;
  if (viewport) parts.push(`viewport ${num(viewport.width)}×${num(viewport.height)}`);
  if (scroll) parts.push(`scrolled to ${num(scroll.y)}${num(scroll.x) ? `, ${num(scroll.x)}` : ""}`);
  if (visibility) parts.push(visibility.visible === false ? "tab hidden" : "tab visible");
  if (click) parts.push(`clicked ${String(click.selector ?? "?")}${click.text ? ` "${String(click.text)}"` : ""}`);
  if (focus) parts.push(`focus on ${String(focus.selector ?? "?")}`);
  c.refs.activity.textContent = parts.join(" · ");
}

// ----- live page view (WatchPage / CustomerPageView; the mirror is ./pageview.js) -----

/** Opens the live view of one customer's page in the chat's panel (one view per chat; another customer replaces it). */
async function openPageView(chat, sessionId) {
  if (chat.ended) return;
  if (chat.view?.sessionId === sessionId) return;
  closePageView(chat, true);
  const name = String(chat.customers.get(sessionId)?.presence?.name || "Customer");
  const r = {};
  r.state = h("span", { class: "page-view-state", dataset: { sg: "page-view-state" } });
  r.close = h("button", { type: "button", class: "secondary small", dataset: { sg: "page-view-close" } }, "Close view");
  r.mirror = h("div", { class: "page-mirror", dataset: { sg: "page-mirror" }, title: "Move the mouse here: the customer sees your pointer" });
  r.el = h("section", { class: "page-view", dataset: { sg: "page-view", sessionId } },
    h("header", {}, h("strong", {}, `Live view: ${name}`), " ", r.state, " ", r.close), r.mirror);
  chat.refs.customers.after(r.el);
  r.close.addEventListener("click", () => closePageView(chat, true));
  const view = { sessionId, refs: r, mirror: null, early: [] };
  chat.view = view;
  const { PageMirror } = await import("./pageview.js");
  if (chat.view !== view) return;
  view.mirror = new PageMirror({
    container: r.mirror,
    onState: (state, text) => {
      r.state.textContent = text;
      r.state.dataset.state = state;
    },
    onPointer: (x, y) => {
      if (chat.ended || !isConnected()) return;
      invoke("GuideCustomers", chat.channelId, { kind: "pointer", x, y, selector: null, sessionId })
        .catch(err => showChatError(chat, errorText(err)));
    },
  });
  for (const chunk of view.early) view.mirror.receive(chunk);
  view.early = [];
  try {
    await invoke("WatchPage", chat.channelId, sessionId, true);
  } catch (err) {
    showChatError(chat, errorText(err));
  }
}

/** Closes the chat's page view; `tell`: ask the customer's widget to stop recording. */
function closePageView(chat, tell) {
  const view = chat.view;
  if (!view) return;
  chat.view = null;
  view.mirror?.dispose();
  view.refs.el.remove();
  if (tell && !chat.ended && isConnected()) invoke("WatchPage", chat.channelId, view.sessionId, false).catch(() => { /* the chat may be gone */ });
}

function onCustomerPageView(channelId, v) {
  const chat = state.chats.get(channelId);
  const view = chat?.view;
  if (!view || String(v?.sessionId) !== view.sessionId) return;
  if (view.mirror) view.mirror.receive(v.chunk);
  else view.early.push(v.chunk); // the mirror module is still loading
}

function renderNavLabel(chat) {
  chat.refs.navSend.textContent = chat.customers.size > 1 ? "Send every customer to this page" : "Send customer to this page";
  chat.refs.customers.classList.toggle("several", chat.customers.size > 1);
}

/** CreateJoinCode: a code and a link (the chat's current page with ?sg-join=CODE) that let more customers in. */
async function createJoinCode(chat) {
  if (chat.ended) return;
  const r = chat.refs;
  r.createJoin.disabled = true;
  showChatError(chat, "");
  try {
    const j = await invoke("CreateJoinCode", chat.channelId);
    r.joinCode.textContent = String(j?.code ?? "");
    const u = httpUrl(j?.url);
    r.joinLink.textContent = u ? u.href : "—";
    if (u) r.joinLink.href = u.href; else r.joinLink.removeAttribute("href");
    const expires = new Date(j?.expiresAt);
    r.joinExpires.textContent = Number.isNaN(expires.getTime()) ? "" : `(valid until ${expires.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })})`;
    r.joinInfo.hidden = false;
  } catch (err) {
    showChatError(chat, errorText(err));
  } finally {
    r.createJoin.disabled = chat.ended;
  }
}

// ----- transfer -----

/**
 * GetTransferTargets, single-flight, shared by every chat's list; `force` skips the freshness check. A failure is shown
 * in `chat`'s error line when the agent is using that chat's transfer control (quiet for the load when a chat opens).
 */
function loadTransferTargets(force, chat = null) {
  if (state.targetsLoading) return state.targetsLoading;
  if (!force && performance.now() - state.targetsAt < TARGETS_MAX_AGE_MS && state.targetsAt) return Promise.resolve();
  if (!isConnected()) return Promise.resolve();
  state.targetsLoading = (async () => {
    try {
      const t = await invoke("GetTransferTargets");
      state.targets = {
        queues: Array.isArray(t?.queues) ? t.queues.map(String) : [],
        agents: Array.isArray(t?.agents) ? t.agents.filter(a => a && a.agentId != null) : [],
      };
      state.targetsAt = performance.now();
      for (const c of state.chats.values()) if (!c.ended) fillTransferTargets(c.refs.transferTarget);
    } catch (err) {
      if (chat && !chat.ended) showChatError(chat, `Cannot list transfer targets: ${errorText(err)}`);
    }
  })().finally(() => { state.targetsLoading = null; });
  return state.targetsLoading;
}

/**
 * Options "Queue: demo/support" (value queue:…) and "Agent: Bob (available)" (value agent:…), keeping the choice. The
 * same targets in the same order only get their labels updated, so a list the agent has open is not rebuilt under them.
 */
function fillTransferTargets(select) {
  const wanted = [["", "Choose…"]];
  for (const q of state.targets.queues) wanted.push([`queue:${q}`, `Queue: ${q}`]);
  for (const a of state.targets.agents) {
    const agentId = String(a.agentId);
    if (agentId === state.agent.agentId) continue; // not to ourselves
    const name = String(a.displayName || agentId);
    wanted.push([`agent:${agentId}`, a.status ? `Agent: ${name} (${a.status})` : `Agent: ${name}`]);
  }
  const current = [...select.options];
  if (current.length === wanted.length && current.every((o, i) => o.value === wanted[i][0])) {
    current.forEach((o, i) => { if (o.textContent !== wanted[i][1]) o.textContent = wanted[i][1]; });
    return;
  }
  const chosen = select.value;
  select.replaceChildren(...wanted.map(([value, label]) => h("option", { value }, label)));
  if (wanted.some(([value]) => value === chosen)) select.value = chosen;
}

async function transferChat(chat) {
  if (chat.ended || chat.transferPending) return;
  const r = chat.refs;
  const target = r.transferTarget.value;
  const note = r.transferNoteInput.value.trim();
  if (!target) {
    showChatError(chat, "Choose a queue or an agent to transfer the chat to.");
    r.transferTarget.focus();
    return;
  }
  if (note.length > MAX_TRANSFER_NOTE) {
    showChatError(chat, `The note can be at most ${MAX_TRANSFER_NOTE} characters.`);
    return;
  }
  const request = target.startsWith("queue:") ? { toQueue: target.slice(6) } : { toAgent: target.slice(6) };
  if (note) request.note = note;
  showChatError(chat, "");
  chat.transferPending = true;
  r.transferSend.disabled = true;
  r.transferSend.textContent = "Transferring…";
  try {
    await invoke("TransferChat", chat.channelId, request);
    r.transferNoteInput.value = "";
    // The "left" event and ChatLeft normally follow at once; if not, fetch the events (our "left" closes the panel).
    chat.transferTimer = setTimeout(() => { if (!chat.ended) fillGap(chat); }, TRANSFER_CONFIRM_MS);
  } catch (err) {
    // "offline" comes worded for shoppers (closed, or nobody available there): say what it means for the transfer.
    showChatError(chat, errorCode(err) === "offline" ? `Cannot transfer there now: ${errorText(err)}` : errorText(err));
    loadTransferTargets(true, null); // the agent may have gone away meanwhile
  } finally {
    chat.transferPending = false;
    r.transferSend.textContent = "Transfer";
    r.transferSend.disabled = chat.ended;
  }
}

/** Asks the agent chosen in the transfer list to join this chat; the note goes with the invitation. */
async function inviteColleague(chat) {
  if (chat.ended) return;
  const r = chat.refs;
  const target = r.transferTarget.value;
  if (!target.startsWith("agent:")) {
    showChatError(chat, "Choose an agent to invite.");
    r.transferTarget.focus();
    return;
  }
  const note = r.transferNoteInput.value.trim();
  if (note.length > MAX_TRANSFER_NOTE) {
    showChatError(chat, `The note can be at most ${MAX_TRANSFER_NOTE} characters.`);
    return;
  }
  showChatError(chat, "");
  r.inviteSend.disabled = true;
  try {
    await invoke("InviteColleague", chat.channelId, { agentId: target.slice(6), note: note || null });
    r.transferNoteInput.value = "";
    chat.refs.typing.textContent = "Invitation sent.";
  } catch (err) {
    showChatError(chat, errorText(err));
    loadTransferTargets(true, null);
  } finally {
    r.inviteSend.disabled = chat.ended;
  }
}

/** Leaves the chat to the other agent in it (ChatLeft then closes the panel). */
async function leaveChat(chat) {
  if (chat.ended) return;
  showChatError(chat, "");
  chat.refs.leave.disabled = true;
  try {
    await invoke("LeaveChat", chat.channelId);
  } catch (err) {
    showChatError(chat, errorText(err));
  } finally {
    chat.refs.leave.disabled = chat.ended;
  }
}

// ----- sending (pending line until the event with the returned seq is in the transcript; retried after reconnects) -----

function sendChatMessage(chat) {
  if (chat.ended) return;
  const r = chat.refs;
  const text = r.input.value.trim();
  if (!text) return;
  if (text.length > MAX_MESSAGE) {
    showChatError(chat, `The message is longer than ${MAX_MESSAGE} characters.`);
    return;
  }
  showChatError(chat, "");
  r.input.value = "";
  stopTyping(chat);
  const el = h("li", { class: "ev ev-message from-agent pending" },
    h("span", { class: "who" }, state.agent.displayName || "You"), h("span", { class: "text" }, text));
  r.transcript.append(el);
  r.transcript.scrollTop = r.transcript.scrollHeight;
  const p = { id: uuid(), text, el, seq: 0, state: "queued" };
  chat.pending.push(p);
  deliver(chat, p);
}

async function deliver(chat, p) {
  if (p.state !== "queued") return;
  if (!isConnected()) { p.el.title = "Waiting for the connection…"; return; }
  p.state = "sending";
  try {
    const result = await invoke("SendMessage", chat.channelId, p.text, p.id);
    p.state = "sent";
    p.seq = num(result?.seq);
    // The answer carries the stored message (this connection usually gets no Message push of its own message; other
    // consoles do). Applied when it is the next event; otherwise once the events before it have come (applyAnswered;
    // fetched after 1.5 s if they do not).
    if (result?.event && num(result.event.seq) === p.seq) p.event = result.event;
    applyAnswered(chat);
    if (!p.seq || p.seq <= chat.lastSeq) dropPending(chat, p);
    else setTimeout(() => { if (chat.pending.includes(p) && p.seq > chat.lastSeq) fillGap(chat); }, 1500);
  } catch (err) {
    if (!isConnected() && !chat.ended) {
      p.state = "queued";
      p.el.title = "Waiting for the connection…";
      return;
    }
    if (errorCode(err) === "unavailable" && !chat.ended && (p.retries = (p.retries ?? 0) + 1) <= 30) {
      // The cluster is replacing a lost server: the same message id is stored once, so sending again is safe.
      p.state = "queued";
      p.el.title = "The service is recovering; sending again…";
      setTimeout(() => deliver(chat, p), 1000);
      return;
    }
    markFailed(chat, p, `Not sent: ${errorText(err)}`);
    showChatError(chat, errorText(err));
  }
}

function flushOutbox(chat) {
  for (const p of [...chat.pending]) if (p.state === "queued") deliver(chat, p);
}

function dropPending(chat, p) {
  p.el.remove();
  chat.pending = chat.pending.filter(x => x !== p);
}

function markFailed(chat, p, why) {
  chat.pending = chat.pending.filter(x => x !== p);
  p.state = "failed";
  p.el.classList.remove("pending");
  p.el.classList.add("failed");
  p.el.title = "";
  p.el.append(h("span", { class: "note" }, why));
}

// ----- typing -----

function onLocalTyping(chat) {
  if (chat.ended || !isConnected()) return;
  if (!chat.refs.input.value.trim()) {
    stopTyping(chat);
    return;
  }
  const now = Date.now();
  if (now - chat.typingSentAt >= TYPING_THROTTLE_MS) {
    chat.typingSentAt = now;
    chat.typingOn = true;
    invoke("SetTyping", chat.channelId, true).catch(err => showChatError(chat, errorText(err)));
  }
  clearTimeout(chat.typingIdleTimer);
  chat.typingIdleTimer = setTimeout(() => stopTyping(chat), TYPING_IDLE_MS);
}

function stopTyping(chat) {
  clearTimeout(chat.typingIdleTimer);
  if (!chat.typingOn) return;
  chat.typingOn = false;
  chat.typingSentAt = 0;
  if (isConnected()) invoke("SetTyping", chat.channelId, false).catch(err => showChatError(chat, errorText(err)));
}

function onRemoteTyping(channelId, from, isTyping) {
  const chat = state.chats.get(channelId);
  if (!chat || chat.ended) return;
  if (from?.role === "agent" && String(from?.name ?? "") === state.agent.displayName) return; // our own signal
  if (!isTyping) {
    hideRemoteTyping(chat);
    return;
  }
  chat.refs.typing.textContent = `${String(from?.name || chat.customer?.name || "The customer")} is typing…`;
  clearTimeout(chat.typingShowTimer);
  chat.typingShowTimer = setTimeout(() => hideRemoteTyping(chat), TYPING_SHOW_MAX_MS);
}

function hideRemoteTyping(chat) {
  clearTimeout(chat.typingShowTimer);
  chat.refs.typing.textContent = "";
}

// ---------------------------------------------------------------------------------------------------------------------
// start

(function boot() {
  updateEmpty();
  const token = storageGet(TOKEN_KEY);
  if (token && tokenSecondsLeft(token) > 5) {
    signedIn(token);
  } else {
    if (token) storageSet(TOKEN_KEY, null);
    signOut(token ? "Your sign-in has expired. Please sign in again." : "");
  }
})();
