/**
 * What the test metric is called, in the training chart's legend and in every line that sums a run up (panel,
 * Inspector, notification, tree). For copy the test metric (MSE) is the test loss itself: the chart draws it
 * once, as "test loss", and the lines name it the same way instead of a "test MSE" the chart does not show. Pure.
 */
import type { TrainingPoint, TrainingSnapshot } from './protocol';

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

/** "test accuracy", "test MSE", or "test loss" where the MSE is the test loss (the legend's one entry for it). */
export function testMetricLabel(s: Pick<TrainingSnapshot, 'points' | 'metricName'>): string {
  if (s.metricName === 'accuracy') return 'test accuracy';
  return metricRepeatsTestLoss(s.points, s.metricName) ? 'test loss' : 'test MSE';
}
