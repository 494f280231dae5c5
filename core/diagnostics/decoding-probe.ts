/**
 * Linear decodability: a ridge regression from features to a scalar target, fitted on the first rows and
 * scored by R² on the rest. Solved in the primal (d×d) or dual (n×n) form, whichever is smaller.
 */
import { recycleF64, takeF64 } from '../util/f64-pool';
import { gramUpper, gramUpperInto } from '../util/gram';
import { choleskySolve } from './matrix';

/** Default ridge penalty relative to the mean feature variance (see ridgeProbeR2). */
export const PROBE_LAMBDA = 0.1;

/**
 * X [n, d] row-major, y [n]; rows < nTrain train, the others test. λ = lambdaRel · trace(XcᵀXc) / d with Xc
 * the centred training features, so the penalty is scale-free. Returns R² = 1 − SS_res / SS_tot on the test
 * rows (≤ 1; negative when worse than predicting the training mean; 0 when the test targets are constant).
 */
export function ridgeProbeR2(
  X: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  d: number,
  nTrain: number,
  lambdaRel = PROBE_LAMBDA,
): number {
  const pred = ridgeProbePredict(X, y, n, d, nTrain, lambdaRel);
  return r2Score(y, pred, nTrain);
}

/**
 * R² = 1 − SS_res / SS_tot of predictions pred[i] for y[offset + i], over the rows idx of pred (default all;
 * a bootstrap passes resampled indices). 0 when the targets are constant.
 */
export function r2Score(y: ArrayLike<number>, pred: ArrayLike<number>, offset = 0, idx?: ArrayLike<number>): number {
  const m = idx ? idx.length : pred.length;
  let mt = 0;
  for (let k = 0; k < m; k++) mt += y[offset + (idx ? idx[k] : k)];
  mt /= m;
  let ssRes = 0;
  let ssTot = 0;
  for (let k = 0; k < m; k++) {
    const i = idx ? idx[k] : k;
    ssRes += (y[offset + i] - pred[i]) ** 2;
    ssTot += (y[offset + i] - mt) ** 2;
  }
  return ssTot > 0 ? 1 - ssRes / ssTot : 0;
}

/** The ridge probe of ridgeProbeR2, returning its predictions for the test rows nTrain … n − 1. */
export function ridgeProbePredict(
  X: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  d: number,
  nTrain: number,
  lambdaRel = PROBE_LAMBDA,
): Float64Array {
  if (nTrain < 1 || nTrain >= n) throw new Error(`ridgeProbeR2: need 1 ≤ nTrain < n (got ${nTrain}, ${n})`);
  const mx = new Float64Array(d);
  let my = 0;
  for (let r = 0; r < nTrain; r++) {
    for (let j = 0; j < d; j++) mx[j] += X[r * d + j];
    my += y[r];
  }
  for (let j = 0; j < d; j++) mx[j] /= nTrain;
  my /= nTrain;
  // The centred copy is pooled (the retention section fits 400 probes of 1024 × 100 per report), and one pass
  // writes it, its trace and Xcᵀyc.
  const Xc = takeF64(nTrain * d);
  const yc = new Float64Array(nTrain);
  const rhs = new Float64Array(d);
  let trace = 0;
  for (let r = 0; r < nTrain; r++) {
    const yr = y[r] - my;
    for (let j = 0; j < d; j++) {
      const v = X[r * d + j] - mx[j];
      Xc[r * d + j] = v;
      trace += v * v;
      rhs[j] += v * yr;
    }
    yc[r] = yr;
  }
  // States or targets that are not finite (a NaN model) cannot be fitted: no prediction, not an exception.
  const w = Number.isFinite(trace) && Number.isFinite(my) ? ridgeWeights(Xc, yc, rhs, trace, d, nTrain, lambdaRel) : null;
  recycleF64(Xc);
  if (!w) return new Float64Array(n - nTrain).fill(NaN);
  const pred = new Float64Array(n - nTrain);
  for (let r = nTrain; r < n; r++) {
    let p = my;
    for (let j = 0; j < d; j++) p += (X[r * d + j] - mx[j]) * w[j];
    pred[r - nTrain] = p;
  }
  return pred;
}

/** The ridge weights for centred rows Xc [nTrain, d], targets yc and rhs = Xcᵀyc (primal or dual form). */
function ridgeWeights(
  Xc: Float64Array,
  yc: Float64Array,
  rhs: Float64Array,
  trace: number,
  d: number,
  nTrain: number,
  lambdaRel: number,
): Float64Array {
  const lambda = trace > 0 ? (lambdaRel * trace) / d : 1;
  if (d <= nTrain) return solveRidge(gramUpper(Xc, nTrain, d), d, lambda, rhs);
  const K = new Float64Array(nTrain * nTrain);
  for (let a = 0; a < nTrain; a++) {
    for (let b = a; b < nTrain; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += Xc[a * d + j] * Xc[b * d + j];
      K[a * nTrain + b] = K[b * nTrain + a] = s;
    }
    K[a * nTrain + a] += lambda;
  }
  const alpha = choleskySolve(K, nTrain, yc);
  const w = new Float64Array(d);
  for (let r = 0; r < nTrain; r++) for (let j = 0; j < d; j++) w[j] += alpha[r] * Xc[r * d + j];
  return w;
}

