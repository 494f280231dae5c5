/**
 * Bistability map per layer × time × neuron. BRC/nBRC ('gain'): the feedback gain a_t read from the cell,
 * the input drive u_t = x_t U, and the closed-form regime of the candidate map h ↦ tanh(u + a h)
 * (brc-paper-notes §2.1): three fixed points iff a > 1 and |u| < u*(a). Other cells ('self-map'): each
 * neuron's one-dimensional self-map (self-map.ts). Per-neuron and per-step arrays describe the first
 * sequence; per-step fractions are batch means (see BistabilityLayer.sampledSequences).
 */
import { brcInputDrive } from '../cells/brc-common';
import { hasCellOptions, layerCell } from '../cells/index';
import { cellStateSize, gateArray, hOf, supportsInitialState, type CellDef, type LayerParams } from '../cells/types';
import type { LayerSpec } from '../model/architecture';
import type { Model } from '../model/model';
import { layerParams, type CellResolver, type ForwardResult, type LayerTrace } from '../model/network';
import { gainInputDrive, isGainCell } from './gain-drive';
import { genericSelfMaps, gruSelfMaps, lstmSelfMaps, type SelfMaps } from './self-map';
import { sequenceRows, toNested } from './state';
import type { BistabilityLayer, BistabilityReport, Flip, NeuronSummary } from './types';
import { layerLabel } from './labels';
import { attachSeries, perSequenceMeans, type SequenceMeanOf } from './fraction-intervals';
import { holdsWholeSequence } from './latch';

/** u*(a) = a·√(1 − 1/a) − atanh √(1 − 1/a): the neuron is bistable for |u| < u*(a) (0 when a ≤ 1). */
export function bistableBand(a: number): number {
  if (!(a > 1)) return 0;
  const hs = Math.sqrt(1 - 1 / a);
  return a * hs - Math.atanh(hs);
}

/** Number of fixed points of h ↦ tanh(u + a h) (a > 0): 3 inside the band, 2 on its edge, else 1. */
export function brcFixedPointCount(a: number, u: number): 1 | 2 | 3 {
  if (!(a > 1)) return 1;
  const band = bistableBand(a);
  const au = Math.abs(u);
  return au < band ? 3 : au === band ? 2 : 1;
}

/**
 * Sign of the stable fixed point of h ↦ tanh(u + a h) that the state hPrev is attracted to. In the bistable
 * case D(h) = tanh(u + a h) − h decreases outside [h_L, h_R] = [(−atanh h_s − u)/a, (atanh h_s − u)/a]
 * (h_s = √(1 − 1/a)) and increases inside, where the unstable root separates the basins; otherwise the
 * single root has the sign of u. `count` (brcFixedPointCount) may be passed when the caller has it.
 */
export function brcBranch(a: number, u: number, hPrev: number, count = brcFixedPointCount(a, u)): -1 | 0 | 1 {
  if (count === 3) {
    const w = Math.atanh(Math.sqrt(1 - 1 / a));
    if (hPrev >= (w - u) / a) return 1;
    if (hPrev <= (-w - u) / a) return -1;
    const d = Math.tanh(u + a * hPrev) - hPrev;
    return d > 0 ? 1 : d < 0 ? -1 : 0;
  }
  return u > 0 ? 1 : u < 0 ? -1 : 0;
}

/**
 * Memory events from branch [T, H] and fixed-point count [T, H]. A neuron *stores* a bit once it is truly
 * bistable (three fixed points) on a branch, and keeps storing it while the branch does not change, even
 * through monostable steps. A flip is the first step whose branch differs from the stored one (the bit was
 * overwritten); a hold is a run of steps on the stored branch. A neuron that is never truly bistable only
 * follows its input (the sign of its single fixed point moves with u): it has no flips and no holds.
 */
export function branchSummary(
  branch: ArrayLike<number>,
  count: ArrayLike<number>,
  T: number,
  H: number,
): { flips: Flip[]; longestHold: number[]; flipCount: number[] } {
  const flips: Flip[] = [];
  const longestHold: number[] = new Array(H).fill(0);
  const flipCount: number[] = new Array(H).fill(0);
  for (let j = 0; j < H; j++) {
    let stored = 0;
    let run = 0;
    let prev = 0;
    for (let t = 0; t < T; t++) {
      const v = branch[t * H + j];
      const bistable = count[t * H + j] === 3;
      if (v !== 0 && stored !== 0 && v !== stored) {
        flips.push({ neuron: j, t, from: stored as -1 | 1, to: v as -1 | 1 });
        flipCount[j]++;
        stored = bistable ? v : 0;
      } else if (v !== 0 && bistable) {
        stored = v;
      }
      run = v !== 0 && v === stored ? (v === prev ? run + 1 : 1) : 0;
      if (run > longestHold[j]) longestHold[j] = run;
      prev = v;
    }
  }
  flips.sort((x, y) => x.t - y.t || x.neuron - y.neuron);
  return { flips, longestHold, flipCount };
}

