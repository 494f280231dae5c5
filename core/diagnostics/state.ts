/**
 * Recurrent states as flat rows and single-step evaluation from arbitrary states, on top of the CellDef
 * contract (forward with `initialState`). A state row is h, then c for LSTM (the "cell" gate trace).
 */
import { cellStateSize, gateArray, hOf, supportsInitialState, type CellDef, type CellForward, type LayerParams } from '../cells/types';

export interface LayerStepper {
  /** State size S of one sequence. */
  S: number;
  H: number;
  I: number;
  /** States after one step from `states` [n, S] under the same input `x` [I] for every row. */
  step(states: Float64Array, n: number, x: Float64Array): Float64Array;
  /** Runs `steps` steps under the constant input x from states [n, S]; returns [steps, n, S] (state after each). */
  run(states: Float64Array, n: number, x: Float64Array, steps: number): Float64Array;
}

/**
 * Input kernels [I, k] of the built-in cells: their input enters only as x·K, so under a constant input x
 * the products x·K can be computed once and fed as a one-feature input of ones (custom cells are not folded).
 */
const INPUT_KERNELS: Partial<Record<CellDef['kind'], readonly string[]>> = {
  brc: ['U_c', 'U_a', 'U'],
  nbrc: ['U_c', 'U_a', 'U'],
  gru: ['kernel'],
  lstm: ['kernel'],
  simple_rnn: ['kernel'],
};

/** p with every input kernel K [I, k] replaced by the row x·K [1, k], or null when the cell is not foldable. */
function foldInput(def: CellDef, p: LayerParams, I: number, H: number, x: Float64Array): LayerParams | null {
  const names = INPUT_KERNELS[def.kind];
  if (!names) return null;
  const specs = def.paramSpecs(I, H);
  const folded: LayerParams = { ...p };
  for (const name of names) {
    const spec = specs.find((s) => s.name === name);
    if (!spec || spec.shape.length !== 2 || spec.shape[0] !== I || p[name]?.length !== I * spec.shape[1]) return null;
    const k = spec.shape[1];
    const K = p[name];
    const row = new Float64Array(k);
    for (let i = 0; i < I; i++) {
      const xi = x[i];
      for (let c = 0; c < k; c++) row[c] += xi * K[i * k + c];
    }
    folded[name] = row;
  }
  return folded;
}

export function makeStepper(def: CellDef, p: LayerParams, I: number, H: number): LayerStepper {
  if (!supportsInitialState(def)) {
    throw new Error(
      `cell "${def.kind}" cannot run from an arbitrary state (no stateSize/initialState); single-step diagnostics need the reference cell`,
    );
  }
  const S = cellStateSize(def, H);
  if (S !== H && S !== 2 * H) throw new Error(`cell "${def.kind}": unsupported state size ${S} for ${H} units (expected ${H} or ${2 * H})`);
  // The folded parameters of the last input (fixed-point searches step many times under one input).
  let last: { x: Float64Array; p: LayerParams } | null = null;
  const foldedFor = (x: Float64Array): LayerParams | null => {
    if (last && last.x.every((v, i) => Object.is(v, x[i]))) return last.p;
    const f = foldInput(def, p, I, H, x);
    last = f ? { x: Float64Array.from(x), p: f } : null;
    return f;
  };
  const run = (states: Float64Array, n: number, x: Float64Array, steps: number): Float64Array => {
    if (states.length !== n * S) throw new Error(`states: ${states.length} values, expected ${n}×${S}`);
    if (x.length !== I) throw new Error(`input: ${x.length} values, expected ${I}`);
    const folded = foldedFor(x);
    let fwd: CellForward;
    if (folded) {
      fwd = def.forward(folded, new Float64Array(steps * n).fill(1), { T: steps, B: n, inputSize: 1, units: H }, states);
    } else {
      const xs = new Float64Array(steps * n * I);
      for (let r = 0; r < steps * n; r++) xs.set(x, r * I);
      fwd = def.forward(p, xs, { T: steps, B: n, inputSize: I, units: H }, states);
    }
    return packStates(fwd, steps, n, H, S);
  };
  return { S, H, I, run, step: (states, n, x) => run(states, n, x, 1) };
}

/** All states of a forward result as [T, B, S]. */
export function packStates(fwd: CellForward, T: number, B: number, H: number, S: number): Float64Array {
  if (S === H) return fwd.h;
  const cell = fwd.gates.cell;
  if (!cell) throw new Error('state size 2H needs the "cell" gate trace');
  const out = new Float64Array(T * B * S);
  for (let r = 0; r < T * B; r++) {
    out.set(fwd.h.subarray(r * H, r * H + H), r * S);
    out.set(cell.subarray(r * H, r * H + H), r * S + H);
  }
  return out;
}

/**
 * The state after the last step, [B, S] (h, then c for S = 2H), read from the engine's float32 originals
 * where there are some (their widening is exactly h and c), so that no whole trace is converted.
 */
export function finalState(fwd: CellForward, T: number, B: number, H: number, S: number): Float64Array {
  const out = new Float64Array(B * S);
  const h = hOf(fwd);
  const c = S === H ? null : gateArray(fwd, 'cell');
  if (S !== H && !c) throw new Error('state size 2H needs the "cell" gate trace');
  const o = (T - 1) * B * H;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) out[b * S + j] = h[o + b * H + j];
    if (c) for (let j = 0; j < H; j++) out[b * S + H + j] = c[o + b * H + j];
  }
  return out;
}

/** Rows [T, n] of sequence b from a time-major [T, B, n] array. */
export function sequenceRows(a: Float64Array | Float32Array, T: number, B: number, n: number, b: number): Float64Array {
  const out = new Float64Array(T * n);
  for (let t = 0; t < T; t++) out.set(a.subarray((t * B + b) * n, (t * B + b) * n + n), t * n);
  return out;
}

/** [T, n] flat → nested number[T][n]. */
export function toNested(a: ArrayLike<number>, T: number, n: number): number[][] {
  const out: number[][] = new Array(T);
  for (let t = 0; t < T; t++) {
    const row: number[] = new Array(n);
    for (let j = 0; j < n; j++) row[j] = a[t * n + j];
    out[t] = row;
  }
  return out;
}
