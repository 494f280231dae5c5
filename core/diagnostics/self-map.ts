/**
 * One-dimensional self-maps of single neurons, for cells without an explicit feedback gain (GRU, LSTM and
 * any other cell). At step t the neuron's own update s ↦ F_j(s) is taken with the rest of the state and the
 * input held at their trajectory values (state before the step, input x_t). Reported per (t, j):
 *  - slope: the largest F_j'(s) on the grid — the analogue of BRC's a_t (> 1 means a fold, i.e.
 *    bistability, is possible; for BRC the same quantity of the relaxation map is c + (1 − c)·a);
 *  - count: the number of fixed points of F_j (roots of F_j(s) − s), 3 = truly bistable;
 *  - branch: sign of the fixed point the neuron moves to from its current state (the first root in the
 *    direction of F_j(s0) − s0; exact for monotone maps).
 * GRU: s = h_j on [−1, 1] (every fixed point lies there). LSTM: s = c_j, the memory variable, with
 * h_j = o_{t−1,j}·tanh(s) (the output gate that produced h_{t−1} held fixed, so s = c_{t−1,j} reproduces
 * h_{t−1}); the grid is dense in tanh(s) on |s| ≤ 5 and the map is affine beyond, where a root exists iff
 * F − s keeps its sign at the grid's end.
 */
import { matmulAcc } from '../cells/dense';
import type { CellDef, LayerParams } from '../cells/types';
import { makeStepper } from './state';

export interface SelfMaps {
  /** [T, H] largest slope of the self-map. */
  slope: Float64Array;
  /** [T, H] number of fixed points. */
  count: Uint8Array;
  /** [T, H] −1 / 0 / +1. */
  branch: Int8Array;
}

/** Grid points per self-map (odd, so that 0 is a grid point). */
export const SELF_MAP_GRID = 25;

/**
 * Roots of D(s) = F(s) − s sampled on an ascending grid that contains 0: their number, and the sign of the
 * root the state s0 (with D(s0) = d0) moves to. `tails`: D is affine beyond the grid and → −∞·sign(s),
 * so a root lies beyond an end where D still points outwards.
 */
export function gridRoots(
  grid: ArrayLike<number>,
  d: ArrayLike<number>,
  s0: number,
  d0: number,
  tails = false,
): { count: number; branch: -1 | 0 | 1 } {
  const G = grid.length;
  let count = 0;
  let allZero = true;
  for (let k = 0; k < G; k++) {
    if (d[k] === 0) count++;
    else allZero = false;
    if (k + 1 < G && d[k] * d[k + 1] < 0) count++;
  }
  if (tails) {
    if (d[G - 1] > 0) count++;
    if (d[0] < 0) count++;
  }
  if (allZero) return { count: 0, branch: sgn(s0) }; // every state is fixed (a saturated gate)
  return { count, branch: attractorSign(grid, d, s0, d0) };
}

const sgn = (v: number): -1 | 0 | 1 => (v > 0 ? 1 : v < 0 ? -1 : 0);

function attractorSign(grid: ArrayLike<number>, d: ArrayLike<number>, s0: number, d0: number): -1 | 0 | 1 {
  if (d0 === 0) return sgn(s0);
  const G = grid.length;
  if (d0 > 0) {
    // First root above s0: bracket (lo, hi] with D(lo) > 0 ≥ D(hi).
    let lo = s0;
    for (let k = 0; k < G; k++) {
      if (grid[k] <= s0) continue;
      if (d[k] === 0) return sgn(grid[k]);
      if (d[k] < 0) return bracketSign(lo, grid[k]);
      lo = grid[k];
    }
    return lo >= 0 ? 1 : -1; // beyond the grid's top (which is > 0)
  }
  let hi = s0;
  for (let k = G - 1; k >= 0; k--) {
    if (grid[k] >= s0) continue;
    if (d[k] === 0) return sgn(grid[k]);
    if (d[k] > 0) return bracketSign(grid[k], hi);
    hi = grid[k];
  }
  return hi <= 0 ? -1 : 1;
}

