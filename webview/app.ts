/**
 * The page shell shared by the VS Code panels and the standalone report: routes validated host messages
 * to the current view, keeps the theme palette current, and writes the hidden #status line after each render.
 */
import type { ReportItem } from '../core/report/payload';
import { readPalette, onThemeChange, type Palette } from './colors';
import { themeCharts } from './charts';
import { el } from './dom';
import type { Exporter } from './export';
import type { HostToWebview, ViewKind, WebviewToHost } from './protocol';
import { BistabilityView } from './views/bistability';
import { FixedPointsView } from './views/fixed-points';
import { GradientFlowView } from './views/gradient-flow';
import { InspectorView } from './views/inspector';
import { ReportView } from './views/report';
import { RetentionView } from './views/retention';
import { TrainingView } from './views/training';
import type { View, ViewHost } from './views/types';

export interface StateStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

export interface AppOptions {
  exporter: Exporter;
  post: (m: WebviewToHost) => void;
  interactive: boolean;
  state: StateStore;
}

export function createView(kind: ViewKind, host: ViewHost): View {
  switch (kind) {
    case 'bistability':
      return new BistabilityView(host);
    case 'gradientFlow':
      return new GradientFlowView(host);
    case 'retention':
      return new RetentionView(host);
    case 'fixedPoints':
      return new FixedPointsView(host);
    case 'training':
      return new TrainingView(host);
    case 'inspector':
      return new InspectorView(host);
    case 'report':
      return new ReportView(host);
  }
}

export class App {
  private palette: Palette;
  private view: View | null = null;
  private kind: ViewKind | null = null;
  private readonly statusEl: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly main: HTMLElement;
  private readonly statuses = new Map<string, string>();
  /** Latest data messages, replayed when the view changes (and kept when they arrive before init). */
  private reports: ReportItem[] | null = null;
  private pending: HostToWebview[] = [];
  private themeFrame = 0;
  private readonly host: ViewHost;

  constructor(
    root: HTMLElement,
    private readonly opts: AppOptions,
  ) {
    this.palette = readPalette();
    themeCharts(this.palette);
    this.banner = el('div', { class: 'banner hidden', attrs: { role: 'status', 'aria-live': 'polite', id: 'host-status' } });
    this.main = el('main', { attrs: { id: 'main' } });
    // Machine-readable render log for tests ("rendered view=… k=v …"): hidden from sight and screen readers.
    this.statusEl = el('div', { class: 'render-status', attrs: { id: 'status', 'aria-hidden': 'true', hidden: '' } });
    root.append(this.banner, this.main, this.statusEl);
    this.host = {
      palette: () => this.palette,
      exporter: () => this.opts.exporter,
      post: (m) => this.opts.post(m),
      interactive: opts.interactive,
      getState: <T>(key: string) => this.opts.state.get(key) as T | undefined,
      setState: (key, value) => this.opts.state.set(key, value),
      rendered: (view, info) => this.rendered(view, info),
    };
    onThemeChange(() => {
      cancelAnimationFrame(this.themeFrame);
      this.themeFrame = requestAnimationFrame(() => this.retheme());
    });
  }

  get currentView(): ViewKind | null {
    return this.kind;
  }

  handle(msg: HostToWebview): void {
    try {
      this.dispatch(msg);
    } catch (e) {
      const message = e instanceof Error ? `${e.message}` : String(e);
      this.showBanner('error', `Could not display this view: ${message}`);
      this.opts.post({ type: 'error', message: `${msg.type}: ${message}` });
    }
  }

  private dispatch(msg: HostToWebview): void {
    if (msg.type === 'init') {
      document.title = msg.title;
      if (msg.view !== this.kind) {
        this.view?.dispose();
        this.statuses.clear();
        this.kind = msg.view;
        this.view = createView(msg.view, this.host);
        this.main.replaceChildren(this.view.el);
        if (this.reports) this.view.setReports?.(this.reports);
      }
      const queued = this.pending;
      this.pending = [];
      for (const m of queued) this.dispatch(m);
      return;
    }
    if (msg.type === 'status') {
      this.showBanner(msg.kind, msg.text);
      return;
    }
    if (msg.type === 'report' || msg.type === 'reports') {
      this.reports = msg.type === 'report' ? [{ label: msg.label, report: msg.report }] : msg.items;
    }
    const v = this.view;
    if (!v) {
      if (msg.type !== 'report' && msg.type !== 'reports') this.pending.push(msg);
      return;
    }
    switch (msg.type) {
      case 'report':
      case 'reports':
        v.setReports?.(this.reports!);
        break;
      case 'training':
        v.setTraining?.(msg.snapshot);
        break;
      case 'trainingEvent':
        v.trainingEvent?.(msg.runId, msg.event);
        break;
      case 'inspector':
        v.setInspector?.(msg);
        break;
    }
  }

  private showBanner(kind: 'info' | 'busy' | 'error', text: string): void {
    this.banner.textContent = text;
    this.banner.className = `banner ${kind}${text ? '' : ' hidden'}`;
  }

  private retheme(): void {
    this.palette = readPalette();
    themeCharts(this.palette);
    this.view?.retheme();
  }

  private rendered(view: string, info: Record<string, string | number>): void {
    this.statuses.set(
      view,
      `rendered view=${view} ${Object.entries(info)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}`,
    );
    this.statusEl.textContent = [...this.statuses.values()].join('\n');
    const section = this.main.querySelector(`[data-view="${view}"]`);
    if (section) section.setAttribute('data-status', this.statuses.get(view)!);
  }
}
