/**
 * Estimates with their uncertainty. Every number the report estimates from a sample (a batch of sequences,
 * a set of probes) is an `Estimate`: the value, a 95 % interval, the sample size behind it and how the
 * interval was obtained. Verdict sentences are drawn only when the interval supports them (`surelyAbove`,
 * `surelyBelow`); otherwise they say the evidence is inconclusive.
 */
import { Rng } from '../util/rng';

export interface Estimate {
  value: number;
  /** Lower end of the 95 % interval (for a lower bound: the bound itself, hi = Infinity). */
  lo: number;
  /** Upper end of the 95 % interval. */
  hi: number;
  /** Independent samples behind the value (sequences, probes, …). */
  n: number;
  /**
   * 'normal': mean ± 1.96 standard errors; 'bootstrap': percentile bootstrap over the samples;
   * 'wilson': Wilson score interval of a proportion; 'lower-bound': the value is a lower bound (lo = value);
   * 'exact': computed, not estimated (lo = hi = value).
   */
  method: 'normal' | 'bootstrap' | 'wilson' | 'lower-bound' | 'exact';
}

const Z95 = 1.959963984540054;

export function exactEstimate(value: number): Estimate {
  return { value, lo: value, hi: value, n: 1, method: 'exact' };
}

/** Mean of the samples with a normal-approximation 95 % interval (n < 2: an unbounded interval). */
export function meanEstimate(samples: ArrayLike<number>): Estimate {
  const n = samples.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += samples[i];
  const m = n ? s / n : NaN;
  if (n < 2) return { value: m, lo: -Infinity, hi: Infinity, n, method: 'normal' };
  let v = 0;
  for (let i = 0; i < n; i++) v += (samples[i] - m) ** 2;
  const se = Math.sqrt(v / (n - 1) / n);
  return { value: m, lo: m - Z95 * se, hi: m + Z95 * se, n, method: 'normal' };
}

/** Wilson score interval of k successes out of n. */
export function proportionEstimate(k: number, n: number): Estimate {
  if (n <= 0) return { value: NaN, lo: 0, hi: 1, n: 0, method: 'wilson' };
  const p = k / n;
  const z2 = Z95 * Z95;
  const den = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / den;
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den;
  return { value: p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half), n, method: 'wilson' };
}

/**
 * Percentile bootstrap of a statistic over n samples: `stat(idx)` evaluates it on the resampled indices
 * (idx has length n, drawn with replacement). The value is the statistic on the original sample. Seeded, so
 * a report is reproducible.
 */
export function bootstrapEstimate(
  n: number,
  stat: (idx: Int32Array) => number,
  opts: { resamples?: number; seed?: number } = {},
): Estimate {
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const value = stat(all);
  if (n < 2) return { value, lo: -Infinity, hi: Infinity, n, method: 'bootstrap' };
  const R = Math.max(20, opts.resamples ?? 200);
  const rng = new Rng(opts.seed ?? 12345);
  const vals: number[] = [];
  const idx = new Int32Array(n);
  for (let r = 0; r < R; r++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    const v = stat(idx);
    if (Number.isFinite(v)) vals.push(v);
  }
  if (vals.length < R / 2) return { value, lo: -Infinity, hi: Infinity, n, method: 'bootstrap' };
  vals.sort((a, b) => a - b);
  const q = (p: number) => vals[Math.min(vals.length - 1, Math.max(0, Math.round(p * (vals.length - 1))))];
  return { value, lo: Math.min(q(0.025), value), hi: Math.max(q(0.975), value), n, method: 'bootstrap' };
}

/** A lower bound (e.g. a norm estimated from random probes): lo = value, no upper end. */
export function lowerBoundEstimate(value: number, n: number): Estimate {
  return { value, lo: value, hi: Infinity, n, method: 'lower-bound' };
}

/** The whole interval lies above x. */
export const surelyAbove = (e: Estimate, x: number): boolean => e.lo > x;
/** The whole interval lies below x. */
export const surelyBelow = (e: Estimate, x: number): boolean => e.hi < x;

const num = (x: number) =>
  !Number.isFinite(x) ? String(x) : Math.abs(x) >= 0.01 && Math.abs(x) < 1e4 ? x.toPrecision(2) : x.toExponential(1);

/** "0.53 (95 % CI 0.48–0.58, n = 1000)", "≥ 0.28 (lower bound, 64 probes)" or "0.53" for exact values. */
export function formatEstimate(e: Estimate, unit = 'n'): string {
  if (e.method === 'exact') return num(e.value);
  if (e.method === 'lower-bound') return `≥ ${num(e.value)} (lower bound, ${unit} = ${e.n})`;
  if (!Number.isFinite(e.lo) || !Number.isFinite(e.hi)) return `${num(e.value)} (${unit} = ${e.n}, interval unknown)`;
  return `${num(e.value)} (95 % CI ${num(e.lo)} to ${num(e.hi)}, ${unit} = ${e.n})`;
}
