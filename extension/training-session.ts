/**
 * Training from the editor: starts and resumes runs in workers (TrainingManager), feeds their events to the
 * store, opens the live panel, shows the progress notification and, at the end, the notification built from
 * the store's final snapshot (store-views runEndNotification: the numbers of the panel and the Inspector).
 */
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import * as vscode from 'vscode';
import type { DoneEvent, TrainConfig } from '../core/train/types';
import { runNumbersText } from '../shared/run-summary';
import type { ModelSelection } from './model-selection';
import { showError } from './notify';
import type { PanelEntry } from './panels';
import { readRun } from './runs';
import type { HostSettings } from './settings';
import type { HostStore } from './store';
import { runEndNotification } from './store-views';
import { TrainingManager, type LiveRun } from './training-manager';

/** How long a new training panel may load before the worker starts anyway. */
const PANEL_HEAD_START_MS = 5000;

export interface RunResult {
  runId: string;
  dir: string;
  status: 'running' | 'completed' | 'stopped' | 'failed';
  step: number;
  error?: string;
}

export interface LaunchOptions {
  wait?: boolean;
  reveal?: boolean;
}

export class TrainingSession implements vscode.Disposable {
  readonly manager: TrainingManager;
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly store: HostStore,
    private readonly settings: HostSettings,
    private readonly selection: ModelSelection,
    private readonly showTraining: (runId: string) => PanelEntry,
    private readonly openModelEditor: (path: string) => Promise<void>,
    private readonly log: vscode.LogOutputChannel,
  ) {
    const dist = join(settings.context.extensionPath, 'dist');
    // The native engine uses two threads by default; on a two-core machine that leaves nothing for the
    // editor (webviews then stall for seconds). Keep one core free unless the user chose a thread count.
    if (!process.env.RNN_FAST_THREADS && availableParallelism() <= 2) process.env.RNN_FAST_THREADS = '1';
    this.manager = new TrainingManager({
      workerScript: join(dist, 'train-worker.js'),
      dataPath: join(dist, 'data', 'mnist.bin'),
      progressIntervalMs: () => Math.round(1000 / settings.liveRate()),
    });
    this.offs.push(
      this.manager.onEvent((run, event) => {
        if (event.type === 'error') this.log.error(`run ${run.id}: ${event.message}`);
        store.dispatch({ type: 'trainEvent', runId: run.id, event });
      }),
      this.manager.onEnd((run, r) => this.onEnd(run, r)),
    );
  }

  /** Starts a run, opens its live panel, shows progress; resolves when started (or finished with `wait`). */
  async start(config: TrainConfig, opts: LaunchOptions = {}): Promise<RunResult> {
    const runsDir = this.settings.runsDir();
    const reserved = this.manager.reserve(runsDir, config);
    // The store knows the run from now on, so its panel can show it while the page loads.
    this.store.dispatch({ type: 'runStarted', snapshot: reserved.snapshot });
    let run: LiveRun;
    try {
      // Open the live panel first and give its page a moment to load: once the worker runs it takes a whole
      // core, and on a small machine a webview loading at that moment can stall for many seconds.
      if (opts.reveal !== false) await this.showTraining(reserved.id).host.whenReady(PANEL_HEAD_START_MS);
      run = this.manager.start(runsDir, config, reserved);
    } catch (e) {
      this.store.dispatch({ type: 'runEnded', runId: reserved.id, error: (e as Error).message });
      throw e;
    }
    this.log.info(`training ${run.id} in ${run.dir}: ${JSON.stringify(config)}`);
    return this.afterLaunch(run, opts);
  }

  async resume(runId: string, opts: LaunchOptions & { steps?: number } = {}): Promise<RunResult> {
    const run = this.manager.resume(this.settings.runsDir(), runId, opts.steps);
    this.store.dispatch({ type: 'runStarted', snapshot: run.initial });
    this.log.info(`resuming ${run.id} from step ${run.initial.step}`);
    return this.afterLaunch(run, opts);
  }

  stop(runId?: string): number {
    return this.manager.stop(runId);
  }

  private async afterLaunch(run: LiveRun, opts: LaunchOptions): Promise<RunResult> {
    this.showProgress(run);
    void vscode.commands.executeCommand('setContext', 'rnnMemory.training', true);
    if (opts.reveal !== false) this.showTraining(run.id);
    if (opts.wait) {
      const r = await run.finished;
      const final = this.store.state.finished.get(run.id);
      return { runId: run.id, dir: run.dir, status: final?.status ?? 'failed', step: final?.step ?? 0, error: r.error?.message };
    }
    return { runId: run.id, dir: run.dir, status: 'running', step: run.initial.step };
  }

  private showProgress(run: LiveRun): void {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Training ${run.initial.label}`, cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => this.manager.stop(run.id));
        let reported = 0;
        const sub = this.store.subscribe((state, a) => {
          const s = a.type === 'trainEvent' && a.runId === run.id && a.event.type === 'progress' ? state.live.get(run.id) : undefined;
          if (!s) return;
          const pct = (100 * s.step) / Math.max(1, s.totalSteps);
          const nums = runNumbersText(s);
          progress.report({ increment: Math.max(0, pct - reported), message: `step ${s.step}/${s.totalSteps}${nums ? ` · ${nums}` : ''}` });
          reported = Math.max(reported, pct);
        });
        try {
          await run.finished;
        } finally {
          sub.dispose();
        }
      },
    );
  }

  private onEnd(run: LiveRun, r: { done?: DoneEvent; error?: Error }): void {
    const modelPath = r.done?.modelPath;
    this.store.dispatch({
      type: 'runEnded',
      runId: run.id,
      error: r.error?.message,
      modelPath,
      model: modelPath ? this.selection.modelInfo(modelPath) : undefined,
    });
    void vscode.commands.executeCommand('setContext', 'rnnMemory.training', this.manager.all().length > 0);
    const final = this.store.state.finished.get(run.id);
    if (!final) return;
    const info = r.error ? readRun(run.dir, run.id, this.manager.liveIds()) : null;
    const where = relative(this.settings.workspaceRoot() ?? '', run.dir) || run.dir;
    const n = runEndNotification(final, where, info?.resumable ? (info.status?.step ?? '?') : undefined);
    if (n.kind === 'error') {
      this.log.error(n.text);
      void showError(n.text, ...n.actions).then((choice) => {
        if (choice === 'Resume') void vscode.commands.executeCommand('rnnMemory.resumeRun', run.id);
        else if (choice === 'Show Log') this.log.show();
      });
      return;
    }
    this.log.info(n.text);
    void vscode.window.showInformationMessage(n.text, ...n.actions).then((choice) => {
      if (choice === 'Open Diagnostics' && modelPath) void this.openModelEditor(modelPath);
      else if (choice === 'Resume') void vscode.commands.executeCommand('rnnMemory.resumeRun', run.id);
    });
  }

  dispose(): void {
    for (const off of this.offs) off();
  }
}
