/**
 * BRC-form custom cells (e.g. the user's PyTorch BRC through the bridge): a cell whose gates include the
 * feedback gain `a` and the update gate `c` is read as h_t = c ⊙ h_{t-1} + (1 − c) ⊙ tanh(u + a ⊙ h_{t-1}),
 * the form of the paper's cells (brc-paper-notes §2.1), so the bistability map can use the gain method.
 * Its input drive u_t is not a parameter product we can see, but the cell reveals it from the zero state:
 * there h = (1 − c) tanh(u), so u = atanh(h / (1 − c)).
 */
import { cellStateSize, supportsInitialState, type CellDef, type LayerParams } from '../cells/types';

/** Whether a custom cell exposes the BRC feedback gain (gates a and c, state = h). */
export function isGainCell(def: CellDef, units: number): boolean {
  return (
    def.kind === 'custom' &&
    def.gateNames.includes('a') &&
    def.gateNames.includes('c') &&
    supportsInitialState(def) &&
    cellStateSize(def, units) === units
  );
}

/** u_t for one sequence xs [T, I] of a gain cell: [T, H], from one step of every x_t at h = 0. */
export function gainInputDrive(def: CellDef, p: LayerParams, xs: Float64Array, T: number, I: number, H: number): Float64Array {
  // The T steps as a batch of T one-step sequences, each from the zero state.
  const fwd = def.forward(p, xs, { T: 1, B: T, inputSize: I, units: H }, new Float64Array(T * H));
  const c = fwd.gates.c;
  const u = new Float64Array(T * H);
  const lim = 1 - 1e-7;
  for (let i = 0; i < T * H; i++) {
    const g = fwd.h[i] / (1 - c[i]);
    u[i] = Math.atanh(Math.max(-lim, Math.min(lim, g)));
  }
  return u;
}
