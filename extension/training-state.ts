/** Folds training events into the TrainingSnapshot the panels show (pure; no vscode, no fs). */
import type { TrainConfig, TrainEvent } from '../core/train/types';
import type { TrainingPoint, TrainingSnapshot } from '../webview/protocol';
import { applyTrainEvent as applyToSnapshot } from '../webview/lib/training-state';

/** Above this many points the oldest half is thinned (evaluations kept), so a 30 000-step run stays cheap to post. */
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

/** Mutates and returns `s` with the event applied (the panels fold events with the same function). */
export function applyTrainEvent(s: TrainingSnapshot, e: TrainEvent): TrainingSnapshot {
  applyToSnapshot(s, e, MAX_POINTS);
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
