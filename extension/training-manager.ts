/**
 * Live training runs of this window: each in its own worker thread (core/train/runner.ts), its events fanned
 * out to listeners (the host store folds them into snapshots). No vscode import: testable in node.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTraining, type TrainingHandle } from '../core/train/runner';
import type { DoneEvent, TrainConfig, TrainEvent } from '../core/train/types';
import { runLabel } from '../shared/labels';
import type { TrainingSnapshot } from '../shared/protocol';
import { newSnapshot } from '../shared/training-snapshot';
import { newRunId, readRun, snapshotFromDisk } from './runs';

export interface LiveRun {
  id: string;
  dir: string;
  config: TrainConfig;
  /** The snapshot the run starts from (fresh, or the saved curve of a resumed run); events follow it. */
  initial: TrainingSnapshot;
  handle: TrainingHandle;
  /** Settles when the worker finishes: the done event, or the error that ended it. */
  finished: Promise<{ done?: DoneEvent; error?: Error }>;
}

export interface TrainingManagerOptions {
  /** dist/train-worker.js of the installed extension. */
  workerScript?: string;
  /** dist/data/mnist.bin for smnist. */
  dataPath?: string;
  /** How often the worker reports progress (read at each start, so a changed setting applies to new runs). */
  progressIntervalMs?: number | (() => number);
}

type EventListener = (run: LiveRun, event: TrainEvent) => void;
type EndListener = (run: LiveRun, result: { done?: DoneEvent; error?: Error }) => void;

export class TrainingManager {
  private readonly runs = new Map<string, LiveRun>();
  private readonly eventListeners = new Set<EventListener>();
  private readonly endListeners = new Set<EndListener>();

  constructor(private readonly opts: TrainingManagerOptions = {}) {}

  onEvent(l: EventListener): () => void {
    this.eventListeners.add(l);
    return () => this.eventListeners.delete(l);
  }

  onEnd(l: EndListener): () => void {
    this.endListeners.add(l);
    return () => this.endListeners.delete(l);
  }

  get(id: string): LiveRun | undefined {
    return this.runs.get(id);
  }

  all(): LiveRun[] {
    return [...this.runs.values()];
  }

  liveIds(): Set<string> {
    return new Set(this.runs.keys());
  }

  /** Creates the folder of a new run (so a panel can show it before the worker starts). */
  reserve(runsDir: string, config: TrainConfig): { id: string; dir: string; snapshot: TrainingSnapshot } {
    mkdirSync(runsDir, { recursive: true });
    const id = newRunId(runsDir, config);
    const dir = join(runsDir, id);
    mkdirSync(dir);
    return { id, dir, snapshot: newSnapshot(id, runLabel(config), config) };
  }

  /** Starts a new run in a fresh folder under `runsDir` (or in the one `reserve` made). */
  start(runsDir: string, config: TrainConfig, reserved = this.reserve(runsDir, config)): LiveRun {
    return this.launch(reserved.id, reserved.dir, config, reserved.snapshot, { config });
  }

  /** Resumes an interrupted run from its checkpoint (optionally to a new total of `steps`). */
  resume(runsDir: string, id: string, steps?: number): LiveRun {
    if (this.runs.has(id)) throw new Error(`run ${id} is already training`);
    const info = readRun(join(runsDir, id), id);
    if (!info) throw new Error(`no run named ${id} in ${runsDir}`);
    if (!info.hasCheckpoint) throw new Error(`run ${id} has no checkpoint to resume from`);
    if (!info.config) throw new Error(`run ${id} has no readable config.json`);
    const config = steps ? { ...info.config, steps } : info.config;
    const saved = snapshotFromDisk({ ...info, state: 'running' }) ?? newSnapshot(id, info.label, config);
    const { error: _error, ...rest } = saved;
    const snap: TrainingSnapshot = { ...rest, status: 'running', totalSteps: config.steps, config };
    return this.launch(id, info.dir, config, snap, { resume: true, steps });
  }

  /** Asks one run (or every run) to stop at the next step; it saves a checkpoint and ends as cancelled. */
  stop(id?: string): number {
    const targets = id ? [this.runs.get(id)].filter((r): r is LiveRun => !!r) : this.all();
    for (const r of targets) r.handle.cancel();
    return targets.length;
  }

  /** Cancels everything and waits up to `timeoutMs` for checkpoints, then kills what is left. */
  async dispose(timeoutMs = 3000): Promise<void> {
    const runs = this.all();
    for (const r of runs) r.handle.cancel();
    const timeout = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), timeoutMs).unref());
    await Promise.race([Promise.all(runs.map((r) => r.finished)), timeout]);
    await Promise.all(this.all().map((r) => r.handle.kill().catch(() => undefined)));
    this.eventListeners.clear();
    this.endListeners.clear();
  }

  private launch(
    id: string,
    dir: string,
    config: TrainConfig,
    initial: TrainingSnapshot,
    how: { config?: TrainConfig; resume?: boolean; steps?: number },
  ): LiveRun {
    const run = {} as LiveRun;
    const handle = startTraining({
      outDir: dir,
      config: how.config,
      resume: how.resume,
      steps: how.steps,
      progressIntervalMs:
        typeof this.opts.progressIntervalMs === 'function' ? this.opts.progressIntervalMs() : (this.opts.progressIntervalMs ?? 250),
      dataPath: config.task === 'smnist' ? this.opts.dataPath : undefined,
      workerScript: this.opts.workerScript,
      onEvent: (e) => {
        for (const l of this.eventListeners) l(run, e);
      },
    });
    Object.assign(run, {
      id,
      dir,
      config,
      initial,
      handle,
      finished: handle.done.then(
        (done) => ({ done }),
        (error: Error) => ({ error }),
      ),
    });
    this.runs.set(id, run);
    void run.finished.then((result) => {
      this.runs.delete(id);
      for (const l of this.endListeners) l(run, result);
    });
    return run;
  }
}
