/**
 * Fixed and slow points of one layer's full state map s ↦ F(s, x*) under a constant input, for any cell that
 * can be evaluated from an arbitrary state (CellDef initialState). Search, bounded in cost:
 *  1. starts: observed states of the first sequence (every fourth one mirrored, −s) plus noise (5% of their
 *     spread), and the zero state;
 *  2. a short run of the dynamics from every start (one batched call), keeping each trajectory's final and
 *     slowest state as candidates (the slowest approach saddles);
 *  3. Levenberg–Marquardt on q(s) = ½‖F(s) − s‖² from the best distinct candidates, with finite-difference
 *     Jacobians of F (so custom cells work);
 *  4. classification by the Jacobian's largest |eigenvalue| (dense QR), deduplication, 2-D PCA.
 * A layer above the first gets the lower layers' settled response to x* (run from the zero state).
 */
import { layerCell } from '../cells/index';
import type { Model } from '../model/model';
import { layerParams, type CellResolver, type ForwardResult } from '../model/network';
import { Rng } from '../util/rng';
import { choleskySolve, norm, spectralRadius } from './linalg';
import { pca2 } from './pca';
import { makeStepper, packStates, sequenceRows, type LayerStepper } from './state';
import type { CellularAttractors, FixedPoint, FixedPointReport } from './types';
import { supportsInitialState, type LayerParams } from '../cells/types';

/** ‖F(s) − s‖ below this is a fixed point; up to SLOW_TOL a slow point. */
export const FIXED_TOL = 1e-8;
export const SLOW_TOL = 1e-3;
/** |λ|max within this of 1 is marginal. */
export const MARGINAL_TOL = 1e-3;
/** Finite-difference Jacobians per candidate in Levenberg–Marquardt (chord steps in between). */
const MAX_JACOBIANS = 2;

export interface FixedPointSearchOptions {
  /**
   * Most dynamics steps from every start (default 200; the run stops early once every trajectory has
   * settled). Trained memory cells have update gates near 1 and approach their attractors slowly: 40 steps
   * left a trained 2×32 BRC near its unstable points for 2 of 3 seeds, 200 found its stable ones for all.
   */
  steps?: number;
  /** Candidates refined by Levenberg–Marquardt (default 4). */
  candidates?: number;
  /** Points returned at most (default 12). */
  maxPoints?: number;
}

export interface FoundPoint {
  state: Float64Array;
  residual: number;
  maxEigenvalue: number;
  stability: FixedPoint['stability'];
  slow: boolean;
}

/** F(s) − s for one state. */
function residualOf(st: LayerStepper, x: Float64Array, s: Float64Array): Float64Array {
  const f = st.step(s, 1, x);
  for (let i = 0; i < f.length; i++) f[i] -= s[i];
  return f;
}

/** Forward-difference Jacobian J[i, k] = ∂F_i/∂s_k (one batched step of S + 1 states). */
export function stateJacobian(st: LayerStepper, x: Float64Array, s: Float64Array, eps = 1e-6): Float64Array {
  const S = st.S;
  const states = new Float64Array((S + 1) * S);
  const steps = new Float64Array(S);
  for (let r = 0; r <= S; r++) states.set(s, r * S);
  for (let k = 0; k < S; k++) {
    steps[k] = eps * Math.max(1, Math.abs(s[k]));
    states[(k + 1) * S + k] += steps[k];
  }
  const out = st.step(states, S + 1, x);
  const J = new Float64Array(S * S);
  for (let k = 0; k < S; k++) for (let i = 0; i < S; i++) J[i * S + k] = (out[(k + 1) * S + i] - out[i]) / steps[k];
  return J;
}

