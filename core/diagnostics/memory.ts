/**
 * Memory attribution per neuron: which neurons carry the task's target (x₁ for copy, the marked values for
 * denoise, the class for smnist, y of an explicit input) and from when to when. Per layer, neuron and step
 * the score is the adjusted R² of the target from h_{t,j} across the batch's sequences (adjusted so that a
 * neuron unrelated to the target scores ≈ 0 whatever the batch size; classes: adjusted η², the one-way
 * ANOVA R²). A neuron whose state hardly varies across sequences scores 0: a unit saturated on one branch
 * in every sequence is constant, not memory. Each window score carries a bootstrap interval over sequences
 * and a neuron is called a carrier only when that interval clears the threshold.
 */
import { brcBranch, brcFixedPointCount, bistableBand } from './bistability';
import { gateArray } from '../cells/types';
import type { Model } from '../model/model';
import { layerParams, type ForwardResult } from '../model/network';
import { probeSchedule } from './retention';
import { bootstrapEstimate, type Estimate } from './stats';
import type { DiagnoseInput } from './input';
import type { MemoryCarrier, MemoryEnd, MemoryLayer, MemoryReport } from './types';

export interface MemoryOptions {
  /** Score a carrier's interval must clear (default 0.1). */
  threshold?: number;
  /** Shortest window that counts (default max(2, ⌈5 % of T⌉)). */
  minSteps?: number;
  /** Smallest standard deviation of h across sequences for a step to score (default 0.01). */
  minSpread?: number;
  /** Carriers listed in full (default 20); all are counted. */
  top?: number;
  /** Sequences traced per listed carrier (default 16). */
  traced?: number;
  /** Bootstrap resamples per candidate (default 200). */
  resamples?: number;
  seed?: number;
  /** The task the batch comes from (names the target); undefined for a file's batch. */
  task?: string;
  /** Whether the batch is the section's own (generated, --memory-batch) rather than the diagnosed one. */
  ownBatch?: boolean;
}

/** Default sequences of the memory section's own batch; fewer when T × total units is large. */
export const MEMORY_BATCH = 256;
/** Largest number of state values (T × sequences × units, all layers) the own batch may hold (128 MB as float64). */
const MEMORY_BATCH_VALUES = 16_000_000;

/** Sequences of the memory section's own batch: `requested`, else 256 capped by the state budget (at least 1). */
export function memoryBatchSize(arch: { layers: readonly { units: number }[] }, T: number, requested?: number): number {
  if (requested !== undefined) return requested;
  const units = arch.layers.reduce((s, l) => s + l.units, 0);
  return Math.max(1, Math.min(MEMORY_BATCH, Math.floor(MEMORY_BATCH_VALUES / Math.max(1, T * units))));
}

export const MEMORY_DEFAULTS = { threshold: 0.1, minSpread: 0.01, top: 20, traced: 16, resamples: 200 } as const;
/** Steps of a window the bootstrap re-scores (evenly spaced, both ends): bounds its cost on long windows. */
const WINDOW_SAMPLES = 16;
const MAX_TIMES = 200;

/** Default shortest window for sequences of T steps. */
export const defaultMinSteps = (T: number): number => Math.max(2, Math.ceil(0.05 * T));

/** The per-sequence targets the attribution scores against: [B, k] values, or [B] class labels. */
interface Target {
  kind: MemoryReport['target'];
  k: number;
  values?: Float64Array;
  labels?: Int32Array;
}

function targetOf(
  input: DiagnoseInput,
  T: number,
  B: number,
  perStep: boolean,
  task: string | undefined,
  source: string | undefined,
): Target | string {
  if (source === 'probe') return 'random probe inputs have no target to attribute';
  // Per-step targets ([T, B] labels, [T, B, k] values): those of the last step are what must be remembered.
  if (input.labels) {
    const labels = perStep ? input.labels.subarray((T - 1) * B, T * B) : input.labels;
    if (labels.length !== B) return 'the targets do not match the batch';
    return { kind: 'class', k: 1, labels };
  }
  if (input.y) {
    const rows = perStep ? T * B : B;
    if (input.y.length % rows !== 0 || input.y.length === 0) return 'the targets do not match the batch';
    const k = input.y.length / rows;
    const y = perStep ? input.y.subarray((T - 1) * B * k, T * B * k) : input.y;
    const kind = task === 'copy' ? 'x1' : task === 'denoise' ? 'values' : 'y';
    return { kind, k, values: y };
  }
  return 'the batch has no targets';
}

