/**
 * Gradient flow per layer: ‖∂L/∂h_t‖ from the cells' backward `dh` (L the batch-mean task loss), what it does
 * over the T steps (falls / grows from the end back to t = 0: the median over sequences of that ratio, with
 * its interval; a log-linear fit), and ‖∂h_T/∂h_t‖ through the layer's own recurrence (input held
 * at its trajectory).
 *
 * ‖∂h_T/∂h_t‖ is estimated on M sequences of the batch, each with its own k random orthonormal probes V at
 * h_T: one forward pass of the M sequences and k backward passes give Vᵀ ∂h_T/∂h_t for every t, and
 * σ_max(Vᵀ J) ≤ ‖J‖ (for LSTM, h_t's derivative with c_t held). The per-t statistic is the median over the M
 * sequences of that per-sequence bound, with the distribution-free order-statistic interval of the median.
 * With k < units the value and the interval's lower end are lower bounds; the upper end is widened so that it
 * bounds the norm too: for a random k-frame V and J's top left singular vector u, ‖Vᵀu‖² ~ Beta(k/2, (H−k)/2),
 * so ‖J‖ ≤ σ_max(VᵀJ) / √q with probability 97.5 % for q the 2.5 % quantile of that distribution.
 * Verdicts: vanishing when the whole interval of ‖∂h_T/∂h_1‖ lies below 1e-3, exploding when above 1e3 (a
 * unit perturbation of the first state changes the last one by less than a thousandth / more than a
 * thousandfold).
 */
import { layerCell } from '../cells/index';
import { releaseForward } from '../engine/index';
import { backwardManyByPasses, float32View, type CellDef, type LayerParams } from '../cells/types';
import type { Model } from '../model/model';
import { layerParams, type CellResolver, type ForwardResult } from '../model/network';
import { recycleF64, takeF64 } from '../util/f64-pool';
import { Rng } from '../util/rng';
import { largestSingularValueOfRows, randomOrthonormal } from './matrix';
import { betaQuantile, medianEstimate, surelyAbove, surelyBelow, type Estimate } from './stats';
import type { DecayFit, GradientFlowLayer, GradientFlowReport } from './types';

export const VANISHING_THRESHOLD = 1e-3;
export const EXPLODING_THRESHOLD = 1e3;
/** A norm must change at least tenfold over the sequence to count as decaying or growing. */
const MIN_RANGE = 10;
/** Defaults of the Jacobian-norm estimate: probes per sequence and sequences (see the module comment). */
export const DEFAULT_JACOBIAN_PROBES = 8;
export const DEFAULT_JACOBIAN_SEQUENCES = 16;
/**
 * Values of the probes' backward rows kept at once by the Jacobian estimate: 16M, 64 MB from a float32
 * engine (128 MB in float64), so that the default 16 sequences of a 100-unit layer at T = 1000 run as one
 * chunk (one forward, one backward over 128 rows).
 */
const MAX_KEPT = 16_000_000;
/** dL/dh_t for every layer ([T, B, H] each), by backpropagating dOut through the readout and the cells. */
export function layerGradients(model: Model, fr: ForwardResult, dOut: Float64Array, cells: CellResolver): (Float64Array | Float32Array)[] {
  const { arch } = model;
  const { T, B } = fr;
  const L = arch.layers.length;
  const H = arch.layers[L - 1].units;
  const k = arch.readout.units;
  const W = model.params.get('readout.kernel')?.data;
  if (!W) throw new Error('model has no parameter "readout.kernel"');
  const rows = arch.readout.perStep ? T * B : B;
  const offset = arch.readout.perStep ? 0 : (T - 1) * B * H;
  let dh: Float64Array = takeF64(T * B * H, true);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      const g = dOut[r * k + j];
      if (g === 0) continue;
      for (let u = 0; u < H; u++) dh[offset + r * H + u] += W[u * k + j] * g;
    }
  }
  const out: (Float64Array | Float32Array)[] = new Array(L);
  for (let i = L - 1; i >= 0; i--) {
    const tr = fr.layers[i];
    const res = layerCell(arch.layers[i], cells).backward(layerParams(model, i), tr.x, tr.fwd, dh, tr.shape, { paramGrads: false });
    // Only scanned for norms: the engine's float32 original saves a float64 copy of [T, B, H].
    out[i] = float32View(res, 'dh') ?? res.dh;
    // dL/dh of the layer above is read once, by this backward (a custom cell may return it as its own dh).
    if (out[i] !== dh) recycleF64(dh);
    dh = res.dx;
  }
  recycleF64(dh);
  return out;
}