/** Levenberg–Marquardt on ½‖F(s) − s‖²; returns the refined state, its residual and the last Jacobian. */
function refine(st: LayerStepper, x: Float64Array, s0: Float64Array): { s: Float64Array; res: number; J: Float64Array; jAt: Float64Array } {
  const S = st.S;
  let s = Float64Array.from(s0);
  let r = residualOf(st, x, s);
  let q = norm(r);
  let J = stateJacobian(st, x, s);
  let jAt = Float64Array.from(s);
  for (let jac = 0; jac < MAX_JACOBIANS && q > FIXED_TOL; jac++) {
    if (jac > 0) {
      J = stateJacobian(st, x, s);
      jAt = Float64Array.from(s);
    }
    // A = J − I; normal equations (AᵀA + μI) δ = −Aᵀ r.
    const A = Float64Array.from(J);
    for (let i = 0; i < S; i++) A[i * S + i] -= 1;
    const AtA = new Float64Array(S * S);
    for (let k = 0; k < S; k++) {
      const row = k * S;
      for (let i = 0; i < S; i++) {
        const a = A[row + i];
        if (a === 0) continue;
        for (let j = i; j < S; j++) AtA[i * S + j] += a * A[row + j];
      }
    }
    let tr = 0;
    for (let i = 0; i < S; i++) {
      for (let j = 0; j < i; j++) AtA[i * S + j] = AtA[j * S + i];
      tr += AtA[i * S + i];
    }
    let mu = 1e-10 * (tr / S + 1e-300);
    for (let inner = 0; inner < 8 && q > FIXED_TOL; inner++) {
      const g = new Float64Array(S);
      for (let k = 0; k < S; k++) for (let i = 0; i < S; i++) g[i] -= A[k * S + i] * r[k];
      const M = Float64Array.from(AtA);
      for (let i = 0; i < S; i++) M[i * S + i] += mu;
      let delta: Float64Array;
      try {
        delta = choleskySolve(M, S, g);
      } catch {
        mu *= 100;
        continue;
      }
      const next = new Float64Array(S);
      for (let i = 0; i < S; i++) next[i] = s[i] + delta[i];
      const rn = residualOf(st, x, next);
      const qn = norm(rn);
      if (qn < q) {
        s = next;
        r = rn;
        q = qn;
        mu = Math.max(mu / 10, 1e-14 * (tr / S));
      } else {
        mu *= 10;
        if (mu > 1e6 * (tr / S + 1)) break;
      }
    }
  }
  return { s, res: q, J, jAt };
}

function distance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** Chunk of dynamics steps between checks whether every trajectory has settled. */
const RUN_CHUNK = 40;

/** Runs the dynamics from `starts` [n, S] for up to maxSteps, in chunks, until no state moves by FIXED_TOL. */
function runDynamics(st: LayerStepper, x: Float64Array, starts: Float64Array, n: number, maxSteps: number): { run: Float64Array; K: number } {
  const S = st.S;
  const chunks: Float64Array[] = [];
  let cur = starts;
  let K = 0;
  while (K < maxSteps) {
    const k = Math.min(RUN_CHUNK, maxSteps - K);
    const r = st.run(cur, n, x, k);
    chunks.push(r);
    K += k;
    const last = r.subarray((k - 1) * n * S, k * n * S);
    const before = k > 1 ? r.subarray((k - 2) * n * S, (k - 1) * n * S) : cur;
    cur = last.slice();
    let moved = 0;
    for (let i = 0; i < n; i++) moved = Math.max(moved, distance(before.subarray(i * S, i * S + S), last.subarray(i * S, i * S + S)));
    if (moved < FIXED_TOL) break;
  }
  if (chunks.length === 1) return { run: chunks[0], K };
  const run = new Float64Array(K * n * S);
  let o = 0;
  for (const c of chunks) {
    run.set(c, o);
    o += c.length;
  }
  return { run, K };
}

/**
 * Fixed/slow points of st under the constant input x from the given starts [n, S]. Also returns the
 * dynamics trajectories ([steps + 1, S] each, start included).
 */
