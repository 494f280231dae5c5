/**
 * Which series of the training chart are worth a legend entry. For copy the test metric (MSE) is the
 * test loss itself, drawn under it and never visible, so it is left out rather than listed twice. Pure.
 */
import type { TrainingPoint } from '../protocol';

/** True when every evaluation's regression metric equals its test loss (nothing new to draw). */
export function metricRepeatsTestLoss(points: readonly TrainingPoint[], metricName: string): boolean {
  if (metricName === 'accuracy') return false;
  let both = 0;
  for (const p of points) {
    if (p.metric === undefined) continue;
    if (p.testLoss === undefined) return false;
    const scale = Math.max(Math.abs(p.metric), Math.abs(p.testLoss), 1e-300);
    if (Math.abs(p.metric - p.testLoss) > 1e-9 * scale) return false;
    both++;
  }
  return both > 0;
}
