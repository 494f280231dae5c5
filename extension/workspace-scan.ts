/**
 * Finds model files (every format: extension/model-sniff MODEL_FILE_GLOB) and run folders, and dispatches
 * them to the store. Scans are debounced: a stream of file events (checkpoints) postpones one by at most 2 s.
 */
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import * as vscode from 'vscode';
import { MODEL_FILE_GLOB, modelEntry } from './model-sniff';
import { isInside, listRuns, type RunInfo } from './runs';
import type { HostSettings } from './settings';
import type { HostStore } from './store';
import type { ModelEntry } from './tree-items';

const MAX_MODEL_FILES = 2000;

export class WorkspaceScanner implements vscode.Disposable {
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  private since = 0;

  constructor(
    private readonly store: HostStore,
    private readonly settings: HostSettings,
    private readonly log: vscode.LogOutputChannel,
  ) {
    // Run folders change when runs start and end: list them again then.
    const sub = store.subscribe((_s, a) => {
      if (a.type === 'runStarted' || a.type === 'runEnded') this.listRuns();
    });
    this.dispose = () => {
      sub.dispose();
      if (this.timer) clearTimeout(this.timer);
    };
  }

  dispose: () => void;

  /** Run folders as they are now (live runs of this window marked as running). */
  runs(): RunInfo[] {
    return listRuns(this.settings.runsDir(), new Set(this.store.state.live.keys()));
  }

  listRuns(): void {
    this.store.dispatch({ type: 'runsListed', runs: this.runs() });
  }

  /** Re-scans model files and runs (debounced unless `now`); resolves once a scan after this call is done. */
  refresh(now = false): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.waiters.length === 0) this.since = Date.now();
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    const delay = now || Date.now() - this.since > 2000 ? 0 : 300;
    this.timer = setTimeout(() => void this.run(), delay);
    return done;
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    try {
      const runsDir = this.settings.runsDir();
      const root = this.settings.workspaceRoot();
      const models = await this.findModels(root, runsDir);
      const runsFolder = relative(root ?? '', runsDir) || runsDir;
      this.store.dispatch({ type: 'scanned', models, runs: this.runs(), runsFolder });
    } catch (e) {
      this.log.warn(`refresh failed: ${(e as Error).message}`);
    } finally {
      for (const w of waiters) w();
    }
  }

  private async findModels(root: string | undefined, runsDir: string): Promise<ModelEntry[]> {
    const uris = root ? await vscode.workspace.findFiles(MODEL_FILE_GLOB, '{**/node_modules/**,**/.git/**}', MAX_MODEL_FILES) : [];
    const found: ModelEntry[] = [];
    for (const uri of uris) {
      const p = uri.fsPath;
      if (isInside(p, runsDir)) continue;
      const entry = modelEntry(p, root!);
      if (entry) found.push(entry);
    }
    found.sort((a, b) => a.relPath.localeCompare(b.relPath));
    // Models opened from elsewhere stay listed while they exist.
    const paths = new Set(found.map((m) => m.path));
    return [...found, ...this.store.state.models.filter((m) => m.opened && !paths.has(m.path) && existsSync(m.path))];
  }
}