/** Sign of a root strictly inside (lo, hi). */
function bracketSign(lo: number, hi: number): -1 | 0 | 1 {
  if (lo >= 0) return 1;
  if (hi <= 0) return -1;
  // lo < 0 < hi cannot hold: 0 is a grid point, so it would have ended the scan first.
  return 0;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Symmetric uniform grid on [−r, r] with G (odd) points. */
function uniformGrid(G: number, r: number): Float64Array {
  return Float64Array.from({ length: G }, (_, k) => -r + (2 * r * k) / (G - 1));
}

/** Rows [T, H] of h_{t-1} (zero at t = 0) from h_1..h_T. */
function previousRows(hs: Float64Array, T: number, H: number): Float64Array {
  const out = new Float64Array(T * H);
  out.set(hs.subarray(0, (T - 1) * H), H);
  return out;
}

/**
 * GRU (Keras reset_after) self-maps for one sequence: xs [T, I] inputs, hs [T, H] states h_1..h_T.
 * F(s) = z s + (1 − z) tanh(xh + r·(rh + δ d_h)), z = σ(P_z + δ d_z), r = σ(P_r + δ d_r), δ = s − h_{t−1,j},
 * d_* the diagonal of the recurrent kernel.
 */
export function gruSelfMaps(
  p: LayerParams,
  xs: Float64Array,
  hs: Float64Array,
  T: number,
  I: number,
  H: number,
  G = SELF_MAP_GRID,
): SelfMaps {
  const G3 = 3 * H;
  const xp = new Float64Array(T * G3);
  const rp = new Float64Array(T * G3);
  for (let t = 0; t < T; t++) {
    xp.set(p.bias.subarray(0, G3), t * G3);
    rp.set(p.bias.subarray(G3, 2 * G3), t * G3);
  }
  matmulAcc(xp, xs, p.kernel, T, I, G3);
  const hPrev = previousRows(hs, T, H);
  matmulAcc(rp, hPrev, p.recurrent_kernel, T, H, G3);
  const RK = p.recurrent_kernel;
  const grid = uniformGrid(G, 1);
  const d = new Float64Array(G);
  const out: SelfMaps = { slope: new Float64Array(T * H), count: new Uint8Array(T * H), branch: new Int8Array(T * H) };
  for (let t = 0; t < T; t++) {
    const o3 = t * G3;
    for (let j = 0; j < H; j++) {
      const Pz = xp[o3 + j] + rp[o3 + j];
      const Pr = xp[o3 + H + j] + rp[o3 + H + j];
      const xh = xp[o3 + 2 * H + j];
      const rh = rp[o3 + 2 * H + j];
      const dz = RK[j * G3 + j];
      const dr = RK[j * G3 + H + j];
      const dh = RK[j * G3 + 2 * H + j];
      const h0 = hPrev[t * H + j];
      let maxSlope = -Infinity;
      for (let k = 0; k < G; k++) {
        const s = grid[k];
        const delta = s - h0;
        const z = sigmoid(Pz + delta * dz);
        const r = sigmoid(Pr + delta * dr);
        const q = rh + delta * dh;
        const c = Math.tanh(xh + r * q);
        d[k] = z * s + (1 - z) * c - s;
        const slope = z + z * (1 - z) * dz * (s - c) + (1 - z) * (1 - c * c) * (r * (1 - r) * dr * q + r * dh);
        if (slope > maxSlope) maxSlope = slope;
      }
      const i = t * H + j;
      // At s = h_{t−1,j} the map gives the trajectory's own next state.
      const res = gridRoots(grid, d, h0, hs[i] - h0);
      out.slope[i] = maxSlope;
      out.count[i] = Math.min(res.count, 255);
      out.branch[i] = res.branch;
    }
  }
  return out;
}

/**
 * LSTM self-maps on the cell state (see the module comment): xs [T, I], hs and cs [T, H] (h_t, c_t),
 * os [T, H] output gates. F(s) = f s + i g with i, f, g evaluated at h_j = o_{t−1,j}·tanh(s).
 */
export function lstmSelfMaps(
  p: LayerParams,
  xs: Float64Array,
  hs: Float64Array,
  cs: Float64Array,
  os: Float64Array,
  T: number,
  I: number,
  H: number,
  G = SELF_MAP_GRID,
): SelfMaps {
  const G4 = 4 * H;
  const P = new Float64Array(T * G4);
  for (let t = 0; t < T; t++) P.set(p.bias, t * G4);
  matmulAcc(P, xs, p.kernel, T, I, G4);
  const hPrev = previousRows(hs, T, H);
  matmulAcc(P, hPrev, p.recurrent_kernel, T, H, G4);
  const cPrev = previousRows(cs, T, H);
  const RK = p.recurrent_kernel;
  const Y = Math.tanh(5);
  const ys = uniformGrid(G, Y);
  const grid = ys.map((y) => Math.atanh(y));
  const d = new Float64Array(G);
  const out: SelfMaps = { slope: new Float64Array(T * H), count: new Uint8Array(T * H), branch: new Int8Array(T * H) };
  for (let t = 0; t < T; t++) {
    const o4 = t * G4;
    for (let j = 0; j < H; j++) {
      const Pi = P[o4 + j];
      const Pf = P[o4 + H + j];
      const Pg = P[o4 + 2 * H + j];
      const di = RK[j * G4 + j];
      const df = RK[j * G4 + H + j];
      const dg = RK[j * G4 + 2 * H + j];
      const h0 = hPrev[t * H + j];
      const c0 = cPrev[t * H + j];
      const oPrev = t > 0 ? os[(t - 1) * H + j] : sigmoid(P[o4 + 3 * H + j]);
      let maxSlope = -Infinity;
      for (let k = 0; k < G; k++) {
        const s = grid[k];
        const th = ys[k];
        const delta = oPrev * th - h0;
        const iG = sigmoid(Pi + delta * di);
        const fG = sigmoid(Pf + delta * df);
        const g = Math.tanh(Pg + delta * dg);
        d[k] = fG * s + iG * g - s;
        const slope = fG + (fG * (1 - fG) * df * s + iG * (1 - iG) * di * g + iG * (1 - g * g) * dg) * oPrev * (1 - th * th);
        if (slope > maxSlope) maxSlope = slope;
      }
      const i = t * H + j;
      const res = gridRoots(grid, d, c0, cs[i] - c0, true);
      out.slope[i] = maxSlope;
      out.count[i] = Math.min(res.count, 255);
      out.branch[i] = res.branch;
    }
  }
  return out;
}

/**
 * Self-maps of any cell that can run from an arbitrary state, by evaluating it one step from modified
 * states (H·G rows per step; meant for imported or custom cells, not the hot path). A cell whose state is h
 * alone: s = h_j on [−r, r], r = max(1, 1.5·max|h|). A cell with state (h, c) (LSTM-like; `cell` = c_t and
 * `o` = output gate traces [T, H]): the LSTM convention above, s = c_j with h_j = o_{t−1,j}·tanh(s).
 * Slopes are the largest secant slope between neighbouring grid points.
 */
export function genericSelfMaps(
  def: CellDef,
  p: LayerParams,
  xs: Float64Array,
  hs: Float64Array,
  T: number,
  I: number,
  H: number,
  G = SELF_MAP_GRID,
  lstm?: { cs: Float64Array; os: Float64Array },
): SelfMaps {
  const st = makeStepper(def, p, I, H);
  const S = st.S;
  if (S !== H && !(S === 2 * H && lstm))
    throw new Error(`self-map of cell "${def.kind}": state size ${S} needs the cell state and output gate traces`);
  let grid: Float64Array;
  let tanhGrid: Float64Array | null = null;
  if (S === H) {
    let hmax = 0;
    for (let i = 0; i < hs.length; i++) hmax = Math.max(hmax, Math.abs(hs[i]));
    grid = uniformGrid(G, Math.max(1, 1.5 * hmax));
  } else {
    tanhGrid = uniformGrid(G, Math.tanh(5));
    grid = tanhGrid.map((y) => Math.atanh(y));
  }
  const hPrev = previousRows(hs, T, H);
  const cPrev = lstm ? previousRows(lstm.cs, T, H) : null;
  const n = H * G;
  const states = new Float64Array(n * S);
  const d = new Float64Array(G);
  const out: SelfMaps = { slope: new Float64Array(T * H), count: new Uint8Array(T * H), branch: new Int8Array(T * H) };
  for (let t = 0; t < T; t++) {
    const hb = hPrev.subarray(t * H, t * H + H);
    for (let j = 0; j < H; j++) {
      const oPrev = lstm ? lstm.os[Math.max(0, t - 1) * H + j] : 0;
      for (let k = 0; k < G; k++) {
        const r = (j * G + k) * S;
        states.set(hb, r);
        if (cPrev) {
          states.set(cPrev.subarray(t * H, t * H + H), r + H);
          states[r + H + j] = grid[k];
          states[r + j] = oPrev * tanhGrid![k];
        } else states[r + j] = grid[k];
      }
    }
    const next = st.step(states, n, xs.subarray(t * I, t * I + I));
    const off = cPrev ? H : 0;
    for (let j = 0; j < H; j++) {
      let maxSlope = -Infinity;
      for (let k = 0; k < G; k++) {
        d[k] = next[(j * G + k) * S + off + j] - grid[k];
        if (k > 0) maxSlope = Math.max(maxSlope, 1 + (d[k] - d[k - 1]) / (grid[k] - grid[k - 1]));
      }
      const i = t * H + j;
      const res = cPrev ? gridRoots(grid, d, cPrev[i], lstm!.cs[i] - cPrev[i], true) : gridRoots(grid, d, hb[j], hs[i] - hb[j]);
      out.slope[i] = maxSlope;
      out.count[i] = Math.min(res.count, 255);
      out.branch[i] = res.branch;
    }
  }
  return out;
}