export function searchFixedPoints(
  st: LayerStepper, x: Float64Array, starts: Float64Array, n: number, opts: FixedPointSearchOptions = {},
): { points: FoundPoint[]; trajectories: Float64Array[] } {
  const S = st.S;
  const { run, K } = runDynamics(st, x, starts, n, Math.max(1, opts.steps ?? 200));
  const trajectories: Float64Array[] = [];
  // Where each trajectory ended (towards attractors) and where it moved slowest (near saddles).
  const finals: { s: Float64Array; speed: number }[] = [];
  const slowest: { s: Float64Array; speed: number }[] = [];
  for (let i = 0; i < n; i++) {
    const tr = new Float64Array((K + 1) * S);
    tr.set(starts.subarray(i * S, i * S + S), 0);
    for (let k = 0; k < K; k++) tr.set(run.subarray((k * n + i) * S, (k * n + i + 1) * S), (k + 1) * S);
    trajectories.push(tr);
    let best = -1;
    let bestSpeed = Infinity;
    for (let k = 0; k < K; k++) {
      const v = distance(tr.subarray(k * S, k * S + S), tr.subarray((k + 1) * S, (k + 2) * S));
      if (v < bestSpeed) {
        bestSpeed = v;
        best = k;
      }
    }
    const last = K - 1;
    const lastSpeed = distance(tr.subarray(last * S, last * S + S), tr.subarray(K * S, K * S + S));
    finals.push({ s: tr.slice(K * S, K * S + S), speed: lastSpeed });
    if (best !== last) slowest.push({ s: tr.slice(best * S, best * S + S), speed: bestSpeed });
  }
  const bySpeed = (a: { speed: number }, b: { speed: number }) => a.speed - b.speed;
  finals.sort(bySpeed);
  slowest.sort(bySpeed);
  const zero = new Float64Array(S);
  const chosen: Float64Array[] = [];
  const sep = 1e-2 * Math.sqrt(S);
  const nCand = Math.max(1, opts.candidates ?? 4);
  const add = (s: Float64Array) => {
    if (chosen.length < nCand - 1 && chosen.every((o) => distance(o, s) > sep)) chosen.push(s);
  };
  // Half of the candidates from where the dynamics went, so slow attractors are not crowded out by the
  // slow points that every escape from a saddle starts with; then saddle candidates; then the rest.
  for (const c of finals.slice(0, Math.ceil((nCand - 1) / 2))) add(c.s);
  for (const c of slowest) add(c.s);
  for (const c of finals) add(c.s);
  // The zero state is always tried: it is every sequence's start and often a saddle between attractors.
  if (chosen.every((o) => distance(o, zero) > sep)) chosen.push(zero);

  const found: FoundPoint[] = [];
  // Points closer than this (RMS 0.01 per coordinate) are one point; degenerate fixed points converge slowly
  // and would otherwise appear as a cloud.
  const same = 1e-2 * Math.sqrt(S);
  for (const c of chosen) {
    const { s, res, J, jAt } = refine(st, x, c);
    if (!(res <= SLOW_TOL)) continue;
    if (found.some((f) => distance(f.state, s) < same && f.residual <= res)) continue;
    const Jf = distance(jAt, s) < 1e-4 ? J : stateJacobian(st, x, s);
    const rho = spectralRadius(Jf, S);
    const stability = rho < 1 - MARGINAL_TOL ? 'stable' : rho > 1 + MARGINAL_TOL ? 'unstable' : 'marginal';
    for (let i = found.length - 1; i >= 0; i--) if (distance(found[i].state, s) < same) found.splice(i, 1);
    found.push({ state: s, residual: res, maxEigenvalue: rho, stability, slow: res > FIXED_TOL });
  }
  const order = { stable: 0, marginal: 1, unstable: 2 } as const;
  found.sort((a, b) => Number(a.slow) - Number(b.slow) || order[a.stability] - order[b.stability] || a.residual - b.residual);
  return { points: found.slice(0, opts.maxPoints ?? 12), trajectories };
}

/** Grid cells on (−1, 1) in which each neuron's fixed-point equation is scanned for sign changes. */
const ROOT_GRID = 4000;