export interface BistabilityOptions {
  /** Sequences (from the first) used for batch means that need per-sequence maps; default defaultBatchSample. */
  batchSample?: number;
  /** Reference cells: for gates an engine did not return, and for the generic self-maps. */
  cells: CellResolver;
}

/** How a layer's neuron maps are computed. */
export type MapMethod = 'gain' | 'gru' | 'lstm' | 'generic';

interface SeqMaps extends SelfMaps {
  /** [T, H] a-only flag source: BRC a_t, else the self-map slope. */
  a: Float64Array;
  drive: Float64Array | null;
}

export function analyzeBistability(model: Model, fr: ForwardResult, opts: BistabilityOptions): BistabilityReport {
  // A layer's input above the first is the float32 h below where the engine has it: reading the trace's x
  // would convert the whole batch to float64 for the few sequences read here.
  const layers = fr.layers.map((tr, l) => analyzeLayer(model, tr, l, opts, l > 0 ? hOf(fr.layers[l - 1].fwd) : tr.x));
  return { layers };
}

/** Most sequences the per-sequence maps sample by default: enough for an interval over sequences. */
export const BATCH_SAMPLE_MAX = 16;

/**
 * Sequences of a layer's per-sequence maps when --batch-sample is not given: as many as take about 0.1 s on one
 * core, 1 to BATCH_SAMPLE_MAX. Measured per sequence: BRC/nBRC maps cost their input drive, about 3 ns per
 * multiply-add of T × in × units; GRU and LSTM self-maps about 45 ns per T × units × (in + units). Custom cells'
 * self-maps step the whole cell for every neuron: one sequence, unless asked. With one sequence the truly
 * bistable fraction has no interval and the band sentence stays inconclusive; with 8 the demo BRC's is decided.
 */
export function defaultBatchSample(method: MapMethod | null, T: number, inputSize: number, units: number): number {
  const ns =
    method === 'gain' ? 3 * T * inputSize * units : method === 'gru' || method === 'lstm' ? 45 * T * units * (inputSize + units) : Infinity;
  return Math.max(1, Math.min(BATCH_SAMPLE_MAX, Math.floor(1e8 / ns)));
}

function mapMethod(spec: LayerSpec, stepDef: CellDef): MapMethod | null {
  if (spec.cell === 'brc' || spec.cell === 'nbrc' || isGainCell(stepDef, spec.units)) return 'gain';
  if (!hasCellOptions(spec) && (spec.cell === 'gru' || spec.cell === 'lstm')) return spec.cell;
  if (!supportsInitialState(stepDef)) return null;
  const S = cellStateSize(stepDef, spec.units);
  const lstmLike = S === 2 * spec.units && stepDef.gateNames.includes('cell') && stepDef.gateNames.includes('o');
  return S === spec.units || lstmLike ? 'generic' : null;
}

/** The update gate shown as c: BRC/nBRC c_t, GRU z_t, LSTM f_t. */
function gateOf(kind: string): string | null {
  return kind === 'brc' || kind === 'nbrc' ? 'c' : kind === 'gru' ? 'z' : kind === 'lstm' ? 'f' : null;
}

