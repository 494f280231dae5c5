/**
 * Entry point of every editor panel and the Inspector view inside VS Code. Waits for the DOM, posts the
 * 'ready' handshake, validates each inbound message with parseHostMessage, and persists the view (kind,
 * UI selections, the last data message when small) with setState so a reloaded panel comes back as it was.
 */
import { App } from './app';
import { hostExporter } from './export';
import { parseHostMessage, type HostToWebview, type WebviewToHost } from './protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface Persisted {
  v: 1;
  init?: HostToWebview;
  data?: HostToWebview;
  ui: Record<string, unknown>;
}

/** Data messages above this (rough JSON size) are not persisted: the host re-sends them after 'ready'. */
const MAX_PERSISTED_BYTES = 2_000_000;

function estimateBytes(m: HostToWebview): number {
  const items = m.type === 'report' ? [m.report] : m.type === 'reports' ? m.items.map((i) => i.report) : [];
  let cells = 0;
  for (const r of items) for (const L of r.bistability?.layers ?? []) cells += (L.units ?? 0) * (L.T ?? 0);
  if (m.type === 'training') cells = m.snapshot.points.length;
  // About nine numbers of ~10 characters per neuron-step across the report's arrays.
  return cells * 90;
}

function start(): void {
  const vscode = acquireVsCodeApi();
  const post = (m: WebviewToHost) => vscode.postMessage(m);
  const raw = vscode.getState() as Partial<Persisted> | undefined;
  const persisted: Persisted = { v: 1, ui: {}, ...(raw && raw.v === 1 && typeof raw.ui === 'object' && raw.ui ? raw : {}) };
  let saveTimer = 0;
  const save = () => {
    clearTimeout(saveTimer);
    saveTimer = window.setTimeout(() => vscode.setState(persisted), 150);
  };
  const app = new App(document.body, {
    exporter: hostExporter(post),
    post,
    interactive: true,
    state: {
      get: (k) => persisted.ui[k],
      set: (k, v) => {
        persisted.ui[k] = v;
        save();
      },
    },
  });
  // Restore first (re-validated: state is data from a previous session), then listen.
  for (const m of [persisted.init, persisted.data]) {
    const ok = m ? parseHostMessage(m) : null;
    if (ok) app.handle(ok);
  }
  window.addEventListener('message', (e: MessageEvent) => {
    const m = parseHostMessage(e.data);
    if (!m) {
      post({
        type: 'error',
        message: `webview ignored a malformed message${typeof e.data?.type === 'string' ? ` of type ${String(e.data.type).slice(0, 40)}` : ''}`,
      });
      return;
    }
    if (m.type === 'init') {
      if (m.view !== app.currentView) persisted.data = undefined;
      persisted.init = m;
      save();
    } else if (m.type === 'report' || m.type === 'reports' || m.type === 'training' || m.type === 'inspector') {
      persisted.data = estimateBytes(m) <= MAX_PERSISTED_BYTES ? m : undefined;
      save();
    }
    app.handle(m);
  });
  window.addEventListener('error', (e) => post({ type: 'error', message: String(e.message).slice(0, 2000) }));
  post({ type: 'ready' });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
