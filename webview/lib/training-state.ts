/**
 * Applies incremental training events to a TrainingSnapshot in place (cheap, no copies). Pure; the host's
 * snapshots (extension/training-state) and the panels' copies fold events with this same function.
 */
import type { TrainEvent } from '../../core/train/types';
import type { TrainingPoint, TrainingSnapshot } from '../protocol';

/** Above this many points the oldest half is thinned 2:1 (evaluation points are always kept). */
export const MAX_POINTS = 4000;

/** Returns true when something visible changed. */
export function applyTrainEvent(s: TrainingSnapshot, e: TrainEvent, maxPoints = MAX_POINTS): boolean {
  switch (e.type) {
    case 'progress': {
      s.step = e.step;
      s.totalSteps = e.totalSteps;
      s.stepsPerSec = e.stepsPerSec;
      s.etaMs = e.stepsPerSec > 0 ? Math.round(((e.totalSteps - e.step) / e.stepsPerSec) * 1000) : null;
      if (s.status !== 'running' && s.status !== 'failed') s.status = 'running';
      // All updates of the interval skipped (non-finite loss): no point, rather than a NaN in the curve.
      if (Number.isFinite(e.loss)) pointAt(s, e.step).loss = e.loss;
      break;
    }
    case 'eval': {
      const p = pointAt(s, e.step);
      p.testLoss = e.testLoss;
      p.metric = e.metric;
      s.metricName = e.metricName;
      s.step = Math.max(s.step, e.step);
      break;
    }
    case 'done':
      s.step = e.step;
      s.status = e.reason === 'completed' ? 'completed' : 'cancelled';
      s.etaMs = null;
      break;
    case 'error':
      s.status = 'failed';
      s.error = e.message;
      s.etaMs = null;
      break;
    case 'checkpoint':
      return false;
  }
  if (s.points.length > maxPoints) thinPoints(s.points, maxPoints);
  return true;
}

/** The point for `step`, appended (or found at the end, where events arrive) when missing. */
function pointAt(s: TrainingSnapshot, step: number): TrainingPoint {
  const pts = s.points;
  for (let i = pts.length - 1; i >= 0 && i >= pts.length - 8; i--) {
    if (pts[i].step === step) return pts[i];
    if (pts[i].step < step) break;
  }
  const p: TrainingPoint = { step };
  // Events arrive in order; a late eval for an older step is inserted where it belongs.
  let i = pts.length;
  while (i > 0 && pts[i - 1].step > step) i--;
  pts.splice(i, 0, p);
  return p;
}

/** Drops every second loss-only point of the oldest half, in place, until at most `max` remain or nothing can go. */
export function thinPoints(points: TrainingPoint[], max: number): void {
  while (points.length > max) {
    const half = Math.floor(points.length / 2);
    let w = 0;
    let dropped = 0;
    for (let r = 0; r < points.length; r++) {
      const p = points[r];
      const evalPoint = p.testLoss !== undefined || p.metric !== undefined || p.fractionBistable !== undefined;
      if (r < half && r % 2 === 1 && !evalPoint) {
        dropped++;
        continue;
      }
      points[w++] = p;
    }
    points.length = w;
    if (dropped === 0) return;
  }
}
