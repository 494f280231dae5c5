/**
 * Linear decodability: a ridge regression from features to a scalar target, fitted on the first rows and
 * scored by R² on the rest. Solved in the primal (d×d) or dual (n×n) form, whichever is smaller.
 */
import { recycleF64, takeF64 } from '../util/f64-pool';
import { gramUpper, gramUpperInto } from '../util/gram';
import { choleskySolve, symmetricEigenvalues } from './matrix';

/**
 * The relative penalties (λ = λ_rel · trace(XcᵀXc) / d, Xc the centred training features, so scale-free) that
 * generalized cross-validation chooses among: 10⁻⁸ … 10, a quarter decade apart. A fixed λ_rel does not
 * shrink with the training set: 0.1 cost a trained BRC's probe up to 0.18 of R² at every size (0.56 against
 * 0.74 five steps after x_1), which the report then blamed on too few training sequences.
 */
export const GCV_GRID: readonly number[] = Array.from({ length: 37 }, (_, k) => 10 ** (-8 + k / 4));

/** A probe's test-row predictions and the relative penalty it was fitted with. */
export interface ProbeFit {
  pred: Float64Array;
  lambda: number;
}

/**
 * X [n, d] row-major, y [n]; rows < nTrain train, the others test. λ_rel as in GCV_GRID: the given one, or
 * (undefined) the one generalized cross-validation chooses on the training rows. Returns R² = 1 − SS_res /
 * SS_tot on the test rows (≤ 1; negative when worse than predicting the training mean; 0 when the test
 * targets are constant).
 */
