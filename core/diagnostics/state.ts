/**
 * Recurrent states as flat rows and single-step evaluation from arbitrary states, on top of the CellDef
 * contract (forward with `initialState`). A state row is h, then c for LSTM (the "cell" gate trace).
 */
import { cellStateSize, supportsInitialState, type CellDef, type CellForward, type LayerParams } from '../cells/types';

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

export function makeStepper(def: CellDef, p: LayerParams, I: number, H: number): LayerStepper {
  if (!supportsInitialState(def)) {
    throw new Error(`cell "${def.kind}" cannot run from an arbitrary state (no stateSize/initialState); single-step diagnostics need the reference cell`);
  }
  const S = cellStateSize(def, H);
  if (S !== H && S !== 2 * H) throw new Error(`cell "${def.kind}": unsupported state size ${S} for ${H} units (expected ${H} or ${2 * H})`);
  const run = (states: Float64Array, n: number, x: Float64Array, steps: number): Float64Array => {
    if (states.length !== n * S) throw new Error(`states: ${states.length} values, expected ${n}×${S}`);
    const xs = new Float64Array(steps * n * I);
    for (let r = 0; r < steps * n; r++) xs.set(x, r * I);
    const fwd = def.forward(p, xs, { T: steps, B: n, inputSize: I, units: H }, states);
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