function analyzeLayer(model: Model, tr: LayerTrace, l: number, opts: BistabilityOptions, x: Float64Array | Float32Array): BistabilityLayer {
  const spec = model.arch.layers[l];
  const kind = spec.cell;
  const { T, B, inputSize: I, units: H } = tr.shape;
  const p = layerParams(model, l);
  const stepDef = layerCell(spec, opts.cells);
  const method = mapMethod(spec, stepDef);
  const Bs = Math.max(1, Math.min(B, opts.batchSample ?? defaultBatchSample(method, T, I, H)));
  // Per-sequence traces of the sampled sequences (b < Bs), recomputed with the reference cell when the
  // engine did not expose the gates we need.
  const lstmLike = method === 'lstm' || (method === 'generic' && cellStateSize(stepDef, H) === 2 * H);
  const need = method === 'gain' ? ['a', 'c'] : lstmLike ? ['cell', 'o'] : [];
  let src: LayerTrace = tr;
  // `in`, not a read: reading a fast-engine gate converts the whole batch to float64.
  if (need.some((g) => !(g in tr.fwd.gates))) {
    const xs = new Float64Array(T * Bs * I);
    for (let t = 0; t < T; t++) xs.set(x.subarray(t * B * I, (t * B + Bs) * I), t * Bs * I);
    const shape = { T, B: Bs, inputSize: I, units: H };
    src = { x: xs, fwd: stepDef.forward(p, xs, shape), shape };
  }
  const sB = src.shape.B;
  const gateName = method === 'gain' ? 'c' : gateOf(kind);
  const gateAll = gateName ? gateArray(src.fwd, gateName) : undefined;
  const srcX = src === tr ? x : src.x;
  const h = toNested(sequenceRows(hOf(src.fwd), T, sB, H, 0), T, H);
  const c = gateAll ? toNested(sequenceRows(gateAll, T, sB, H, 0), T, H) : null;
  const meanC: number[] | null = gateAll ? new Array(T) : null;
  const aAll = method === 'gain' ? gateArray(src.fwd, 'a') : undefined;
  const fractionBistable: number[] = new Array(T).fill(0);
  // Batch means over every sequence where they are free (BRC a_t, the update gate): one pass over the
  // [T, B, H] traces, branch-free counting (a data-dependent branch here costs 3× on random data).
  const n = sB * H;
  if (gateAll && meanC) rowMeans(gateAll, T, n, meanC);
  if (aAll) rowFractionsAboveOne(aAll, T, n, fractionBistable);
  const base = { layer: l, cell: kind, units: H, T, method: method === 'gain' ? 'gain' : 'self-map', h, c, meanC } as const;
  if (method === null) {
    return {
      ...base,
      a: [],
      bistable: [],
      fixedPoints: [],
      branch: [],
      drive: null,
      flips: [],
      neurons: [],
      fractionBistable: [],
      fractionTrulyBistable: [],
      sampledSequences: 0,
      note: `no neuron maps for ${layerLabel(l, true)} (${kind}): its cell cannot be evaluated from an arbitrary state`,
    };
  }
  const maps: SeqMaps[] = [];
  for (let b = 0; b < Bs; b++) maps.push(sequenceMaps(method, stepDef, p, src, srcX, b, sB));

  const m0 = maps[0];
  const fractionTrulyBistable: number[] = new Array(T).fill(0);
  for (let t = 0; t < T; t++) {
    let truly = 0;
    let flagged = 0;
    for (const m of maps) {
      for (let j = t * H; j < (t + 1) * H; j++) {
        truly += +(m.count[j] === 3);
        flagged += +(m.a[j] > 1);
      }
    }
    fractionTrulyBistable[t] = truly / (Bs * H);
    if (!aAll) fractionBistable[t] = flagged / (Bs * H);
  }

  const summary = branchSummary(m0.branch, m0.count, T, H);
  // Whether a neuron latches is read over every sampled sequence: one sequence's latch can be chance.
  const heldIn = new Array<number>(H).fill(0);
  maps.forEach((m, b) => {
    const sb = b === 0 ? summary : branchSummary(m.branch, m.count, T, H);
    for (let j = 0; j < H; j++) heldIn[j] += +holdsWholeSequence(sb.flipCount[j], sb.longestHold[j], m.count[(T - 1) * H + j], T);
  });
  const neurons: NeuronSummary[] = [];
  for (let j = 0; j < H; j++) {
    let nb = 0;
    for (let t = 0; t < T; t++) if (m0.a[t * H + j] > 1) nb++;
    neurons.push({ fractionBistable: nb / T, longestHold: summary.longestHold[j], flipCount: summary.flipCount[j], heldIn: heldIn[j] });
  }
  const bistable: (0 | 1)[][] = new Array(T);
  const branch: (-1 | 0 | 1)[][] = new Array(T);
  for (let t = 0; t < T; t++) {
    const rb: (0 | 1)[] = new Array(H);
    const rr: (-1 | 0 | 1)[] = new Array(H);
    for (let j = 0; j < H; j++) {
      rb[j] = m0.a[t * H + j] > 1 ? 1 : 0;
      rr[j] = m0.branch[t * H + j] as -1 | 0 | 1;
    }
    bistable[t] = rb;
    branch[t] = rr;
  }
  // Per-sequence series behind the intervals: the whole (engine) batch where the means use it, else the
  // sampled sequences' maps.
  const mapsSeries = (pick: (m: SeqMaps) => ArrayLike<number>, of: SequenceMeanOf) => {
    const all = new Float64Array(T * Bs * H);
    maps.forEach((m, b) => {
      const v = pick(m);
      for (let t = 0; t < T; t++) for (let j = 0; j < H; j++) all[(t * Bs + b) * H + j] = v[t * H + j];
    });
    return perSequenceMeans(all, T, Bs, H, of);
  };
  const result: BistabilityLayer = {
    ...base,
    a: toNested(m0.a, T, H),
    bistable,
    fixedPoints: toNested(m0.count, T, H),
    branch,
    drive: m0.drive ? toNested(m0.drive, T, H) : null,
    flips: summary.flips,
    neurons,
    fractionBistable,
    fractionTrulyBistable,
    sampledSequences: Bs,
  };
  attachSeries(result, {
    fractionBistable: aAll ? perSequenceMeans(aAll, T, sB, H, 'above-one') : mapsSeries((m) => m.a, 'above-one'),
    fractionTrulyBistable: mapsSeries((m) => m.count, 'equals-three'),
    meanC: gateAll ? perSequenceMeans(gateAll, T, sB, H) : undefined,
  });
  return result;
}