/** w = (A + λI)⁻¹ rhs for A [d, d] of which the upper triangle is read (A is overwritten). */
function solveRidge(A: Float64Array, d: number, lambda: number, rhs: Float64Array): Float64Array {
  for (let i = 0; i < d; i++) {
    A[i * d + i] += lambda;
    for (let j = 0; j < i; j++) A[i * d + j] = A[j * d + i];
  }
  return choleskySolve(A, d, rhs);
}

/**
 * The ridge probe of ridgeProbePredict (primal form) fitted from training rows that arrive in blocks, keeping
 * only sums instead of the rows: the retention section sees its 1024 training sequences 64 at a time and
 * fits 400 probes, whose rows were 160 MB of fresh memory for a 4 × 100 model (page faults costing more than
 * the fits). It accumulates the Gram matrix of the rows [x − s, y − s_y, 1], s the first block's means, so
 * that centring afterwards subtracts no large numbers; the fit equals ridgeProbePredict's up to rounding.
 * For d > rows ridgeProbePredict's dual form is cheaper: keep the rows there.
 */
export class RidgeAccumulator {
  /** Upper triangle of Σ z zᵀ, z = [x − s, y − s_y, 1], [D, D] with D = d + 2. */
  private readonly sums: Float64Array;
  /** s (d values), then s_y; set by the first block. */
  private readonly shift: Float64Array;
  private started = false;

  constructor(readonly d: number) {
    const D = d + 2;
    this.sums = new Float64Array(D * D);
    this.shift = new Float64Array(d + 1);
  }

  /** Adds the rows X [n, d] (row-major) with targets y[yOffset … yOffset + n). */
  add(X: Float32Array | Float64Array, y: ArrayLike<number>, yOffset: number, n: number): void {
    const { d, shift, sums } = this;
    const D = d + 2;
    if (n < 1) return;
    if (!this.started) {
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < d; j++) shift[j] += X[r * d + j];
        shift[d] += y[yOffset + r];
      }
      for (let j = 0; j <= d; j++) shift[j] /= n;
      this.started = true;
    }
    // One scratch for the block's rows z and their Gram.
    const buf = scratch(n * D + D * D);
    const z = buf.subarray(0, n * D);
    for (let r = 0; r < n; r++) {
      const o = r * D;
      for (let j = 0; j < d; j++) z[o + j] = X[r * d + j] - shift[j];
      z[o + d] = y[yOffset + r] - shift[d];
      z[o + d + 1] = 1;
    }
    const G = gramUpperInto(z, n, D, buf.subarray(n * D));
    for (let i = 0; i < D; i++) for (let j = i; j < D; j++) sums[i * D + j] += G[i * D + j];
  }

  /**
   * Predictions for the test rows X [n, d] (ridgeProbePredict's for the same training rows, λ relative as
   * there); NaN where the training rows or targets were not finite or there were none.
   */
  predict(X: Float32Array | Float64Array, n: number, lambdaRel = PROBE_LAMBDA): Float64Array {
    const { d, shift, sums } = this;
    const D = d + 2;
    const rows = sums[(d + 1) * D + d + 1];
    const pred = new Float64Array(n);
    // Means of x − s and y − s_y; the centred Gram and Xcᵀyc follow from the sums.
    const m = new Float64Array(d + 1);
    for (let j = 0; j <= d; j++) m[j] = sums[j * D + d + 1] / rows;
    const A = new Float64Array(d * d);
    const rhs = new Float64Array(d);
    let trace = 0;
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) A[i * d + j] = sums[i * D + j] - rows * m[i] * m[j];
      rhs[i] = sums[i * D + d] - rows * m[i] * m[d];
      trace += A[i * d + i];
    }
    const my = shift[d] + m[d];
    if (!(rows > 0) || !Number.isFinite(trace) || !Number.isFinite(my)) return pred.fill(NaN);
    const w = solveRidge(A, d, trace > 0 ? (lambdaRel * trace) / d : 1, rhs);
    const mx = new Float64Array(d);
    for (let j = 0; j < d; j++) mx[j] = shift[j] + m[j];
    for (let r = 0; r < n; r++) {
      let p = my;
      for (let j = 0; j < d; j++) p += (X[r * d + j] - mx[j]) * w[j];
      pred[r] = p;
    }
    return pred;
  }
}

/**
 * Scratch of the accumulators (one thread: every add uses it and is done with it before returning). Not
 * takeF64: a block's rows are below its pooling size, and 6400 fresh ones per report were garbage.
 */
let addScratch = new Float64Array(0);
function scratch(n: number): Float64Array {
  if (addScratch.length < n) addScratch = new Float64Array(n);
  return addScratch.subarray(0, n);
}
