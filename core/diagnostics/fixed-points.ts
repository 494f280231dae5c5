/**
 * Fixed and slow points of one layer's full state map s ↦ F(s, x*) under a constant input, for any cell that
 * can be evaluated from an arbitrary state (CellDef initialState). The search is bounded and says so: every
 * count it reports is a lower bound ("at least"), never a proof that no other attractor exists.
 *  1. starts: observed states of the whole batch (every sequence, several times each; some mirrored −s or
 *     with noise of 5 % of their spread), subsampled to a bounded number of runs;
 *  2. the dynamics from every start (batched), each run stopping once settled (estimated distance to its
 *     limit below a tenth of the clustering tolerance), up to a step bound;
 *  3. the settled end states clustered at a stated tolerance; the largest clusters, plus the slowest points
 *     of the runs (near saddles), the slowest unsettled ends and the zero state, refined by Levenberg–Marquardt
 *     on ½‖F(s) − s‖² with finite-difference Jacobians (so custom cells work);
 *  4. classification with a margin δ: stable when the Jacobian's largest |eigenvalue| is ≤ 1 − δ and the
 *     point's basin holds against perturbations the size of one step's observed input effect; unstable when
 *     > 1 + δ; marginal otherwise.
 * A layer above the first gets the lower layers' settled response to x* (run from the zero state).
 */
import { layerCell } from '../cells/index';
import type { Architecture } from '../model/architecture';
import type { Model } from '../model/model';
import { layerParams, type CellResolver, type ForwardResult } from '../model/network';
import { Rng } from '../util/rng';
import { brcCellularAttractors, brcNeuronRoots, cellularClass } from './brc-cellular';
import { choleskySolve, norm, spectralRadius } from './matrix';
import { pca2 } from './pca';
import { makeStepper, packStates, sequenceRows, type LayerStepper } from './state';
import { proportionEstimate } from './stats';
import type { CellularAttractors, FixedPoint, FixedPointReport, FixedPointSearch } from './types';
import { supportsInitialState } from '../cells/types';

export { brcCellularAttractors } from './brc-cellular';

/** ‖F(s) − s‖ below this is a fixed point; up to SLOW_TOL a slow point. */
export const FIXED_TOL = 1e-8;
export const SLOW_TOL = 1e-3;
/** Default margin δ: |λ|max within δ of 1 is marginal (neither stable nor unstable). */
export const MARGINAL_TOL = 1e-3;
/** Default clustering tolerance: states closer than this RMS distance per coordinate are one state. */
export const CLUSTER_TOL = 1e-2;
/** Finite-difference Jacobians per candidate in Levenberg–Marquardt (chord steps in between). */
const MAX_JACOBIANS = 2;
/** Default runs of the search and their step bound (bounded cost: see bench/diagnose.ts). */
export const DEFAULT_STARTS = 128;
export const DEFAULT_STEPS = 200;
/** Steps of the dynamics from a candidate Levenberg–Marquardt left between the fixed and slow tolerances. */
const POLISH_STEPS = 200;
/** Input-effect perturbations tried per stable point in the basin check. */
const BASIN_PROBES = 4;

export interface FixedPointSearchOptions {
  /**
   * Most dynamics steps of every run (default DEFAULT_STEPS; a run stops early once settled). Trained memory cells
   * have update gates near 1 and approach their attractors slowly: 40 steps left a trained 2×32 BRC near its
   * unstable points for 2 of 3 seeds, 200 found its stable ones for all.
   */
  steps?: number;
  /** End states (largest clusters first) and saddle candidates refined and classified at most (default 16). */
  candidates?: number;
  /** Points returned at most (default 32). */
  maxPoints?: number;
  /** RMS distance per coordinate below which two states are one (default CLUSTER_TOL). */
  clusterTolerance?: number;
  /** Margin δ of the classification (default MARGINAL_TOL). */
  margin?: number;
  /**
   * Observed input effects [effectCount, S] (s_{t+1} − F(s_t, x*)) for the basin check: a stable point must
   * return from s* + e for the BASIN_PROBES effects nearest the median size. Without them no basin check.
   */
  effects?: Float64Array;
  effectCount?: number;
  /** Runs whose whole trajectory is returned (default 8). */
  keepTrajectories?: number;
  /**
   * Stepper of the dynamics runs (settling and basin checks), e.g. a float32 engine's, whose batched steps cost
   * a fraction of the reference cell's; refinement, Jacobians and classification always step `st`.
   */
  runner?: LayerStepper;
  /** A run's step below this size counts as settled (default 1e-12; a float32 runner needs FLOAT32_SETTLE_FLOOR·√S). */
  settleFloor?: number;
}

