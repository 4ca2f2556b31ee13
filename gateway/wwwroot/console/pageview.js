// SupportGrid live page view, the agent's side: rebuilds a customer's page from the rrweb events their widget records
// (see ../widget/pageview.js) with rrweb's Replayer in live mode (/lib/rrweb-replay.min.js, UMD global rrwebReplay).
//
// The Replayer draws the page in an iframe sandboxed to "allow-same-origin" only: no script of the recorded page runs.
// Pieces arrive in order (one stream per channel, one SignalR connection); a batch is decoded (base64, then gunzip) once
// all its parts are there, and batches are applied in order. A batch left incomplete (a part was refused as throttled)
// is dropped when the next begins; the widget follows a refusal with a fresh full snapshot, which rebuilds the page.
//
// What arrives is untrusted: any customer (or a bot) can send anything in rrweb's format, and rrweb's Replayer trusts
// its events (one it cannot build throws inside its timer, which then never plays again). So each event is checked
// against the shape the recorder produces, and a page's nodes against what a document can hold, before the Replayer
// sees them; what does not fit is left out. Each full snapshot starts a new Replayer with its own time base, so nothing
// a batch did to the last one outlives the next page. The mirror plays no media (the page's own video or sound).

const EVENT_FULL_SNAPSHOT = 2;
const EVENT_INCREMENTAL = 3;
const EVENT_META = 4;
const LIVE_BUFFER_MS = 300; // play events this far behind their timestamps, so a batch's events keep their spacing
const POINTER_MS = 100; // the agent's pointer goes out at most this often (the gateway allows 20 a second)
// A batch is at most 64 pieces of 24,000 characters (1.1 MB of gzip, the widget sends at most 0.75 MB) and rrweb's JSON
// compresses 5 to 20 times: more than this unpacked is not a page.
const MAX_BATCH_BYTES = 64 * 1024 * 1024;

// rrweb-snapshot's node types, and incremental sources the mirror uses (mutation, mouse, scroll, viewport, input, touch,
// style sheets, drag, selection, adopted style sheets); canvas, fonts, logs and media are not replayed.
const NODE_DOCUMENT = 0;
const NODE_DOCTYPE = 1;
const NODE_ELEMENT = 2;
const NODE_TEXT = 3;
const NODE_COMMENT = 5;
const SOURCES = new Set([0, 1, 2, 3, 4, 5, 6, 8, 12, 13, 14, 15]);
const MUTATION = 0;
const POSITIONS = new Set([1, 6, 12]);
const MOUSE_INTERACTION = 2;
const VIEWPORT_RESIZE = 4;
const ADOPTED_STYLE_SHEET = 15;
const MAX_SIZE = 16384; // no screen is wider or taller (in CSS pixels); a frame of billions of pixels stalls the console
const MAX_DEPTH = 512; // a browser's HTML parser nests no deeper; rrweb builds a page recursively (20,000 levels overflow)
const TAG = /^[A-Za-z][A-Za-z0-9._-]*$/; // names createElement takes (rrweb turns "script" into "noscript", lower case only)
const CUSTOM_ELEMENT = /^(?!(annotation-xml|color-profile|font-face(-src|-uri|-format|-name)?|missing-glyph)$)[a-z][a-z0-9._]*-[a-z0-9._-]*$/;
const SHADOW_HOSTS = new Set(["article", "aside", "blockquote", "body", "div", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "main", "nav", "p", "section", "span"]);
const MEDIA_ATTRIBUTES = ["autoplay", "rr_mediaState", "rr_mediaCurrentTime", "rr_mediaPlaybackRate", "rr_mediaMuted", "rr_mediaLoop", "rr_mediaVolume"];

const isObject = v => v !== null && typeof v === "object" && !Array.isArray(v);
const isSize = (w, h) => Number.isFinite(w) && Number.isFinite(h) && w > 0 && h > 0 && w <= MAX_SIZE && h <= MAX_SIZE;

/** Checks (and trims) one node of a page and its children; false: the node cannot be built and is left out. */
function cleanNode(n, depth, ids) {
  if (!isObject(n) || !Number.isSafeInteger(n.id) || ids.has(n.id) || depth > MAX_DEPTH) return false;
  ids.add(n.id);
  if (n.type === NODE_TEXT || n.type === NODE_COMMENT) return typeof n.textContent === "string";
  if (n.type !== NODE_ELEMENT || typeof n.tagName !== "string" || !TAG.test(n.tagName) || !isObject(n.attributes) || !Array.isArray(n.childNodes)) return false;
  if (!n.isSVG) n.tagName = n.tagName.toLowerCase();
  if (n.tagName in Object.prototype) return false; // rrweb looks tag names up in a plain object ("constructor")
  if (n.isCustom && !CUSTOM_ELEMENT.test(n.tagName)) n.isCustom = false; // customElements.define would throw
  if (n.isShadowHost && !n.isCustom && !SHADOW_HOSTS.has(n.tagName)) n.isShadowHost = false; // so would attachShadow
  for (const name of MEDIA_ATTRIBUTES) delete n.attributes[name];
  n.childNodes = n.childNodes.filter(c => cleanNode(c, depth + 1, ids));
  return true;
}

