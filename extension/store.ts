/**
 * The host's one store: everything the tree, the status bar, the panels and the Inspector show is derived
 * from this state, which only `updateHostState` (pure: the old state is never changed) replaces, on commands
 * and worker events. Views subscribe and build their messages with the pure functions of store-views.ts.
 * No vscode import: the updates and views are unit-tested in plain Node.
 */
import type { DiagnosisSentence } from '../core/diagnostics/types';
import type { TrainEvent } from '../core/train/types';
import type { DiagnosedStep, ModelInfo, TrainingSnapshot } from '../shared/protocol';
import { reduceTrainEvent } from '../shared/training-snapshot';
import type { MetricsLine } from '../core/train/metrics-file';
import type { MonitoredRun, WatchedFolder } from './monitored-runs';
import { appendMetrics, relistedSnapshot } from './monitored-state';
import { withDiagnoses } from './over-training';
import type { RunInfo } from './runs';
import type { ModelEntry } from './tree-items';

/** Final snapshots kept for runs that ended in this window (panels, Inspector and notification read them). */
const FINISHED_KEPT = 20;

export interface HostState {
  /** Model files found in the workspace (every format) and models opened from elsewhere. */
  readonly models: readonly ModelEntry[];
  /** Run folders on disk, newest first. */
  readonly runs: readonly RunInfo[];
  /** The runs folder as the tree names it (relative to the workspace). */
  readonly runsFolder: string;
  /** Runs the user's own scripts write (Python Monitor) in the runs folder, newest first. */
  readonly monitored: readonly MonitoredRun[];
  /** Folders added with "Watch Runs Folder…", each with its runs (any kind) or its one-line problem. */
  readonly watched: readonly WatchedFolder[];
  /** Monitored runs a training panel follows: their snapshot, grown from metrics.jsonl as the script writes. */
  readonly followed: ReadonlyMap<string, TrainingSnapshot>;
  /** Runs training (or about to start) in this window, in start order. */
  readonly live: ReadonlyMap<string, TrainingSnapshot>;
  /** The final snapshot of each run that ended in this window: the one source of its final numbers. */
  readonly finished: ReadonlyMap<string, TrainingSnapshot>;
  /** The model the Inspector describes, and its diagnosis once it has come back. */
  readonly selection: { readonly path?: string; readonly model: ModelInfo | null; readonly diagnosis: readonly DiagnosisSentence[] };
  /**
   * The run the Inspector follows; `disk` is its saved snapshot when it is not from this window. `showModel`:
   * the run's model replaces the selection when it ends (a run just started, and no model chosen since).
   */
  readonly inspectedRun?: { readonly runId: string; readonly disk: TrainingSnapshot | null; readonly showModel?: boolean };
}

export type HostAction =
  /** A workspace scan: its models include the opened ones that still exist. */
  | { type: 'scanned'; models: readonly ModelEntry[]; runs: readonly RunInfo[]; runsFolder: string }
  | { type: 'runsListed'; runs: readonly RunInfo[] }
  | { type: 'monitoredListed'; monitored: readonly MonitoredRun[]; watched: readonly WatchedFolder[] }
  /** A training panel opened on a monitored run: its snapshot from the metrics read so far. */
  | { type: 'monitorFollowed'; snapshot: TrainingSnapshot }
  /** Lines the script appended to a followed run's metrics.jsonl. */
  | { type: 'monitorMetrics'; runId: string; lines: readonly MetricsLine[] }
  /** The diagnose_every diagnoses of a followed run (fraction bistable at each diagnosed step). */
  | { type: 'monitorDiagnoses'; runId: string; steps: readonly DiagnosedStep[] }
  /** A model opened by path (custom editor, Open Model): listed in the tree even outside the workspace. */
  | { type: 'modelOpened'; entry: ModelEntry }
  | { type: 'runStarted'; snapshot: TrainingSnapshot }
  | { type: 'trainEvent'; runId: string; event: TrainEvent }
  /** The worker finished; `model` is the summary of the model it saved (the Inspector shows it at once). */
  | { type: 'runEnded'; runId: string; error?: string; modelPath?: string; model?: ModelInfo | null }
  | { type: 'modelSelected'; path?: string; model: ModelInfo | null }
  | { type: 'modelDiagnosed'; path: string; model: ModelInfo; diagnosis: readonly DiagnosisSentence[] }
  | { type: 'runSelected'; runId: string; disk: TrainingSnapshot | null };

export const INITIAL_STATE: HostState = {
  models: [],
  runs: [],
  runsFolder: 'runs',
  monitored: [],
  watched: [],
  followed: new Map(),
  live: new Map(),
  finished: new Map(),
  selection: { model: null, diagnosis: [] },
};

function withEntry<V>(m: ReadonlyMap<string, V>, key: string, value: V): Map<string, V> {
  const out = new Map(m);
  out.set(key, value);
  return out;
}

function without<V>(m: ReadonlyMap<string, V>, key: string): Map<string, V> {
  const out = new Map(m);
  out.delete(key);
  return out;
}

