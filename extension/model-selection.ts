/**
 * The selected model and run (what the Inspector describes): selecting dispatches to the store; a changed
 * selection is remembered across reloads and diagnosed in a worker, whose sentences come back to the store.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type * as vscode from 'vscode';
import type { DiagnosticReport } from '../core/diagnostics/types';
import { sniffModelFile } from '../core/model/model-sniff';
import { RUN_FILES } from '../core/train/run';
import type { ModelInfo } from '../shared/protocol';
import { isForeignModelPath } from './model-sniff';
import { readRun, snapshotFromDisk } from './runs';
import type { HostSettings } from './settings';
import type { HostStore } from './store';
import type { ModelEntry } from './tree-items';

const CURRENT_MODEL_KEY = 'rnnMemory.currentModel';

export class ModelSelection implements vscode.Disposable {
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly store: HostStore,
    private readonly settings: HostSettings,
    private readonly diagnose: (path: string) => Promise<DiagnosticReport>,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscription = store.subscribe((state, _a, prev) => {
      if (state.selection.path !== prev.selection.path) this.onSelectionChanged(state.selection.path);
    });
    // The model selected before a reload stays selected (when it still exists).
    const previous = settings.context.workspaceState.get<string>(CURRENT_MODEL_KEY);
    if (previous && existsSync(previous)) setTimeout(() => this.selectModel(previous), 0);
  }

  get currentModel(): string | undefined {
    return this.store.state.selection.path;
  }

  selectModel(path: string | undefined): void {
    if (path === this.currentModel) return;
    this.store.dispatch({ type: 'modelSelected', path, model: path ? this.modelInfo(path) : null });
  }

  selectRun(runId: string): void {
    const s = this.store.state;
    const known = s.live.has(runId) || s.finished.has(runId);
    const info = readRun(join(this.settings.runsDir(), runId), runId, new Set(s.live.keys()));
    this.store.dispatch({ type: 'runSelected', runId, disk: known || !info ? null : snapshotFromDisk(info) });
    if (info?.hasModel) this.selectModel(join(info.dir, RUN_FILES.model));
  }

  /** A model opened by path (custom editor, Open Model): listed in the tree. */
  opened(path: string): void {
    const root = this.settings.workspaceRoot();
    const info = this.modelInfo(path);
    const entry: ModelEntry = {
      path,
      relPath: root ? relative(root, path) : path,
      ...(info ? { architecture: info.architecture, paramCount: info.paramCount } : {}),
    };
    this.store.dispatch({ type: 'modelOpened', entry });
  }

  /** Our files are summarised from their header at once; foreign ones once diagnosed. */
  modelInfo(path: string): ModelInfo | null {
    const s = sniffModelFile(path);
    if (s.kind !== 'model') return null;
    return { name: this.settings.modelName(path), path, architecture: s.architecture, paramCount: s.paramCount };
  }

  private onSelectionChanged(path: string | undefined): void {
    void this.settings.context.workspaceState.update(CURRENT_MODEL_KEY, path);
    if (!path || (sniffModelFile(path).kind !== 'model' && !isForeignModelPath(path))) return;
    this.diagnose(path).then(
      (r) => {
        const model: ModelInfo = {
          name: this.settings.modelName(path),
          path,
          architecture: r.model.architecture,
          paramCount: r.model.paramCount,
        };
        this.store.dispatch({ type: 'modelDiagnosed', path, model, diagnosis: r.diagnosis });
      },
      (e: Error) => this.log.warn(`inspector diagnosis of ${path} failed: ${e.message}`),
    );
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