export function ridgeProbeR2(X: ArrayLike<number>, y: ArrayLike<number>, n: number, d: number, nTrain: number, lambdaRel?: number): number {
  return r2Score(y, ridgeProbePredict(X, y, n, d, nTrain, lambdaRel).pred, nTrain);
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

/** The ridge probe of ridgeProbeR2: its predictions for the test rows nTrain … n − 1, and its λ_rel. */
export function ridgeProbePredict(
  X: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  d: number,
  nTrain: number,
  lambdaRel?: number,
): ProbeFit {
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
  let yy = 0;
  for (let r = 0; r < nTrain; r++) {
    const yr = y[r] - my;
    for (let j = 0; j < d; j++) {
      const v = X[r * d + j] - mx[j];
      Xc[r * d + j] = v;
      trace += v * v;
      rhs[j] += v * yr;
    }
    yc[r] = yr;
    yy += yr * yr;
  }
  // States or targets that are not finite (a NaN model) cannot be fitted: no prediction, not an exception.
  const fit = Number.isFinite(trace) && Number.isFinite(yy) ? ridgeWeights(Xc, yc, rhs, trace, yy, d, nTrain, lambdaRel) : null;
  recycleF64(Xc);
  if (!fit) return { pred: new Float64Array(n - nTrain).fill(NaN), lambda: NaN };
  const pred = new Float64Array(n - nTrain);
  for (let r = nTrain; r < n; r++) {
    let p = my;
    for (let j = 0; j < d; j++) p += (X[r * d + j] - mx[j]) * fit.w[j];
    pred[r - nTrain] = p;
  }
  return { pred, lambda: fit.lambda };
}

/**
 * The ridge weights for centred rows Xc [nTrain, d], targets yc, rhs = Xcᵀyc and yy = ycᵀyc (primal or dual
 * form), with λ_rel given or chosen by GCV.
 */
function ridgeWeights(
  Xc: Float64Array,
  yc: Float64Array,
  rhs: Float64Array,
  trace: number,
  yy: number,
  d: number,
  nTrain: number,
  lambdaRel: number | undefined,
): { w: Float64Array; lambda: number } {
  const scale = trace / d;
  if (d <= nTrain) {
    const A = gramUpper(Xc, nTrain, d);
    const rel = lambdaRel ?? gcvLambda(A, d, rhs, yy, nTrain, scale, false);
    return { w: solveRidge(A, d, absoluteLambda(rel, scale), rhs), lambda: rel };
  }
  const K = new Float64Array(nTrain * nTrain);
  for (let a = 0; a < nTrain; a++) {
    for (let b = a; b < nTrain; b++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += Xc[a * d + j] * Xc[b * d + j];
      K[a * nTrain + b] = K[b * nTrain + a] = s;
    }
  }
  const rel = lambdaRel ?? gcvLambda(K, nTrain, yc, yy, nTrain, scale, true);
  const lambda = absoluteLambda(rel, scale);
  for (let a = 0; a < nTrain; a++) K[a * nTrain + a] += lambda;
  const alpha = choleskySolve(K, nTrain, yc);
  const w = new Float64Array(d);
  for (let r = 0; r < nTrain; r++) for (let j = 0; j < d; j++) w[j] += alpha[r] * Xc[r * d + j];
  return { w, lambda: rel };
}

/** λ from λ_rel and the mean feature variance × rows; constant features (scale 0) get λ = 1. */
function absoluteLambda(rel: number, scale: number): number {
  return scale > 0 ? rel * scale : 1;
}

/**
 * The λ_rel of GCV_GRID chosen by generalized cross-validation (Golub, Heath & Wahba 1979), the
 * rotation-invariant closed form of ridge's leave-one-out error: GCV(λ) = RSS(λ) / (1 − (1 + df(λ)) / n)²
 * (the 1 is the intercept). M is the centred Gram [d, d] with v = Xcᵀyc, or (dual) the kernel XcXcᵀ [n, n]
 * with v = yc; its eigenvalues e_i and the projections z_i of v give u_i² = z_i² / e_i (dual: z_i²), and
 *   RSS(λ) = R₀ + Σ u_i² λ² / (e_i + λ)²,  n − 1 − df(λ) = n − 1 − m + Σ λ / (e_i + λ),
 * R₀ = yy − Σ u_i² the residual outside the features' span: sums of nonnegative terms, so that a fit close to
 * interpolation (n ≤ d) is not lost to cancellation. M's upper triangle is read and M is left as it was; the
 * eigenvalues cost about four Cholesky solves of M.
 */
export function gcvLambda(M: Float64Array, m: number, v: Float64Array, yy: number, n: number, scale: number, dual: boolean): number {
  if (!(scale > 0)) return 1;
  const L = takeF64(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) L[i * m + j] = M[j * m + i];
  const u2 = Float64Array.from(v);
  const e = symmetricEigenvalues(L, m, u2);
  recycleF64(L);
  let top = 0;
  for (let i = 0; i < m; i++) top = Math.max(top, e[i]);
  // Directions with eigenvalues at rounding level are the features' null space: nothing of y is fitted there.
  let spanned = 0;
  for (let i = 0; i < m; i++) {
    if (e[i] > 1e-12 * top) u2[i] = dual ? u2[i] * u2[i] : (u2[i] * u2[i]) / e[i];
    else e[i] = u2[i] = 0;
    spanned += u2[i];
  }
  const r0 = Math.max(0, yy - spanned);
  const scores = GCV_GRID.map((rel) => {
    const lambda = rel * scale;
    // A Gram from sums is exact to about 1e-13 of its largest eigenvalue: below that, λ would not keep the
    // Cholesky factorisation of a singular Gram (a constant unit) positive.
    if (lambda < 1e-10 * top) return Infinity;
    let rss = r0;
    let rest = n - 1 - m;
    for (let i = 0; i < m; i++) {
      const q = lambda / (e[i] + lambda);
      rss += u2[i] * q * q;
      rest += q;
    }
    return rest > 0 ? (rss * n * n) / (rest * rest) : Infinity;
  });
  const min = Math.min(...scores);
  if (!Number.isFinite(min)) return GCV_GRID[GCV_GRID.length - 1];
  // The one-standard-error rule: the largest λ whose score is within a standard error of the minimum (a mean
  // of n squared residuals: ± √(2/n) of itself). The minimum alone sat at λ_rel ≈ 1e-6 where GCV is flat,
  // and one held-out BRC state outside the training states' span (a unit that never flipped in training)
  // then drew a prediction of 7.4 for x_1 = 0.38, taking R² from 0.99 to 0.78.
  const within = min * (1 + Math.sqrt(2 / n));
  for (let k = scores.length - 1; k >= 0; k--) if (scores[k] <= within) return GCV_GRID[k];
  return GCV_GRID[scores.indexOf(min)];
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
   * Predictions for the test rows X [n, d] and λ_rel (ridgeProbePredict's for the same training rows); NaN
   * where the training rows or targets were not finite or there were none.
   */
  predict(X: Float32Array | Float64Array, n: number, lambdaRel?: number): ProbeFit {
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
    const yy = sums[d * D + d] - rows * m[d] * m[d];
    const my = shift[d] + m[d];
    if (!(rows > 0) || !Number.isFinite(trace) || !Number.isFinite(yy) || !Number.isFinite(my))
      return { pred: pred.fill(NaN), lambda: NaN };
    const rel = lambdaRel ?? gcvLambda(A, d, rhs, yy, rows, trace / d, false);
    const w = solveRidge(A, d, absoluteLambda(rel, trace / d), rhs);
    const mx = new Float64Array(d);
    for (let j = 0; j < d; j++) mx[j] = shift[j] + m[j];
    for (let r = 0; r < n; r++) {
      let p = my;
      for (let j = 0; j < d; j++) p += (X[r * d + j] - mx[j]) * w[j];
      pred[r] = p;
    }
    return { pred, lambda: rel };
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