/**
 * Whether a norm grows steadily going back in time: the geometric means of its four quarters increase from
 * the last quarter to the first, so the growth runs through the sequence (not one jump at a single step).
 */
export function growsSteadily(norm: readonly number[]): boolean {
  const T = norm.length;
  if (T < 8) return false;
  const q: number[] = [];
  for (let i = 0; i < 4; i++) {
    let s = 0;
    let n = 0;
    for (let t = Math.floor((i * T) / 4); t < Math.floor(((i + 1) * T) / 4); t++) {
      if (!(norm[t] > 0) || !Number.isFinite(norm[t])) return false;
      s += Math.log(norm[t]);
      n++;
    }
    q.push(s / n);
  }
  return q[0] > q[1] && q[1] > q[2] && q[2] > q[3];
}

/**
 * What ‖∂L/∂h_t‖ does over the sequence: 'decay' when it is at least tenfold smaller at t = 0 than at the
 * last step, 'exploding' (grows backward) when at least tenfold larger, else 'no-decay'. `endRatio`, the
 * typical sequence's ratio ‖∂L/∂h_0‖ / ‖∂L/∂h_{T−1}‖ with its interval, decides when given (its whole
 * interval must lie beyond the factor); otherwise the batch norms' own ratio does. tau is a least-squares fit of
 * log norm[t] against the distance T − 1 − t from the end.
 */
export function fitDecay(norm: readonly number[], endRatio?: Estimate): DecayFit {
  const T = norm.length;
  let n = 0,
    sx = 0,
    sy = 0,
    sxx = 0,
    sxy = 0;
  let max = 0,
    min = Infinity;
  for (let t = 0; t < T; t++) {
    const v = norm[t];
    if (!(v > 0) || !Number.isFinite(v)) continue;
    const x = T - 1 - t;
    const y = Math.log(v);
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    max = Math.max(max, v);
    min = Math.min(min, v);
  }
  const extra = { ...(endRatio ? { endRatio } : {}), steady: growsSteadily(norm) };
  if (n < 2) return { kind: 'no-decay', tau: null, dynamicRange: 1, ...extra };
  const dynamicRange = max / min;
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  const ratio = endRatio ?? { value: norm[0] / norm[T - 1], lo: norm[0] / norm[T - 1], hi: norm[0] / norm[T - 1] };
  // Without per-sequence ratios, a batch curve that stays within tenfold neither decays nor grows.
  if (!endRatio && (dynamicRange < MIN_RANGE || !Number.isFinite(slope))) return { kind: 'no-decay', tau: null, dynamicRange, ...extra };
  if (ratio.hi < 1 / MIN_RANGE)
    return { kind: 'decay', tau: slope < 0 && Number.isFinite(slope) ? -1 / slope : null, dynamicRange, ...extra };
  if (ratio.lo > MIN_RANGE) return { kind: 'exploding', tau: null, dynamicRange, ...extra };
  return { kind: 'no-decay', tau: null, dynamicRange, ...extra };
}

/**
 * Per sequence s of `seqs`: σ_max(V_sᵀ ∂h_T/∂h_t) for t = 0 … T−1 ([T] each), with probes[s] the sequence's
 * orthonormal probes (length H) and x the layer input [T, B, I]. Each chunk of sequences runs forward once;
 * one backward pass per probe then gives every sequence's row vᵀ ∂h_T/∂h_t, and the k rows of a
 * (sequence, t) form the matrix whose largest singular value is taken.
 */