/** A whole page: a document holding a doctype (first, if any), comments and one html element, which rrweb needs. */
function cleanDocument(n) {
  if (!isObject(n) || n.type !== NODE_DOCUMENT || !Number.isSafeInteger(n.id) || !Array.isArray(n.childNodes)) return false;
  const ids = new Set([n.id]);
  let html = false;
  n.childNodes = n.childNodes.filter((c, i) => {
    if (i === 0 && isObject(c) && c.type === NODE_DOCTYPE) return Number.isSafeInteger(c.id) && (c.name === "" || TAG.test(c.name ?? ""));
    if (!cleanNode(c, 1, ids) || c.type === NODE_TEXT || (c.type === NODE_ELEMENT && (html || c.isSVG || c.tagName !== "html"))) return false;
    html ||= c.type === NODE_ELEMENT;
    return true;
  });
  return html;
}

/** Whether an event has the shape the recorder gives it (its page's nodes trimmed to what can be built). */
function cleanEvent(e) {
  if (!isObject(e) || !Number.isFinite(e.timestamp) || !isObject(e.data)) return false;
  const d = e.data;
  switch (e.type) {
    case EVENT_META:
      return isSize(d.width, d.height);
    case EVENT_FULL_SNAPSHOT:
      if (!isObject(d.initialOffset)) d.initialOffset = { left: 0, top: 0 };
      return cleanDocument(d.node);
    case EVENT_INCREMENTAL:
      break;
    default:
      return false;
  }
  if (!SOURCES.has(d.source)) return false;
  if (d.source === MUTATION) {
    if (![d.adds, d.removes, d.texts, d.attributes].every(Array.isArray)) return false;
    d.adds = d.adds.filter(a => isObject(a) && cleanNode(a.node, 1, new Set()));
    for (const a of d.attributes) if (isObject(a?.attributes)) for (const name of MEDIA_ATTRIBUTES) delete a.attributes[name];
    return true;
  }
  if (d.source === VIEWPORT_RESIZE) return isSize(d.width, d.height);
  if (POSITIONS.has(d.source)) return Array.isArray(d.positions) && d.positions.length > 0 && d.positions.every(p => isObject(p) && Number.isFinite(p.timeOffset));
  if (d.source === MOUSE_INTERACTION) return Number.isInteger(d.type) && d.type >= 0 && d.type <= 10;
  if (d.source === ADOPTED_STYLE_SHEET) return Array.isArray(d.styleIds) && (d.styles === undefined || Array.isArray(d.styles));
  return [d.adds, d.removes].every(x => x === undefined || Array.isArray(x));
}

let libPromise = null;

function loadReplayer() {
  if (window.rrwebReplay) return Promise.resolve(window.rrwebReplay);
  libPromise ??= new Promise((resolve, reject) => {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = "/lib/rrweb-replay.min.css";
    document.head.append(css);
    const script = document.createElement("script");
    script.src = "/lib/rrweb-replay.min.js";
    script.async = true;
    script.onload = () => (window.rrwebReplay?.Replayer ? resolve(window.rrwebReplay) : reject(new Error("The page view library did not load.")));
    script.onerror = () => {
      libPromise = null;
      script.remove();
      reject(new Error("The page view library could not be downloaded."));
    };
    document.head.append(script);
  });
  return libPromise;
}

async function decode(encoding, data) {
  const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
  if (encoding === "gzip") {
    // Inflated piece by piece and given up past MAX_BATCH_BYTES: a megabyte of gzip can hold a gigabyte of spaces.
    const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")).getReader();
    const chunks = [];
    let size = 0;
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      size += read.value.length;
      if (size > MAX_BATCH_BYTES) {
        await reader.cancel();
        throw new Error(`the batch unpacks to more than ${MAX_BATCH_BYTES} bytes`);
      }
      chunks.push(read.value);
    }
    return JSON.parse(await new Blob(chunks).text());
  }
  return JSON.parse(new TextDecoder().decode(bytes));
}

export class PageMirror {
  /**
   * @param {{ container: HTMLElement, onState: (state: string, text: string) => void, onPointer: (x: number, y: number) => void }} options
   *   onState: "waiting", "live", "degraded" or "stopped", with a sentence; onPointer: the agent points at a document point.
   */
  constructor({ container, onState, onPointer }) {
    this.container = container;
    this.onState = onState;
    this.onPointer = onPointer;
    this.replayer = null;
    this.partial = null; // { seq, parts, pieces: [] }
    this.meta = null; // the last size of the page (a meta event), for a new page that comes without one
    this.applying = Promise.resolve();
    this.scale = 1;
    this.pointerAt = 0;
    this.disposed = false;
    this.onMove = ev => this.pointAt(ev);
    container.addEventListener("mousemove", this.onMove);
    this.setState("waiting", "waiting for the customer's page…");
  }