/** Per √S, the step size below which a float32 runner has settled: at a fixed point, rounding (2^-24 relative) leaves steps of a few 1e-8 per coordinate. */
const FLOAT32_SETTLE_FLOOR = 2.5e-7;

export interface FoundPoint {
  state: Float64Array;
  residual: number;
  maxEigenvalue: number;
  stability: FixedPoint['stability'];
  slow: boolean;
  /** Settled runs that ended at this point. */
  runs: number;
  /** Stable by its multiplier: whether its basin held against the input-effect perturbations. */
  basinHeld?: boolean;
}

export interface SearchResult {
  points: FoundPoint[];
  /** Trajectories of the first keepTrajectories runs ([steps + 1, S] each, start included). */
  trajectories: Float64Array[];
  starts: number;
  /** Most steps any run took. */
  steps: number;
  settled: number;
  /** Distinct end states of the settled runs. */
  endStates: number;
  /** Settled runs in the largest end-state cluster. */
  largestCluster: number;
  /** Candidates refined and classified. */
  checked: number;
  /** Lower bounds over all classified points (points may be capped by maxPoints). */
  counts: { stable: number; unstable: number; marginal: number; slow: number };
  clusterTolerance: number;
  margin: number;
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

function distance(a: ArrayLike<number>, b: ArrayLike<number>, ao = 0, bo = 0, S = a.length - ao): number {
  let s = 0;
  for (let i = 0; i < S; i++) s += (a[ao + i] - b[bo + i]) ** 2;
  return Math.sqrt(s);
}

/** Steps per batched call between the checks which runs have settled. */
const RUN_CHUNK = 10;

interface Runs {
  ends: Float64Array;
  settled: Uint8Array;
  /** Per run: the state at its lowest local minimum of speed before the end (near a saddle), or null. */
  dips: ({ s: Float64Array; speed: number } | null)[];
  /** Per run: the size of its last step. */
  lastSpeed: Float64Array;
  trajectories: Float64Array[];
  steps: number;
}

/**
 * Runs the dynamics under x from starts [n, S] for at most maxSteps steps. A run stops once settled: its last
 * step v and contraction ρ = v / v_prev < 1 put its limit within v ρ / (1 − ρ) < settleDist (or v < 1e-12).
 */
function settleRuns(
  st: LayerStepper,
  x: Float64Array,
  starts: Float64Array,
  n: number,
  maxSteps: number,
  settleDist: number,
  keep: number,
  floor = 1e-12,
): Runs {
  const S = st.S;
  const ends = Float64Array.from(starts);
  const settled = new Uint8Array(n);
  const dips: Runs['dips'] = new Array(n).fill(null);
  const lastSpeed = new Float64Array(n).fill(Infinity);
  const prevSpeed = new Float64Array(n).fill(Infinity);
  const prev2Speed = new Float64Array(n).fill(Infinity);
  const kept: number[][] = Array.from({ length: Math.min(keep, n) }, (_, i) => Array.from(starts.subarray(i * S, i * S + S)));
  let active = Array.from({ length: n }, (_, i) => i);
  const stall = settleDist / Math.max(1, maxSteps);
  let K = 0;
  while (K < maxSteps && active.length > 0) {
    const k = Math.min(RUN_CHUNK, maxSteps - K);
    const na = active.length;
    const cur = new Float64Array(na * S);
    active.forEach((o, r) => cur.set(ends.subarray(o * S, o * S + S), r * S));
    const out = st.run(cur, na, x, k);
    K += k;
    const still: number[] = [];
    active.forEach((o, r) => {
      for (let q = 0; q < k; q++) {
        const v = q === 0 ? distance(out, cur, r * S, r * S, S) : distance(out, out, (q * na + r) * S, ((q - 1) * na + r) * S, S);
        // A local minimum of speed at the previous step: the run passed slowly by a (saddle) point.
        if (prevSpeed[o] < prev2Speed[o] && v > prevSpeed[o] && (!dips[o] || prevSpeed[o] < dips[o]!.speed)) {
          const at = q === 0 ? cur.slice(r * S, r * S + S) : out.slice(((q - 1) * na + r) * S, ((q - 1) * na + r) * S + S);
          dips[o] = { s: at, speed: prevSpeed[o] };
        }
        prev2Speed[o] = prevSpeed[o];
        prevSpeed[o] = lastSpeed[o] = v;
        if (o < kept.length) for (let i = 0; i < S; i++) kept[o].push(out[(q * na + r) * S + i]);
      }
      ends.set(out.subarray(((k - 1) * na + r) * S, (k * na + r) * S), o * S);
      const v = lastSpeed[o];
      const rho = k > 1 ? v / prev2Speed[o] : 1;
      if (v < floor || (rho < 1 && (v * rho) / (1 - rho) < settleDist)) settled[o] = 1;
      // Stalled (barely moving but not contracting: a marginal direction): its end is kept as a slow
      // candidate, not counted as settled, and stepping it further would cost without moving it.
      else if (v >= stall) still.push(o);
    });
    active = still;
  }
  return { ends, settled, dips, lastSpeed, trajectories: kept.map((t) => Float64Array.from(t)), steps: K };
}

/** Greedy clustering of rows [n, S] (only where `use`) at radius; returns each cluster's first member and size. */
function cluster(rows: Float64Array, n: number, S: number, use: Uint8Array, radius: number): { rep: number; size: number }[] {
  const out: { rep: number; size: number }[] = [];
  for (let i = 0; i < n; i++) {
    if (!use[i]) continue;
    const c = out.find((q) => distance(rows, rows, q.rep * S, i * S, S) < radius);
    if (c) c.size++;
    else out.push({ rep: i, size: 1 });
  }
  return out.sort((a, b) => b.size - a.size);
}

/**
 * Fixed/slow points of st under the constant input x, searched from the given starts [n, S] (see the file
 * comment). Counts are lower bounds: a point no run came near is not found.
 */
export function searchFixedPoints(
  st: LayerStepper,
  x: Float64Array,
  starts: Float64Array,
  n: number,
  opts: FixedPointSearchOptions = {},
): SearchResult {
  const S = st.S;
  const tol = opts.clusterTolerance ?? CLUSTER_TOL;
  const margin = opts.margin ?? MARGINAL_TOL;
  const radius = tol * Math.sqrt(S);
  const maxSteps = Math.max(1, opts.steps ?? DEFAULT_STEPS);
  const runner = opts.runner ?? st;
  const floor = opts.settleFloor ?? 1e-12;
  const runs = settleRuns(runner, x, starts, n, maxSteps, 0.1 * radius, opts.keepTrajectories ?? 8, floor);
  const clusters = cluster(runs.ends, n, S, runs.settled, radius);
  const nCand = Math.max(1, opts.candidates ?? 16);

  // Candidates: the largest end-state clusters (attractors), then saddle and slow candidates.
  const chosen: { s: Float64Array; runs: number }[] = [];
  const sep = radius;
  const add = (s: Float64Array, runsAt = 0) => {
    if (chosen.every((o) => distance(o.s, s) > sep)) chosen.push({ s, runs: runsAt });
  };
  const nSaddle = Math.max(1, Math.min(4, Math.floor(nCand / 4)));
  for (const c of clusters.slice(0, Math.max(1, nCand - nSaddle - 1))) add(runs.ends.slice(c.rep * S, c.rep * S + S), c.size);
  const slowLimit = chosen.length + nSaddle;
  const dips = runs.dips.filter((d): d is { s: Float64Array; speed: number } => d !== null).sort((a, b) => a.speed - b.speed);
  for (const d of dips) if (chosen.length < slowLimit) add(d.s);
  const unsettled = Array.from({ length: n }, (_, i) => i)
    .filter((i) => !runs.settled[i])
    .sort((a, b) => runs.lastSpeed[a] - runs.lastSpeed[b]);
  for (const i of unsettled) if (chosen.length < nCand - 1) add(runs.ends.slice(i * S, i * S + S));
  // The zero state is always tried: it is every sequence's start and often a saddle between attractors.
  add(new Float64Array(S));

  const found: FoundPoint[] = [];
  for (const c of chosen) {
    let { s, res, J, jAt } = refine(st, x, c.s);
    if (res > FIXED_TOL && res <= SLOW_TOL) {
      // Not converged: if the dynamics contract here, following them (one cheap run) and refining again
      // tells a stable point that Levenberg–Marquardt stopped short of from a genuinely slow one.
      const run = st.run(s, 1, x, POLISH_STEPS);
      const again = refine(st, x, run.subarray((POLISH_STEPS - 1) * S));
      if (again.res < res) ({ s, res, J, jAt } = again);
    }
    if (!(res <= SLOW_TOL)) continue;
    const twin = found.find((f) => distance(f.state, s) < radius);
    if (twin) {
      // One point reached from two candidates: keep the better-converged one, with both candidates' runs.
      if (twin.residual <= res) {
        twin.runs += c.runs;
        continue;
      }
      found.splice(found.indexOf(twin), 1);
      c.runs += twin.runs;
    }
    const Jf = distance(jAt, s) < 1e-4 ? J : stateJacobian(st, x, s);
    const rho = spectralRadius(Jf, S);
    const stability = rho <= 1 - margin ? 'stable' : rho > 1 + margin ? 'unstable' : 'marginal';
    found.push({ state: s, residual: res, maxEigenvalue: rho, stability, slow: res > FIXED_TOL, runs: c.runs });
  }
  if (opts.effects && opts.effectCount) basinCheck(runner, x, found, opts.effects, opts.effectCount, maxSteps, radius, floor);

  const order = { stable: 0, marginal: 1, unstable: 2 } as const;
  found.sort(
    (a, b) => Number(a.slow) - Number(b.slow) || order[a.stability] - order[b.stability] || b.runs - a.runs || a.residual - b.residual,
  );
  const fixed = found.filter((f) => !f.slow);
  const count = (s: FoundPoint['stability']) => fixed.filter((f) => f.stability === s).length;
  return {
    points: found.slice(0, opts.maxPoints ?? 32),
    trajectories: runs.trajectories,
    starts: n,
    steps: runs.steps,
    settled: runs.settled.reduce((s, v) => s + v, 0),
    endStates: clusters.length,
    largestCluster: clusters[0]?.size ?? 0,
    checked: chosen.length,
    counts: { stable: count('stable'), unstable: count('unstable'), marginal: count('marginal'), slow: found.length - fixed.length },
    clusterTolerance: tol,
    margin,
  };
}

/**
 * Stable points whose basin a perturbation of the size of one step's input effect leaves become marginal: from
 * s* + e (the BASIN_PROBES observed effects nearest the median size) the dynamics must head back to s*.
 */
function basinCheck(
  st: LayerStepper,
  x: Float64Array,
  found: FoundPoint[],
  effects: Float64Array,
  m: number,
  maxSteps: number,
  radius: number,
  floor: number,
): void {
  const S = st.S;
  const stable = found.filter((f) => f.stability === 'stable' && !f.slow);
  if (stable.length === 0 || m === 0) return;
  const sizes = Array.from({ length: m }, (_, i) => ({ i, v: norm(effects.subarray(i * S, i * S + S)) })).sort((a, b) => a.v - b.v);
  const mid = sizes[Math.floor((m - 1) / 2)].v;
  const probes = sizes
    .sort((a, b) => Math.abs(a.v - mid) - Math.abs(b.v - mid))
    .slice(0, BASIN_PROBES)
    .map((e) => e.i);
  if (mid === 0) {
    for (const f of stable) f.basinHeld = true;
    return;
  }
  const P = probes.length;
  const starts = new Float64Array(stable.length * P * S);
  stable.forEach((f, k) =>
    probes.forEach((e, q) => {
      for (let i = 0; i < S; i++) starts[(k * P + q) * S + i] = f.state[i] + effects[e * S + i];
    }),
  );
  const back = settleRuns(st, x, starts, stable.length * P, Math.max(maxSteps, POLISH_STEPS), 0.1 * radius, 0, floor);
  stable.forEach((f, k) => {
    let held = true;
    for (let q = 0; q < P; q++) {
      // Left the basin: settled somewhere else, or farther from the point than the push put it. A slow
      // return (|λ| near 1 − δ) that is still under way counts as held.
      const r = k * P + q;
      const end = distance(back.ends, f.state, r * S, 0, S);
      if (end >= radius && (back.settled[r] || end >= distance(starts, f.state, r * S, 0, S))) held = false;
    }
    f.basinHeld = held;
    if (!held) f.stability = 'marginal';
  });
}

/**
 * The hold-period input of a task, under which memory has to persist: copy zeros (after x₁ the inputs are
 * noise around 0), denoise [0, −1] (value 0, marker −1 of the unmarked steps), smnist 0 (a black pixel).
 */
export function defaultFixedPointInput(arch: Pick<Architecture, 'inputSize'>, task?: string): number[] {
  const x = new Array(arch.inputSize).fill(0);
  if (task === 'denoise' && arch.inputSize === 2) x[1] = -1;
  return x;
}

export interface FixedPointOptions extends FixedPointSearchOptions {
  /** Layer to analyse (default: the last). */
  layer?: number;
  /** Constant model input x* (default: defaultFixedPointInput of the task). */
  input?: number[];
  /** Task of the batch (or the model), which picks the default x*. */
  task?: string;
  /** Runs of the dynamics, one per start (default DEFAULT_STARTS, at most the observed states of the batch). */
  starts?: number;
  seed?: number;
  /** Steps for the lower layers to settle under x* (default 100). */
  settleSteps?: number;
  /** Trajectories included in the report (default 8). */
  maxTrajectories?: number;
  /** Cells that support initialState (default: reference). */
  cells: CellResolver;
}

/** Observed state pairs sampled for the input effect (and its median). */
const EFFECT_SAMPLES = 1024;
/** Sequences whose LSTM cell states are recomputed when the engine's trace lacks them. */
const RECOMPUTE_SEQUENCES = 8;

export function analyzeFixedPoints(model: Model, fr: ForwardResult, opts: FixedPointOptions): FixedPointReport {
  const { arch } = model;
  const L = arch.layers.length;
  const layer = opts.layer ?? L - 1;
  if (!Number.isInteger(layer) || layer < 0 || layer >= L)
    throw new Error(`fixed points: layer ${layer} does not exist (the model has ${L} layer${L === 1 ? '' : 's'})`);
  const input = opts.input ?? defaultFixedPointInput(arch, opts.task ?? arch.task?.name);
  if (input.length !== arch.inputSize || input.some((v) => !Number.isFinite(v))) {
    throw new Error(
      `fixed points: the constant input must be ${arch.inputSize} finite number${arch.inputSize === 1 ? '' : 's'} (got ${input.length})`,
    );
  }
  // The analysed layer's constant input: the lower layers' response to x* after settling from zero.
  const settle = Math.max(1, opts.settleSteps ?? 100);
  let u = Float64Array.from(input);
  for (let l = 0; l < layer; l++) {
    const I = u.length;
    const H = arch.layers[l].units;
    // Float64 like the refinement (one sequence: cheap on any cell).
    const lower = layerCell(arch.layers[l]);
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
    layer,
    input,
    layerInput: Array.from(u),
    points: [],
    trajectories: [],
    observed: [],
    explainedVariance: [0, 0],
    note,
  });
  const spec = arch.layers[layer];
  const def = layerCell(spec, opts.cells);
  // Refinement needs float64 (finite-difference Jacobians, residuals to 1e-8): the layer's own cell without an
  // engine (the reference cell of a built-in kind; a custom cell is its own). The many batched dynamics steps
  // run on the engine's cell when that is another (float32) one.
  const precise = layerCell(spec);
  const tr = fr.layers[layer];
  const { T, B, inputSize: I, units: H } = tr.shape;
  let st: LayerStepper;
  let runner: LayerStepper;
  try {
    st = makeStepper(precise, layerParams(model, layer), I, H);
    runner = def === precise || !supportsInitialState(def) ? st : makeStepper(def, layerParams(model, layer), I, H);
  } catch (e) {
    return empty((e as Error).message);
  }
  const S = st.S;
  // Observed states [T, sB, S] of the batch (h, plus c for LSTM from the engine's trace or recomputed for
  // the first sequences).
  let fwd = tr.fwd;
  let sB = fwd.h.length / (T * H);
  if (S !== H && !fwd.gates.cell) {
    sB = Math.min(B, RECOMPUTE_SEQUENCES);
    const sub = new Float64Array(T * sB * I);
    for (let t = 0; t < T; t++) sub.set(tr.x.subarray(t * B * I, t * B * I + sB * I), t * sB * I);
    fwd = def.forward(layerParams(model, layer), sub, { T, B: sB, inputSize: I, units: H });
  }
  const all = packStates(fwd, T, sB, H, S);
  const observed = sequenceRows(all, T, sB, S, 0);
  const rng = new Rng((opts.seed ?? 1) + 4241);

