// SupportGrid customer chat module. Loaded on demand by /widget.js (ES module, no dependencies but the SignalR UMD client).
//
// Everything is drawn inside an open shadow root on <div id="sg-widget"> so the host site's CSS cannot reach it.
// All text that comes from a user or from the server is rendered with textContent; no innerHTML anywhere.
//
// Session state lives in sessionStorage under `sg:${site}:session` so a chat survives page navigation and reloads:
//   { v, token, sessionId, queue, status, position, wait, agentName, lastSeq, appliedNavigateSeq, navSeq, navFollowed,
//     guide, events, suggested, followOrigins, transferring, open, viewing }   (transferring: the agent left to hand the
//     chat on; viewing: an agent has the live page view open)
// Navigation is applied exactly once: appliedNavigateSeq is persisted *before* location.assign, and a navigate event
// whose seq is <= appliedNavigateSeq is only ever rendered in the log, never applied again. A navigate event with `to`
// set is for one customer of a channel with several: only the widget whose sessionId it names applies (or shows) it.
//
// Where the page is: after each load (once the session is resumed), each in-page navigation (history.pushState,
// replaceState, popstate, hashchange) and each navigation shown as a link, the widget calls ReportPage with the URL,
// the title and the last navigation it applied (navSeq) and whether it followed it (navFollowed), so the agent sees who
// followed. Reports are coalesced (at most one per REPORT_MIN_INTERVAL_MS) and a repeat of the last one is not sent.
//
// Guiding (consent): the pre-chat form asks whether the agent may guide the browser (pre-ticked when the site's embed
// tag says data-guide-consent="implicit"), and the chat view has a switch to stop or allow it at any time (store.guide).
// Without it, every navigation is shown as a link, and reports say guided: false so the agent sees why.
//
// Page activity (only while connected and guided): scroll position and viewport size (each at most every
// ACTIVITY_COALESCE_MS, the last value wins), tab visibility, clicks (a CSS selector and up to 80 characters of the
// element's visible text; none inside [data-sg-mask]) and which field has focus (its selector; never its value) go to
// PageActivity. The gateway relays at most 10 a second per connection and refuses more with a `throttled` error (the
// agent sees "events throttled"); after one the widget pauses page activity for ACTIVITY_PAUSE_MS.
//
// Guiding also lets the agent show things on the page (Guide pushes): their pointer, an outline around an element, a
// scroll to it. They are drawn in this widget's shadow root, never in the site's DOM, and only while guiding is on.
//
// Single-page apps: in-page navigations are reported (see above). A site whose embed tag says data-spa="true" (or a path
// prefix, data-spa="/app/") has a followed same-origin navigation into that scope applied with history.pushState and a
// popstate event (plus an `sg:navigate` CustomEvent) instead of a reload; exactly-once holds as for a reload.
//
// Live page view: see onPageViewRequested and ./pageview.js (rrweb, inputs masked in the browser, consent required).
//
// Joining: a page opened with ?sg-join=CODE (an agent's join link), or a code typed into the pre-chat form, joins the
// agent's chat as a further customer (JoinChat) with a session of its own; the code is removed from the address bar.
//
// Before a new chat the module asks the queue whether it takes chats (GetAvailability). A closed queue (outside business
// hours, or no agent available) gets an offline form instead of the pre-chat form: the shopper leaves a message
// (LeaveMessage) and no session is stored. StartChat failing with `offline: …` (the queue closed meanwhile) switches to it.

import { uuid, httpUrl, errorText, errorCode, h } from "../shared/util.js";

const RECONNECT_DELAYS = [0, 1000, 2000, 5000, 10000, 10000, 30000];
const RESTART_DELAYS = [1000, 2000, 5000, 10000, 30000];
const MAX_MESSAGE = 4000;
const MAX_NAME = 100;
const MAX_PAGE_TITLE = 300; // the server refuses a longer page title
const AVAILABILITY_MAX_AGE_MS = 60000; // a panel reopened later asks again
const MAX_CACHED_EVENTS = 300;
const TYPING_THROTTLE_MS = 2000;
const TYPING_IDLE_MS = 3000;
const TYPING_SHOW_MAX_MS = 8000;
// A navigate event seen in the log (Message push or Resume catch-up) waits this long for the matching Navigate push,
// which carries the authoritative `follow` flag, before it is applied on its own.
const NAV_GRACE_MS = 400;
const REPORT_MIN_INTERVAL_MS = 500;
const JOIN_PARAM = "sg-join";
const ACTIVITY_COALESCE_MS = 400;
const ACTIVITY_PAUSE_MS = 1000; // after a `throttled` refusal, send no page activity for this long
const MAX_ACTIVITY_TEXT = 80;
const GUIDE_POINTER_MS = 6000; // the agent's pointer fades when it has not moved for this long
const GUIDE_HIGHLIGHT_MS = 15000; // an outline stays this long unless replaced or cleared

/** The site's embed tag: data-guide-consent="implicit" makes guiding the default (the customer can still stop it). */
function guideImplicit() {
  const tag = document.querySelector('script[src*="widget.js"][data-site]');
  return tag?.dataset.guideConsent === "implicit";
}

/**
 * The site's single-page app, from its embed tag: data-spa="true" (the whole origin) or a path prefix such as
 * data-spa="/app/". A followed navigation to a same-origin page under it is applied in the page (history.pushState plus a
 * popstate event, and an `sg:navigate` event with the URL) instead of loading it. Null when the site did not opt in.
 */
function spaScope() {
  const value = document.querySelector('script[src*="widget.js"][data-site]')?.dataset.spa?.trim();
  if (!value || value === "false") return null;
  return value === "true" ? "/" : value.startsWith("/") ? value : null;
}

let widget = null;

/** Entry point used by the loader: `open({ base, site, queue, auto })`. `auto` = resuming a stored session on page load. */
export function open(cfg) {
  if (!widget) widget = new ChatWidget(cfg);
  if (cfg.join) widget.offerJoin(String(cfg.join));
  widget.open(Boolean(cfg.auto));
  return widget;
}

// ---------------------------------------------------------------------------------------------------------------------
// helpers

let signalRPromise = null;

function loadSignalR(base) {
  if (window.signalR) return Promise.resolve(window.signalR);
  signalRPromise ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = base + "/lib/signalr.min.js";
    script.async = true;
    script.onload = () => (window.signalR ? resolve(window.signalR) : reject(new Error("The chat library did not load.")));
    script.onerror = () => {
      signalRPromise = null;
      script.remove();
      reject(new Error("The chat library could not be downloaded."));
    };
    document.head.append(script);
  });
  return signalRPromise;
}

const isInvalidToken = e => /invalid_token|unknown_session|resume token|no longer be resumed/i.test(String(e?.message ?? e));
const cls = s => String(s ?? "").toLowerCase().replace(/[^a-z0-9-]/g, "");
const num = v => (Number.isFinite(Number(v)) ? Number(v) : 0);

