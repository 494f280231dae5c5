/**
 * The open webview panels (diagnostics views, live training, compare) and the model custom editors: one
 * entry per target, reveal instead of duplicate, and restore across a window reload. This module only owns
 * the panels' life: what a panel shows is panel-content.ts's (it listens to onDidOpen and to the store), and
 * messages go to the one handler table (message-handlers.ts).
 */
import * as vscode from 'vscode';
import type { ViewKind, WebviewToHost } from '../shared/protocol';
import { hostedPanel, webviewOptions, WebviewHost } from './webview-host';

export const PANEL_VIEWS = ['bistability', 'gradientFlow', 'retention', 'fixedPoints', 'training'] as const;
export type PanelView = (typeof PANEL_VIEWS)[number];
export const COMPARE_VIEW_TYPE = 'rnnMemory.panel.compare';
export const MODEL_EDITOR_VIEW_TYPE = 'rnnMemory.modelEditor';

export function panelViewType(view: PanelView): string {
  return `rnnMemory.panel.${view}`;
}

export const VIEW_TITLES: Record<PanelView, string> = {
  bistability: 'Bistability',
  gradientFlow: 'Gradient Flow',
  retention: 'Retention',
  fixedPoints: 'Fixed Points',
  training: 'Training',
};

export type PanelTarget = { kind: 'model'; path: string } | { kind: 'run'; runId: string } | { kind: 'compare'; paths: string[] };

export interface PanelEntry {
  key: string;
  view: ViewKind;
  target: PanelTarget;
  host: WebviewHost;
  panel: vscode.WebviewPanel;
  kind: 'panel' | 'editor';
}

/** What the registry needs to create panels (plain functions: nothing calls back into a controller). */
export interface PanelDeps {
  title(view: PanelView | 'compare', target: PanelTarget): string;
  onMessage(host: WebviewHost, m: Exclude<WebviewToHost, { type: 'ready' }>, target: PanelTarget): Promise<void>;
  liveRate(): number;
  log: vscode.LogOutputChannel;
}

/** Workspace-state key of the targets of open panels, by title (restore after a reload). */
const RESTORE_KEY = 'rnnMemory.panelTargets';
const REMEMBERED_TARGETS = 50;

export class PanelRegistry implements vscode.Disposable {
  private readonly entries = new Map<string, PanelEntry>();
  private editorCount = 0;
  private readonly opened = new vscode.EventEmitter<PanelEntry>();
  /** A new or restored panel wants its content. */
  readonly onDidOpen = this.opened.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly deps: PanelDeps,
  ) {}

  values(): IterableIterator<PanelEntry> {
    return this.entries.values();
  }

  /** Training panels following `runId`. */
  forRun(runId: string): PanelEntry[] {
    return [...this.entries.values()].filter((p) => p.view === 'training' && p.target.kind === 'run' && p.target.runId === runId);
  }

  /** Opens (or reveals) the panel of `view` for `target`. */
  show(view: PanelView | 'compare', target: PanelTarget, column = vscode.ViewColumn.Active): PanelEntry {
    const existing = this.entries.get(panelKey(view, target));
    if (existing) {
      existing.panel.reveal(column);
      return existing;
    }
    const retain = view !== 'training'; // diagnostics reports are large: keep the rendered page instead of re-sending
    const panel = vscode.window.createWebviewPanel(
      view === 'compare' ? COMPARE_VIEW_TYPE : panelViewType(view),
      this.deps.title(view, target),
      column,
      {
        ...webviewOptions(this.context.extensionUri),
        retainContextWhenHidden: retain,
      },
    );
    return this.adopt(panel, view, target, retain, 'panel');
  }

  /** Wires a new or restored panel (also custom editors) and loads its content. */
  adopt(
    panel: vscode.WebviewPanel,
    view: PanelView | 'compare' | 'report',
    target: PanelTarget,
    retain: boolean,
    kind: 'panel' | 'editor',
  ): PanelEntry {
    const viewKind: ViewKind = view === 'compare' ? 'retention' : view;
    const key = kind === 'editor' ? `editor|${++this.editorCount}|${JSON.stringify(target)}` : panelKey(view, target);
    const title = panel.title;
    const { log } = this.deps;
    const host = new WebviewHost(
      hostedPanel(panel, retain),
      this.context.extensionUri,
      viewKind,
      title,
      (h, m) => this.deps.onMessage(h, m, target),
      () => this.deps.liveRate(),
      (line) => log.warn(line),
      (line) => log.info(line),
    );
    const entry: PanelEntry = { key, view: viewKind, target, host, panel, kind };
    this.entries.set(key, entry);
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'icon.svg');
    panel.onDidDispose(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    if (kind === 'panel' && view !== 'report') this.rememberTarget(title, view, target);
    this.opened.fire(entry);
    return entry;
  }

  /** Restores a panel VS Code kept across a reload: its target is found by title (or the webview's state). */
  restore(panel: vscode.WebviewPanel, view: PanelView | 'compare', state: unknown): void {
    const map = this.context.workspaceState.get<Record<string, { view: string; target: PanelTarget }>>(RESTORE_KEY, {});
    const fromState = (state as { target?: PanelTarget } | undefined)?.target;
    const saved = map[panel.title];
    const target = fromState ?? (saved && saved.view === view ? saved.target : undefined);
    if (!target || !isValidTarget(target)) {
      this.deps.log.info(`not restoring ${view} panel "${panel.title}": its target is unknown`);
      panel.dispose();
      return;
    }
    this.deps.log.info(
      `restoring ${view} panel "${panel.title}" (target from ${fromState ? 'the webview state' : 'the remembered title'})`,
    );
    // The host sets the webview's options (scripts on, resources limited to the bundle).
    this.adopt(panel, view, target, view !== 'training', 'panel');
  }

  /** Closes every panel whose target matches. */
  close(matches: (t: PanelTarget) => boolean): void {
    for (const p of [...this.entries.values()]) if (matches(p.target)) p.panel.dispose();
  }

  dispose(): void {
    for (const p of this.entries.values()) p.host.dispose();
    this.opened.dispose();
  }

  private rememberTarget(title: string, view: PanelView | 'compare', target: PanelTarget): void {
    const map = { ...this.context.workspaceState.get<Record<string, { view: string; target: PanelTarget }>>(RESTORE_KEY, {}) };
    delete map[title];
    map[title] = { view, target };
    const keys = Object.keys(map);
    for (const k of keys.slice(0, Math.max(0, keys.length - REMEMBERED_TARGETS))) delete map[k];
    void this.context.workspaceState.update(RESTORE_KEY, map);
  }
}

function panelKey(view: string, target: PanelTarget): string {
  return `${view}|${JSON.stringify(target)}`;
}

function isValidTarget(t: unknown): t is PanelTarget {
  if (typeof t !== 'object' || t === null) return false;
  const o = t as Record<string, unknown>;
  if (o.kind === 'model') return typeof o.path === 'string';
  if (o.kind === 'run') return typeof o.runId === 'string';
  if (o.kind === 'compare') return Array.isArray(o.paths) && o.paths.every((p) => typeof p === 'string');
  return false;
}
