/**
 * The chance level of a task's actual test set: the metric of the best predictor that ignores the input.
 * For MSE tasks that is the constant prediction of the test targets' mean, whose MSE is their variance
 * (about 1 for N(0, 1) targets, but e.g. 0.9 or 1.1 on a given test set); for classification it is the
 * accuracy of always answering the most frequent test class. Reports print it beside their "1 = chance".
 */
import { makeTask, type MakeTaskOpts } from './index';
import type { Batch } from './types';

export interface ChanceLevel {
  metric: number;
  metricName: 'mse' | 'accuracy';
  /** Test sequences behind it. */
  n: number;
}

export function chanceOfBatches(batches: readonly Batch[]): ChanceLevel {
  const n = batches.reduce((s, b) => s + b.B, 0);
  if (batches.some((b) => b.labels)) {
    const counts = new Map<number, number>();
    for (const b of batches) for (const l of b.labels ?? []) counts.set(l, (counts.get(l) ?? 0) + 1);
    return { metric: n ? Math.max(...counts.values()) / n : NaN, metricName: 'accuracy', n };
  }
  const outs = batches.length && batches[0].y ? batches[0].y.length / batches[0].B : 0;
  let sum = 0;
  for (let o = 0; o < outs; o++) {
    let m = 0;
    for (const b of batches) for (let i = 0; i < b.B; i++) m += b.y![i * outs + o];
    m /= n;
    let v = 0;
    for (const b of batches) for (let i = 0; i < b.B; i++) v += (b.y![i * outs + o] - m) ** 2;
    sum += v / n;
  }
  return { metric: outs ? sum / outs : NaN, metricName: 'mse', n };
}

/** The chance level of the test set a run with these task settings is evaluated on. */
export function testChance(opts: MakeTaskOpts): ChanceLevel {
  return chanceOfBatches(makeTask(opts).testBatches(500));
}