export function jacobianBounds(
  def: CellDef,
  p: LayerParams,
  x: Float64Array | Float32Array,
  shape: { T: number; B: number; inputSize: number; units: number },
  seqs: readonly number[],
  probes: readonly Float64Array[][],
): Float64Array[] {
  const { T, B, inputSize: I, units: H } = shape;
  const out: Float64Array[] = [];
  const k = probes[0]?.length ?? 0;
  const perChunk = Math.max(1, Math.floor(MAX_KEPT / (T * H * Math.max(1, k))));
  for (let s0 = 0; s0 < seqs.length; s0 += perChunk) {
    const chunk = seqs.slice(s0, s0 + perChunk);
    const m = chunk.length;
    const xc = new Float64Array(T * m * I);
    // Element by element: a subarray per step and sequence cost more than the copy (64 000 per layer).
    chunk.forEach((b, i) => {
      for (let t = 0; t < T; t++) {
        const from = (t * B + b) * I,
          to = (t * m + i) * I;
        for (let u = 0; u < I; u++) xc[to + u] = x[from + u];
      }
    });
    const cshape = { T, B: m, inputSize: I, units: H };
    const fwd = def.forward(p, xc, cshape);
    // Pass q is seeded with probe q of each sequence at the last step.
    const seeds = Array.from({ length: k }, (_, q) => {
      const seed = new Float64Array(m * H);
      chunk.forEach((_, i) => seed.set(probes[s0 + i][q], i * H));
      return seed;
    });
    const rows = def.backwardMany ? def.backwardMany(p, xc, fwd, seeds, cshape) : backwardManyByPasses(def, p, xc, fwd, seeds, cshape);
    // The chunk's memory serves the next chunk and layer (fresh memory costs page faults).
    releaseForward(fwd);
    const starts = new Int32Array(k);
    chunk.forEach((_, i) => {
      const sig = new Float64Array(T);
      const warm = new Float64Array(k);
      for (let t = T - 1; t >= 0; t--) {
        for (let q = 0; q < k; q++) starts[q] = q * rows.passStride + t * rows.timeStride + i * H;
        sig[t] = largestSingularValueOfRows(rows.data, starts, H, warm);
      }
      out.push(sig);
    });
    rows.release?.();
  }
  return out;
}

/**
 * ‖∂h_T/∂h_t‖ per t from per-sequence probe bounds (see the module comment): the median over sequences with
 * its order-statistic interval, the upper end widened by 1/√q when k < H probes leave it a lower bound.
 */
export function jacobianEstimates(bounds: readonly Float64Array[], k: number, H: number): Estimate[] {
  const T = bounds[0]?.length ?? 0;
  const widen = k < H ? 1 / Math.sqrt(betaQuantile(0.025, k / 2, (H - k) / 2)) : 1;
  const col = new Float64Array(bounds.length);
  const out: Estimate[] = new Array(T);
  for (let t = 0; t < T; t++) {
    for (let s = 0; s < bounds.length; s++) col[s] = bounds[s][t];
    const e = medianEstimate(col);
    out[t] = { ...e, hi: e.hi * widen };
  }
  return out;
}

/** ‖dh_t‖ over the batch and the batch-mean |dh_t,j| per neuron, from dh [T, B, H]. */
function gradientNorms(dh: Float32Array | Float64Array, T: number, B: number, H: number): { norm: number[]; perNeuron: number[][] } {
  const norm: number[] = new Array(T);
  const perNeuron: number[][] = new Array(T);
  const acc = new Float64Array(H);
  for (let t = 0; t < T; t++) {
    acc.fill(0);
    let s0 = 0,
      s1 = 0;
    for (let b = 0; b < B; b++) {
      const o = (t * B + b) * H;
      let j = 0;
      // Two partial sums of squares: the loop is latency-bound on one.
      for (; j + 1 < H; j += 2) {
        const v = dh[o + j];
        const w = dh[o + j + 1];
        s0 += v * v;
        s1 += w * w;
        acc[j] += Math.abs(v);
        acc[j + 1] += Math.abs(w);
      }
      if (j < H) {
        const v = dh[o + j];
        s0 += v * v;
        acc[j] += Math.abs(v);
      }
    }
    const row: number[] = new Array(H);
    for (let j = 0; j < H; j++) row[j] = acc[j] / B;
    norm[t] = Math.sqrt(s0 + s1);
    perNeuron[t] = row;
  }
  return { norm, perNeuron };
}

