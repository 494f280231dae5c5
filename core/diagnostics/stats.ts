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
   * 'exact': computed, not estimated (lo = hi = value); 'order-statistic': the median with the distribution-free
   * interval between two order statistics (medianEstimate).
   */
  method: 'normal' | 'bootstrap' | 'wilson' | 'lower-bound' | 'exact' | 'order-statistic';
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
  // At k = 0 (k = n) the Wilson end is exactly 0 (1); rounding would leave 1e-17 there.
  return { value: p, lo: k <= 0 ? 0 : Math.max(0, centre - half), hi: k >= n ? 1 : Math.min(1, centre + half), n, method: 'wilson' };
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
  const value = stat(identity(n));
  if (n < 2) return { value, lo: -Infinity, hi: Infinity, n, method: 'bootstrap' };
  const R = Math.max(20, opts.resamples ?? 200);
  const draws = resampleIndices(n, R, opts.seed ?? 12345);
  const vals: number[] = [];
  for (let r = 0; r < R; r++) {
    const v = stat(draws.subarray(r * n, (r + 1) * n));
    if (Number.isFinite(v)) vals.push(v);
  }
  if (vals.length < R / 2) return { value, lo: -Infinity, hi: Infinity, n, method: 'bootstrap' };
  vals.sort((a, b) => a - b);
  const q = (p: number) => vals[Math.min(vals.length - 1, Math.max(0, Math.round(p * (vals.length - 1))))];
  return { value, lo: Math.min(q(0.025), value), hi: Math.max(q(0.975), value), n, method: 'bootstrap' };
}

function identity(n: number): Int32Array {
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  return all;
}

/**
 * The R resamples of n indices drawn by seed, [R, n]. A report bootstraps hundreds of statistics over the same
 * sequences with the same seed (every probe time, layer and delay), so the draws are kept and shared: the same
 * numbers as drawing them anew, without 50 000 generator calls per statistic. Callers only read them.
 */
const drawCache = new Map<string, Int32Array>();
/** Most indices kept (4 MB), oldest set evicted first. */
const DRAW_CACHE_INTS = 1 << 20;

function resampleIndices(n: number, R: number, seed: number): Int32Array {
  const key = `${n}:${R}:${seed}`;
  const hit = drawCache.get(key);
  if (hit) return hit;
  const rng = new Rng(seed);
  const draws = new Int32Array(R * n);
  for (let i = 0; i < draws.length; i++) draws[i] = rng.int(n);
  if (draws.length > DRAW_CACHE_INTS) return draws;
  let kept = draws.length;
  for (const v of drawCache.values()) kept += v.length;
  for (const [k, v] of drawCache) {
    if (kept <= DRAW_CACHE_INTS) break;
    drawCache.delete(k);
    kept -= v.length;
  }
  drawCache.set(key, draws);
  return draws;
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
  !Number.isFinite(x) ? String(x) : x === 0 ? '0' : Math.abs(x) >= 0.01 && Math.abs(x) < 1e4 ? x.toPrecision(2) : x.toExponential(1);

/** "0.53 (95 % CI 0.48–0.58, n = 1000)", "≥ 0.28 (lower bound, 64 probes)" or "0.53" for exact values. */
export function formatEstimate(e: Estimate, unit = 'n'): string {
  if (e.method === 'exact') return num(e.value);
  if (e.method === 'lower-bound') return `≥ ${num(e.value)} (lower bound, ${unit} = ${e.n})`;
  if (!Number.isFinite(e.lo) || !Number.isFinite(e.hi)) return `${num(e.value)} (${unit} = ${e.n}, interval unknown)`;
  return `${num(e.value)} (95 % CI ${num(e.lo)} to ${num(e.hi)}, ${unit} = ${e.n})`;
}

/** P(X ≤ j) for X ~ Binomial(n, 1/2), computed in log space (n may exceed 1000). */
function binomialHalfCdf(n: number, j: number): number {
  let lnC = 0;
  let s = 0;
  for (let i = 0; i <= j; i++) {
    s += Math.exp(lnC - n * Math.LN2);
    lnC += Math.log(n - i) - Math.log(i + 1);
  }
  return s;
}

/**
 * Median of the samples with the distribution-free 95 % interval [x_(j), x_(n−j+1)] of order statistics
 * (coverage ≥ 95 % for any continuous distribution; no resampling, so it is cheap to compute per time step).
 * Below 6 samples no such interval exists: lo/hi are then infinite.
 */
export function medianEstimate(samples: ArrayLike<number>): Estimate {
  const xs = Float64Array.from(samples).sort();
  const n = xs.length;
  const value = n === 0 ? NaN : n % 2 ? xs[(n - 1) / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
  let j = 0; // largest j with P(Binomial(n, 1/2) ≤ j − 1) ≤ 2.5 %
  while (j + 1 <= n / 2 && binomialHalfCdf(n, j) <= 0.025) j++;
  if (j === 0) return { value, lo: -Infinity, hi: Infinity, n, method: 'order-statistic' };
  return { value, lo: xs[j - 1], hi: xs[n - j], n, method: 'order-statistic' };
}

function lnGamma(x: number): number {
  // Lanczos approximation (g = 7, 9 terms), |error| < 1e-13 for x > 0.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    c = 1 + aa / c;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = Math.abs(c) < tiny ? tiny : c;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    c = 1 + aa / c;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = Math.abs(c) < tiny ? tiny : c;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-14) break;
  }
  return h;
}

/** Regularized incomplete beta function I_x(a, b), the CDF of Beta(a, b) at x. */
export function betaCdf(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaContinuedFraction(x, a, b)) / a : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** The p-quantile of Beta(a, b) (bisection on betaCdf). */
export function betaQuantile(p: number, a: number, b: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (betaCdf(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