  // Starts: every sequence in turn, at random times; a quarter mirrored (−s: tanh-like cells are often near
  // odd-symmetric and the batch may visit only one of a pair of attractors), a quarter with noise.
  let spread = 0;
  const mean = new Float64Array(S);
  for (let r = 0; r < T * sB; r++) for (let i = 0; i < S; i++) mean[i] += all[r * S + i] / (T * sB);
  for (let r = 0; r < T * sB; r++) for (let i = 0; i < S; i++) spread += (all[r * S + i] - mean[i]) ** 2;
  const sigma = 0.05 * Math.sqrt(spread / (T * sB * S) + 1e-4);
  const n = Math.max(1, Math.min(opts.starts ?? DEFAULT_STARTS, T * sB));
  const starts = new Float64Array(n * S);
  for (let k = 0; k < n; k++) {
    const b = k % sB;
    const t = rng.int(T);
    // The kind rotates with each round over the sequences, so no sequence is only ever seen mirrored.
    const kind = (b + Math.floor(k / sB)) % 4;
    const sign = kind === 3 ? -1 : 1;
    const noise = kind >= 2 ? sigma : 0;
    for (let i = 0; i < S; i++) starts[k * S + i] = sign * all[(t * sB + b) * S + i] + noise * rng.normal();
  }