  setState(state, text) {
    this.state = state;
    this.onState(state, text);
  }

  /** One piece of the view as CustomerPageView brings it. */
  receive(chunk) {
    if (this.disposed || !chunk) return;
    switch (chunk.state) {
      case "stopped":
        this.partial = null;
        this.setState("stopped", `stopped: ${chunk.reason || "the customer's page is no longer shown."}`);
        return;
      case "degraded":
        this.partial = null;
        this.setState("degraded", "view degraded: the page changes faster than it is relayed; a fresh picture follows");
        return;
      case "events":
        break;
      default:
        return;
    }
    const seq = Number(chunk.seq);
    const parts = Number(chunk.parts);
    const part = Number(chunk.part);
    if (!(parts >= 1) || !(part >= 0 && part < parts)) return;
    if (!this.partial || this.partial.seq !== seq) this.partial = { seq, parts, pieces: new Array(parts), count: 0 };
    const p = this.partial;
    if (p.pieces[part] === undefined) {
      p.pieces[part] = String(chunk.data ?? "");
      p.count++;
    }
    if (p.count < p.parts) return;
    this.partial = null;
    const data = p.pieces.join("");
    const encoding = String(chunk.encoding ?? "");
    this.applying = this.applying
      .then(async () => this.apply(await decode(encoding, data)))
      .catch(err => console.warn("SupportGrid: a page view batch could not be shown:", err));
  }

  async apply(events) {
    if (this.disposed || !Array.isArray(events)) return;
    events = events.filter(cleanEvent);
    for (const e of events) if (e.type === EVENT_META) this.meta = e;
    const full = events.findLastIndex(e => e.type === EVENT_FULL_SNAPSHOT);
    if (full >= 0) {
      // A new page: a new Replayer, starting with the page's size (the recorder sends it just before) and the page.
      const page = events[full];
      const meta = events[full - 1]?.type === EVENT_META ? events[full - 1] : this.meta && { ...this.meta, timestamp: page.timestamp };
      events = meta ? [meta, ...events.slice(full)] : events.slice(full);
      const { Replayer } = await loadReplayer();
      if (this.disposed) return;
      this.destroyReplayer();
      this.replayer = new Replayer([], {
        root: this.container,
        liveMode: true,
        mouseTail: false,
        showWarning: false,
        triggerFocus: false,
        UNSAFE_replayCanvas: false,
      });
      this.replayer.on("resize", dim => this.fit(dim));
      this.replayer.startLive(page.timestamp - LIVE_BUFFER_MS);
    }
    if (!this.replayer || !events.length) return; // nothing to build on until a full snapshot comes
    for (const event of events) this.replayer.addEvent(event);
    if (full >= 0 || this.state === "waiting") this.setState("live", "live");
  }

  destroyReplayer() {
    const replayer = this.replayer;
    this.replayer = null;
    if (!replayer) return;
    replayer.timer.clear(); // destroy() does not stop a live Replayer's timer: it would play on (and resize this view)
    try {
      replayer.destroy();
    } catch (err) {
      console.warn("SupportGrid: the last page view did not close cleanly:", err);
    }
    replayer.wrapper.remove(); // destroy() removes it last, after steps that can throw
  }

  /** Scales the customer's viewport into the panel's width. */
  fit(dim) {
    const width = Number(dim?.width) || 0;
    const height = Number(dim?.height) || 0;
    const wrapper = this.replayer?.wrapper;
    if (!width || !height || !wrapper) return;
    this.scale = Math.min(1, (this.container.clientWidth || width) / width);
    wrapper.style.transform = `scale(${this.scale})`;
    wrapper.style.transformOrigin = "0 0";
    this.container.style.height = `${Math.ceil(height * this.scale)}px`;
  }

  pointAt(ev) {
    if (!this.replayer || this.state === "stopped") return;
    const now = performance.now();
    if (now - this.pointerAt < POINTER_MS) return;
    this.pointerAt = now;
    const rect = this.container.getBoundingClientRect();
    const win = this.replayer.iframe?.contentWindow;
    const x = Math.round((ev.clientX - rect.left) / this.scale + (win?.scrollX ?? 0));
    const y = Math.round((ev.clientY - rect.top) / this.scale + (win?.scrollY ?? 0));
    if (x >= 0 && y >= 0) this.onPointer(x, y);
  }

  dispose() {
    this.disposed = true;
    this.container.removeEventListener("mousemove", this.onMove);
    this.destroyReplayer();
    this.container.replaceChildren();
  }
}