/**
 * Stable fixed points of every neuron of a BRC layer under the constant layer input u [I]. Neuron j's map is
 * F(h) = c(h) h + (1 − c(h)) tanh(d + a(h) h) with d = u·U_j, a(h) = 1 + tanh(u·U_a,j + w_a h + b_a),
 * c(h) = σ(u·U_c,j + w_c h + b_c). Since c < 1, F(h) = h exactly where g(h) = tanh(d + a(h) h) − h = 0 (roots
 * lie in (−1, 1)), and F'(h) = c + (1 − c) sech²(d + a h) (a + a'(h) h) there. Roots are bracketed on a grid
 * and bisected; a root is stable when |F'| < 1.
 */
export function brcCellularAttractors(p: LayerParams, u: ArrayLike<number>, I: number, H: number): CellularAttractors {
  const stablePerNeuron: number[] = new Array(H).fill(0);
  for (let j = 0; j < H; j++) {
    let d = 0, pa = p.b_a[j], pc = p.b_c[j];
    for (let i = 0; i < I; i++) {
      d += u[i] * p.U[i * H + j];
      pa += u[i] * p.U_a[i * H + j];
      pc += u[i] * p.U_c[i * H + j];
    }
    const wa = p.w_a[j], wc = p.w_c[j];
    const a = (h: number) => 1 + Math.tanh(pa + wa * h);
    const g = (h: number) => Math.tanh(d + a(h) * h) - h;
    let stable = 0;
    let h0 = -1, g0 = g(h0);
    for (let k = 1; k <= ROOT_GRID; k++) {
      const h1 = -1 + (2 * k) / ROOT_GRID;
      const g1 = g(h1);
      if (g0 === 0 || (g0 < 0) !== (g1 < 0)) {
        let lo = h0, hi = h1;
        if (g0 !== 0) {
          for (let it = 0; it < 60; it++) {
            const m = 0.5 * (lo + hi);
            if ((g(m) < 0) === (g0 < 0)) lo = m;
            else hi = m;
          }
        }
        const h = g0 === 0 ? h0 : 0.5 * (lo + hi);
        const c = 1 / (1 + Math.exp(-(pc + wc * h)));
        const ah = a(h);
        const da = wa * (1 - Math.tanh(pa + wa * h) ** 2);
        const z = Math.tanh(d + ah * h);
        const slope = c + (1 - c) * (1 - z * z) * (ah + da * h);
        if (Math.abs(slope) < 1) stable++;
      }
      h0 = h1;
      g0 = g1;
    }
    // No stable root means |F'| > 1 at every root: the neuron then settles on an attracting cycle instead (one state).
    stablePerNeuron[j] = Math.max(1, stable);
  }
  let log2 = 0;
  for (const n of stablePerNeuron) log2 += Math.log2(n);
  return { units: H, stablePerNeuron, bistableNeurons: stablePerNeuron.filter((n) => n >= 2).length, log2StableStates: log2 };
}

export interface FixedPointOptions extends FixedPointSearchOptions {
  /** Layer to analyse (default: the last). */
  layer?: number;
  /** Constant model input x* (default zeros). */
  input?: number[];
  /** Starts of the dynamics (default 8). */
  starts?: number;
  seed?: number;
  /** Steps for the lower layers to settle under x* (default 100). */
  settleSteps?: number;
  /** Trajectories included in the report (default 8). */
  maxTrajectories?: number;
  /** Cells that support initialState (default: reference). */
  stepCells: CellResolver;
}