function timeLabel(at) {
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function pageTitle() {
  return String(document.title ?? "").trim().slice(0, MAX_PAGE_TITLE) || null;
}

/** A short CSS selector for an element: its id if it has one, else up to four levels of tag, classes and position. */
function cssPath(el) {
  const esc = v => (window.CSS?.escape ? window.CSS.escape(v) : String(v).replace(/[^a-zA-Z0-9_-]/g, "\\$&"));
  const parts = [];
  for (let node = el; node && node.nodeType === 1 && parts.length < 4; node = node.parentElement) {
    if (node.id) { parts.unshift(`#${esc(node.id)}`); break; }
    let part = node.localName;
    const classes = [...node.classList].slice(0, 2);
    if (classes.length) part += classes.map(c => `.${esc(c)}`).join("");
    const parent = node.parentElement;
    if (parent && [...parent.children].filter(c => c.localName === node.localName).length > 1) {
      part += `:nth-of-type(${[...parent.children].filter(c => c.localName === node.localName).indexOf(node) + 1})`;
    }
    parts.unshift(part);
    if (node.localName === "body") break;
  }
  return parts.join(" > ").slice(0, 300);
}

function positionText(position, wait) {
  if (!(position > 0)) return "Waiting for an agent…";
  let s = `You are number ${position} in the queue`;
  if (wait > 0) s += ` (about ${Math.max(1, Math.round(wait / 60))} min)`;
  return s;
}

// ---------------------------------------------------------------------------------------------------------------------

class ChatWidget {
  constructor({ base, site, queue }) {
    this.base = base;
    this.site = site;
    this.queue = queue;
    this.key = `sg:${site}:session`;
    this.store = null; // the live session (also persisted), null when there is none
    this.ended = false;
    this.conn = null;
    this.connecting = null; // conn.start() in flight
    this.stopping = null; // conn.stop() in flight
    this.wantConnected = false;
    this.leaving = false; // a followed navigation is under way
    this.restartTimer = 0;
    this.restartAttempt = 0;
    this.catching = null;
    this.catchAgain = false;
    this.startPending = false; // StartChat in flight
    this.pushBeforeStart = false; // a push arrived while StartChat was in flight
    this.pending = []; // own messages not yet seen in the log: { id, text, el, seq, state }
    this.typingOn = false;
    this.typingSentAt = 0;
    this.typingIdleTimer = 0;
    this.typingShowTimer = 0;
    this.navTimer = 0;
    this.navPending = null;
    this.activityPausedUntil = 0;
    this.guideState = { layer: null, pointer: null, target: null, pointerTimer: 0, targetTimer: 0 };
    this.unread = 0;
    this.checking = null; // GetAvailability in flight
    this.checkedAt = 0; // when the last availability answer came
    this.offlineSent = false; // a message was left: the thank-you stays until the page changes
    this.offlinePending = false; // LeaveMessage in flight
    this.reportTimer = 0;
    this.reportSentAt = 0;
    this.lastReport = ""; // the last ReportPage sent, so an unchanged page is not reported twice
    this.activityTimers = {}; // kind -> timer of a coalesced scroll/viewport event
    this.buildUi();
    this.watchHistory();
    this.watchActivity();
  }

  // ----- UI -----------------------------------------------------------------------------------------------------------

  buildUi() {
    let host = document.getElementById("sg-widget");
    if (!host) {
      host = h("div", { id: "sg-widget" });
      document.body.append(host);
    }
    this.root = host.shadowRoot ?? host.attachShadow({ mode: "open" });
    this.button = this.root.querySelector('[data-sg="chat-button"]');
    if (!this.button) {
      this.button = h("button", { type: "button", dataset: { sg: "chat-button" } }, "Chat with us");
      this.button.addEventListener("click", () => this.open(false));
      this.root.append(this.button);
    }

    const e = (this.els = {});
    const ids = `sg-${Math.random().toString(36).slice(2, 8)}`;

    e.agentName = h("p", { class: "sg-sub", dataset: { sg: "agent-name" }, "aria-live": "polite" });
    e.minimize = h("button", { type: "button", class: "sg-icon", dataset: { sg: "minimize" }, "aria-label": "Minimize chat", title: "Minimize" }, "–");
    e.connection = h("p", { class: "sg-conn", dataset: { sg: "connection" }, role: "status", hidden: true });

    e.name = h("input", { id: `${ids}-name`, type: "text", required: true, maxlength: MAX_NAME, autocomplete: "name", dataset: { sg: "name" } });
    e.phone = h("input", { id: `${ids}-phone`, type: "tel", maxlength: 40, autocomplete: "tel", dataset: { sg: "phone" } });
    e.email = h("input", { id: `${ids}-email`, type: "email", maxlength: 254, autocomplete: "email", dataset: { sg: "email" } });
    e.joinCode = h("input", { id: `${ids}-join`, type: "text", maxlength: 20, autocomplete: "off", spellcheck: "false", dataset: { sg: "join-code" } });
    e.consent = h("input", { id: `${ids}-consent`, type: "checkbox", dataset: { sg: "consent" } });
    e.consent.checked = guideImplicit();
    e.start = h("button", { type: "submit", class: "sg-primary", dataset: { sg: "start" } }, "Start chat");
    e.intro = h("p", { class: "sg-intro", dataset: { sg: "intro" } }, "Tell us who you are and an agent will be with you shortly.");
    e.contact = h("div", { class: "sg-contact" },
      h("label", { for: `${ids}-phone` }, "Phone (optional)"), e.phone,
      h("label", { for: `${ids}-email` }, "Email (optional)"), e.email);
    e.prechat = h("form", { class: "sg-prechat", dataset: { sg: "prechat" }, novalidate: true },
      e.intro,
      h("label", { for: `${ids}-name` }, "Name"), e.name,
      e.contact,
      h("label", { for: `${ids}-join` }, "Join code (if an agent gave you one)"), e.joinCode,
      h("label", { class: "sg-check" }, e.consent, " Let the agent open pages of this site for me during the chat"),
      e.start);

    e.checking = h("p", { class: "sg-checking", dataset: { sg: "checking" }, role: "status", hidden: true }, "Checking who is available…");

    e.offlineMessage = h("p", { class: "sg-intro", dataset: { sg: "offline-message" } });
    e.offName = h("input", { id: `${ids}-oname`, type: "text", required: true, maxlength: MAX_NAME, autocomplete: "name", dataset: { sg: "offline-name" } });
    e.offEmail = h("input", { id: `${ids}-oemail`, type: "email", maxlength: 254, autocomplete: "email", dataset: { sg: "offline-email" } });
    e.offPhone = h("input", { id: `${ids}-ophone`, type: "tel", maxlength: 40, autocomplete: "tel", dataset: { sg: "offline-phone" } });
    e.offText = h("textarea", { id: `${ids}-otext`, rows: 4, required: true, maxlength: MAX_MESSAGE, dataset: { sg: "offline-text" } });
    e.offSend = h("button", { type: "submit", class: "sg-primary", dataset: { sg: "offline-send" } }, "Send message");
    e.offForm = h("form", { class: "sg-prechat sg-offline-form", dataset: { sg: "offline-form" }, novalidate: true },
      h("label", { for: `${ids}-oname` }, "Name"), e.offName,
      h("label", { for: `${ids}-oemail` }, "Email"), e.offEmail,
      h("label", { for: `${ids}-ophone` }, "Phone"), e.offPhone,
      h("p", { class: "sg-hint" }, "Give us an email address or a phone number (or both) so we can reply."),
      h("label", { for: `${ids}-otext` }, "Message"), e.offText,
      e.offSend);
    e.offSent = h("p", { class: "sg-sent", dataset: { sg: "offline-sent" }, role: "status", tabindex: "-1", hidden: true }, "Thanks — we will get back to you.");
    e.offline = h("section", { class: "sg-offline", dataset: { sg: "offline" }, hidden: true }, e.offlineMessage, e.offForm, e.offSent);

    e.position = h("p", { class: "sg-position", dataset: { sg: "position" }, "aria-live": "polite" });
    e.messages = h("div", { class: "sg-messages", dataset: { sg: "messages" }, role: "log", "aria-live": "polite", "aria-label": "Chat messages", tabindex: "0" });
    e.typing = h("p", { class: "sg-typing", dataset: { sg: "typing" }, "aria-live": "polite" });
    e.endReason = h("p", { class: "sg-end-reason", dataset: { sg: "end-reason" } });
    e.newChat = h("button", { type: "button", class: "sg-primary", dataset: { sg: "new-chat" } }, "Start new chat");
    e.endedBox = h("div", { class: "sg-endbox", dataset: { sg: "ended" }, hidden: true }, e.endReason, e.newChat);
    e.input = h("textarea", { id: `${ids}-msg`, rows: 2, maxlength: MAX_MESSAGE, placeholder: "Type your message…", dataset: { sg: "message-input" } });
    e.send = h("button", { type: "submit", class: "sg-primary", dataset: { sg: "send" } }, "Send");
    e.composer = h("form", { class: "sg-composer", dataset: { sg: "composer" } },
      h("label", { for: `${ids}-msg`, class: "sg-sr" }, "Message"), e.input, e.send);
    e.end = h("button", { type: "button", class: "sg-link", dataset: { sg: "end" } }, "End chat");
    e.guide = h("input", { type: "checkbox", dataset: { sg: "guide-toggle" } });
    e.chatView = h("section", { class: "sg-chat", dataset: { sg: "chat-view" }, hidden: true },
      e.position, e.messages, e.typing, e.endedBox, e.composer,
      h("div", { class: "sg-actions" }, h("label", { class: "sg-check sg-guide" }, e.guide, " Agent may open pages for me"), e.end));

    e.error = h("p", { class: "sg-error", dataset: { sg: "error" }, role: "alert" });
    e.panel = h("div", { class: "sg-panel", role: "dialog", "aria-label": "Chat with us", dataset: { sg: "panel" }, hidden: true },
      h("header", {}, h("div", {}, h("h2", {}, "Chat with us"), e.agentName), e.minimize),
      e.connection, e.checking, e.prechat, e.offline, e.chatView, e.error);

    this.root.append(h("style", {}, CSS), e.panel);

    e.minimize.addEventListener("click", () => this.minimize());
    e.panel.addEventListener("keydown", ev => { if (ev.key === "Escape") this.minimize(); });
    e.prechat.addEventListener("submit", ev => { ev.preventDefault(); this.startChat(); });
    e.offForm.addEventListener("submit", ev => { ev.preventDefault(); this.leaveMessage(); });
    e.composer.addEventListener("submit", ev => { ev.preventDefault(); this.sendMessage(); });
    e.input.addEventListener("keydown", ev => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); this.sendMessage(); }
    });
    e.input.addEventListener("input", () => this.onLocalTyping());
    e.joinCode.addEventListener("input", () => this.renderJoinMode());
    e.guide.addEventListener("change", () => this.setGuide(e.guide.checked));
    e.input.addEventListener("blur", () => this.stopTyping());
    e.end.addEventListener("click", () => this.endChat());
    e.newChat.addEventListener("click", () => this.reset(true));
    window.addEventListener("pagehide", () => { this.leaving = true; });
    window.addEventListener("pageshow", ev => { if (ev.persisted) this.onRestoredFromCache(); });
  }

  open(auto) {
    if (!this.store && !this.ended) {
      const stored = this.load();
      if (stored) {
        this.store = stored;
        this.showChatView();
        this.renderCached();
        this.resumeStored();
      }
    }
    if (auto && !this.store) return; // nothing to resume after all: leave the plain button
    if (this.store) {
      if (auto && this.store.open === false) {
        this.setPanel(false);
        return;
      }
      this.store.open = true;
      this.save();
    }
    this.setPanel(true);
    if (!this.store && !this.ended) {
      if (this.els.joinCode.value.trim()) this.showPrechat(); // joining an agent's chat: no queue to ask
      else this.checkAvailability(); // connects (and loads the client library) first
      return;
    }
    loadSignalR(this.base).catch(err => this.showError(errorText(err))); // warm up: the user asked for the chat
    if (!auto) this.els.input.focus();
  }

  /** The page was opened with an agent's join link: take the code out of the address bar and offer to join. */
  offerJoin(code) {
    try {
      const u = new URL(location.href);
      if (u.searchParams.has(JOIN_PARAM)) {
        u.searchParams.delete(JOIN_PARAM);
        history.replaceState(history.state, "", u.href);
      }
    } catch { /* leave the address as it is */ }
    if (this.store || this.ended || this.load()) return; // already in a chat: the code is not used
    this.els.joinCode.value = code.slice(0, 20);
    this.renderJoinMode();
  }

  /** The pre-chat form says "join" instead of "start" while a join code is filled in. */
  renderJoinMode() {
    const e = this.els;
    const joining = Boolean(e.joinCode.value.trim());
    e.contact.hidden = joining;
    e.intro.textContent = joining
      ? "An agent invited you to join their chat. Tell us your name to join."
      : "Tell us who you are and an agent will be with you shortly.";
    if (!this.startPending) e.start.textContent = joining ? "Join chat" : "Start chat";
  }

  /** Back/forward cache restored this page: the in-memory state may be older than what later pages stored. */
  onRestoredFromCache() {
    this.leaving = false;
    if (!this.store || this.ended) return;
    const fresh = this.load();
    if (!fresh || fresh.token !== this.store.token) {
      this.reset(false);
      this.setPanel(false);
      return;
    }
    clearTimeout(this.navTimer);
    this.navPending = null;
    this.store = fresh;
    this.renderCached();
    if (!this.isConnected()) this.resumeStored();
    else this.afterConnected();
  }

  minimize() {
    this.setPanel(false);
    if (this.store) { this.store.open = false; this.save(); }
    this.button.focus();
  }

  setPanel(visible) {
    this.els.panel.hidden = !visible;
    this.button.hidden = visible;
    if (visible) {
      this.unread = 0;
      this.button.textContent = "Chat with us";
      this.scrollToEnd();
    }
  }

  showChatView() {
    this.setView("chat");
    this.renderStatus();
  }

  /** Shows one of the panel's views: "checking", "prechat", "offline" or "chat". */
  setView(view) {
    const e = this.els;
    e.checking.hidden = view !== "checking";
    e.prechat.hidden = view !== "prechat";
    e.offline.hidden = view !== "offline";
    e.chatView.hidden = view !== "chat";
  }

  // ----- availability and the offline form ---------------------------------------------------------------------------

  /**
   * No live session: ask the queue whether it takes chats, then show the pre-chat form or the offline form. An answer
   * younger than a minute is reused; a failure falls back to the pre-chat form (StartChat then says what is wrong).
   */
  checkAvailability() {
    const e = this.els;
    if (this.offlineSent) { this.setView("offline"); return; }
    if (this.checking) return;
    if (this.checkedAt && Date.now() - this.checkedAt < AVAILABILITY_MAX_AGE_MS && (!e.prechat.hidden || !e.offline.hidden)) {
      (e.prechat.hidden ? e.offName : e.name).focus();
      return;
    }
    this.setView("checking");
    this.checking = (async () => {
      let answer = null;
      try {
        await this.connect();
        answer = await this.invoke("GetAvailability", this.site, this.queue);
        this.checkedAt = Date.now();
      } catch (err) {
        // No connection, or a server without GetAvailability: the pre-chat form as before; StartChat says what is wrong.
        console.warn("SupportGrid: availability check failed:", errorText(err));
        this.checkedAt = 0;
      }
      if (this.store || this.ended || this.startPending) return; // something else took over meanwhile
      if (answer && answer.open === false) this.showOffline(answer.message);
      else this.showPrechat();
    })().finally(() => { this.checking = null; });
  }

  showPrechat() {
    this.setView("prechat");
    if (!this.els.panel.hidden) this.els.name.focus();
  }

  /** The queue takes no chats now: the server's explanation and the form to leave a message. */
  showOffline(message) {
    const e = this.els;
    e.offlineMessage.textContent = String(message || "No one is available right now. Leave a message and we will get back to you.");
    // Carry over what the shopper already typed into the pre-chat form.
    if (!e.offName.value) e.offName.value = e.name.value;
    if (!e.offEmail.value) e.offEmail.value = e.email.value;
    if (!e.offPhone.value) e.offPhone.value = e.phone.value;
    e.offForm.hidden = this.offlineSent;
    e.offSent.hidden = !this.offlineSent;
    this.setView("offline");
    if (!e.panel.hidden && !this.offlineSent) (e.offName.value ? e.offText : e.offName).focus();
  }

  async leaveMessage() {
    if (this.offlinePending || this.offlineSent) return;
    const e = this.els;
    const name = e.offName.value.trim();
    const email = e.offEmail.value.trim();
    const phone = e.offPhone.value.trim();
    const text = e.offText.value.trim();
    const fail = (msg, el) => { this.showError(msg); el?.focus(); };
    if (!name) return fail("Please enter your name.", e.offName);
    if (name.length > MAX_NAME) return fail(`Your name can be at most ${MAX_NAME} characters.`, e.offName);
    if (!email && !phone) return fail("Please give an email address or a phone number so we can reply.", e.offEmail);
    if (email && !e.offEmail.checkValidity()) return fail("Please enter a valid email address.", e.offEmail);
    if (!text) return fail("Please write your message.", e.offText);
    if (text.length > MAX_MESSAGE) return fail(`Your message can be at most ${MAX_MESSAGE} characters.`, e.offText);
    this.showError("");
    this.offlinePending = true;
    e.offSend.disabled = true;
    e.offSend.textContent = "Sending…";
    try {
      await this.connect();
      await this.invoke("LeaveMessage", {
        site: this.site,
        queue: this.queue,
        name,
        email: email || null,
        phone: phone || null,
        text,
        pageUrl: location.href,
        pageTitle: pageTitle(),
      });
      this.offlineSent = true;
      e.offText.value = "";
      e.offForm.hidden = true;
      e.offSent.hidden = false;
      e.offSent.focus();
      this.stopConnection(); // nothing more to say to the server; no session is stored
    } catch (err) {
      this.showError(errorText(err)); // the server's wording, always (e.g. invalid_input: …)
    } finally {
      this.offlinePending = false;
      e.offSend.disabled = false;
      e.offSend.textContent = "Send message";
    }
  }

  showError(text) {
    this.els.error.textContent = text || "";
  }

  setConnectionLine(text) {
    this.els.connection.textContent = text || "";
    this.els.connection.hidden = !text;
  }

  renderStatus() {
    const s = this.store;
    const e = this.els;
    const status = this.ended ? "ended" : s?.status;
    const transferring = Boolean(s?.transferring) && status !== "ended";
    e.position.hidden = status !== "queued" && !transferring;
    if (transferring) {
      const n = status === "queued" ? num(s.position) : 0;
      e.position.textContent = n > 1 ? `Connecting you to another agent… (you are number ${n} in the queue)` : "Connecting you to another agent…";
    } else if (status === "queued") {
      e.position.textContent = positionText(num(s.position), num(s.wait));
    }
    e.agentName.textContent = s?.agentName && status !== "queued" && !transferring ? `${s.agentName} joined` : "";
    const canWrite = status === "connected";
    e.input.disabled = !canWrite;
    e.send.disabled = !canWrite;
    e.input.placeholder = status === "queued" ? "You can write as soon as an agent joins…"
      : status === "ended" ? "This chat has ended." : "Type your message…";
    e.end.hidden = this.ended;
    e.endedBox.hidden = !this.ended;
    e.guide.checked = s?.guide !== false;
    e.guide.disabled = this.ended;
  }

  scrollToEnd() {
    const m = this.els.messages;
    m.scrollTop = m.scrollHeight;
  }

  /** Renders one channel event at its place (events arrive in seq order; pending own messages stay last). */
  renderEvent(evt) {
    const type = cls(evt.type);
    const role = cls(evt.from?.role);
    const name = String(evt.from?.name ?? "");
    const other = role === "customer" && !this.isOwn(evt);
    const el = h("div", { class: `sg-ev sg-${type} sg-from-${other ? "other" : role}` });
    el.dataset.seq = String(evt.seq);
    if (evt.type === "navigate" && !this.isForMe(evt)) return el; // another customer's: not shown (and not drawn)
    switch (evt.type) {
      case "message": {
        if (role === "agent" || other) el.append(h("span", { class: "sg-who" }, name || (other ? "Customer" : "Agent")));
        el.append(h("span", { class: "sg-text" }, String(evt.text ?? "")));
        const t = timeLabel(evt.at);
        if (t) el.append(h("time", { datetime: String(evt.at) }, t));
        break;
      }
      case "navigate":
        el.textContent = `Agent sent you to ${evt.url ?? ""}`;
        break;
      case "joined":
        el.textContent = evt.text || `${name || "An agent"} joined the chat.`;
        break;
      case "left":
        el.textContent = name ? `${name} left the chat.` : evt.text || "Someone left the chat.";
        break;
      case "ended":
        el.textContent = evt.text || "The chat has ended.";
        break;
      default:
        el.textContent = String(evt.text ?? "");
    }
    const firstPending = this.els.messages.querySelector(".sg-pending");
    this.els.messages.insertBefore(el, firstPending);
    if (evt.type === "navigate" && this.store?.suggested?.includes(evt.seq)) this.renderSuggestion(evt.url, el);
    return el;
  }

  renderSuggestion(url, after) {
    const box = h("div", { class: "sg-ev sg-suggest" }, "Your agent suggests this page: ");
    const u = httpUrl(url);
    if (u) {
      const a = h("a", { target: "_blank", rel: "noopener noreferrer", dataset: { sg: "nav-link" } });
      a.href = u.href;
      a.textContent = u.href;
      box.append(a);
    } else {
      box.append(String(url ?? ""));
    }
    if (after?.isConnected) after.after(box);
    else this.els.messages.insertBefore(box, this.els.messages.querySelector(".sg-pending"));
    this.scrollToEnd();
  }

  renderCached() {
    this.els.messages.replaceChildren();
    for (const evt of this.store.events) this.renderEvent(evt);
    this.renderStatus();
    this.scrollToEnd();
  }

  // ----- storage ------------------------------------------------------------------------------------------------------

  load() {
    try {
      const s = JSON.parse(sessionStorage.getItem(this.key) || "null");
      if (!s || typeof s.token !== "string" || !s.token) return null;
      return {
        v: 1,
        token: s.token,
        sessionId: s.sessionId ?? null,
        queue: s.queue ?? this.queue,
        status: s.status === "connected" ? "connected" : "queued",
        position: num(s.position),
        wait: num(s.wait),
        agentName: typeof s.agentName === "string" ? s.agentName : null,
        lastSeq: num(s.lastSeq),
        appliedNavigateSeq: num(s.appliedNavigateSeq),
        navSeq: num(s.navSeq),
        navFollowed: s.navFollowed === true,
        guide: s.guide !== false,
        events: Array.isArray(s.events) ? s.events.filter(x => x && Number.isFinite(x.seq)) : [],
        suggested: Array.isArray(s.suggested) ? s.suggested.filter(Number.isFinite) : [],
        followOrigins: Array.isArray(s.followOrigins) ? s.followOrigins.filter(x => typeof x === "string") : [],
        transferring: s.transferring === true,
        open: s.open !== false,
        viewing: s.viewing === true,
      };
    } catch {
      return null;
    }
  }

  /** Persists the session. Returns false if sessionStorage refused it (then a followed navigation is not risked). */
  save() {
    if (!this.store || this.ended) return false;
    const s = this.store;
    if (s.events.length > MAX_CACHED_EVENTS) s.events = s.events.slice(-MAX_CACHED_EVENTS);
    if (s.suggested.length > 50) s.suggested = s.suggested.slice(-50);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        sessionStorage.setItem(this.key, JSON.stringify(s));
        return true;
      } catch {
        s.events = s.events.slice(Math.floor(s.events.length / 2)); // probably over quota: keep the newer half
      }
    }
    return false;
  }

  clearStorage() {
    try { sessionStorage.removeItem(this.key); } catch { /* storage unavailable */ }
  }

  // ----- connection ---------------------------------------------------------------------------------------------------

  async connect() {
    const signalR = await loadSignalR(this.base);
    if (this.stopping) await this.stopping;
    if (!this.conn) {
      const conn = new signalR.HubConnectionBuilder()
        .withUrl(this.base + "/hubs/customer", { withCredentials: false })
        .withAutomaticReconnect(RECONNECT_DELAYS)
        .configureLogging(signalR.LogLevel.Warning)
        .build();
      // Handlers are registered exactly once, on the only HubConnection this widget ever builds.
      conn.on("QueuePosition", (position, wait) => this.onQueuePosition(position, wait));
      conn.on("AgentJoined", agentName => this.onAgentJoined(agentName));
      conn.on("Message", evt => this.onEvent(evt));
      conn.on("Typing", (from, isTyping) => this.onRemoteTyping(from, isTyping));
      conn.on("Navigate", nav => this.onNavigate(nav));
      conn.on("Guide", guide => this.onGuide(guide));
      conn.on("PageViewRequested", on => this.onPageViewRequested(on));
      conn.on("ChatEnded", (reason, offerMessage) => this.onChatEnded(reason, offerMessage));
      conn.onreconnecting(() => this.setConnectionLine("Connection lost. Reconnecting…"));
      conn.onreconnected(() => {
        this.setConnectionLine("");
        this.afterConnected();
      });
      conn.onclose(() => this.onClosed());
      conn.on("Reconnect", () => this.reconnectElsewhere());
      this.conn = conn;
    }
    this.wantConnected = true;
    if (this.conn.state === signalR.HubConnectionState.Disconnected) {
      this.connecting ??= this.conn.start().finally(() => { this.connecting = null; });
    }
    if (this.connecting) await this.connecting;
    if (this.conn.state !== signalR.HubConnectionState.Connected) throw new Error("Not connected to the chat service.");
    this.restartAttempt = 0;
    this.setConnectionLine("");
  }

  /** Stops the connection on purpose (no restart); connect() waits for the stop to finish. */
  stopConnection() {
    this.wantConnected = false;
    clearTimeout(this.restartTimer);
    if (!this.conn || this.conn.state === window.signalR?.HubConnectionState.Disconnected) return;
    const stopping = this.conn.stop().catch(() => {}).finally(() => { if (this.stopping === stopping) this.stopping = null; });
    this.stopping = stopping;
  }

  isConnected() {
    return this.conn?.state === window.signalR?.HubConnectionState.Connected;
  }

  onClosed() {
    if (this.ended) this.setConnectionLine(""); // nothing more to reconnect for
    if (!this.wantConnected || this.leaving || this.ended) return;
    if (!this.store) { this.wantConnected = false; return; } // no session yet: the next action connects again
    this.scheduleRestart();
  }

  /** The gateway is stopping: reconnect now (the load balancer picks another gateway), then resume as after any reconnect. */
  async reconnectElsewhere() {
    if (!this.wantConnected || this.leaving || this.ended) return;
    this.stopConnection();
    try {
      await this.connect();
      this.afterConnected();
    } catch {
      if (!this.isConnected()) this.scheduleRestart();
    }
  }

  scheduleRestart() {
    clearTimeout(this.restartTimer);
    const delay = RESTART_DELAYS[Math.min(this.restartAttempt, RESTART_DELAYS.length - 1)];
    this.restartAttempt++;
    this.setConnectionLine(`Connection lost. Retrying in ${Math.round(delay / 1000)} s…`);
    this.restartTimer = setTimeout(async () => {
      if (!this.wantConnected || this.leaving || this.ended) return;
      try {
        this.setConnectionLine("Reconnecting…");
        await this.connect();
        this.afterConnected();
      } catch {
        if (!this.isConnected()) this.scheduleRestart();
      }
    }, delay);
  }

  /** After any (re)connection: re-bind the session and fetch what was missed, then retry unsent messages. */
  async afterConnected() {
    if (!this.store || this.ended) return;
    await this.catchUp();
    this.flushOutbox();
    this.lastReport = ""; // a new connection (a page load, a reconnect, maybe another gateway): say where we are again
    this.reportPage();
    this.sendViewport();
    if (this.store?.viewing && this.store.status === "connected") this.startView(); // a new page (or connection): a fresh snapshot
  }

  // ----- live page view (PageView; the recorder is ./pageview.js) ----------------------------------------------------
  // An agent opens the view (PageViewRequested(true)): while guiding is on, the widget records the page with rrweb and
  // sends it (store.viewing is persisted, so every page load of the chat starts again with a full snapshot). The agent
  // closing it, the customer turning guiding off, or the chat ending stops it; turning guiding off tells the agent why.

  onPageViewRequested(on) {
    if (!this.store || this.ended) return;
    if (!on) {
      this.stopView(null);
      return;
    }
    if (this.store.guide === false) {
      this.invoke("PageView", { state: "stopped", seq: 0, part: 0, parts: 0, encoding: null, data: null, reason: "The customer has not allowed guiding, so their page is not shown." })
        .catch(err => console.warn("SupportGrid: page view failed:", errorText(err)));
      return;
    }
    this.store.viewing = true;
    this.save();
    this.startView();
  }

  async startView() {
    try {
      if (!this.recorder) {
        const { PageViewRecorder } = await import("./pageview.js");
        this.recorder ??= new PageViewRecorder({
          base: this.base,
          send: piece => this.invoke("PageView", piece),
          isThrottled: err => errorCode(err) === "throttled",
        });
      }
      if (!this.store?.viewing || this.ended || this.store.guide === false) return;
      await this.recorder.start();
    } catch (err) {
      console.warn("SupportGrid: page view failed:", errorText(err));
    }
  }

  /** Stops the view; with a reason, the agents are told why (the customer stopped it). */
  stopView(reason) {
    this.recorder?.stop();
    if (!this.store?.viewing) return;
    this.store.viewing = false;
    this.save();
    if (reason && this.isConnected()) {
      this.invoke("PageView", { state: "stopped", seq: 0, part: 0, parts: 0, encoding: null, data: null, reason })
        .catch(err => console.warn("SupportGrid: page view failed:", errorText(err)));
    }
  }

  // ----- where the page is (ReportPage) -------------------------------------------------------------------------------

  /** Reports the page soon (coalesced: at most one report per REPORT_MIN_INTERVAL_MS). */
  reportPage() {
    if (!this.store || this.ended || this.leaving) return;
    if (this.reportTimer) return; // one is scheduled; it reads the page when it runs
    const wait = Math.max(0, this.reportSentAt + REPORT_MIN_INTERVAL_MS - Date.now());
    this.reportTimer = setTimeout(() => { this.reportTimer = 0; this.sendReport(); }, wait);
  }

  sendReport() {
    const s = this.store;
    if (!s || this.ended || this.leaving || s.status !== "connected" || !this.isConnected()) return;
    const report = { url: location.href, title: pageTitle(), navigateSeq: num(s.navSeq), followed: s.navFollowed === true, guided: s.guide !== false };
    const key = JSON.stringify(report);
    if (key === this.lastReport) return;
    this.lastReport = key;
    this.reportSentAt = Date.now();
    this.invoke("ReportPage", report).catch(err => {
      this.lastReport = ""; // try again with the next report
      console.warn("SupportGrid: page report failed:", errorText(err));
    });
  }

  // ----- page activity (PageActivity) ---------------------------------------------------------------------------------

  get sharesActivity() {
    return Boolean(this.store) && !this.ended && !this.leaving && this.store.status === "connected" && this.store.guide !== false && this.isConnected();
  }

  sendActivity(activity) {
    if (!this.sharesActivity) return;
    if (Date.now() < this.activityPausedUntil) {
      // Over the gateway's budget a moment ago: keep only the latest scroll/viewport, send it when the pause ends.
      if (activity.kind === "scroll" || activity.kind === "viewport") this.coalesce(activity.kind, () => activity);
      return;
    }
    this.invoke("PageActivity", activity).catch(err => {
      if (errorCode(err) === "throttled") this.activityPausedUntil = Date.now() + ACTIVITY_PAUSE_MS; // the agent is told by the gateway
      else console.warn("SupportGrid: page activity failed:", errorText(err));
    });
  }

  /** Scroll and viewport: the latest value once per ACTIVITY_COALESCE_MS. */
  coalesce(kind, read) {
    if (!this.sharesActivity || this.activityTimers[kind]) return;
    this.activityTimers[kind] = setTimeout(() => {
      this.activityTimers[kind] = 0;
      this.sendActivity({ kind, ...read() });
    }, ACTIVITY_COALESCE_MS);
  }

  watchActivity() {
    const host = () => document.getElementById("sg-widget");
    const outside = el => el instanceof Element && el !== host() && !host()?.contains(el);
    addEventListener("scroll", () => this.coalesce("scroll", () => ({ x: Math.round(scrollX), y: Math.round(scrollY) })), { passive: true });
    addEventListener("resize", () => this.coalesce("viewport", () => ({ width: innerWidth, height: innerHeight })), { passive: true });
    document.addEventListener("visibilitychange", () => this.sendActivity({ kind: "visibility", visible: document.visibilityState === "visible" }));
    document.addEventListener("click", ev => {
      const el = ev.target;
      if (!outside(el)) return;
      const masked = Boolean(el.closest("[data-sg-mask], .rr-block, .rr-mask"));
      const text = masked || el.matches("input, textarea, select") ? "" : String(el.innerText ?? el.textContent ?? "").replace(/\s+/g, " ").trim().slice(0, MAX_ACTIVITY_TEXT);
      this.sendActivity({ kind: "click", selector: cssPath(el), text: text || null });
    }, true);
    document.addEventListener("focusin", ev => {
      const el = ev.target;
      if (outside(el) && el.matches("input, textarea, select, [contenteditable]")) this.sendActivity({ kind: "focus", selector: cssPath(el) });
    }, true);
  }

  /** After the session is (re)bound: where the viewport is, so the agent starts with a picture. */
  sendViewport() {
    this.sendActivity({ kind: "viewport", width: innerWidth, height: innerHeight });
    if (scrollX || scrollY) this.sendActivity({ kind: "scroll", x: Math.round(scrollX), y: Math.round(scrollY) });
  }

  // ----- the agent's pointer and highlight (Guide pushes) --------------------------------------------------------------
  // Drawn in this widget's shadow root (the site's CSS cannot reach it, and it never changes the site's own DOM), only
  // while the customer lets the agent guide. Positions follow the page: the pointer is in document coordinates, the
  // outline follows its element's box on every scroll and resize.

  onGuide(g) {
    if (!g || !this.store || this.ended || this.store.guide === false) return;
    if (g.to && this.store.sessionId && String(g.to) !== String(this.store.sessionId)) return;
    const who = String(g.from?.name || this.store.agentName || "Agent");
    switch (g.kind) {
      case "pointer":
        this.guideState.pointer = { x: num(g.x), y: num(g.y), who };
        clearTimeout(this.guideState.pointerTimer);
        this.guideState.pointerTimer = setTimeout(() => { this.guideState.pointer = null; this.drawGuide(); }, GUIDE_POINTER_MS);
        break;
      case "highlight":
      case "scroll": {
        const el = this.findGuided(String(g.selector ?? ""));
        this.guideState.target = el ? { el, who } : null;
        clearTimeout(this.guideState.targetTimer);
        if (el) {
          if (g.kind === "scroll") el.scrollIntoView({ block: "center", behavior: "smooth" });
          this.guideState.targetTimer = setTimeout(() => { this.guideState.target = null; this.drawGuide(); }, GUIDE_HIGHLIGHT_MS);
        }
        break;
      }
      case "clear":
        this.clearGuide();
        return;
      default:
        return;
    }
    this.drawGuide();
  }

  /** The element a selector names on the site's page (never inside this widget); null if none or the selector is bad. */
  findGuided(selector) {
    try {
      const el = document.querySelector(selector);
      const host = document.getElementById("sg-widget");
      return el && el !== host && !host?.contains(el) ? el : null;
    } catch {
      return null; // not a selector this browser understands
    }
  }

  clearGuide() {
    clearTimeout(this.guideState.pointerTimer);
    clearTimeout(this.guideState.targetTimer);
    this.guideState.pointer = null;
    this.guideState.target = null;
    this.drawGuide();
  }

  drawGuide() {
    const g = this.guideState;
    if (!g.layer) {
      g.pointerEl = h("div", { class: "sg-pointer", dataset: { sg: "agent-pointer" }, "aria-hidden": "true" }, h("span", { class: "sg-pointer-name" }));
      g.outline = h("div", { class: "sg-outline", dataset: { sg: "agent-highlight" }, "aria-hidden": "true" }, h("span", { class: "sg-pointer-name" }));
      g.layer = h("div", { class: "sg-guide-layer" }, g.outline, g.pointerEl);
      this.root.append(g.layer);
      const redraw = () => { if (g.pointer || g.target) requestAnimationFrame(() => this.placeGuide()); };
      addEventListener("scroll", redraw, { passive: true });
      addEventListener("resize", redraw, { passive: true });
    }
    this.placeGuide();
  }

  placeGuide() {
    const g = this.guideState;
    if (!g.layer) return;
    const p = g.pointer;
    g.pointerEl.hidden = !p;
    if (p) {
      g.pointerEl.style.transform = `translate(${p.x - scrollX}px, ${p.y - scrollY}px)`;
      g.pointerEl.firstChild.textContent = p.who;
    }
    const t = g.target && g.target.el.isConnected ? g.target : null;
    g.outline.hidden = !t;
    if (t) {
      const r = t.el.getBoundingClientRect();
      Object.assign(g.outline.style, { left: `${r.left - 4}px`, top: `${r.top - 4}px`, width: `${r.width + 8}px`, height: `${r.height + 8}px` });
      g.outline.firstChild.textContent = t.who;
    }
  }

  /** The customer allows or stops guiding; the agent hears it with the next report (sent at once). */
  setGuide(on) {
    if (!this.store || this.ended) return;
    this.store.guide = Boolean(on);
    if (!this.store.guide) {
      this.clearGuide();
      this.stopView("The customer turned guiding off.");
    }
    this.save();
    this.renderStatus();
    this.reportPage();
  }

  /** In-page navigations of single-page apps (pushState/replaceState, back/forward, hash changes) are reported too. */
  watchHistory() {
    if (window.__sgHistoryWatched) return;
    window.__sgHistoryWatched = true;
    for (const name of ["pushState", "replaceState"]) {
      const original = history[name];
      if (typeof original !== "function") continue;
      history[name] = function (...args) {
        const result = original.apply(this, args);
        try { widget?.reportPage(); } catch { /* never break the site's navigation */ }
        return result;
      };
    }
    window.addEventListener("popstate", () => widget?.reportPage());
    window.addEventListener("hashchange", () => widget?.reportPage());
  }

  async invoke(method, ...args) {
    if (!this.conn) throw new Error("Not connected to the chat service.");
    return this.conn.invoke(method, ...args);
  }

  // ----- session lifecycle --------------------------------------------------------------------------------------------

  async startChat() {
    if (this.startPending || this.store) return;
    const e = this.els;
    const name = e.name.value.trim();
    const phone = e.phone.value.trim();
    const email = e.email.value.trim();
    const joinCode = e.joinCode.value.trim();
    if (!name) { this.showError("Please enter your name."); e.name.focus(); return; }
    if (joinCode) { this.joinChat(name, joinCode); return; }
    if (name.length > MAX_NAME) { this.showError(`Your name can be at most ${MAX_NAME} characters.`); return; }
    if (email && !e.email.checkValidity()) { this.showError("Please enter a valid email address, or leave it empty."); e.email.focus(); return; }
    this.showError("");
    this.startPending = true;
    this.pushBeforeStart = false;
    e.start.disabled = true;
    e.start.textContent = "Connecting…";
    try {
      await this.connect();
      const ident = document.querySelector('script[src*="widget.js"][data-site]')?.dataset ?? {};
      const result = await this.invoke("StartChat", {
        site: this.site,
        queue: this.queue,
        name,
        phone: phone || null,
        email: email || null,
        pageUrl: location.href,
        pageTitle: pageTitle(),
        customerId: ident.customerId || null,
        customerIdSignature: ident.customerIdSignature || null,
      });
      this.ended = false;
      this.store = {
        v: 1,
        token: String(result.resumeToken),
        sessionId: result.sessionId ?? null,
        queue: this.queue,
        status: "queued",
        position: num(result.position),
        wait: 0,
        agentName: null,
        lastSeq: 0,
        appliedNavigateSeq: 0,
        navSeq: 0,
        navFollowed: false,
        guide: e.consent.checked,
        events: [],
        suggested: [],
        followOrigins: [],
        transferring: false,
        open: true,
      };
      this.save();
      this.els.messages.replaceChildren();
      this.showChatView();
      if (this.pushBeforeStart) this.catchUp(); // an agent may have joined before the answer came back
      e.input.focus();
    } catch (err) {
      if (!this.store && errorCode(err) === "offline") {
        this.showError("");
        this.showOffline(errorText(err)); // the queue closed since the availability check
      } else {
        this.showError(errorText(err));
      }
      if (!this.store) this.wantConnected = false;
    } finally {
      this.startPending = false;
      e.start.disabled = false;
      e.start.textContent = "Start chat";
    }
  }

  /** JoinChat: into the agent's chat with the code, as a further customer with a session of our own. */
  async joinChat(name, code) {
    const e = this.els;
    this.showError("");
    this.startPending = true;
    this.pushBeforeStart = false;
    e.start.disabled = true;
    e.start.textContent = "Joining…";
    try {
      await this.connect();
      const result = await this.invoke("JoinChat", { site: this.site, code, name, pageUrl: location.href, pageTitle: pageTitle() });
      const events = Array.isArray(result?.events) ? result.events.filter(x => x && Number.isFinite(x.seq)) : [];
      const upTo = events.reduce((m, x) => Math.max(m, x.seq), 0);
      this.ended = false;
      this.store = {
        v: 1,
        token: String(result.resumeToken),
        sessionId: result.sessionId ?? null,
        queue: this.queue,
        status: "connected",
        position: 0,
        wait: 0,
        agentName: result.agentName ? String(result.agentName) : null,
        lastSeq: 0,
        appliedNavigateSeq: upTo, // navigations from before we joined are history, not for us to follow
        navSeq: 0,
        navFollowed: false,
        guide: e.consent.checked,
        events: [],
        suggested: [],
        followOrigins: [],
        transferring: false,
        open: true,
      };
      e.joinCode.value = "";
      this.renderJoinMode();
      this.els.messages.replaceChildren();
      this.showChatView();
      this.applyEvents(events);
      this.save();
      this.renderStatus();
      if (this.pushBeforeStart) this.catchUp();
      this.reportPage();
      this.sendViewport();
      e.input.focus();
    } catch (err) {
      this.showError(errorText(err));
      if (!this.store) this.wantConnected = false;
    } finally {
      this.startPending = false;
      e.start.disabled = false;
      this.renderJoinMode();
    }
  }

  /** Page load with a stored session: show the cached transcript (already drawn), then Resume and append the rest. */
  async resumeStored() {
    try {
      this.setConnectionLine("Connecting…");
      await this.connect();
    } catch {
      if (this.store && !this.ended) this.scheduleRestart();
      return;
    }
    await this.afterConnected();
  }

  /** Resume(token, lastSeq), single-flight; repeats if another catch-up was asked for meanwhile. */
  catchUp() {
    if (!this.store || this.ended) return Promise.resolve();
    if (this.catching) {
      this.catchAgain = true;
      return this.catching;
    }
    this.catching = (async () => {
      do {
        this.catchAgain = false;
        if (!this.store || this.ended || !this.isConnected()) return;
        try {
          const result = await this.invoke("Resume", this.store.token, this.store.lastSeq);
          this.applyResume(result);
        } catch (err) {
          if (isInvalidToken(err)) this.expire(errorText(err));
          else if (this.isConnected()) this.showError(errorText(err));
          return; // when disconnected, the reconnect will catch up again
        }
      } while (this.catchAgain);
    })().finally(() => { this.catching = null; });
    return this.catching;
  }

  applyResume(r) {
    if (!r || !this.store || this.ended) return;
    if (r.agentName) this.store.agentName = String(r.agentName);
    this.applyEvents(Array.isArray(r.events) ? r.events : []);
    if (this.ended) return;
    if (r.status === "queued") {
      this.store.status = "queued";
      if (r.position != null) this.store.position = num(r.position);
    } else if (r.status === "connected") {
      this.store.status = "connected";
    } else if (r.status === "ended") {
      this.finish(null);
      return;
    }
    this.save();
    this.renderStatus();
  }

  /** The stored token is dead: forget the session and show the plain button again. */
  expire(reason) {
    this.reset(false);
    this.setPanel(false);
    this.showError(reason ? `Your previous chat could not be continued: ${reason}` : "");
  }

  /** Back to the pre-chat form (new chat), keeping what the customer typed into it. */
  reset(showPanel) {
    clearTimeout(this.restartTimer);
    clearTimeout(this.navTimer);
    clearTimeout(this.typingIdleTimer);
    clearTimeout(this.typingShowTimer);
    clearTimeout(this.reportTimer);
    this.reportTimer = 0;
    this.lastReport = "";
    this.navPending = null;
    this.clearStorage();
    this.store = null;
    this.ended = false;
    this.pending = [];
    this.typingOn = false;
    this.stopConnection();
    const e = this.els;
    e.messages.replaceChildren();
    e.typing.textContent = "";
    e.input.value = "";
    e.agentName.textContent = "";
    e.chatView.hidden = true;
    this.checkedAt = 0; // a new chat asks the queue again
    this.setConnectionLine("");
    this.showError("");
    if (showPanel) {
      this.setPanel(true);
      this.checkAvailability();
    } else {
      this.setView("prechat"); // drawn when the panel opens again (open() checks availability first)
    }
  }

  async endChat() {
    if (!this.store || this.ended) return;
    const { token, status } = this.store;
    this.els.end.disabled = true;
    try {
      await this.invoke("EndChat");
      // ChatEnded / the "ended" event (with the server's wording) normally follow at once; if not, finish anyway.
      setTimeout(() => {
        if (!this.ended && this.store?.token === token) this.finish(status === "queued" ? "You left the queue." : "You ended the chat.");
      }, 1500);
    } catch (err) {
      this.showError(errorText(err));
    } finally {
      this.els.end.disabled = false;
    }
  }

  /** The chat is over: show why, lock the input, forget the session, close the connection. Idempotent. */
  finish(reason) {
    if (this.ended) {
      if (reason && !this.els.endReason.textContent) this.els.endReason.textContent = reason;
      return;
    }
    const lastEnded = [...(this.store?.events ?? [])].reverse().find(x => x.type === "ended");
    this.ended = true;
    if (this.store) this.store.status = "ended";
    this.els.endReason.textContent = reason || lastEnded?.text || "The chat has ended.";
    this.stopTyping();
    this.hideRemoteTyping();
    this.clearGuide();
    this.recorder?.stop();
    // A message never sent failed; one whose answer is still to come waits for it (deliver); one answered is stored.
    for (const p of [...this.pending]) {
      if (p.state === "queued") this.markFailed(p, "Not sent: the chat has ended.");
      else if (p.state === "sent") this.settle(p);
    }
    this.clearStorage();
    this.renderStatus();
    this.setConnectionLine("");
    // A navigation still in its grace period goes ahead, and a message on its way gets its answer: the connection
    // stops after them (stopWhenSettled).
    this.wantConnected = false;
    this.stopWhenSettled();
  }

  /** After the end: stops the connection once no navigation is in its grace period and no message awaits its answer. */
  stopWhenSettled() {
    if (this.ended && !this.navPending && !this.pending.some(p => p.state === "sending")) this.stopConnection();
  }

  // ----- server pushes ------------------------------------------------------------------------------------------------

  onQueuePosition(position, wait) {
    if (!this.store) { if (this.startPending) this.pushBeforeStart = true; return; }
    if (this.ended || (this.store.status !== "queued" && !this.store.transferring)) return;
    this.store.position = num(position);
    this.store.wait = num(wait);
    this.save();
    this.renderStatus();
  }

  onAgentJoined(agentName) {
    if (!this.store) { if (this.startPending) this.pushBeforeStart = true; return; }
    if (this.ended) return;
    this.store.status = "connected";
    this.store.agentName = String(agentName ?? "") || this.store.agentName;
    this.store.transferring = false;
    this.save();
    this.renderStatus();
    if (!this.els.panel.hidden && this.els.prechat.hidden) this.els.input.focus();
    this.reportPage(); // the agent sees where the customer is from the start
    this.sendViewport();
    // The gateway follows AgentJoined with the channel's events; if they do not come, fetch them.
    const token = this.store.token;
    setTimeout(() => { if (this.store?.token === token && !this.ended && this.store.lastSeq === 0) this.catchUp(); }, 1500);
  }

  /** The session is over. With offerMessage (the queue's wait ran out) the shopper gets the form to leave a message. */
  onChatEnded(reason, offerMessage) {
    if (!this.store) { if (this.startPending) this.pushBeforeStart = true; return; }
    this.finish(reason ? String(reason) : null);
    if (offerMessage === true) this.showOffline(reason);
  }

  /** Any channel event pushed live: dedupe by seq, fill a gap with Resume before rendering. */
  onEvent(evt) {
    if (!this.store) { if (this.startPending) this.pushBeforeStart = true; return; }
    if (this.ended || !evt || !Number.isFinite(evt.seq)) return;
    if (evt.seq <= this.store.lastSeq) return;
    if (evt.seq > this.store.lastSeq + 1) {
      this.catchUp(); // Resume returns this event too, in order
      return;
    }
    this.applyEvents([evt]);
    this.applyAnswered();
  }

  /** Own messages whose answer came before the events ahead of them: each applied once it is the next event. */
  applyAnswered() {
    for (;;) {
      const next = this.store && !this.ended && this.pending.find(p => p.event && p.seq === this.store.lastSeq + 1);
      if (!next) return;
      this.applyEvents([next.event]);
    }
  }

  /** Appends events in seq order (ignoring what was seen), persists, then handles a navigate among them. */
  applyEvents(list) {
    if (!this.store) return;
    const events = list.filter(x => x && Number.isFinite(x.seq)).sort((a, b) => a.seq - b.seq);
    let newestNav = null;
    let endedEvt = null;
    let agentLeft = false;
    let added = 0;
    for (const evt of events) {
      if (evt.seq <= this.store.lastSeq) continue;
      this.store.lastSeq = evt.seq;
      this.store.events.push(evt);
      this.renderEvent(evt);
      added++;
      if (evt.type === "joined" && evt.from?.role === "agent") {
        if (this.store.status === "queued") this.store.status = "connected";
        if (evt.from.name) this.store.agentName = String(evt.from.name);
        this.store.transferring = false;
      } else if (evt.type === "left" && evt.from?.role === "agent") {
        // The agent handed the chat on (a transfer): the shopper stays in the channel and waits for the next agent.
        if (!evt.from.name || evt.from.name === this.store.agentName) {
          this.store.agentName = null;
          this.store.transferring = true;
          if (this.store.status === "connected") { this.store.status = "queued"; this.store.position = 0; } // until Resume says
          agentLeft = true;
        }
      } else if (evt.type === "message") {
        this.removeDeliveredPending(evt.seq);
        if (!this.isOwn(evt)) {
          this.hideRemoteTyping();
          if (this.els.panel.hidden) this.bumpUnread();
        }
      } else if (evt.type === "navigate" && evt.seq > this.store.appliedNavigateSeq && this.isForMe(evt)) {
        newestNav = evt;
      } else if (evt.type === "ended") {
        endedEvt = evt;
      }
    }
    if (!added) return;
    this.save();
    this.renderStatus();
    this.scrollToEnd();
    if (newestNav) this.scheduleNavigation(newestNav);
    if (endedEvt) this.finish(endedEvt.text ? String(endedEvt.text) : null);
    else if (agentLeft && this.store.transferring) this.catchUp(); // the server's word on the status (queued or connected)
  }

  /** A message of this customer (another customer of the same chat has another id; events without ids are ours). */
  isOwn(evt) {
    if (evt.from?.role !== "customer") return false;
    return !evt.from.id || !this.store?.sessionId || String(evt.from.id) === String(this.store.sessionId);
  }

  /** A navigation for every customer, or for this one. */
  isForMe(evt) {
    return !evt.to || (Boolean(this.store?.sessionId) && String(evt.to) === String(this.store.sessionId));
  }

  onRemoteTyping(from, isTyping) {
    if (!this.store || this.ended || from?.role === "customer") return;
    if (!isTyping) { this.hideRemoteTyping(); return; }
    const who = String(from?.name || this.store.agentName || "Your agent");
    this.els.typing.textContent = `${who} is typing…`;
    clearTimeout(this.typingShowTimer);
    this.typingShowTimer = setTimeout(() => this.hideRemoteTyping(), TYPING_SHOW_MAX_MS);
  }

  hideRemoteTyping() {
    clearTimeout(this.typingShowTimer);
    this.els.typing.textContent = "";
  }

  bumpUnread() {
    this.unread++;
    this.button.textContent = `Chat with us (${this.unread} new)`;
  }

  // ----- navigation (exactly once) ------------------------------------------------------------------------------------

  /** The Navigate push: authoritative, carries `follow`. */
  onNavigate(nav) {
    if (!this.store) { if (this.startPending) this.pushBeforeStart = true; return; }
    const seq = Number(nav?.seq);
    if (!Number.isFinite(seq) || seq <= this.store.appliedNavigateSeq) return;
    const gap = seq > this.store.lastSeq + 1;
    const target = httpUrl(nav.url);
    if (nav.follow === true && target && !this.store.followOrigins.includes(target.origin)) {
      this.store.followOrigins.push(target.origin); // the server said this origin is one of the site's
    }
    // A navigation of every customer carries its event: log it first (applyNavigation then puts a suggested link
    // under it). Otherwise the event arrives as a Message push, or comes back from Resume (after the reload when the
    // page was followed), and is then only rendered; lastSeq is never moved past events we have not seen.
    const carried = nav.event && Number(nav.event.seq) === seq && !gap;
    if (carried) this.applyEvents([nav.event]);
    const left = this.applyNavigation(String(nav.url ?? ""), seq, nav.follow === true);
    if (!left && gap) this.catchUp();
    if (!left) this.stopWhenSettled(); // after the end: the navigation in its grace period was this one
  }

  /** A navigate event found in the log: give the Navigate push a moment, then apply the newest one on its own. */
  scheduleNavigation(evt) {
    if (this.navPending && this.navPending.seq >= evt.seq) return;
    this.navPending = evt;
    clearTimeout(this.navTimer);
    this.navTimer = setTimeout(() => {
      const pending = this.navPending;
      this.navPending = null;
      if (!pending || !this.store || pending.seq <= this.store.appliedNavigateSeq) {
        this.stopWhenSettled();
        return;
      }
      // A channel event has no follow flag: follow this page's origin and origins the server has said to follow
      // before (Navigate pushes); suggest anything else with a link.
      const u = httpUrl(pending.url);
      const follow = Boolean(u && (u.origin === location.origin || this.store.followOrigins.includes(u.origin)));
      this.applyNavigation(String(pending.url ?? ""), pending.seq, follow);
      if (!this.leaving) this.stopWhenSettled();
    }, NAV_GRACE_MS);
  }

  /**
   * Applies navigation `seq` once: marks and persists appliedNavigateSeq first, then either moves the page
   * (follow + http(s) + persisted) or shows a link. Returns true if the page is being left.
   */
  applyNavigation(url, seq, follow) {
    const s = this.store;
    if (!s || seq <= s.appliedNavigateSeq) return false;
    const stored = this.ended ? null : this.load(); // what this tab last persisted wins (back/forward cache, races)
    if (stored && stored.token === s.token && stored.appliedNavigateSeq >= seq) {
      s.appliedNavigateSeq = stored.appliedNavigateSeq;
      return false;
    }
    s.appliedNavigateSeq = seq;
    s.navSeq = seq;
    if (this.navPending && this.navPending.seq <= seq) {
      clearTimeout(this.navTimer);
      this.navPending = null;
    }
    const u = httpUrl(url);
    const follows = follow && u !== null && s.guide !== false;
    if (!follows) s.suggested.push(seq);
    s.navFollowed = follows;
    const persisted = this.save();
    if (follows && !persisted && !this.ended) { s.navFollowed = false; s.suggested.push(seq); this.save(); }
    if (follows && (persisted || this.ended)) {
      if (u.href.split("#")[0] === location.href.split("#")[0]) {
        if (u.hash && u.href !== location.href) location.hash = u.hash; // same document: scroll, no reload
        this.reportPage();
        return false;
      }
      const scope = spaScope();
      if (scope && u.origin === location.origin && u.pathname.startsWith(scope) && location.pathname.startsWith(scope)) {
        // The site's app moves itself: the router hears the same popstate as for back/forward, or the custom event.
        history.pushState(history.state, "", u.href);
        dispatchEvent(new PopStateEvent("popstate", { state: history.state }));
        dispatchEvent(new CustomEvent("sg:navigate", { detail: { url: u.href, seq } }));
        this.reportPage();
        return false;
      }
      this.leaving = true;
      this.stopTyping();
      location.assign(u.href);
      // If the page is still here later (the navigation was cancelled), carry on as before.
      setTimeout(() => {
        this.leaving = false;
        if (this.store && !this.ended && !this.isConnected() && !this.connecting) this.resumeStored();
        this.stopWhenSettled();
      }, 10000);
      return true;
    }
    // The link goes under the event in the log; an event not logged yet (its Message push comes after the Navigate
    // push) gets the link from renderEvent, which checks `suggested`.
    const logged = this.els.messages.querySelector(`[data-seq="${seq}"]`);
    if (logged) this.renderSuggestion(url, logged);
    if (this.els.panel.hidden) this.bumpUnread();
    this.reportPage(); // the agent sees that this customer could not follow
    return false;
  }

  // ----- sending ------------------------------------------------------------------------------------------------------
  // Each sent message is shown at once as a pending line (no data-seq). Its clientMessageId makes SendMessage
  // idempotent, so a send cut off by a dropped connection is simply retried after the reconnect. The pending line goes
  // away when the real event (with that seq) is in the log.

  sendMessage() {
    if (!this.store || this.ended) return;
    const input = this.els.input;
    const text = input.value.trim();
    if (!text) return;
    if (text.length > MAX_MESSAGE) { this.showError(`Your message is longer than ${MAX_MESSAGE} characters.`); return; }
    if (this.store.status !== "connected") { this.showError("You can send messages as soon as an agent joins."); return; }
    this.showError("");
    input.value = "";
    this.stopTyping();
    const el = h("div", { class: "sg-ev sg-message sg-from-customer sg-pending" }, h("span", { class: "sg-text" }, text));
    this.els.messages.append(el);
    this.scrollToEnd();
    const p = { id: uuid(), text, el, seq: 0, state: "queued" };
    this.pending.push(p);
    this.deliver(p);
  }

  async deliver(p) {
    if (p.state !== "queued") return;
    if (!this.isConnected()) { p.el.title = "Waiting for the connection…"; return; }
    p.state = "sending";
    try {
      const result = await this.invoke("SendMessage", p.text, p.id);
      p.state = "sent";
      p.seq = num(result?.seq);
      // The answer carries the stored message (this connection usually gets no Message push of its own message; other
      // tabs do). Applied when it is the next event; otherwise once the events before it have come (applyAnswered).
      if (result?.event && num(result.event.seq) === p.seq) p.event = result.event;
      if (this.ended) {
        // The chat ended in this tab while the message was on its way: it was stored before the end (the transcript
        // has it). Shown once: as the log's event if that came, else as this line.
        if (this.store && p.seq && p.seq <= this.store.lastSeq) this.dropPending(p);
        else this.settle(p);
        this.stopWhenSettled();
        return;
      }
      this.applyAnswered();
      if (!this.store || !p.seq || p.seq <= this.store.lastSeq) {
        this.dropPending(p); // the event is already in the log
      } else {
        // The events before it normally follow within milliseconds; if they do not, fetch them (Resume).
        setTimeout(() => { if (this.pending.includes(p) && this.store && p.seq > this.store.lastSeq) this.catchUp(); }, 1500);
      }
    } catch (err) {
      if (!this.isConnected() && !this.ended) {
        p.state = "queued"; // retried by flushOutbox after the reconnect
        p.el.title = "Waiting for the connection…";
        return;
      }
      if (errorCode(err) === "unavailable" && !this.ended && (p.unavailable = (p.unavailable ?? 0) + 1) <= 30) {
        // The cluster is replacing a lost server: the same message id is stored once, so sending again is safe.
        p.state = "queued";
        p.el.title = "Sending again in a moment…";
        setTimeout(() => this.deliver(p), 1000);
        return;
      }
      if (/unknown_session/.test(String(err?.message)) && !this.ended && (p.retries = (p.retries ?? 0) + 1) <= 2) {
        p.state = "queued"; // a fresh connection not yet re-bound by Resume: resume, then retry (same id, idempotent)
        this.afterConnected();
        return;
      }
      this.markFailed(p, `Not sent: ${errorText(err)}`);
      if (this.ended) this.stopWhenSettled();
      else this.showError(errorText(err));
    }
  }

  flushOutbox() {
    for (const p of [...this.pending]) if (p.state === "queued") this.deliver(p);
  }

  removeDeliveredPending(seq) {
    for (const p of [...this.pending]) if (p.state === "sent" && p.seq && p.seq <= seq) this.dropPending(p);
  }

  dropPending(p) {
    p.el.remove();
    this.pending = this.pending.filter(x => x !== p);
  }

  /** An own message that is stored but will not come through the log any more (the chat ended): kept as sent. */
  settle(p) {
    this.pending = this.pending.filter(x => x !== p);
    p.el.classList.remove("sg-pending");
    p.el.title = "";
  }

  markFailed(p, why) {
    this.settle(p);
    p.state = "failed";
    p.el.classList.add("sg-failed");
    p.el.append(h("span", { class: "sg-note" }, why));
  }

  // ----- own typing signal --------------------------------------------------------------------------------------------

  onLocalTyping() {
    if (!this.store || this.ended || this.store.status !== "connected" || !this.isConnected()) return;
    if (!this.els.input.value.trim()) { this.stopTyping(); return; }
    const now = Date.now();
    if (now - this.typingSentAt >= TYPING_THROTTLE_MS) {
      this.typingSentAt = now;
      this.typingOn = true;
      this.invoke("SetTyping", true).catch(err => this.showError(errorText(err)));
    }
    clearTimeout(this.typingIdleTimer);
    this.typingIdleTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    clearTimeout(this.typingIdleTimer);
    if (!this.typingOn) return;
    this.typingOn = false;
    this.typingSentAt = 0;
    if (this.isConnected()) this.invoke("SetTyping", false).catch(err => this.showError(errorText(err)));
  }
}