  // Input effects e = s_{t+1} − F(s_t, x*) at sampled observed steps: how far one step of real input moves
  // the state away from where x* would have taken it.
  const m = Math.min(EFFECT_SAMPLES, (T - 1) * sB);
  const effects = new Float64Array(Math.max(0, m) * S);
  if (m > 0) {
    const from = new Float64Array(m * S);
    const to = new Float64Array(m * S);
    for (let k = 0; k < m; k++) {
      const t = rng.int(T - 1);
      const b = rng.int(sB);
      from.set(all.subarray((t * sB + b) * S, (t * sB + b) * S + S), k * S);
      to.set(all.subarray(((t + 1) * sB + b) * S, ((t + 1) * sB + b) * S + S), k * S);
    }
    const next = st.step(from, m, u);
    for (let i = 0; i < m * S; i++) effects[i] = to[i] - next[i];
  }

  const res = searchFixedPoints(st, u, starts, n, {
    ...opts,
    effects,
    effectCount: m,
    keepTrajectories: opts.maxTrajectories ?? 8,
    runner,
    settleFloor: runner === st ? undefined : FLOAT32_SETTLE_FLOOR * Math.sqrt(st.S),
  });
  const margin = res.margin;
  const effectSizes = Array.from({ length: m }, (_, k) => norm(effects.subarray(k * S, k * S + S))).sort((a, b) => a - b);
  const inputEffect = m > 0 ? effectSizes[Math.floor((m - 1) / 2)] : 0;

