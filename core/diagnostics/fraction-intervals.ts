/**
 * Intervals for the bistability section's batch means (fraction bistable, fraction truly bistable, mean
 * update gate). Neurons of one sequence are not independent (they share its input and each other's state),
 * so a binomial/Wilson interval over batch × neurons would be far too narrow. The sequences are: each
 * sequence contributes one value (its mean over neurons, or over neurons and steps), and the interval is the
 * normal one of the mean over sequences (stats meanEstimate, n = sequences), a cluster-robust standard error.
 */
import { meanEstimate, type Estimate } from './stats';
import type { BistabilityLayer, StepIntervals } from './types';

/** Per-sequence series of one quantity: v[t·n + b] is sequence b's mean over neurons at step t. */
export interface PerSequenceSeries {
  T: number;
  /** Sequences. */
  n: number;
  v: Float64Array;
}

/** What a per-sequence mean counts: the values, the fraction above 1 (a > 1) or the fraction equal to 3. */
export type SequenceMeanOf = 'value' | 'above-one' | 'equals-three';

/** Series of [T, n, H] values: each sequence's mean over neurons per step of the values or of a 0/1 count (`of`). */
export function perSequenceMeans(a: ArrayLike<number>, T: number, n: number, H: number, of: SequenceMeanOf = 'value'): PerSequenceSeries {
  // One loop per statistic: a callback per value (51 M of them for a 4 × 100 layer stack at T = 1000, B = 64)
  // cost a third of a second.
  const v = new Float64Array(T * n);
  for (let r = 0; r < T * n; r++) {
    let s = 0;
    const end = (r + 1) * H;
    if (of === 'above-one') for (let j = r * H; j < end; j++) s += a[j] > 1 ? 1 : 0;
    else if (of === 'equals-three') for (let j = r * H; j < end; j++) s += a[j] === 3 ? 1 : 0;
    else for (let j = r * H; j < end; j++) s += a[j];
    v[r] = s / H;
  }
  return { T, n, v };
}

/** 95 % interval per step over sequences (null ends where fewer than 2 sequences give no interval). */
export function stepIntervals(s: PerSequenceSeries): StepIntervals {
  const lo: (number | null)[] = new Array(s.T);
  const hi: (number | null)[] = new Array(s.T);
  const col = new Float64Array(s.n);
  for (let t = 0; t < s.T; t++) {
    col.set(s.v.subarray(t * s.n, (t + 1) * s.n));
    const e = meanEstimate(col);
    lo[t] = Number.isFinite(e.lo) ? e.lo : null;
    hi[t] = Number.isFinite(e.hi) ? e.hi : null;
  }
  return { lo, hi, n: s.n, method: 'normal' };
}

/** Mean over steps from…to of each sequence, then the mean over sequences with its interval. */
export function windowEstimate(s: PerSequenceSeries, from: number, to: number): Estimate | null {
  const a = Math.max(0, from);
  const b = Math.min(s.T - 1, to);
  if (b < a || s.n === 0) return null;
  const per = new Float64Array(s.n);
  for (let t = a; t <= b; t++) for (let i = 0; i < s.n; i++) per[i] += s.v[t * s.n + i] / (b - a + 1);
  return meanEstimate(per);
}

/** The per-sequence series behind a layer's batch means (kept out of the JSON: not enumerable). */
const SERIES = new WeakMap<BistabilityLayer, Partial<Record<'fractionBistable' | 'fractionTrulyBistable' | 'meanC', PerSequenceSeries>>>();

export function attachSeries(
  L: BistabilityLayer,
  series: Partial<Record<'fractionBistable' | 'fractionTrulyBistable' | 'meanC', PerSequenceSeries>>,
): void {
  SERIES.set(L, series);
  const interval = (k: 'fractionBistable' | 'fractionTrulyBistable' | 'meanC') => (series[k] ? stepIntervals(series[k]!) : null);
  const overall = (k: 'fractionBistable' | 'fractionTrulyBistable' | 'meanC') =>
    series[k] ? windowEstimate(series[k]!, 0, L.T - 1) : null;
  L.intervals = {
    fractionBistable: interval('fractionBistable'),
    fractionTrulyBistable: interval('fractionTrulyBistable'),
    meanC: interval('meanC'),
  };
  L.overall = {
    fractionBistable: overall('fractionBistable'),
    fractionTrulyBistable: overall('fractionTrulyBistable'),
    meanC: overall('meanC'),
  };
}

/** A layer's per-sequence series of one quantity, if this process computed it. */
export function seriesOf(L: BistabilityLayer, k: 'fractionBistable' | 'fractionTrulyBistable' | 'meanC'): PerSequenceSeries | undefined {
  return SERIES.get(L)?.[k];
}
