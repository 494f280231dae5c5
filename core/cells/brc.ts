/** Bistable recurrent cell (Vecoven et al. 2021): gates with cellular (per-neuron) recurrence w ⊙ h. */
import { brcBackward, brcForward, brcParamSpecs, type BrcVariant } from './brc-common';
import type { CellDef } from './types';

export { brcInputDrive } from './brc-common';

const V: BrcVariant = { cell: 'brc', rec: 'diag', recA: 'w_a', recC: 'w_c' };

export const brcCell: CellDef = {
  kind: 'brc',
  gateNames: ['a', 'c'],
  paramSpecs: (inputSize, units) => brcParamSpecs(V, inputSize, units),
  stateSize: (units) => units,
  forward: (p, x, shape, initialState) => brcForward(V, p, x, shape, initialState),
  backward: (p, x, fwd, dhOut, shape) => brcBackward(V, p, x, fwd, dhOut, shape),
};
