/** Folds training events into the TrainingSnapshot the panels show (pure; no vscode, no fs). */
import type { TrainConfig, TrainEvent } from '../core/train/types';
import type { TrainingPoint, TrainingSnapshot } from '../webview/protocol';

/** Above this many points the oldest half is thinned, so a 30 000-step run stays cheap to post. */
export const MAX_POINTS = 2000;

export function newSnapshot(runId: string, label: string, config: TrainConfig, step = 0, points: TrainingPoint[] = []): TrainingSnapshot {
  return {
    runId,
    label,
    config,
    status: 'running',
    step,
    totalSteps: config.steps,
    stepsPerSec: 0,
    etaMs: null,
    metricName: config.task === 'smnist' ? 'accuracy' : 'mse',
    points,
  };
}

function thin(points: TrainingPoint[]): void {
  if (points.length <= MAX_POINTS) return;
  // Keep the newer half intact and every other point of the older half.
  const half = Math.floor(points.length / 2);
  const older = points.slice(0, half).filter((_, i) => i % 2 === 0);
  points.splice(0, half, ...older);
}

/** Finds the point for `step` (points are kept in step order) or appends it. */
function pointAt(points: TrainingPoint[], step: number): TrainingPoint {
  for (let i = points.length - 1; i >= 0 && points[i].step >= step; i--) if (points[i].step === step) return points[i];
  const p: TrainingPoint = { step };
  let i = points.length;
  while (i > 0 && points[i - 1].step > step) i--;
  points.splice(i, 0, p);
  return p;
}

/** Mutates and returns `s` with the event applied. */
export function applyTrainEvent(s: TrainingSnapshot, e: TrainEvent): TrainingSnapshot {
  switch (e.type) {
    case 'progress': {
      s.step = e.step;
      s.totalSteps = e.totalSteps;
      s.stepsPerSec = e.stepsPerSec;
      s.etaMs = e.stepsPerSec > 0 ? Math.round(((e.totalSteps - e.step) / e.stepsPerSec) * 1000) : null;
      if (Number.isFinite(e.loss)) pointAt(s.points, e.step).loss = e.loss;
      break;
    }
    case 'eval': {
      const p = pointAt(s.points, e.step);
      p.testLoss = e.testLoss;
      p.metric = e.metric;
      s.metricName = e.metricName;
      s.step = Math.max(s.step, e.step);
      break;
    }
    case 'checkpoint':
      break;
    case 'done':
      s.step = e.step;
      s.status = e.reason;
      s.etaMs = e.reason === 'completed' ? 0 : null;
      break;
    case 'error':
      s.status = 'failed';
      s.error = e.message;
      s.etaMs = null;
      break;
  }
  thin(s.points);
  return s;
}

/** The latest training loss (or test loss) for status texts. */
export function latestLoss(s: TrainingSnapshot): number | undefined {
  for (let i = s.points.length - 1; i >= 0; i--) {
    const p = s.points[i];
    if (p.loss !== undefined) return p.loss;
    if (p.testLoss !== undefined) return p.testLoss;
  }
  return undefined;
}

export function formatLoss(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  return v >= 0.01 ? v.toFixed(4) : v.toExponential(2);
}

export function runLabel(c: Pick<TrainConfig, 'task' | 'cell' | 'T' | 'layers' | 'units'>): string {
  const t = c.task === 'smnist' ? '' : ` T=${c.T}`;
  return `${c.task} · ${CELL_LABEL[c.cell] ?? c.cell}${t} · ${c.layers}×${c.units}`;
}

export const CELL_LABEL: Record<string, string> = { brc: 'BRC', nbrc: 'nBRC', gru: 'GRU', lstm: 'LSTM' };