  let cellular: FixedPointReport['cellular'];
  if (spec.cell === 'brc') {
    // Exact per neuron, with the same margin and each neuron's median input effect as the basin condition;
    // the search's points are re-classified from the neurons' roots so both always agree.
    const p = layerParams(model, layer);
    const perNeuron = Array.from({ length: H }, (_, j) => {
      const v = Array.from({ length: m }, (_, k) => Math.abs(effects[k * S + j])).sort((a, b) => a - b);
      return m > 0 ? v[Math.floor((m - 1) / 2)] : 0;
    });
    cellular = brcCellularAttractors(p, u, I, H, margin, perNeuron);
    const roots = Array.from({ length: H }, (_, j) => brcNeuronRoots(p, u, I, H, j, margin, perNeuron[j]));
    for (const q of res.points) {
      const cls = q.slow ? null : cellularClass(q.state, roots);
      if (cls) q.stability = cls;
    }
    const fixed = res.points.filter((q) => !q.slow);
    for (const s of ['stable', 'unstable', 'marginal'] as const) res.counts[s] = fixed.filter((q) => q.stability === s).length;
  }

  const unsettled = res.starts - res.settled;
  const search: FixedPointSearch = {
    starts: res.starts,
    sequences: Math.min(sB, res.starts),
    steps: res.steps,
    maxSteps: Math.max(1, opts.steps ?? DEFAULT_STEPS),
    settled: res.settled,
    endStates: res.endStates,
    checked: res.checked,
    clusterTolerance: res.clusterTolerance,
    margin,
    inputEffect,
    inputEffectSamples: m,
    counts: res.counts,
    unsettled: proportionEstimate(unsettled, res.starts),
    largestBasin: proportionEstimate(res.largestCluster, res.starts),
    verdict: cellular ? cellularVerdict(cellular) : searchVerdict(res),
  };
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
      runs: p.runs,
      ...(p.basinHeld !== undefined ? { basinHeld: p.basinHeld } : {}),
    })),
    trajectories: res.trajectories.map((t) => project(t, t.length / S)),
    observed: project(observed, T),
    explainedVariance: pca.explained,
    search,
    ...(cellular ? { cellular } : {}),
  };
}

/**
 * What the search supports: several attractors (≥ 2 stable points found); one attractor reached (every run
 * settled, all at the one stable point found); marginal (no second stable point, but marginal or slow points:
 * slow drift, as along a line attractor); else inconclusive (runs left unsettled, nothing classified).
 */
export function searchVerdict(
  r: Pick<SearchResult, 'counts' | 'starts' | 'settled' | 'largestCluster' | 'endStates'>,
): FixedPointSearch['verdict'] {
  const { stable, marginal, slow } = r.counts;
  if (stable >= 2) return 'several-attractors';
  if (marginal > 0 || slow > 0) return 'marginal';
  if (stable === 1 && r.settled === r.starts && r.endStates === 1) return 'one-attractor';
  return 'inconclusive';
}

/** BRC layers: the verdict from the exact per-neuron count (with margin), not from what the search reached. */
export function cellularVerdict(c: CellularAttractors): FixedPointSearch['verdict'] {
  if (c.bistableNeurons > 0) return 'several-attractors';
  if ((c.marginalNeurons ?? 0) > 0) return 'marginal';
  return 'one-attractor';
}
