/**
 * Entry point of the standalone HTML report: reads the embedded JSON (<script type="application/json"
 * id="report-data">) and feeds the page the same messages the extension would send, without a vscode API.
 */
import type { ReportPayload } from '../core/report/payload';
import { App } from './app';
import { el } from './dom';
import { downloadExporter } from './export';
import { parseHostMessage } from './protocol';

function start(): void {
  const ui = new Map<string, unknown>();
  const app = new App(document.body, {
    exporter: downloadExporter(),
    post: (m) => {
      if (m.type === 'error') console.warn(m.message);
    },
    interactive: false,
    state: { get: (k) => ui.get(k), set: (k, v) => ui.set(k, v) },
  });
  let payload: ReportPayload;
  try {
    const text = document.getElementById('report-data')?.textContent ?? '';
    payload = JSON.parse(text) as ReportPayload;
    if (!payload || !Array.isArray(payload.items)) throw new Error('no report items');
  } catch (e) {
    document.body.prepend(
      el('p', { class: 'banner error', text: `This report has no readable data: ${e instanceof Error ? e.message : String(e)}` }),
    );
    return;
  }
  for (const raw of [
    { type: 'init', view: 'report', title: payload.title || 'RNN Memory Lens report' },
    { type: 'reports', items: payload.items },
  ]) {
    const m = parseHostMessage(raw);
    if (m) app.handle(m);
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
