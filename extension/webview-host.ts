/**
 * One webview (editor panel, custom editor or the Inspector view) wired to the protocol: HTML with a fresh
 * nonce, local resources limited to dist/webview, inbound messages validated, outbound ones through a
 * WebviewChannel (ready handshake, hidden buffer) and training events through a rate-limited batcher.
 */
import * as vscode from 'vscode';
import type { TrainEvent } from '../core/train/types';
import { parseWebviewMessage, type HostToWebview, type ViewKind, type WebviewToHost } from '../shared/protocol';
import { buildWebviewHtml, makeNonce } from './html';
import { EventBatcher, WebviewChannel } from './webview-channel';
import { showError } from './notify';

/** The parts of WebviewPanel / WebviewView a host needs. */
export interface HostedWebview {
  readonly webview: vscode.Webview;
  readonly visible: boolean;
  readonly retainsContext: boolean;
  onDidChangeVisibility(cb: () => void): vscode.Disposable;
  onDidDispose(cb: () => void): vscode.Disposable;
}

export function hostedPanel(panel: vscode.WebviewPanel, retainsContext: boolean): HostedWebview {
  return {
    webview: panel.webview,
    get visible() {
      return panel.visible;
    },
    retainsContext,
    onDidChangeVisibility: (cb) => panel.onDidChangeViewState(() => cb()),
    onDidDispose: (cb) => panel.onDidDispose(cb),
  };
}

export function hostedView(view: vscode.WebviewView): HostedWebview {
  return {
    webview: view.webview,
    get visible() {
      return view.visible;
    },
    retainsContext: false,
    onDidChangeVisibility: (cb) => view.onDidChangeVisibility(cb),
    onDidDispose: (cb) => view.onDidDispose(cb),
  };
}

export function webviewRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [webviewRoot(extensionUri)] };
}

export type MessageHandler = (host: WebviewHost, msg: Exclude<WebviewToHost, { type: 'ready' }>) => void | Promise<void>;

export class WebviewHost {
  readonly channel: WebviewChannel;
  private batcher: EventBatcher<{ runId: string; event: TrainEvent; state: HostToWebview }> | null = null;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;
  private readyWaiters: (() => void)[] = [];
  private readonly createdAt: number;
  private readonly html: () => string;
  /** Messages received (kind only), for the in-host tests and the output channel. */
  readonly received: string[] = [];

  constructor(
    readonly hosted: HostedWebview,
    extensionUri: vscode.Uri,
    readonly view: ViewKind,
    public title: string,
    private readonly onMessage: MessageHandler,
    private readonly liveRateHz: () => number,
    private readonly log: (line: string) => void,
    private readonly trace: (line: string) => void = () => undefined,
  ) {
    const created = Date.now();
    this.createdAt = created;
    const webview = hosted.webview;
    webview.options = webviewOptions(extensionUri);
    const root = webviewRoot(extensionUri);
    // A fresh nonce for every page load.
    this.html = () =>
      buildWebviewHtml({
        cspSource: webview.cspSource,
        nonce: makeNonce(),
        scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'panel.js')).toString(),
        styleUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'panel.css')).toString(),
        title: this.title,
        view,
      });
    webview.html = this.html();
    this.channel = new WebviewChannel((m) => {
      // postMessage resolves false when the webview is gone; nothing to do then.
      void webview.postMessage(m);
    }, hosted.visible);
    this.disposables.push(
      webview.onDidReceiveMessage((raw) => this.receive(raw)),
      hosted.onDidChangeVisibility(() => this.channel.setVisible(hosted.visible, hosted.retainsContext)),
      hosted.onDidDispose(() => this.dispose()),
    );
    this.channel.post({ type: 'init', view, title });
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  post(m: HostToWebview): void {
    this.channel.post(m);
  }

  /**
   * Forwards a training event, batched at the live update rate. `state` is the full message that already
   * includes the event (a 'training' snapshot, or the Inspector's message): it stands in for the events
   * while the webview is hidden or reloading.
   */
  pushTrainingEvent(runId: string, event: TrainEvent, state: HostToWebview): void {
    if (this.disposed) return;
    if (!this.batcher) {
      this.batcher = new EventBatcher(this.liveRateHz(), (batch) => {
        for (const b of batch) this.channel.postEvent({ type: 'trainingEvent', runId: b.runId, event: b.event }, b.state);
      });
    }
    this.batcher.push({ runId, event, state });
  }

  /** Delivers batched events now (end of a run) and then the full state, so the final state is exact. */
  flushTraining(state?: HostToWebview): void {
    this.batcher?.flush();
    if (state) this.channel.post(state);
  }

  /** Resolves once the webview has posted 'ready' (or after `timeoutMs`, resolving false). */
  whenReady(timeoutMs = 30000): Promise<boolean> {
    if (this.channel.isReady) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  private receive(raw: unknown): void {
    const msg = parseWebviewMessage(raw);
    if (!msg) {
      this.log(`ignored an invalid message from the ${this.view} webview: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    this.received.push(msg.type);
    if (msg.type === 'ready') {
      this.trace(`${this.view} webview "${this.title}" ready after ${Date.now() - this.createdAt} ms (visible ${this.hosted.visible})`);
      this.channel.onReady();
      const w = this.readyWaiters;
      this.readyWaiters = [];
      for (const f of w) f();
      return;
    }
    Promise.resolve(this.onMessage(this, msg)).catch((e: unknown) => {
      const text = e instanceof Error ? e.message : String(e);
      this.log(`${msg.type} from ${this.view} failed: ${text}`);
      void showError(`RNN Memory: ${text}`);
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.batcher?.dispose();
    this.channel.dispose();
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
  }
}