/** Adjusted R² of y from one predictor v over the sequences idx (0 when v's spread is below minSpread). */
function r2At(v: Float64Array, y: Float64Array, idx: ArrayLike<number>, minSpread: number): { r2: number; r: number } {
  const n = idx.length;
  let sv = 0,
    sy = 0;
  for (let i = 0; i < n; i++) {
    sv += v[idx[i]];
    sy += y[idx[i]];
  }
  const mv = sv / n;
  const my = sy / n;
  let vv = 0,
    yy = 0,
    vy = 0;
  for (let i = 0; i < n; i++) {
    const dv = v[idx[i]] - mv;
    const dy = y[idx[i]] - my;
    vv += dv * dv;
    yy += dy * dy;
    vy += dv * dy;
  }
  if (n < 3 || !(Math.sqrt(vv / n) >= minSpread) || !(yy > 0)) return { r2: 0, r: 0 };
  const r = vy / Math.sqrt(vv * yy);
  const adj = 1 - ((1 - r * r) * (n - 1)) / (n - 2);
  return { r2: Math.max(0, adj), r };
}

/** Adjusted η² of v across the classes of the sequences idx (0 when v's spread is below minSpread). */
function eta2At(
  v: Float64Array,
  labels: Int32Array,
  idx: ArrayLike<number>,
  minSpread: number,
  sums: Float64Array,
  counts: Float64Array,
): number {
  const n = idx.length;
  sums.fill(0);
  counts.fill(0);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const b = idx[i];
    s += v[b];
    sums[labels[b]] += v[b];
    counts[labels[b]]++;
  }
  const m = s / n;
  let total = 0;
  for (let i = 0; i < n; i++) total += (v[idx[i]] - m) ** 2;
  let between = 0;
  let groups = 0;
  for (let c = 0; c < counts.length; c++) {
    if (!counts[c]) continue;
    groups++;
    between += counts[c] * (sums[c] / counts[c] - m) ** 2;
  }
  if (groups < 2 || n - groups < 1 || !(Math.sqrt(total / n) >= minSpread)) return 0;
  const eta2 = between / total;
  return Math.max(0, 1 - ((1 - eta2) * (n - 1)) / (n - groups));
}

/** Longest run of indices with s[t] ≥ th (the earliest on ties): [from, to], or null. */
export function longestRun(s: ArrayLike<number>, th: number): [number, number] | null {
  let best: [number, number] | null = null;
  let start = -1;
  for (let t = 0; t <= s.length; t++) {
    const on = t < s.length && s[t] >= th;
    if (on && start < 0) start = t;
    if (!on && start >= 0) {
      if (!best || t - 1 - start > best[1] - best[0]) best = [start, t - 1];
      start = -1;
    }
  }
  return best;
}

/** At most n evenly spaced integers of [from, to], both ends included. */
function spaced(from: number, to: number, n: number): number[] {
  return probeSchedule(to - from + 1, n).map((i) => from + i);
}

