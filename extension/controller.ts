/**
 * Composition of the extension host: creates the store and the modules that change it (training sessions,
 * workspace scan, model selection) or follow it (tree, status bar, panels, Inspector), and offers the
 * commands (commands.ts) one facade over them. State lives in the store only (store.ts); nothing here keeps
 * a copy of it.
 */
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import type { DiagnosticReport } from '../core/diagnostics/types';
import type { ArchitectureAnswers } from '../core/formats/errors';
import type { EngineName, TrainConfig } from '../core/train/types';
import type { ModelInfo } from '../shared/protocol';
import { AnswerStore } from './answer-store';
import { diagnoseSettings } from './diagnose-settings';
import { deleteItem, resolveModelPath, saveExport } from './file-actions';
import { InspectorViewProvider } from './inspector-view';
import { handleWebviewMessage, type MessageDeps } from './message-handlers';
import { ModelDiagnoser } from './diagnose-model-file';
import type { ModelEntry } from './model-sniff';
import { ModelSelection } from './model-selection';
import { MonitoredWatch } from './monitored-watch';
import { PanelContent } from './panel-content';
import { MODEL_EDITOR_VIEW_TYPE, PanelRegistry, type PanelEntry, type PanelView } from './panels';
import { isInside, type RunInfo } from './runs';
import { HostSettings } from './settings';
import { trainingStatusItem } from './status-bar';
import { HostStore } from './store';
import { inspectorMessage } from './store-views';
import { TrainingSession, type LaunchOptions, type RunResult } from './training-session';
import type { TrainDefaults } from './train-picks';
import type { TreeNode } from './tree-items';
import { bindTreeToStore, RunsTreeProvider } from './tree-provider';
import { WorkspaceScanner } from './workspace-scan';
import { openModelTab } from './model-tabs';
import { torchWorkerOptions } from './python-interpreter';

