/**
 * Gradient flow per layer: ‖∂L/∂h_t‖ from the cells' backward `dh` (L the batch-mean task loss), a
 * log-linear decay fit, and ‖∂h_T/∂h_t‖ through the layer's own recurrence (input held at its trajectory).
 * The Jacobian norm is estimated from k random orthonormal probes V at h_T: one backward pass of the first
 * sequence replicated k times gives Vᵀ ∂h_T/∂h_t for every t, and σ_max(Vᵀ J) ≤ ‖J‖ is reported (exact when
 * k = units; for LSTM, h_t's derivative with c_t held).
 * Flags: vanishing when ‖∂h_T/∂h_1‖ < 1e-3, exploding when > 1e3 (a unit perturbation of the first state
 * changes the last one by less than a thousandth / more than a thousandfold).
 */
import { layerCell } from '../cells/index';
import { float32View, type CellDef, type LayerParams } from '../cells/types';
import type { Model } from '../model/model';
import { layerParams, type CellResolver, type ForwardResult } from '../model/network';
import { Rng } from '../util/rng';
import { largestSingularValue, randomOrthonormal } from './linalg';
import { sequenceRows } from './state';
import type { DecayFit, GradientFlowLayer, GradientFlowReport } from './types';

export const VANISHING_THRESHOLD = 1e-3;
export const EXPLODING_THRESHOLD = 1e3;
/** A norm must change at least tenfold over the sequence to count as decaying or exploding. */
const MIN_RANGE = 10;

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
  let dh: Float64Array = new Float64Array(T * B * H);
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
    dh = res.dx;
  }
  return out;
}

/** Least-squares fit of log norm[t] against the distance T − 1 − t from the end. */
export function fitDecay(norm: readonly number[]): DecayFit {
  const T = norm.length;
  let n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  let max = 0, min = Infinity;
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
  if (n < 2) return { kind: 'no-decay', tau: null, dynamicRange: 1 };
  const dynamicRange = max / min;
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  if (dynamicRange < MIN_RANGE || !Number.isFinite(slope)) return { kind: 'no-decay', tau: null, dynamicRange };
  if (slope < 0) return { kind: 'decay', tau: -1 / slope, dynamicRange };
  return { kind: 'exploding', tau: null, dynamicRange };
}

/**
 * σ_max(Vᵀ ∂h_T/∂h_t) for t = 0 … T−1 on one sequence xs [T, I], with `probes` orthonormal vectors V of
 * length H (see the module comment).
 */
export function jacobianNorms(def: CellDef, p: LayerParams, xs: Float64Array, T: number, I: number, H: number, probes: Float64Array[]): number[] {
  const k = probes.length;
  const x = new Float64Array(T * k * I);
  for (let t = 0; t < T; t++) for (let b = 0; b < k; b++) x.set(xs.subarray(t * I, t * I + I), (t * k + b) * I);
  const shape = { T, B: k, inputSize: I, units: H };
  const fwd = def.forward(p, x, shape);
  const dhOut = new Float64Array(T * k * H);
  for (let b = 0; b < k; b++) dhOut.set(probes[b], ((T - 1) * k + b) * H);
  const { dh } = def.backward(p, x, fwd, dhOut, shape, { paramGrads: false });
  const out: number[] = new Array(T);
  const warm = new Float64Array(k);
  for (let t = T - 1; t >= 0; t--) out[t] = largestSingularValue(dh.subarray(t * k * H, (t + 1) * k * H), k, H, warm);
  return out;
}

/** ‖dh_t‖ over the batch and the batch-mean |dh_t,j| per neuron, from dh [T, B, H]. */
function gradientNorms(dh: Float32Array | Float64Array, T: number, B: number, H: number): { norm: number[]; perNeuron: number[][] } {
  const norm: number[] = new Array(T);
  const perNeuron: number[][] = new Array(T);
  const acc = new Float64Array(H);
  for (let t = 0; t < T; t++) {
    acc.fill(0);
    let s0 = 0, s1 = 0;
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

export interface GradientFlowOptions {
  /** Cells for the backward passes (an engine may be used). */
  cells: CellResolver;
  /** Random probes for the Jacobian norm (default 8, at most the layer's units). */
  probes?: number;
  seed?: number;
}

export function analyzeGradientFlow(model: Model, fr: ForwardResult, dOut: Float64Array, opts: GradientFlowOptions): GradientFlowReport {
  const dhs = layerGradients(model, fr, dOut, opts.cells);
  const rng = new Rng((opts.seed ?? 1) + 7717);
  const k0 = Math.max(1, opts.probes ?? 8);
  const layers: GradientFlowLayer[] = fr.layers.map((tr, l) => {
    const { T, B, inputSize: I, units: H } = tr.shape;
    const dh = dhs[l];
    const { norm, perNeuron } = gradientNorms(dh, T, B, H);
    const def = layerCell(model.arch.layers[l], opts.cells);
    const probes = randomOrthonormal(rng, Math.min(k0, H), H);
    const jacobianNorm = jacobianNorms(def, layerParams(model, l), sequenceRows(tr.x, T, B, I, 0), T, I, H, probes);
    return {
      layer: l,
      norm,
      perNeuron,
      jacobianNorm,
      decay: fitDecay(norm),
      vanishing: jacobianNorm[0] < VANISHING_THRESHOLD,
      exploding: jacobianNorm[0] > EXPLODING_THRESHOLD,
    };
  });
  return {
    layers,
    probes: Math.min(k0, ...model.arch.layers.map((s) => s.units)),
    thresholds: { vanishing: VANISHING_THRESHOLD, exploding: EXPLODING_THRESHOLD },
  };
}