const median = (a: number[]): number => {
  if (!a.length) return NaN;
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export function analyzeMemory(
  model: Model,
  fr: ForwardResult,
  input: DiagnoseInput,
  opts: MemoryOptions & { source?: string } = {},
): MemoryReport {
  const { T, B } = fr;
  const threshold = opts.threshold ?? MEMORY_DEFAULTS.threshold;
  const minSteps = Math.max(1, Math.min(T, opts.minSteps ?? defaultMinSteps(T)));
  const minSpread = opts.minSpread ?? MEMORY_DEFAULTS.minSpread;
  const top = Math.max(0, opts.top ?? MEMORY_DEFAULTS.top);
  const traced = Math.min(B, Math.max(0, opts.traced ?? MEMORY_DEFAULTS.traced));
  const seed = opts.seed ?? 1;
  const times = probeSchedule(T, MAX_TIMES);
  const endWindow: [number, number] = [T - minSteps, T - 1];
  const target = targetOf(input, T, B, model.arch.readout.perStep, opts.task, opts.source);
  const empty = (note: string): MemoryReport => ({
    target: 'y',
    components: 0,
    scoreKind: 'r2',
    threshold,
    minSteps,
    minSpread,
    sequences: B,
    total: 0,
    carriers: [],
    layers: [],
    times,
    traced: 0,
    ownBatch: opts.ownBatch === true,
    note,
  });
  if (typeof target === 'string') return empty(target);
  if (B < 4) return empty(`${B} sequences are too few to attribute memory (at least 4; use more sequences)`);
  // reduce, not Math.max(...labels): a large input file would overflow the argument list.
  const classes = target.labels ? target.labels.reduce((m, v) => Math.max(m, v), 0) + 1 : 0;
  const sums = new Float64Array(classes);
  const counts = new Float64Array(classes);
  // Target component columns, contiguous per component.
  const ys: Float64Array[] = [];
  for (let k = 0; k < target.k && target.values; k++) {
    const col = new Float64Array(B);
    for (let b = 0; b < B; b++) col[b] = target.values[b * target.k + k];
    ys.push(col);
  }
  const all = Int32Array.from({ length: B }, (_, i) => i);
  const score = (v: Float64Array, k: number, idx: ArrayLike<number>): { s: number; r: number } => {
    if (target.labels) return { s: eta2At(v, target.labels, idx, minSpread, sums, counts), r: 0 };
    const { r2, r } = r2At(v, ys[k], idx, minSpread);
    return { s: r2, r };
  };

  const layers: MemoryLayer[] = [];
  const found: { c: MemoryCarrier; l: number; j: number; strength: number }[] = [];
  fr.layers.forEach((tr, l) => {
    const H = tr.shape.units;
    const h = tr.fwd.h;
    // v[t][b] of neuron j, rebuilt per neuron (the trace is [T, B, H]).
    const col = (j: number, t: number, out: Float64Array): Float64Array => {
      const o = t * B * H + j;
      for (let b = 0; b < B; b++) out[b] = h[o + b * H];
      return out;
    };
    const series = Array.from({ length: T }, () => new Float64Array(B));
    const layerScore: number[] = new Array(H).fill(0);
    const carrierNeurons: { j: number; s: number }[] = [];
    const inconclusive: { j: number; s: number }[] = [];
    // Whole-batch profiles of every neuron in one contiguous pass; per-neuron columns only for candidates.
    const full = layerProfiles(h, T, B, H, ys, target.labels, classes, minSpread);
    const lower = lowerScore(B, target.labels ? Math.max(2, classes) : 2);
    const upper = upperScore(B, target.labels ? Math.max(2, classes) : 2);
    for (let j = 0; j < H; j++) {
      // Best component: the one with the longest window, then the higher window score. The window is where
      // the step's 95 % lower bound clears the threshold, so its length is not decided by noise around it;
      // a neuron whose point scores alone would give a long enough window is inconclusive.
      let best: { k: number; run: [number, number]; prof: number[] } | null = null;
      let unsure: { k: number; run: [number, number]; prof: number[] } | null = null;
      for (let k = 0; k < full.length; k++) {
        const prof = Array.from({ length: T }, (_, t) => full[k][t * H + j]);
        const loose = longestRun(prof, threshold);
        if (!loose || loose[1] - loose[0] + 1 < minSteps) continue;
        const run = longestRun(prof.map(lower), threshold);
        if (!run || run[1] - run[0] + 1 < minSteps) {
          if (!unsure) unsure = { k, run: loose, prof };
          continue;
        }
        const len = run[1] - run[0];
        if (
          !best ||
          len > best.run[1] - best.run[0] ||
          (len === best.run[1] - best.run[0] && meanOver(prof, run) > meanOver(best.prof, best.run))
        )
          best = { k, run, prof };
      }
      if (!best && unsure) {
        layerScore[j] = meanOver(unsure.prof, unsure.run);
        inconclusive.push({ j, s: layerScore[j] * (unsure.run[1] - unsure.run[0] + 1) });
      }
      if (!best) continue;
      const steps = spaced(best.run[0], best.run[1], WINDOW_SAMPLES);
      for (const t of steps) col(j, t, series[t]);
      const k = best.k;
      const est: Estimate = bootstrapEstimate(
        B,
        (idx) => {
          let s = 0;
          for (const t of steps) s += score(series[t], k, idx).s;
          return s / steps.length;
        },
        { resamples: opts.resamples ?? MEMORY_DEFAULTS.resamples, seed: seed * 1_000_003 + l * 10_007 + j },
      );
      layerScore[j] = est.value;
      // Strength: how much and how long it carries the target (a brief echo of the input ranks below a latch).
      const strength = est.value * (best.run[1] - best.run[0] + 1);
      if (!(est.lo > threshold)) {
        inconclusive.push({ j, s: strength });
        continue;
      }
      carrierNeurons.push({ j, s: strength });
      let r = 0;
      for (const t of steps) r += score(series[t], k, all).r;
      found.push({
        l,
        j,
        strength,
        c: {
          layer: l,
          neuron: j,
          from: best.run[0],
          to: best.run[1],
          score: est.value,
          estimate: est,
          component: k,
          correlation: target.labels ? null : r / steps.length,
          a: null,
          c: null,
          bistable: null,
          upperBranch: null,
          margin: null,
          multiplier: null,
          profile: times.map((t) => best!.prof[t]),
          traces: [],
          targets: [],
        },
      });
    }
    const order = (a: { s: number }, b: { s: number }) => b.s - a.s;
    const end = endHolders(full, H, endWindow, threshold, upper, (j, k, steps) => {
      for (const t of steps) col(j, t, series[t]);
      return bootstrapEstimate(
        B,
        (idx) => {
          let s = 0;
          for (const t of steps) s += score(series[t], k, idx).s;
          return s / steps.length;
        },
        { resamples: opts.resamples ?? MEMORY_DEFAULTS.resamples, seed: seed * 1_000_003 + l * 10_007 + j + 7_919 },
      );
    });
    layers.push({
      layer: l,
      score: layerScore,
      carrierNeurons: carrierNeurons.sort(order).map((c) => c.j),
      inconclusive: inconclusive.sort(order).map((c) => c.j),
      end,
    });
  });
  found.sort((x, y) => y.strength - x.strength || x.l - y.l || x.j - y.j);
  // The named end carriers are always listed in full (the sentences describe them).
  const named = (f: (typeof found)[number]) => layers[f.l].end?.named.includes(f.j) === true;
  const listed = [...found.slice(0, top), ...found.slice(top).filter(named)];
  for (const f of listed) describeCarrier(model, fr, f.c, traced, times, target);
  return {
    target: target.kind,
    components: target.labels ? 1 : target.k,
    scoreKind: target.labels ? 'eta2' : 'r2',
    threshold,
    minSteps,
    minSpread,
    endWindow,
    sequences: B,
    total: found.length,
    carriers: listed.map((f) => f.c),
    layers,
    times,
    traced,
    ownBatch: opts.ownBatch === true,
  };
}

/**
 * Adjusted scores of every neuron at every step on the whole batch, per target component: [k][t·H + j].
 * Sums are accumulated row by row over the [T, B, H] trace (contiguous), the same statistics as r2At and
 * eta2At on all sequences.
 */
function layerProfiles(
  h: ArrayLike<number>,
  T: number,
  B: number,
  H: number,
  ys: Float64Array[],
  labels: Int32Array | undefined,
  classes: number,
  minSpread: number,
): Float64Array[] {
  const K = labels ? 1 : ys.length;
  const out = Array.from({ length: K }, () => new Float64Array(T * H));
  const sh = new Float64Array(H);
  const shh = new Float64Array(H);
  const shy = Array.from({ length: labels ? 0 : K }, () => new Float64Array(H));
  const sc = labels ? Array.from({ length: classes }, () => new Float64Array(H)) : [];
  const nc = new Float64Array(classes);
  if (labels) for (let b = 0; b < B; b++) nc[labels[b]]++;
  const groups = nc.reduce((g, n) => g + +(n > 0), 0);
  const ym = ys.map((y) => y.reduce((s, v) => s + v, 0) / B);
  const yss = ys.map((y, k) => y.reduce((s, v) => s + (v - ym[k]) ** 2, 0));
  for (let t = 0; t < T; t++) {
    sh.fill(0);
    shh.fill(0);
    for (const a of shy) a.fill(0);
    for (const a of sc) a.fill(0);
    for (let b = 0; b < B; b++) {
      const o = (t * B + b) * H;
      for (let j = 0; j < H; j++) {
        const v = h[o + j];
        sh[j] += v;
        shh[j] += v * v;
      }
      if (labels) {
        const row = sc[labels[b]];
        for (let j = 0; j < H; j++) row[j] += h[o + j];
      } else {
        for (let k = 0; k < K; k++) {
          const dy = ys[k][b] - ym[k];
          const row = shy[k];
          for (let j = 0; j < H; j++) row[j] += h[o + j] * dy;
        }
      }
    }
    for (let j = 0; j < H; j++) {
      const m = sh[j] / B;
      const vv = Math.max(0, shh[j] - B * m * m);
      if (B < 3 || !(Math.sqrt(vv / B) >= minSpread)) continue;
      if (labels) {
        if (groups < 2 || B - groups < 1) continue;
        let between = 0;
        for (let c = 0; c < classes; c++) if (nc[c]) between += (sc[c][j] * sc[c][j]) / nc[c];
        const eta2 = Math.min(1, Math.max(0, (between - B * m * m) / vv));
        out[0][t * H + j] = Math.max(0, 1 - ((1 - eta2) * (B - 1)) / (B - groups));
      } else {
        for (let k = 0; k < K; k++) {
          if (!(yss[k] > 0)) continue;
          const r2 = Math.min(1, (shy[k][j] * shy[k][j]) / (vv * yss[k]));
          out[k][t * H + j] = Math.max(0, 1 - ((1 - r2) * (B - 1)) / (B - 2));
        }
      }
    }
  }
  return out;
}

/**
 * The 95 % lower bound of a step's score from its value on n sequences (Fisher z of √score; classes: the
 * multiple correlation of groups − 1 indicators, n − groups + 1 degrees of freedom in its standard error).
 */
export function lowerScore(n: number, groups: number): (score: number) => number {
  const se = 1 / Math.sqrt(Math.max(1, n - 3 - (groups - 2)));
  return (score) => {
    if (!(score > 0)) return 0;
    const z = Math.atanh(Math.min(Math.sqrt(score), 1 - 1e-12)) - 1.959963984540054 * se;
    return z > 0 ? Math.tanh(z) ** 2 : 0;
  };
}

/** The 95 % upper bound of a step's score (lowerScore's counterpart). */
export function upperScore(n: number, groups: number): (score: number) => number {
  const se = 1 / Math.sqrt(Math.max(1, n - 3 - (groups - 2)));
  return (score) => Math.tanh(Math.atanh(Math.min(Math.sqrt(Math.max(0, score)), 1 - 1e-12)) + 1.959963984540054 * se) ** 2;
}

/** At most this many end carriers are named in the sentences. */
export const MAX_NAMED_END = 5;

/**
 * Who holds the target over the end window: per neuron the best component's mean score there with a
 * bootstrap interval (`estimate(j, k, steps)`), only for neurons whose per-step upper bound reaches the
 * threshold somewhere in the window (the others surely do not hold it at the end).
 */
function endHolders(
  full: Float64Array[],
  H: number,
  [from, to]: [number, number],
  threshold: number,
  upper: (s: number) => number,
  estimate: (j: number, k: number, steps: number[]) => Estimate,
): MemoryEnd {
  const steps = spaced(from, to, WINDOW_SAMPLES);
  const scores: { neuron: number; estimate: Estimate }[] = [];
  for (let j = 0; j < H; j++) {
    let k = -1;
    let bestMean = -Infinity;
    for (let c = 0; c < full.length; c++) {
      let s = 0;
      let reaches = false;
      for (let t = from; t <= to; t++) {
        s += full[c][t * H + j];
        reaches ||= upper(full[c][t * H + j]) >= threshold;
      }
      if (reaches && s > bestMean) {
        bestMean = s;
        k = c;
      }
    }
    if (k < 0) continue;
    const e = estimate(j, k, steps);
    if (e.hi > threshold) scores.push({ neuron: j, estimate: e });
  }
  scores.sort((a, b) => b.estimate.value - a.estimate.value || a.neuron - b.neuron);
  const carriers = scores.filter((s) => s.estimate.lo > threshold);
  const inconclusive = scores.filter((s) => !(s.estimate.lo > threshold));
  // Only strong carriers are named (interval at or above twice the threshold), and names stop at a gap (the
  // last named interval lies wholly above the next neuron's), so which neurons are named does not hinge on
  // near-equal scores or on a carrier close to the threshold.
  let named = 0;
  for (let i = 1; i <= Math.min(MAX_NAMED_END, scores.length); i++) {
    if (!(scores[i - 1].estimate.lo >= 2 * threshold)) break;
    const next = scores[i];
    if (!next || scores[i - 1].estimate.lo > next.estimate.hi) named = i;
  }
  return {
    carriers: carriers.map((s) => s.neuron),
    inconclusive: inconclusive.map((s) => s.neuron),
    named: scores.slice(0, named).map((s) => s.neuron),
    scores,
  };
}

function meanOver(prof: number[], [from, to]: [number, number]): number {
  let s = 0;
  for (let t = from; t <= to; t++) s += prof[t];
  return s / (to - from + 1);
}

/** Fills a listed carrier's gates, branch, band margin, multiplier, traces and targets. */
function describeCarrier(model: Model, fr: ForwardResult, c: MemoryCarrier, traced: number, times: number[], target: Target): void {
  const { B } = fr;
  const tr = fr.layers[c.layer];
  const { units: H, inputSize: I } = tr.shape;
  const j = c.neuron;
  const h = tr.fwd.h;
  const at = (arr: ArrayLike<number>, t: number, b: number) => arr[(t * B + b) * H + j];
  c.traces = Array.from({ length: traced }, (_, b) => times.map((t) => at(h, t, b)));
  c.targets = Array.from({ length: traced }, (_, b) => (target.labels ? target.labels[b] : target.values![b * target.k + c.component]));
  const kind = model.arch.layers[c.layer].cell;
  const gateName = kind === 'brc' || kind === 'nbrc' ? 'c' : kind === 'gru' ? 'z' : kind === 'lstm' ? 'f' : null;
  const steps = spaced(c.from, c.to, WINDOW_SAMPLES);
  const gate = gateName && gateName in tr.fwd.gates ? gateArray(tr.fwd, gateName) : null;
  if (gate) {
    let s = 0;
    for (const t of steps) for (let b = 0; b < B; b++) s += at(gate, t, b);
    c.c = s / (steps.length * B);
  }
  if ((kind !== 'brc' && kind !== 'nbrc') || !('a' in tr.fwd.gates) || !gate) return;
  const a = gateArray(tr.fwd, 'a');
  // Input drive u = x_t · U[:, j] of this neuron only (the whole layer's would cost I·H per step).
  const U = layerParams(model, c.layer).U;
  const drive = (t: number, b: number) => {
    let u = 0;
    const o = (t * B + b) * I;
    for (let i = 0; i < I; i++) u += tr.x[o + i] * U[i * H + j];
    return u;
  };
  let sa = 0,
    truly = 0;
  const margins: number[] = [];
  const lambdas: number[] = [];
  for (const t of steps) {
    for (let b = 0; b < B; b++) {
      const ai = at(a, t, b);
      const ci = at(gate, t, b);
      const u = drive(t, b);
      const hp = t > 0 ? at(h, t - 1, b) : 0;
      sa += ai;
      truly += +(brcFixedPointCount(ai, u) === 3);
      const band = bistableBand(ai);
      margins.push(band > 0 ? Math.abs(u) / band : Infinity);
      const cand = Math.tanh(u + ai * hp);
      lambdas.push(Math.abs(ci + (1 - ci) * ai * (1 - cand * cand)));
    }
  }
  const n = steps.length * B;
  c.a = sa / n;
  c.bistable = truly / n;
  const m = median(margins);
  c.margin = Number.isFinite(m) ? m : null;
  c.multiplier = median(lambdas);
  let up = 0,
    signed = 0;
  for (let b = 0; b < B; b++) {
    const br = brcBranch(at(a, c.to, b), drive(c.to, b), c.to > 0 ? at(h, c.to - 1, b) : 0);
    if (br !== 0) signed++;
    if (br === 1) up++;
  }
  c.upperBranch = signed ? up / signed : null;
}