const CSS = `
:host { all: initial; }
.sg-guide-layer { position: fixed; inset: 0; pointer-events: none; z-index: 2147482999; }
.sg-pointer { position: absolute; left: 0; top: 0; width: 18px; height: 18px; margin: -9px 0 0 -9px; border-radius: 50%;
  background: rgba(245,180,0,.85); border: 2px solid #fff; box-shadow: 0 0 0 2px #b07a00, 0 2px 8px rgba(0,0,0,.35); transition: transform .08s linear; }
.sg-outline { position: fixed; border: 3px solid #f5b400; border-radius: 6px; box-shadow: 0 0 0 4000px rgba(0,0,0,.12); }
.sg-pointer-name { position: absolute; left: 16px; top: 14px; white-space: nowrap; font: 600 11px/1.4 system-ui, sans-serif;
  color: #1d2330; background: #f5b400; border-radius: 4px; padding: 1px 6px; }
.sg-outline .sg-pointer-name { left: -3px; top: -22px; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
[data-sg="chat-button"] { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; font: 600 15px/1 system-ui, sans-serif;
  color: #fff; background: #2155d6; border: 0; border-radius: 24px; padding: 14px 20px; box-shadow: 0 4px 14px rgba(0,0,0,.25); cursor: pointer; }
button:focus-visible, input:focus-visible, textarea:focus-visible, a:focus-visible { outline: 3px solid #f5b400; outline-offset: 1px; }
.sg-panel { position: fixed; right: 20px; bottom: 20px; z-index: 2147483001; width: 360px; max-width: calc(100vw - 24px);
  height: 540px; max-height: calc(100vh - 40px); display: flex; flex-direction: column; background: #fff; color: #1d2330;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; border-radius: 12px; overflow: hidden;
  box-shadow: 0 12px 40px rgba(0,0,0,.28); }
header { display: flex; align-items: flex-start; justify-content: space-between; gap: 8px; padding: 12px 14px; background: #2155d6; color: #fff; }
header h2 { margin: 0; font-size: 16px; }
.sg-sub { margin: 2px 0 0; font-size: 12px; opacity: .9; min-height: 1em; }
.sg-icon { background: transparent; border: 0; color: #fff; font-size: 22px; line-height: 1; cursor: pointer; padding: 0 4px; }
.sg-conn { margin: 0; padding: 6px 14px; background: #fff4d6; color: #6b4a00; font-size: 12px; }
.sg-prechat { display: flex; flex-direction: column; gap: 4px; padding: 14px; overflow: auto; }
.sg-prechat label { font-weight: 600; margin-top: 8px; }
.sg-intro { margin: 0 0 4px; }
input, textarea { font: inherit; color: inherit; width: 100%; border: 1px solid #b8c0cc; border-radius: 6px; padding: 8px; background: #fff; }
textarea { resize: none; }
.sg-primary { font: inherit; font-weight: 600; color: #fff; background: #2155d6; border: 0; border-radius: 6px; padding: 9px 14px; cursor: pointer; }
.sg-primary:disabled { background: #9aa8c7; cursor: default; }
.sg-prechat .sg-primary { margin-top: 14px; }
.sg-link { font: inherit; background: none; border: 0; color: #b3261e; cursor: pointer; padding: 4px 0; text-decoration: underline; }
.sg-chat { display: flex; flex-direction: column; flex: 1; min-height: 0; }
.sg-position { margin: 0; padding: 8px 14px; background: #eef3ff; font-weight: 600; }
.sg-messages { flex: 1; overflow-y: auto; padding: 10px 14px; display: flex; flex-direction: column; gap: 6px; }
.sg-ev { max-width: 85%; padding: 7px 10px; border-radius: 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
.sg-message.sg-from-customer { align-self: flex-end; background: #2155d6; color: #fff; }
.sg-message.sg-from-agent, .sg-message.sg-from-other { align-self: flex-start; background: #eef0f4; }
.sg-message.sg-from-other { background: #f4efe6; }
.sg-joined, .sg-left, .sg-ended, .sg-navigate, .sg-suggest, .sg-message.sg-from-system { align-self: center; max-width: 95%;
  background: none; color: #5b6473; font-size: 12px; text-align: center; }
.sg-suggest { background: #eef3ff; color: #1d2330; font-size: 13px; }
.sg-suggest a { color: #2155d6; }
.sg-who { display: block; font-size: 11px; font-weight: 600; color: #5b6473; }
.sg-ev time { display: block; font-size: 10px; opacity: .7; text-align: right; }
.sg-pending { opacity: .6; }
.sg-failed { background: #fde7e6 !important; color: #7a1410 !important; }
.sg-note { display: block; font-size: 11px; }
.sg-typing { margin: 0; padding: 0 14px; min-height: 18px; font-size: 12px; font-style: italic; color: #5b6473; }
.sg-endbox { padding: 10px 14px; border-top: 1px solid #e3e6eb; text-align: center; }
.sg-end-reason { margin: 0 0 8px; }
.sg-composer { display: flex; gap: 8px; padding: 8px 14px; border-top: 1px solid #e3e6eb; }
.sg-actions { padding: 0 14px 8px; display: flex; justify-content: space-between; align-items: center; gap: 8px; }
.sg-check { display: flex; align-items: center; gap: 6px; font-weight: normal !important; font-size: 12px; }
.sg-check input { width: auto; }
.sg-guide { color: #5b6473; }
.sg-error { margin: 0; padding: 0 14px; color: #b3261e; font-size: 13px; }
.sg-error:not(:empty) { padding: 6px 14px 10px; }
.sg-checking { margin: 0; padding: 14px; color: #5b6473; }
.sg-offline { display: flex; flex-direction: column; flex: 1; min-height: 0; overflow: auto; }
.sg-offline > * { flex: none; }
.sg-offline > .sg-intro { margin: 0; padding: 14px 14px 0; }
.sg-offline .sg-prechat { padding-top: 6px; }
.sg-offline textarea { resize: vertical; min-height: 84px; }
.sg-hint { margin: 6px 0 0; font-size: 12px; color: #5b6473; }
.sg-sent { margin: 14px; padding: 12px; border-radius: 8px; background: #e6f4ea; color: #1b5e20; font-weight: 600; }
.sg-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
