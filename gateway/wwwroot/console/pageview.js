// SupportGrid live page view, the agent's side: rebuilds a customer's page from the rrweb events their widget records
// (see ../widget/pageview.js) with rrweb's Replayer in live mode (/lib/rrweb-replay.min.js, UMD global rrwebReplay).
//
// The Replayer draws the page in an iframe sandboxed to "allow-same-origin" only: no script of the recorded page runs.
// Pieces arrive in order (one stream per channel, one SignalR connection); a batch is decoded (base64, then gunzip) once
// all its parts are there, and batches are applied in order. A batch left incomplete (a part was refused as throttled)
// is dropped when the next begins; the widget follows a refusal with a fresh full snapshot, which rebuilds the page.

const EVENT_FULL_SNAPSHOT = 2;
const LIVE_BUFFER_MS = 300; // play events this far behind their timestamps, so a batch's events keep their spacing
const POINTER_MS = 100; // the agent's pointer goes out at most this often (the gateway allows 20 a second)

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
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
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
    if (this.disposed || !Array.isArray(events) || !events.length) return;
    if (!this.replayer) {
      if (!events.some(e => e?.type === EVENT_FULL_SNAPSHOT)) return; // nothing to build on until a full snapshot comes
      const { Replayer } = await loadReplayer();
      if (this.disposed) return;
      this.replayer = new Replayer([], {
        root: this.container,
        liveMode: true,
        mouseTail: false,
        showWarning: false,
        triggerFocus: false,
        UNSAFE_replayCanvas: false,
      });
      this.replayer.on("resize", dim => this.fit(dim));
      this.replayer.startLive(events[0].timestamp - LIVE_BUFFER_MS);
    }
    for (const event of events) this.replayer.addEvent(event);
    if (events.some(e => e?.type === EVENT_FULL_SNAPSHOT) || this.state === "waiting") this.setState("live", "live");
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
    try { this.replayer?.destroy?.(); } catch { /* already gone */ }
    this.replayer = null;
    this.container.replaceChildren();
  }
}