export class Controller implements vscode.Disposable {
  readonly store = new HostStore();
  readonly settings: HostSettings;
  readonly diagnoser: ModelDiagnoser;
  readonly tree = new RunsTreeProvider();
  readonly panels: PanelRegistry;
  readonly inspector: InspectorViewProvider;
  readonly training: TrainingSession;
  /** Runs of the user's own scripts (Python Monitor): listing, watched folders, metrics followed by panels. */
  readonly monitored: MonitoredWatch;
  private readonly selection: ModelSelection;
  private readonly scanner: WorkspaceScanner;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    const settings = (this.settings = new HostSettings(context));
    this.diagnoser = new ModelDiagnoser(
      join(context.extensionPath, 'dist', 'diagnose-worker.js'),
      () => settings.engine(),
      new AnswerStore(context.globalState),
      () => diagnoseSettings((k) => settings.config().get(k)),
      torchWorkerOptions,
    );
    const diagnose = (path: string) => this.diagnose(path);
    const messageDeps: MessageDeps = {
      stop: (runId) => this.stopTraining(runId),
      execute: (command, ...args) => vscode.commands.executeCommand(command, ...args),
      saveExport: (filename, data, filters) => saveExport(settings, log, filename, data, filters),
      warn: (line) => log.warn(line),
    };
    this.monitored = new MonitoredWatch(this.store, settings, context.workspaceState, log);
    const content = new PanelContent(this.store, settings, diagnose, (runId) => this.monitored.follow(runId));
    this.panels = new PanelRegistry(context, {
      title: (view, target) => content.title(view, target),
      onMessage: (host, m, t) =>
        handleWebviewMessage(
          messageDeps,
          {
            modelPath: t.kind === 'model' ? t.path : undefined,
            runId: t.kind === 'run' ? t.runId : undefined,
            view: host.view,
            reply: (r) => host.post(r),
          },
          m,
        ),
      liveRate: () => settings.liveRate(),
      log,
    });
    content.attach(this.panels);
    this.selection = new ModelSelection(this.store, settings, diagnose, log);
    this.scanner = new WorkspaceScanner(this.store, settings, log);
    this.inspector = new InspectorViewProvider(this.store, settings, messageDeps, log);
    this.training = new TrainingSession(
      this.store,
      settings,
      this.selection,
      (id) => this.showTraining(id),
      (p) => this.openModelEditor(p),
      log,
    );
    this.disposables.push(
      this.monitored,
      content,
      this.selection,
      this.scanner,
      this.inspector,
      this.training,
      this.tree,
      bindTreeToStore(this.tree, this.store),
      trainingStatusItem(this.store),
    );
  }

  // ---- settings (commands read them through the controller) ------------------------------------------------

  get manager() {
    return this.training.manager;
  }

  liveRate(): number {
    return this.settings.liveRate();
  }

  engine(): EngineName {
    return this.settings.engine();
  }

  trainDefaults(): TrainDefaults {
    return this.settings.trainDefaults();
  }

  workspaceRoot(): string | undefined {
    return this.settings.workspaceRoot();
  }

  runsDir(): string {
    return this.settings.runsDir();
  }

  modelName(path: string): string {
    return this.settings.modelName(path);
  }

  // ---- models and runs ------------------------------------------------------------------------------------

  refresh(now = false): Promise<void> {
    return this.scanner.refresh(now);
  }

  runs(): RunInfo[] {
    return this.scanner.runs();
  }

  modelEntries(): readonly ModelEntry[] {
    return this.store.state.models;
  }

  get currentModel(): string | undefined {
    return this.selection.currentModel;
  }

  selectModel(path: string | undefined): void {
    this.selection.selectModel(path);
  }

  selectRun(runId: string): void {
    this.selection.selectRun(runId);
  }

  /** The model the Inspector describes (ours from the header at once; foreign files once diagnosed). */
  inspectorModel(): ModelInfo | null {
    return inspectorMessage(this.store.state).model;
  }

  resolveModelPath(p: string): string {
    return resolveModelPath(p);
  }

  diagnose(path: string): Promise<DiagnosticReport> {
    return this.diagnoser.diagnose(path);
  }

  /** Answers given ahead (the Open Model command's argument, tests) for a foreign model file. */
  setModelAnswers(path: string, answers: ArchitectureAnswers): void {
    this.diagnoser.setAnswers(path, answers);
  }

  // ---- training -------------------------------------------------------------------------------------------

  startTraining(config: TrainConfig, opts: LaunchOptions = {}): Promise<RunResult> {
    return this.training.start(config, opts);
  }

  resumeRun(runId: string, opts: LaunchOptions & { steps?: number } = {}): Promise<RunResult> {
    return this.training.resume(runId, opts);
  }

  stopTraining(runId?: string): number {
    return this.training.stop(runId);
  }

  // ---- panels ---------------------------------------------------------------------------------------------

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
    this.modelOpened(path);
    this.selectModel(path);
    await openModelTab(vscode.Uri.file(path), MODEL_EDITOR_VIEW_TYPE);
  }

  /** A model opened by path is listed in the tree (also from outside the workspace). */
  modelOpened(path: string): void {
    if (isAbsolute(path)) this.selection.opened(path);
  }

  // ---- files ----------------------------------------------------------------------------------------------

  saveExport(filename: string, data: Uint8Array, filters: Record<string, string[]>): Promise<string | undefined> {
    return saveExport(this.settings, this.log, filename, data, filters);
  }

  deleteItem(path: string, confirmed = false): Promise<boolean> {
    return deleteItem(
      {
        settings: this.settings,
        log: this.log,
        isTraining: (runId) => !!this.manager.get(runId),
        afterDelete: async (deleted, runId) => {
          this.panels.close((t) => (t.kind === 'run' && t.runId === runId) || (t.kind === 'model' && isInside(t.path, deleted)));
          if (this.currentModel && isInside(this.currentModel, deleted)) this.selectModel(undefined);
          await this.refresh(true);
        },
      },
      path,
      confirmed,
    );
  }

  dispose(): void {
    this.panels.dispose();
    this.diagnoser.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

export type { RunResult, TreeNode };