/** out[t] = mean of row t of a [T, n] array. Four partial sums: the loop is latency-bound otherwise. */
function rowMeans(a: Float32Array | Float64Array, T: number, n: number, out: number[]): void {
  const n4 = n - (n % 4);
  for (let t = 0; t < T; t++) {
    const o = t * n;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let i = 0; i < n4; i += 4) {
      s0 += a[o + i];
      s1 += a[o + i + 1];
      s2 += a[o + i + 2];
      s3 += a[o + i + 3];
    }
    for (let i = n4; i < n; i++) s0 += a[o + i];
    out[t] = (s0 + s1 + s2 + s3) / n;
  }
}

/** out[t] = fraction of row t of a [T, n] array above 1 (branch-free: a data-dependent branch costs 3×). */
function rowFractionsAboveOne(a: Float32Array | Float64Array, T: number, n: number, out: number[]): void {
  for (let t = 0; t < T; t++) {
    const o = t * n;
    let c = 0;
    for (let i = 0; i < n; i++) c += +(a[o + i] > 1);
    out[t] = c / n;
  }
}

function sequenceMaps(
  method: MapMethod,
  stepDef: CellDef,
  p: LayerParams,
  tr: LayerTrace,
  x: Float64Array | Float32Array,
  b: number,
  B: number,
): SeqMaps {
  const { T, inputSize: I, units: H } = tr.shape;
  const xs = sequenceRows(x, T, B, I, b);
  const hs = sequenceRows(hOf(tr.fwd), T, B, H, b);
  if (method === 'gain') {
    const a = sequenceRows(gateArray(tr.fwd, 'a'), T, B, H, b);
    const u =
      stepDef.kind === 'custom' ? gainInputDrive(stepDef, p, xs, T, I, H) : brcInputDrive(p, xs, { T, B: 1, inputSize: I, units: H });
    const n = T * H;
    const out: SeqMaps = { a, slope: a, count: new Uint8Array(n), branch: new Int8Array(n), drive: u };
    for (let i = 0; i < n; i++) {
      const ai = a[i];
      const ui = u[i];
      if (ai > 1) {
        const count = brcFixedPointCount(ai, ui);
        out.count[i] = count;
        out.branch[i] = brcBranch(ai, ui, i >= H ? hs[i - H] : 0, count);
      } else {
        // Monostable: one fixed point, with the sign of u (fast path of the two calls above).
        out.count[i] = 1;
        out.branch[i] = ui > 0 ? 1 : ui < 0 ? -1 : 0;
      }
    }
    return out;
  }
  let m: SelfMaps;
  if (method === 'gru') m = gruSelfMaps(p, xs, hs, T, I, H);
  else if (method === 'lstm') {
    const cs = sequenceRows(gateArray(tr.fwd, 'cell'), T, B, H, b);
    const os = sequenceRows(gateArray(tr.fwd, 'o'), T, B, H, b);
    m = lstmSelfMaps(p, xs, hs, cs, os, T, I, H);
  } else {
    const lstm =
      cellStateSize(stepDef, H) === 2 * H
        ? { cs: sequenceRows(gateArray(tr.fwd, 'cell'), T, B, H, b), os: sequenceRows(gateArray(tr.fwd, 'o'), T, B, H, b) }
        : undefined;
    m = genericSelfMaps(stepDef, p, xs, hs, T, I, H, undefined, lstm);
  }
  return { ...m, a: m.slope, drive: null };
}