/**
 * Per sequence, ‖∂L/∂h_t‖ relative to its value at the last step; per t the median over the batch's
 * sequences (`medianRatio`), and at t = 0 that median with its order-statistic interval (`endRatio`).
 * Per sequence, not of the batch sums: those are dominated by the few sequences whose gradient survives, so
 * a 64-sequence batch's sums are no guide to the next batch's.
 */
function sequenceRatios(dh: Float32Array | Float64Array, T: number, B: number, H: number): { medianRatio: number[]; endRatio: Estimate } {
  const sq = new Float64Array(T * B);
  for (let i = 0; i < T * B; i++) {
    let s = 0;
    for (let j = 0; j < H; j++) s += dh[i * H + j] ** 2;
    sq[i] = s;
  }
  const live: number[] = [];
  for (let b = 0; b < B; b++) if (sq[(T - 1) * B + b] > 0) live.push(b);
  const col = new Float64Array(live.length);
  const medianRatio: number[] = new Array(T);
  let endRatio = medianEstimate([]);
  for (let t = 0; t < T; t++) {
    live.forEach((b, i) => (col[i] = Math.sqrt(sq[t * B + b] / sq[(T - 1) * B + b])));
    const e = medianEstimate(col);
    medianRatio[t] = e.value;
    if (t === 0) endRatio = e;
  }
  return { medianRatio, endRatio };
}

export interface GradientFlowOptions {
  /** Cells for the backward passes (an engine may be used). */
  cells: CellResolver;
  /** Random probes per sequence for the Jacobian norm (default 8, at most the layer's units). */
  probes?: number;
  /** Sequences of the batch behind the Jacobian norm (default 16, at most the batch). */
  sequences?: number;
  seed?: number;
}

export function analyzeGradientFlow(model: Model, fr: ForwardResult, dOut: Float64Array, opts: GradientFlowOptions): GradientFlowReport {
  const dhs = layerGradients(model, fr, dOut, opts.cells);
  const seed = opts.seed ?? 1;
  const rng = new Rng(seed + 7717);
  const k0 = Math.max(1, opts.probes ?? DEFAULT_JACOBIAN_PROBES);
  const M = Math.max(1, Math.min(opts.sequences ?? DEFAULT_JACOBIAN_SEQUENCES, fr.B));
  const seqs = Array.from({ length: M }, (_, i) => i);
  const layers: GradientFlowLayer[] = fr.layers.map((tr, l) => {
    const { T, B, units: H } = tr.shape;
    const dh = dhs[l];
    const { norm, perNeuron } = gradientNorms(dh, T, B, H);
    const ratios = sequenceRatios(dh, T, B, H);
    const def = layerCell(model.arch.layers[l], opts.cells);
    const k = Math.min(k0, H);
    const probes = seqs.map(() => randomOrthonormal(rng, k, H));
    const jacobian = jacobianEstimates(jacobianBounds(def, layerParams(model, l), tr.x, tr.shape, seqs, probes), k, H);
    const own = jacobian[0];
    return {
      layer: l,
      norm,
      perNeuron,
      jacobianNorm: jacobian.map((e) => e.value),
      jacobian,
      jacobianLowerBound: k < H,
      decay: { ...fitDecay(norm, ratios.endRatio), medianRatio: ratios.medianRatio },
      vanishing: Number.isFinite(own.hi) && surelyBelow(own, VANISHING_THRESHOLD),
      exploding: surelyAbove(own, EXPLODING_THRESHOLD),
    };
  });
  return {
    layers,
    probes: Math.min(k0, ...model.arch.layers.map((s) => s.units)),
    jacobianSequences: M,
    thresholds: { vanishing: VANISHING_THRESHOLD, exploding: EXPLODING_THRESHOLD },
  };
}
