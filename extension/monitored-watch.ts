/**
 * Keeps the store's monitored runs current: lists the runs folder and the watched folders (kept in
 * workspaceState) when their files change (a FileSystemWatcher per folder, which also works outside the
 * workspace) and every few seconds while a run is live or a folder is watched (a killed script writes
 * nothing, and a synced or remote folder may send no events), and tails the metrics.jsonl of every run a
 * training panel follows. Reads only; the user's script owns the files.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as vscode from 'vscode';
import type { MetricsLine } from '../core/train/metrics-file';
import { RUN_FILES } from '../core/train/run';
import { MetricsTail } from './metrics-tail';
import { monitoredRunsIn, readWatchedFolder } from './monitored-runs';
import { monitoredSnapshot } from './monitored-state';
import { diagnosedSteps } from './over-training';
import type { HostSettings } from './settings';
import { monitoredRun, type HostStore } from './store';
import type { TrainingSnapshot } from '../shared/protocol';

const WATCHED_KEY = 'rnnMemory.watchedFolders';
const DEBOUNCE_MS = 250;
/** Re-listing while something is live or watched: a stopped script shows as stopped within this. */
const RELIST_MS = 3000;
/** Followed metrics are read this often (only the appended bytes). */
const TAIL_MS = 1000;

/** The run folders under each folder with their run.json modification times (changes when a run appears or writes). */
function folderSignature(dirs: readonly string[]): string {
  const parts: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of [dir, ...names.map((x) => join(dir, x))]) {
      try {
        parts.push(`${n}:${statSync(join(n, RUN_FILES.status)).mtimeMs}`);
      } catch {
        // not a run (yet)
      }
    }
  }
  return parts.join('|');
}

export class MonitoredWatch implements vscode.Disposable {
  private watchers: vscode.Disposable[] = [];
  private readonly tails = new Map<string, MetricsTail>();
  private debounce: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[];
  private lastList = 0;
  private signature = '';
  private readonly unsubscribe: { dispose(): void };

  constructor(
    private readonly store: HostStore,
    private readonly settings: HostSettings,
    private readonly state: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.timers = [setInterval(() => this.relistIfActive(), RELIST_MS), setInterval(() => this.tailFollowed(), TAIL_MS)];
    // A workspace scan (run.json created or changed anywhere in the workspace) lists them too: the runs
    // folder may not exist yet when its watcher is made.
    this.unsubscribe = store.subscribe((_s, a) => {
      if (a.type === 'scanned') this.schedule();
    });
    this.rewatch();
  }

  watchedFolders(): string[] {
    const v = this.state.get<unknown>(WATCHED_KEY);
    return Array.isArray(v) ? v.filter((d): d is string => typeof d === 'string') : [];
  }

  async addFolder(dir: string): Promise<void> {
    const abs = resolve(dir);
    if (!this.watchedFolders().includes(abs)) await this.state.update(WATCHED_KEY, [...this.watchedFolders(), abs]);
    this.rewatch();
  }

  async removeFolder(dir: string): Promise<boolean> {
    const list = this.watchedFolders();
    if (!list.includes(dir)) return false;
    await this.state.update(
      WATCHED_KEY,
      list.filter((d) => d !== dir),
    );
    this.rewatch();
    return true;
  }

  /** New file watchers for the runs folder and the watched folders (after either changes), then a listing. */
  rewatch(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = [];
    for (const dir of [this.settings.runsDir(), ...this.watchedFolders()]) {
      const w = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(dir), '**/{run.json,monitor.json,*.safetensors}'),
      );
      const kick = () => this.schedule();
      this.watchers.push(w, w.onDidCreate(kick), w.onDidChange(kick), w.onDidDelete(kick));
    }
    this.list();
  }

  private schedule(): void {
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.list();
    }, DEBOUNCE_MS);
  }

  /** Lists every folder now and dispatches the result. */
  list(): void {
    this.lastList = Date.now();
    try {
      const monitored = monitoredRunsIn(this.settings.runsDir());
      const watched = this.watchedFolders().map((d) => readWatchedFolder(d));
      this.store.dispatch({ type: 'monitoredListed', monitored, watched });
      for (const runId of this.tails.keys()) this.readDiagnoses(runId);
    } catch (e) {
      this.log.warn(`listing monitored runs failed: ${(e as Error).message}`);
    }
  }

  /**
   * Lists again when a run is live or followed (its heartbeat ages without any file event), or when the
   * folders' runs or their run.json times changed: file events can be late or missing (a loaded machine, a
   * synced or remote folder), and this costs a readdir and a stat per run.
   */
  private relistIfActive(): void {
    const s = this.store.state;
    const live = [...s.monitored, ...s.watched.flatMap((w) => w.runs)].some((r) => r.state === 'live');
    const sig = folderSignature([this.settings.runsDir(), ...this.watchedFolders()]);
    if (live || s.followed.size > 0 || sig !== this.signature) {
      this.signature = sig;
      if (Date.now() - this.lastList >= RELIST_MS - 100 || !live) this.list();
    }
  }

  /**
   * Starts following a monitored run for a training panel: its snapshot from all metrics written so far
   * (dispatched), then each tick the appended lines. Null when `runId` is no monitored run listed.
   */
  follow(runId: string): TrainingSnapshot | null {
    const known = this.store.state.followed.get(runId);
    if (known) return known;
    const run = monitoredRun(this.store.state, runId);
    if (!run || run.state === 'bad') return null;
    const tail = new MetricsTail(join(run.dir, RUN_FILES.metrics));
    const lines: MetricsLine[] = [];
    // A backlog larger than one read comes over several reads: read until the end of the file.
    for (let at = -1; at !== tail.position;) {
      at = tail.position;
      lines.push(...tail.read());
    }
    this.tails.set(runId, tail);
    const snapshot = monitoredSnapshot(run, lines);
    this.store.dispatch({ type: 'monitorFollowed', snapshot });
    this.readDiagnoses(runId);
    return this.store.state.followed.get(runId) ?? snapshot;
  }

  /** The run's diagnose_every diagnoses into its followed snapshot (the store ignores what it already has). */
  private readDiagnoses(runId: string): void {
    const run = monitoredRun(this.store.state, runId);
    if (run) this.store.dispatch({ type: 'monitorDiagnoses', runId, steps: diagnosedSteps(run.dir) });
  }

  private tailFollowed(): void {
    for (const [runId, tail] of this.tails) {
      const lines = tail.read();
      if (lines.length) this.store.dispatch({ type: 'monitorMetrics', runId, lines });
    }
  }

  dispose(): void {
    for (const t of this.timers) clearInterval(t);
    this.unsubscribe.dispose();
    if (this.debounce) clearTimeout(this.debounce);
    for (const w of this.watchers) w.dispose();
  }
}