/** The next state; `s` itself when the action changes nothing. */
export function updateHostState(s: HostState, a: HostAction): HostState {
  switch (a.type) {
    case 'scanned':
      return { ...s, models: a.models, runs: a.runs, runsFolder: a.runsFolder };
    case 'runsListed':
      return { ...s, runs: a.runs };
    case 'monitoredListed':
      return { ...s, monitored: a.monitored, watched: a.watched, followed: relistFollowed(s.followed, a.monitored, a.watched) };
    case 'monitorFollowed':
      return { ...s, followed: withEntry(s.followed, a.snapshot.runId, a.snapshot) };
    case 'monitorMetrics': {
      const cur = s.followed.get(a.runId);
      const next = cur && appendMetrics(cur, a.lines);
      return !next || next === cur ? s : { ...s, followed: withEntry(s.followed, a.runId, next) };
    }
    case 'monitorDiagnoses': {
      const cur = s.followed.get(a.runId);
      const next = cur && withDiagnoses(cur, a.steps);
      return !next || next === cur ? s : { ...s, followed: withEntry(s.followed, a.runId, next) };
    }
    case 'modelOpened':
      return s.models.some((m) => m.path === a.entry.path) ? s : { ...s, models: [...s.models, { ...a.entry, opened: true }] };
    case 'runStarted': {
      // A resumed run starts afresh: its previous final snapshot no longer describes it.
      return {
        ...s,
        live: withEntry(s.live, a.snapshot.runId, a.snapshot),
        finished: without(s.finished, a.snapshot.runId),
        inspectedRun: { runId: a.snapshot.runId, disk: null, showModel: true },
      };
    }
    case 'trainEvent': {
      const cur = s.live.get(a.runId);
      if (!cur) return s;
      const next = reduceTrainEvent(cur, a.event);
      return next === cur ? s : { ...s, live: withEntry(s.live, a.runId, next) };
    }
    case 'runEnded':
      return endRun(s, a);
    case 'modelSelected':
      if (a.path === s.selection.path && a.model === s.selection.model) return s;
      return {
        ...s,
        selection: { path: a.path, model: a.model, diagnosis: a.path === s.selection.path ? s.selection.diagnosis : [] },
        // A model chosen during a run stays selected when the run ends.
        inspectedRun: s.inspectedRun?.showModel && a.path !== s.selection.path ? { ...s.inspectedRun, showModel: false } : s.inspectedRun,
      };
    case 'modelDiagnosed':
      // A late answer for a model no longer selected is dropped.
      if (a.path !== s.selection.path) return s;
      return { ...s, selection: { path: a.path, model: s.selection.model ?? a.model, diagnosis: a.diagnosis } };
    case 'runSelected':
      return { ...s, inspectedRun: { runId: a.runId, disk: a.disk } };
  }
}

/** Followed snapshots take the status of their run as listed now (a killed script's run turns stopped). */
function relistFollowed(
  followed: ReadonlyMap<string, TrainingSnapshot>,
  monitored: readonly MonitoredRun[],
  watched: readonly WatchedFolder[],
): ReadonlyMap<string, TrainingSnapshot> {
  if (followed.size === 0) return followed;
  const byId = new Map([...monitored, ...watched.flatMap((w) => w.runs)].map((r) => [r.id, r]));
  let out: Map<string, TrainingSnapshot> | undefined;
  for (const [id, snap] of followed) {
    const run = byId.get(id);
    const next = run && run.state !== 'bad' ? relistedSnapshot(snap, run) : snap;
    if (next !== snap) (out ??= new Map(followed)).set(id, next);
  }
  return out ?? followed;
}

/** The listed run with this id (the runs folder first, then the watched folders). */
export function monitoredRun(s: HostState, id: string): MonitoredRun | undefined {
  return s.monitored.find((r) => r.id === id) ?? s.watched.flatMap((w) => w.runs).find((r) => r.id === id);
}

function endRun(s: HostState, a: Extract<HostAction, { type: 'runEnded' }>): HostState {
  const cur = s.live.get(a.runId);
  if (!cur) return s;
  // The worker ended with an error (its own error event, or a crash without one): the run failed with it.
  const final: TrainingSnapshot = a.error ? { ...cur, status: 'failed', error: a.error, etaMs: null } : cur;
  let finished = withEntry(without(s.finished, a.runId), a.runId, final);
  if (finished.size > FINISHED_KEPT) finished = without(finished, finished.keys().next().value as string);
  const next: HostState = { ...s, live: without(s.live, a.runId), finished };
  // After training the Inspector shows the run's model without a click (when it follows that run).
  const followed = s.inspectedRun?.runId === a.runId && s.inspectedRun.showModel;
  if (followed && a.modelPath && a.modelPath !== s.selection.path)
    return { ...next, selection: { path: a.modelPath, model: a.model ?? null, diagnosis: [] } };
  return next;
}

/** The snapshot of a run as this window knows it: live, else its final one, else `disk`. */
export function runSnapshot(s: HostState, runId: string, disk: TrainingSnapshot | null = null): TrainingSnapshot | null {
  return s.live.get(runId) ?? s.finished.get(runId) ?? s.followed.get(runId) ?? disk;
}

export type StoreListener = (state: HostState, action: HostAction, previous: HostState) => void;

export class HostStore {
  private current: HostState;
  private readonly listeners = new Set<StoreListener>();
  private readonly queue: HostAction[] = [];
  private dispatching = false;

  constructor(initial: HostState = INITIAL_STATE) {
    this.current = initial;
  }

  get state(): HostState {
    return this.current;
  }

  /**
   * Applies `a` and notifies the subscribers. An action dispatched by a subscriber waits until every
   * subscriber has seen the current one, so all of them see the actions in one order, each with its state.
   */
  dispatch(a: HostAction): void {
    this.queue.push(a);
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) this.apply(next);
    } finally {
      this.dispatching = false;
      this.queue.length = 0;
    }
  }

  private apply(a: HostAction): void {
    const prev = this.current;
    const next = updateHostState(prev, a);
    if (next === prev) return;
    this.current = next;
    for (const l of [...this.listeners]) l(next, a, prev);
  }

  subscribe(l: StoreListener): { dispose(): void } {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  }
}
