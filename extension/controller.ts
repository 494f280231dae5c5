/**
 * The extension's state and operations: runs (live and on disk), model files, diagnostics, what panels show
 * (their life is panels.ts), the Inspector and the status bar. Commands (commands.ts) are thin wrappers over
 * these methods. Heavy work (training, diagnosis) always runs in worker threads; nothing here blocks the
 * extension host for long.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import * as vscode from 'vscode';
import type { DiagnosticReport, DiagnosisSentence } from '../core/diagnostics/types';
import { RUN_FILES } from '../core/train/run';
import { writeFileAtomic } from '../core/util/fs-atomic';
import type { EngineName, TrainConfig, TrainEvent } from '../core/train/types';
import type { HostToWebview, ModelInfo, TrainingSnapshot, WebviewToHost } from '../webview/protocol';
import type { ArchitectureAnswers } from '../core/formats/errors';
import { AnswerStore } from './answer-store';
import { diagnoseSettings } from './diagnose-settings';
import { ModelDiagnoser } from './model-diagnosis';
import { sniffModelFile } from '../core/model/model-sniff';
import { isForeignModelPath } from './model-sniff';
import { isInside, listRuns, readRun, snapshotFromDisk, type RunInfo } from './runs';
import { trainDefaultsFrom, type TrainDefaults } from './train-picks';
import { TrainingManager, type LiveRun } from './training-manager';
import { formatLoss, latestLoss } from './training-state';
import { buildTree, type ModelEntry, type TreeNode } from './tree-items';
import { RunsTreeProvider } from './tree-provider';
import { MODEL_EDITOR_VIEW_TYPE, PanelRegistry, VIEW_TITLES, type PanelEntry, type PanelTarget, type PanelView } from './panels';
import { clampRate, EventBatcher } from './webview-channel';
import type { WebviewHost } from './webview-host';
import { showError } from './notify';
import { openModelTab } from './model-tabs';

/** How long a new training panel may load before the worker starts anyway. */
const PANEL_HEAD_START_MS = 5000;
const CURRENT_MODEL_KEY = 'rnnMemory.currentModel';

