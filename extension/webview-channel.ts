/**
 * Host → webview delivery with the ready handshake and a hidden-panel buffer (pure, no vscode).
 *
 * - Nothing is sent before the webview posts {type:'ready'}; messages wait in a queue.
 * - While the panel is hidden, postMessage may be dropped silently (retainContextWhenHidden) or the webview
 *   may be gone (no retain): messages wait too, and state messages coalesce by key (latest wins).
 * - The latest message of each key is remembered and replayed when a webview (re)announces ready, because a
 *   webview without retained context starts empty each time it is shown.
 * - Incremental events (`postEvent`) go out only while live; otherwise their folded state message stands in.
 */
import type { HostToWebview } from '../shared/protocol';

/** Coalescing key of a state message; null for messages that must all be delivered in order. */
export function stateKey(m: HostToWebview): string | null {
  switch (m.type) {
    case 'training':
      return `training:${m.snapshot.runId}`;
    case 'trainingEvent':
      return null;
    default:
      return m.type;
  }
}

interface Entry {
  key: string | null;
  msg: HostToWebview;
}

export class WebviewChannel {
  private ready = false;
  private everReady = false;
  private visible: boolean;
  private queue: Entry[] = [];
  private readonly state = new Map<string, HostToWebview>();
  private disposed = false;

  constructor(
    private readonly send: (m: HostToWebview) => void,
    initiallyVisible = true,
  ) {
    this.visible = initiallyVisible;
  }

  get live(): boolean {
    return this.ready && this.visible && !this.disposed;
  }

  get isReady(): boolean {
    return this.ready;
  }

  /** The latest remembered message of a key (e.g. 'init', 'report', 'training:RUN'). */
  latest(key: string): HostToWebview | undefined {
    return this.state.get(key);
  }

  /** Sends now when live, otherwise queues (coalescing state messages by key). */
  post(msg: HostToWebview): void {
    if (this.disposed) return;
    const key = stateKey(msg);
    if (key !== null) this.state.set(key, msg);
    if (this.live) this.send(msg);
    else this.enqueue({ key, msg });
  }

  /** An incremental event whose effect is already folded into `state`: sent only while live. */
  postEvent(event: HostToWebview, state: HostToWebview): void {
    if (this.disposed) return;
    const key = stateKey(state);
    if (key !== null) this.state.set(key, state);
    if (this.live) this.send(event);
    else this.enqueue({ key, msg: state });
  }

  /** The webview posted 'ready' (first load, or re-created after being hidden): replay state, then flush. */
  onReady(): void {
    if (this.disposed) return;
    const again = this.everReady;
    this.ready = true;
    this.everReady = true;
    if (again) {
      // A fresh webview document: it has nothing, so everything remembered goes again, in key order.
      const pendingUnkeyed = this.queue.filter((e) => e.key === null);
      this.queue = [...[...this.state].map(([key, msg]) => ({ key, msg })), ...pendingUnkeyed];
    }
    this.flush();
  }

  /**
   * Visibility changed. A webview without retained context loses its document when hidden: it is not
   * ready again until it posts 'ready', which then replays the remembered state.
   */
  setVisible(visible: boolean, retainsContext = true): void {
    this.visible = visible;
    if (!visible && !retainsContext) this.ready = false;
    this.flush();
  }

  dispose(): void {
    this.disposed = true;
    this.queue = [];
    this.state.clear();
  }

  /** Messages waiting (for tests and diagnostics). */
  pending(): readonly HostToWebview[] {
    return this.queue.map((e) => e.msg);
  }

  private enqueue(e: Entry): void {
    if (e.key !== null) {
      const i = this.queue.findIndex((q) => q.key === e.key);
      if (i >= 0) {
        this.queue[i] = e;
        return;
      }
      // A training snapshot supersedes the queued events of the same run.
      if (e.msg.type === 'training') {
        const runId = e.msg.snapshot.runId;
        this.queue = this.queue.filter((q) => !(q.msg.type === 'trainingEvent' && q.msg.runId === runId));
      }
    }
    this.queue.push(e);
  }

  private flush(): void {
    if (!this.live) return;
    const q = this.queue;
    this.queue = [];
    for (const e of q) this.send(e.msg);
  }
}

/**
 * Collects events and hands them over in batches at most `rateHz` times a second (never below 2 Hz), so a
 * fast worker cannot flood a webview while every event still arrives. Timers are injectable for tests.
 */
export class EventBatcher<T> {
  private buf: T[] = [];
  private timer: unknown = null;
  private lastFlush = -Infinity;
  readonly intervalMs: number;

  constructor(
    rateHz: number,
    private readonly deliver: (batch: T[]) => void,
    private readonly clock: {
      now(): number;
      setTimeout(fn: () => void, ms: number): unknown;
      clearTimeout(h: unknown): void;
    } = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
  ) {
    this.intervalMs = Math.round(1000 / clampRate(rateHz));
  }

  push(item: T): void {
    this.buf.push(item);
    if (this.timer !== null) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => this.flush(), wait);
  }

  /** Delivers everything pending now (also used at the end of a run). */
  flush(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.buf.length === 0) return;
    const batch = this.buf;
    this.buf = [];
    this.lastFlush = this.clock.now();
    this.deliver(batch);
  }

  dispose(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.buf = [];
  }
}

/** Live update rate in Hz from the setting: at least 2 (twice a second), at most 30. */
export function clampRate(hz: unknown): number {
  const v = typeof hz === 'number' && Number.isFinite(hz) ? hz : 4;
  return Math.min(30, Math.max(2, v));
}
