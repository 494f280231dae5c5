/**
 * The training-snapshot reducer: folds one worker event into a run's snapshot and returns a NEW snapshot
 * (the old one and its points array are never changed), so the host's store, the panels and the Inspector
 * can hold snapshots without copying or aliasing. Pure.
 */
import type { TrainConfig, TrainEvent } from '../core/train/types';
import type { TrainingPoint, TrainingSnapshot } from './protocol';

/** Above this many points the oldest half is thinned 2:1 (evaluations kept): a 30 000-step run stays cheap to post. */
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

/** `s` with `e` applied; `s` itself when the event changes nothing visible (checkpoints). */
export function reduceTrainEvent(s: TrainingSnapshot, e: TrainEvent, maxPoints = MAX_POINTS): TrainingSnapshot {
  switch (e.type) {
    case 'progress': {
      // All updates of the interval skipped (non-finite loss): no point, rather than a NaN in the curve.
      const points = Number.isFinite(e.loss) ? thinPoints(withPoint(s.points, e.step, { loss: e.loss }), maxPoints) : s.points;
      return {
        ...s,
        step: e.step,
        totalSteps: e.totalSteps,
        stepsPerSec: e.stepsPerSec,
        ...(e.engine ? { engine: e.engine } : {}),
        etaMs: e.stepsPerSec > 0 ? Math.round(((e.totalSteps - e.step) / e.stepsPerSec) * 1000) : null,
        status: s.status === 'failed' ? 'failed' : 'running',
        points,
      };
    }
    case 'eval':
      return {
        ...s,
        metricName: e.metricName,
        step: Math.max(s.step, e.step),
        points: thinPoints(withPoint(s.points, e.step, { testLoss: e.testLoss, metric: e.metric }), maxPoints),
      };
    case 'done':
      return { ...s, step: e.step, status: e.reason === 'completed' ? 'completed' : 'stopped', etaMs: null };
    case 'error':
      return { ...s, status: 'failed', error: e.message, etaMs: null };
    case 'checkpoint':
      return s;
  }
}

/** A copy of `points` with `patch` merged into the point of `step` (inserted in step order when missing). */
function withPoint(points: readonly TrainingPoint[], step: number, patch: Omit<TrainingPoint, 'step'>): TrainingPoint[] {
  // Events arrive in order: the point is at the end or missing; a late eval for an older step goes where it belongs.
  let i = points.length;
  while (i > 0 && points[i - 1].step > step) i--;
  const out = points.slice();
  if (i > 0 && points[i - 1].step === step) out[i - 1] = { ...points[i - 1], ...patch };
  else out.splice(i, 0, { step, ...patch });
  return out;
}

function isEvalPoint(p: TrainingPoint): boolean {
  return p.testLoss !== undefined || p.metric !== undefined;
}

/** Drops every second loss-only point of the oldest half until at most `max` remain or nothing can go. */
export function thinPoints(points: TrainingPoint[], max: number): TrainingPoint[] {
  let pts = points;
  while (pts.length > max) {
    const half = Math.floor(pts.length / 2);
    const kept = pts.filter((p, r) => !(r < half && r % 2 === 1 && !isEvalPoint(p)));
    if (kept.length === pts.length) break;
    pts = kept;
  }
  return pts;
}