export class Controller implements vscode.Disposable {
  readonly manager: TrainingManager;
  readonly diagnoser: ModelDiagnoser;
  readonly tree = new RunsTreeProvider();
  readonly panels: PanelRegistry;
  inspector: WebviewHost | null = null;
  currentModel: string | undefined;
  private inspectorRunId: string | undefined;
  /** Runs whose panel is loading before their worker starts. */
  private readonly pending = new Map<string, TrainingSnapshot>();
  private inspectorDiagnosis: DiagnosisSentence[] = [];
  /** The summary of the model a diagnosis last came back for (foreign files have no header to sniff). */
  private diagnosedModelInfo: ModelInfo | null = null;
  /** The last full Inspector message (its training snapshot is the live one, updated in place). */
  private inspectorMessage: HostToWebview | undefined;
  private models: ModelEntry[] = [];
  private readonly statusItem: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshWaiters: (() => void)[] = [];
  private refreshSince = 0;
  private lastTreeUpdate = 0;
  private uiBatcher: EventBatcher<string>;

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    const dist = join(context.extensionPath, 'dist');
    // The native engine uses two threads by default; on a two-core machine that leaves nothing for the
    // editor (webviews then stall for seconds). Keep one core free unless the user chose a thread count.
    if (!process.env.RNN_FAST_THREADS && availableParallelism() <= 2) process.env.RNN_FAST_THREADS = '1';
    this.manager = new TrainingManager({
      workerScript: join(dist, 'train-worker.js'),
      dataPath: join(dist, 'data', 'mnist.bin'),
      progressIntervalMs: () => Math.round(1000 / this.liveRate()),
    });
    this.diagnoser = new ModelDiagnoser(join(dist, 'diagnose-worker.js'), () => this.engine(), new AnswerStore(context.globalState), () => diagnoseSettings((k) => this.config().get(k)));
    this.panels = new PanelRegistry(context, {
      title: (view, target) => this.targetTitle(view, target),
      load: (entry) => this.loadPanel(entry),
      onMessage: (host, m, target) => this.onWebviewMessage(host, m, target),
      liveRate: () => this.liveRate(),
      log,
    });
    this.statusItem = vscode.window.createStatusBarItem('rnnMemory.training', vscode.StatusBarAlignment.Left, 50);
    this.statusItem.name = 'RNN Memory training';
    this.uiBatcher = new EventBatcher<string>(this.liveRate(), () => this.updateLiveUi());
    this.disposables.push(
      this.statusItem,
      this.tree,
      { dispose: () => this.uiBatcher.dispose() },
    );
    // The model selected before a reload stays selected (when it still exists).
    const previous = context.workspaceState.get<string>(CURRENT_MODEL_KEY);
    if (previous && existsSync(previous)) setTimeout(() => this.selectModel(previous), 0);
    const offEvent = this.manager.onEvent((run, e) => this.onTrainEvent(run, e));
    const offEnd = this.manager.onEnd((run, r) => this.onTrainEnd(run, r));
    this.disposables.push({ dispose: offEvent }, { dispose: offEnd });
  }

  // ---- settings -------------------------------------------------------------------------------------------

  config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('rnnMemory');
  }

  liveRate(): number {
    return clampRate(this.config().get<number>('liveUpdateRate'));
  }

  engine(): EngineName {
    return this.config().get<string>('engine') === 'reference' ? 'reference' : 'fast';
  }

  trainDefaults(): TrainDefaults {
    const c = vscode.workspace.getConfiguration('rnnMemory.train');
    return trainDefaultsFrom((k) => c.get(k));
  }

  workspaceRoot(): string | undefined {
    const f = vscode.workspace.workspaceFolders?.[0];
    return f && f.uri.scheme === 'file' ? f.uri.fsPath : f?.uri.fsPath;
  }

  /** The runs folder: rnnMemory.runsFolder relative to the first workspace folder (global storage without one). */
  runsDir(): string {
    const setting = (this.config().get<string>('runsFolder') || 'runs').trim();
    if (isAbsolute(setting)) return setting;
    const root = this.workspaceRoot();
    return join(root ?? join(this.context.globalStorageUri.fsPath), setting);
  }

  // ---- tree -----------------------------------------------------------------------------------------------

  /** Re-scans model files and runs (debounced unless `now`); resolves once a scan after this call is done. */
  refresh(now = false): Promise<void> {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.refreshWaiters.length === 0) this.refreshSince = Date.now();
    const done = new Promise<void>((resolve) => this.refreshWaiters.push(resolve));
    // A stream of file events (checkpoints of a fast run) postpones the scan, but never by more than 2 s.
    const delay = now || Date.now() - this.refreshSince > 2000 ? 0 : 300;
    this.refreshTimer = setTimeout(() => void this.doRefresh(), delay);
    return done;
  }

  private async doRefresh(): Promise<void> {
    this.refreshTimer = undefined;
    const waiters = this.refreshWaiters;
    this.refreshWaiters = [];
    try {
      await this.scan();
    } catch (e) {
      this.log.warn(`refresh failed: ${(e as Error).message}`);
    } finally {
      for (const w of waiters) w();
    }
  }

  private async scan(): Promise<void> {
    const runsDir = this.runsDir();
    const root = this.workspaceRoot();
    const found: ModelEntry[] = [];
    if (root) {
      const uris = await vscode.workspace.findFiles('**/*.safetensors', '{**/node_modules/**,**/.git/**}', 2000);
      for (const uri of uris) {
        const p = uri.fsPath;
        if (isInside(p, runsDir)) continue;
        const s = sniffModelFile(p);
        if (s.kind === 'model') found.push({ path: p, relPath: relative(root, p), architecture: s.architecture, paramCount: s.paramCount });
      }
    }
    this.models = found.sort((a, b) => a.relPath.localeCompare(b.relPath));
    this.rebuildTree();
  }

  runs(): RunInfo[] {
    return listRuns(this.runsDir(), this.manager.liveIds());
  }

  private rebuildTree(): void {
    this.lastTreeUpdate = Date.now();
    const folder = relative(this.workspaceRoot() ?? '', this.runsDir()) || this.runsDir();
    this.tree.setRoots(buildTree(this.models, this.runs(), this.manager.snapshots(), folder));
  }

  modelEntries(): readonly ModelEntry[] {
    return this.models;
  }

  // ---- training -------------------------------------------------------------------------------------------

  /** Starts a run, opens its live panel, shows progress; resolves when started (or finished with `wait`). */
  async startTraining(config: TrainConfig, opts: { wait?: boolean; reveal?: boolean } = {}): Promise<RunResult> {
    const runsDir = this.runsDir();
    const reserved = this.manager.reserve(runsDir, config);
    if (opts.reveal !== false) {
      // Open the live panel first and give its page a moment to load: once the worker runs it takes a whole
      // core, and on a small machine a webview loading at that moment can stall for many seconds.
      this.pending.set(reserved.id, reserved.snapshot);
      try {
        await this.showTraining(reserved.id).host.whenReady(PANEL_HEAD_START_MS);
      } finally {
        this.pending.delete(reserved.id);
      }
    }
    const run = this.manager.start(runsDir, config, reserved);
    this.log.info(`training ${run.id} in ${run.dir}: ${JSON.stringify(config)}`);
    return this.afterLaunch(run, opts);
  }

  async resumeRun(runId: string, opts: { steps?: number; wait?: boolean; reveal?: boolean } = {}): Promise<RunResult> {
    const run = this.manager.resume(this.runsDir(), runId, opts.steps);
    this.log.info(`resuming ${run.id} from step ${run.snapshot.step}`);
    return this.afterLaunch(run, opts);
  }

  private async afterLaunch(run: LiveRun, opts: { wait?: boolean; reveal?: boolean }): Promise<RunResult> {
    this.inspectorRunId = run.id;
    this.pushInspector();
    this.showProgress(run);
    this.updateLiveUi();
    this.rebuildTree();
    void vscode.commands.executeCommand('setContext', 'rnnMemory.training', true);
    if (opts.reveal !== false) this.showTraining(run.id);
    // A panel opened before the worker started already holds this snapshot object; events update it.
    if (opts.wait) {
      const r = await run.finished;
      return { runId: run.id, dir: run.dir, status: r.done?.reason ?? 'failed', step: run.snapshot.step, error: r.error?.message };
    }
    return { runId: run.id, dir: run.dir, status: 'running', step: run.snapshot.step };
  }

  private showProgress(run: LiveRun): void {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Training ${run.snapshot.label}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => this.manager.stop(run.id));
        let reported = 0;
        const off = this.manager.onEvent((r, e) => {
          if (r !== run || e.type !== 'progress') return;
          const pct = (100 * e.step) / Math.max(1, e.totalSteps);
          progress.report({ increment: Math.max(0, pct - reported), message: `step ${e.step}/${e.totalSteps} · loss ${formatLoss(e.loss)}` });
          reported = Math.max(reported, pct);
        });
        try {
          await run.finished;
        } finally {
          off();
        }
      },
    );
  }

  stopTraining(runId?: string): number {
    return this.manager.stop(runId);
  }

  private onTrainEvent(run: LiveRun, e: TrainEvent): void {
    for (const p of this.panels.forRun(run.id)) p.host.pushTrainingEvent(run.id, e, { type: 'training', snapshot: run.snapshot });
    // The Inspector's mini chart follows its run through the same incremental events (a full Inspector
    // message re-renders the whole view: only on selection changes).
    const inspected = this.inspectorMessage;
    if (this.inspector && !this.inspector.isDisposed && inspected?.type === 'inspector' && inspected.training?.runId === run.id) {
      this.inspector.pushTrainingEvent(run.id, e, inspected);
    }
    if (e.type === 'error') this.log.error(`run ${run.id}: ${e.message}`);
    this.uiBatcher.push(run.id);
  }

  private onTrainEnd(run: LiveRun, r: { done?: { reason: string; step: number; modelPath: string }; error?: Error }): void {
    for (const p of this.panels.forRun(run.id)) p.host.flushTraining({ type: 'training', snapshot: run.snapshot });
    if (this.inspectorMessage?.type === 'inspector' && this.inspectorMessage.training?.runId === run.id) this.inspector?.flushTraining();
    this.pushInspector();
    this.updateLiveUi();
    this.rebuildTree();
    void vscode.commands.executeCommand('setContext', 'rnnMemory.training', this.manager.all().length > 0);
    const label = run.snapshot.label;
    if (r.error) {
      const info = readRun(run.dir, run.id, this.manager.liveIds());
      const resumable = !!info?.resumable;
      const msg = `Training ${label} failed: ${r.error.message}.${resumable ? ` The run can be resumed from its last checkpoint (step ${info?.status?.step ?? '?'}).` : ''}`;
      this.log.error(msg);
      void showError(msg, ...(resumable ? ['Resume'] : []), 'Show Log').then((choice) => {
        if (choice === 'Resume') void vscode.commands.executeCommand('rnnMemory.resumeRun', run.id);
        else if (choice === 'Show Log') this.log.show();
      });
      return;
    }
    if (r.done?.reason === 'completed') {
      const loss = run.snapshot.points.filter((p) => p.testLoss !== undefined).at(-1)?.testLoss;
      void vscode.window.showInformationMessage(`Training finished: ${label}, ${r.done.step} steps, test loss ${formatLoss(loss)}.`, 'Open Diagnostics').then((c) => {
        if (c) void this.openModelEditor(r.done!.modelPath);
      });
    } else if (r.done) {
      void vscode.window.showInformationMessage(`Training stopped at step ${r.done.step}; saved in ${relative(this.workspaceRoot() ?? '', run.dir) || run.dir}.`, 'Resume').then((c) => {
        if (c) void vscode.commands.executeCommand('rnnMemory.resumeRun', run.id);
      });
    }
  }

  /** Status bar and (at most once a second) tree descriptions of live runs. */
  private updateLiveUi(): void {
    const live = this.manager.all();
    if (live.length === 0) {
      this.statusItem.hide();
    } else {
      const r = live[live.length - 1];
      const s = r.snapshot;
      const more = live.length > 1 ? ` (+${live.length - 1})` : '';
      this.statusItem.text = `$(sync~spin) ${s.label} ${s.step}/${s.totalSteps} · loss ${formatLoss(latestLoss(s))}${more}`;
      this.statusItem.tooltip = 'RNN Memory: show the training panel';
      this.statusItem.command = { command: 'rnnMemory.showTraining', title: 'Show Training', arguments: [r.id] };
      this.statusItem.show();
    }
    if (Date.now() - this.lastTreeUpdate > 1000) this.rebuildTree();
  }

  // ---- panel content --------------------------------------------------------------------------------------

  private targetTitle(view: PanelView | 'compare', target: PanelTarget): string {
    if (target.kind === 'run') {
      const info = this.manager.get(target.runId)?.snapshot.label ?? this.pending.get(target.runId)?.label ?? readRun(join(this.runsDir(), target.runId), target.runId)?.label;
      return `Training: ${info ?? target.runId}`;
    }
    if (target.kind === 'compare') return `Compare: ${target.paths.map((p) => this.modelName(p)).join(' vs ')}`;
    return `${VIEW_TITLES[view as PanelView]}: ${this.modelName(target.path)}`;
  }

  /** A short name: the run id for runs/<id>/model.safetensors, else the file name. */
  modelName(path: string): string {
    if (basename(path) === RUN_FILES.model && isInside(path, this.runsDir())) return basename(dirname(path));
    return basename(path);
  }

  private async loadPanel(p: PanelEntry): Promise<void> {
    const t = p.target;
    if (t.kind === 'run') {
      const live = this.manager.get(t.runId);
      const snap = live?.snapshot ?? this.pending.get(t.runId) ?? this.diskSnapshot(t.runId);
      if (snap) p.host.post({ type: 'training', snapshot: snap });
      else p.host.post({ type: 'status', kind: 'error', text: `Run ${t.runId} was not found in ${this.runsDir()}` });
      return;
    }
    if (t.kind === 'compare') {
      p.host.post({ type: 'status', kind: 'busy', text: `Diagnosing ${t.paths.length} models…` });
      try {
        const items: { label: string; report: DiagnosticReport }[] = [];
        for (const path of t.paths) items.push({ label: this.modelName(path), report: await this.diagnose(path) });
        p.host.post({ type: 'reports', items });
        p.host.post({ type: 'status', kind: 'info', text: '' });
      } catch (e) {
        p.host.post({ type: 'status', kind: 'error', text: (e as Error).message });
      }
      return;
    }
    p.host.post({ type: 'status', kind: 'busy', text: `Diagnosing ${basename(t.path)}…` });
    try {
      const report = await this.diagnose(t.path);
      p.host.post({ type: 'report', report, label: this.modelName(t.path) });
      p.host.post({ type: 'status', kind: 'info', text: '' });
    } catch (e) {
      const msg = (e as Error).message;
      p.host.post({ type: 'status', kind: 'error', text: msg });
      void showError(`RNN Memory: cannot diagnose ${basename(t.path)}: ${msg}`);
    }
  }

  private diskSnapshot(runId: string): TrainingSnapshot | null {
    const info = readRun(join(this.runsDir(), runId), runId, this.manager.liveIds());
    return info ? snapshotFromDisk(info) : null;
  }

  /** The model's diagnostic report, from a worker (answers asked for foreign files as needed). */
  diagnose(path: string): Promise<DiagnosticReport> {
    return this.diagnoser.diagnose(path);
  }

  /** Answers given ahead (the Open Model command's argument, tests) for a foreign model file. */
  setModelAnswers(path: string, answers: ArchitectureAnswers): void {
    this.diagnoser.setAnswers(path, answers);
  }

  showTraining(runId: string): PanelEntry {
    return this.panels.show('training', { kind: 'run', runId });
  }

  showDiagnostics(view: Exclude<PanelView, 'training'>, modelPath: string): PanelEntry {
    this.selectModel(modelPath);
    return this.panels.show(view, { kind: 'model', path: modelPath });
  }

  compare(paths: string[]): PanelEntry {
    return this.panels.show('compare', { kind: 'compare', paths });
  }

  async openModelEditor(path: string): Promise<void> {
    this.selectModel(path);
    await openModelTab(vscode.Uri.file(path), MODEL_EDITOR_VIEW_TYPE);
  }

  private async onWebviewMessage(host: WebviewHost, m: Exclude<WebviewToHost, { type: 'ready' }>, target: PanelTarget): Promise<void> {
    switch (m.type) {
      case 'stopTraining':
        if (this.stopTraining(m.runId) === 0) host.post({ type: 'status', kind: 'info', text: `Run ${m.runId} is not training.` });
        return;
      case 'command': {
        const arg = target.kind === 'model' ? vscode.Uri.file(target.path) : target.kind === 'run' ? target.runId : undefined;
        const needsModel = ['showBistabilityMap', 'showGradientFlow', 'showRetention', 'exportReport'].includes(m.command);
        await vscode.commands.executeCommand(`rnnMemory.${m.command}`, ...(needsModel && target.kind === 'model' ? [arg] : m.command === 'stopTraining' && arg ? [arg] : []));
        return;
      }
      case 'exportCsv':
        await this.saveExport(m.filename, Buffer.from(m.csv, 'utf8'), { 'CSV files': ['csv'] });
        return;
      case 'exportPng':
        await this.saveExport(m.filename, Buffer.from(m.dataUrl.slice('data:image/png;base64,'.length), 'base64'), { 'PNG images': ['png'] });
        return;
      case 'error':
        this.log.warn(`webview ${host.view}: ${m.message}`);
        return;
    }
  }

  /**
   * Writes an export chosen in a webview. The file name was validated (no path parts). Tests set
   * RNN_MEMORY_EXPORT_DIR to skip the save dialog.
   */
  async saveExport(filename: string, data: Uint8Array, filters: Record<string, string[]>): Promise<string | undefined> {
    const direct = process.env.RNN_MEMORY_EXPORT_DIR;
    let uri: vscode.Uri | undefined;
    if (direct) uri = vscode.Uri.file(join(direct, basename(filename)));
    else {
      const root = this.workspaceRoot();
      uri = await vscode.window.showSaveDialog({ defaultUri: root ? vscode.Uri.file(join(root, filename)) : undefined, filters, title: `Export ${filename}` });
    }
    if (!uri) return undefined;
    // Local files are written atomically, so nothing (a file watcher, a test) ever reads half an export.
    if (uri.scheme === 'file') writeFileAtomic(uri.fsPath, data);
    else await vscode.workspace.fs.writeFile(uri, data);
    this.log.info(`exported ${uri.fsPath} (${data.length} bytes)`);
    vscode.window.setStatusBarMessage(`$(check) Saved ${basename(uri.fsPath)}`, 5000);
    return uri.fsPath;
  }

  // ---- model selection and the Inspector ------------------------------------------------------------------

  selectModel(path: string | undefined): void {
    if (path === this.currentModel) return;
    this.currentModel = path;
    void this.context.workspaceState.update(CURRENT_MODEL_KEY, path);
    this.inspectorDiagnosis = [];
    this.pushInspector();
    if (!path || (sniffModelFile(path).kind !== 'model' && !isForeignModelPath(path))) return;
    this.diagnose(path).then(
      (r) => {
        if (this.currentModel !== path) return;
        this.inspectorDiagnosis = r.diagnosis;
        this.diagnosedModelInfo = { name: this.modelName(path), path, architecture: r.model.architecture, paramCount: r.model.paramCount };
        this.pushInspector();
      },
      (e: Error) => this.log.warn(`inspector diagnosis of ${path} failed: ${e.message}`),
    );
  }

  selectRun(runId: string): void {
    this.inspectorRunId = runId;
    const info = readRun(join(this.runsDir(), runId), runId, this.manager.liveIds());
    if (info?.hasModel) this.selectModel(join(info.dir, RUN_FILES.model));
    else this.pushInspector();
  }

  modelInfo(path: string): ModelInfo | null {
    const s = sniffModelFile(path);
    if (s.kind !== 'model') return null;
    return { name: this.modelName(path), path, architecture: s.architecture, paramCount: s.paramCount };
  }

  /**
   * The model the Inspector describes: ours from its header at once; PyTorch/Keras/TF.js files (no header to
   * sniff) once their diagnosis, which converts them, has come back.
   */
  inspectorModel(): ModelInfo | null {
    const path = this.currentModel;
    if (!path) return null;
    return this.modelInfo(path) ?? (this.diagnosedModelInfo?.path === path ? this.diagnosedModelInfo : null);
  }

  pushInspector(): void {
    if (!this.inspector || this.inspector.isDisposed) return;
    const live = this.inspectorRunId ? this.manager.get(this.inspectorRunId) : this.manager.all().at(-1);
    const training = live?.snapshot ?? (this.inspectorRunId ? this.diskSnapshot(this.inspectorRunId) : null);
    const msg: HostToWebview = {
      type: 'inspector',
      model: this.inspectorModel(),
      diagnosis: this.inspectorDiagnosis,
      training,
    };
    this.inspectorMessage = msg;
    this.inspector.post(msg);
  }

  // ---- files ----------------------------------------------------------------------------------------------

  /** A model path from a file or a run folder (its model.safetensors). */
  resolveModelPath(p: string): string {
    try {
      // A TF.js export folder holds model.json; a run folder holds model.safetensors.
      if (statSync(p).isDirectory()) return !existsSync(join(p, RUN_FILES.model)) && existsSync(join(p, 'model.json')) ? join(p, 'model.json') : join(p, RUN_FILES.model);
    } catch {
      // not there: let the caller report it
    }
    return p;
  }

  /** Deletes a run folder or a model file after a modal confirmation (skipped only when `confirmed`). */
  async deleteItem(path: string, confirmed = false): Promise<boolean> {
    const runsDir = this.runsDir();
    const isRun = isInside(path, runsDir) && dirname(path) === runsDir.replace(/[\\/]+$/, '');
    const runId = isRun ? basename(path) : undefined;
    if (runId && this.manager.get(runId)) {
      void vscode.window.showWarningMessage(`Run ${runId} is training: stop it before deleting it.`);
      return false;
    }
    if (!existsSync(path)) return false;
    if (!confirmed) {
      const what = runId ? `the run "${runId}" and all its files` : `the model file "${basename(path)}"`;
      const choice = await vscode.window.showWarningMessage(`Delete ${what}? This cannot be undone.`, { modal: true }, 'Delete');
      if (choice !== 'Delete') return false;
    }
    rmSync(path, { recursive: true, force: true });
    this.panels.close((t) => (t.kind === 'run' && t.runId === runId) || (t.kind === 'model' && isInside(t.path, path)));
    if (this.currentModel && isInside(this.currentModel, path)) this.selectModel(undefined);
    this.log.info(`deleted ${path}`);
    await this.refresh(true);
    return true;
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.panels.dispose();
    this.inspector?.dispose();
    this.diagnoser.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

export interface RunResult {
  runId: string;
  dir: string;
  status: 'running' | 'completed' | 'cancelled' | 'failed';
  step: number;
  error?: string;
}

export type { TreeNode };
