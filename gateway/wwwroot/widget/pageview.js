// SupportGrid live page view, the customer's side. Loaded by the chat module only when an agent opens the view (and only
// while the customer lets the agent guide); it loads rrweb's recorder (/lib/rrweb-record.min.js, UMD global rrwebRecord).
//
// What is recorded: the page's DOM and its changes, scrolls, the viewport, mouse moves and clicks, as rrweb events, with
//   - every input, textarea and select value masked in the browser (maskAllInputs; a masked value becomes "****", so not
//     even its length leaves), and the value attribute of hidden inputs never recorded (they are blocked);
//   - text inside [data-sg-mask] or .rr-mask masked, and elements marked .rr-block or [data-sg-block] blocked (sent as an
//     empty box of the same size);
//   - the chat widget itself blocked (the agent sees the page, not the chat).
// Events are batched every BATCH_MS, gzip-compressed (CompressionStream, where the browser has it), base64-encoded and
// sent in pieces of at most PIECE_CHARS to the hub's PageView, one after another. The gateway relays at most a budget of
// characters a second; a piece over it is refused with `throttled`: the recorder then drops what it holds and, after
// DEGRADED_PAUSE_MS, sends a fresh full snapshot (the agent sees "view degraded" meanwhile).

const BATCH_MS = 150;
const PIECE_CHARS = 24000; // the gateway refuses more (SignalR's message limit is 32 KB)
const MAX_PENDING_CHARS = 1_000_000; // more waiting to be sent than this (a slow or lost connection): drop and resnapshot
const DEGRADED_PAUSE_MS = 1100;

let libPromise = null;

function loadRecorder(base) {
  if (window.rrwebRecord) return Promise.resolve(window.rrwebRecord);
  libPromise ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = base + "/lib/rrweb-record.min.js";
    script.async = true;
    script.onload = () => (window.rrwebRecord?.record ? resolve(window.rrwebRecord) : reject(new Error("The page view library did not load.")));
    script.onerror = () => {
      libPromise = null;
      script.remove();
      reject(new Error("The page view library could not be downloaded."));
    };
    document.head.append(script);
  });
  return libPromise;
}

function toBase64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

async function encode(events) {
  const json = JSON.stringify(events);
  if (typeof CompressionStream === "function") {
    const stream = new Blob([json]).stream().pipeThrough(new CompressionStream("gzip"));
    return { encoding: "gzip", data: toBase64(new Uint8Array(await new Response(stream).arrayBuffer())) };
  }
  return { encoding: "json", data: toBase64(new TextEncoder().encode(json)) };
}

export class PageViewRecorder {
  /**
   * @param {{ base: string, send: (piece: object) => Promise<void>, isThrottled: (err: unknown) => boolean }} options
   *   send: invokes the hub's PageView with one piece; isThrottled: whether a failed send was refused as `throttled`.
   */
  constructor({ base, send, isThrottled }) {
    this.base = base;
    this.send = send;
    this.isThrottled = isThrottled;
    this.stopRecording = null;
    this.buffer = [];
    this.seq = Date.now(); // batch numbers keep rising across page loads (a new recorder per page)
    this.flushTimer = 0;
    this.sending = Promise.resolve();
    this.pendingChars = 0;
    this.degradedUntil = 0;
    this.resnapshotTimer = 0;
    this.starting = null;
  }

  get recording() {
    return Boolean(this.stopRecording);
  }

  /** Starts recording (rrweb begins with a full snapshot), or, if already recording, takes a fresh full snapshot. */
  async start() {
    if (this.stopRecording) {
      this.lib?.record.takeFullSnapshot(true);
      return;
    }
    this.starting ??= (async () => {
      this.lib = await loadRecorder(this.base);
      if (this.stopRecording || this.stopped) return;
      this.stopRecording = this.lib.record({
        emit: event => this.onEvent(event),
        maskAllInputs: true,
        maskInputFn: () => "****",
        maskTextClass: "rr-mask",
        maskTextSelector: "[data-sg-mask]",
        blockClass: "rr-block",
        blockSelector: "#sg-widget, [data-sg-block], input[type=hidden]",
        recordCanvas: false,
        collectFonts: false,
        inlineImages: false,
        sampling: { mousemove: 100, scroll: 150, input: "last" },
      }) ?? null;
    })().finally(() => { this.starting = null; });
    this.stopped = false;
    await this.starting;
  }

  /** Stops recording and drops whatever was not sent. */
  stop() {
    this.stopped = true;
    this.stopRecording?.();
    this.stopRecording = null;
    clearTimeout(this.flushTimer);
    clearTimeout(this.resnapshotTimer);
    this.flushTimer = 0;
    this.buffer = [];
  }

  onEvent(event) {
    if (Date.now() < this.degradedUntil) return; // the fresh snapshot after the pause replaces all of it
    this.buffer.push(event);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), BATCH_MS);
  }

  flush() {
    this.flushTimer = 0;
    const events = this.buffer;
    this.buffer = [];
    if (!events.length || this.stopped) return;
    const seq = ++this.seq;
    this.sending = this.sending.then(() => this.sendBatch(seq, events)).catch(() => {});
  }

  async sendBatch(seq, events) {
    if (this.stopped || Date.now() < this.degradedUntil) return;
    const { encoding, data } = await encode(events);
    if (this.pendingChars + data.length > MAX_PENDING_CHARS) {
      this.degrade();
      return;
    }
    const parts = Math.max(1, Math.ceil(data.length / PIECE_CHARS));
    this.pendingChars += data.length;
    try {
      for (let part = 0; part < parts; part++) {
        if (this.stopped || Date.now() < this.degradedUntil) return;
        await this.send({ state: "events", seq, part, parts, encoding, data: data.slice(part * PIECE_CHARS, (part + 1) * PIECE_CHARS) });
      }
    } catch (err) {
      if (this.isThrottled(err)) this.degrade();
      else throw err;
    } finally {
      this.pendingChars -= data.length;
    }
  }

  /** Over the budget: drop what is held, wait, then send a fresh full snapshot (rrweb cannot replay around a gap). */
  degrade() {
    this.degradedUntil = Date.now() + DEGRADED_PAUSE_MS;
    this.buffer = [];
    clearTimeout(this.resnapshotTimer);
    this.resnapshotTimer = setTimeout(() => {
      if (this.stopRecording && !this.stopped) this.lib.record.takeFullSnapshot(true);
    }, DEGRADED_PAUSE_MS + 10);
  }
}