export function analyzeFixedPoints(model: Model, fr: ForwardResult, opts: FixedPointOptions): FixedPointReport {
  const { arch } = model;
  const L = arch.layers.length;
  const layer = opts.layer ?? L - 1;
  if (!Number.isInteger(layer) || layer < 0 || layer >= L) throw new Error(`fixed points: layer ${layer} does not exist (the model has ${L} layer${L === 1 ? '' : 's'})`);
  const input = opts.input ?? new Array(arch.inputSize).fill(0);
  if (input.length !== arch.inputSize || input.some((v) => !Number.isFinite(v))) {
    throw new Error(`fixed points: the constant input must be ${arch.inputSize} finite number${arch.inputSize === 1 ? '' : 's'}`);
  }
  // The analysed layer's constant input: the lower layers' response to x* after settling from zero.
  const settle = Math.max(1, opts.settleSteps ?? 100);
  let u = Float64Array.from(input);
  for (let l = 0; l < layer; l++) {
    const I = u.length;
    const H = arch.layers[l].units;
    const lower = layerCell(arch.layers[l], opts.stepCells);
    const p = layerParams(model, l);
    if (supportsInitialState(lower)) {
      // The stepper folds the constant input into the kernels once.
      const st = makeStepper(lower, p, I, H);
      u = st.run(new Float64Array(st.S), 1, u, settle).slice((settle - 1) * st.S, (settle - 1) * st.S + H);
    } else {
      const xs = new Float64Array(settle * I);
      for (let t = 0; t < settle; t++) xs.set(u, t * I);
      u = lower.forward(p, xs, { T: settle, B: 1, inputSize: I, units: H }).h.slice((settle - 1) * H, settle * H);
    }
  }
  const empty = (note: string): FixedPointReport => ({
    layer, input, layerInput: Array.from(u), points: [], trajectories: [], observed: [], explainedVariance: [0, 0], note,
  });
  const spec = arch.layers[layer];
  const def = layerCell(spec, opts.stepCells);
  const tr = fr.layers[layer];
  const { T, B, inputSize: I, units: H } = tr.shape;
  let st: LayerStepper;
  try {
    st = makeStepper(def, layerParams(model, layer), I, H);
  } catch (e) {
    return empty((e as Error).message);
  }
  const S = st.S;
  // Observed states of the first sequence (h, plus c for LSTM from the engine's trace or recomputed).
  let fwd = tr.fwd;
  if (S !== H && !fwd.gates.cell) fwd = def.forward(layerParams(model, layer), sequenceRows(tr.x, T, B, I, 0), { T, B: 1, inputSize: I, units: H });
  const sB = fwd.h.length / (T * H);
  const observed = sequenceRows(packStates(fwd, T, sB, H, S), T, sB, S, 0);

  const rng = new Rng((opts.seed ?? 1) + 4241);
  const n = Math.max(1, opts.starts ?? 8);
  let spread = 0;
  const mean = new Float64Array(S);
  for (let t = 0; t < T; t++) for (let i = 0; i < S; i++) mean[i] += observed[t * S + i] / T;
  for (let t = 0; t < T; t++) for (let i = 0; i < S; i++) spread += (observed[t * S + i] - mean[i]) ** 2;
  const sigma = 0.05 * Math.sqrt(spread / (T * S) + 1e-4);
  const starts = new Float64Array(n * S);
  for (let k = 0; k < n; k++) {
    const t = rng.int(T);
    // Every fourth start is a mirrored state (−s): tanh-like cells are often near odd-symmetric, and the
    // observed sequence may have visited only one of a pair of attractors.
    const sign = k % 4 === 3 ? -1 : 1;
    for (let i = 0; i < S; i++) starts[k * S + i] = sign * observed[t * S + i] + sigma * rng.normal();
  }
  const res = searchFixedPoints(st, u, starts, n, opts);
  const pca = pca2(observed, T, S, 256);
  const project = (a: Float64Array, rows: number): [number, number][] => Array.from({ length: rows }, (_, r) => pca.project(a, r * S));
  return {
    layer,
    input,
    layerInput: Array.from(u),
    points: res.points.map((p) => ({
      state: Array.from(p.state),
      residual: p.residual,
      maxEigenvalue: p.maxEigenvalue,
      stability: p.stability,
      slow: p.slow,
      pca: pca.project(p.state),
    })),
    trajectories: res.trajectories.slice(0, opts.maxTrajectories ?? 8).map((t) => project(t, t.length / S)),
    observed: project(observed, T),
    explainedVariance: pca.explained,
    ...(spec.cell === 'brc' ? { cellular: brcCellularAttractors(layerParams(model, layer), u, I, H) } : {}),
  };
}
