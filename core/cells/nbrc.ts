/** Neuromodulated BRC: the gates see the whole layer through h W; the candidate's feedback stays cellular. */
import { brcBackward, brcForward, brcParamSpecs, type BrcVariant } from './brc-common';
import type { CellDef } from './types';

export { brcInputDrive } from './brc-common';

const V: BrcVariant = { cell: 'nbrc', rec: 'full', recA: 'W_a', recC: 'W_c' };

export const nbrcCell: CellDef = {
  kind: 'nbrc',
  gateNames: ['a', 'c'],
  paramSpecs: (inputSize, units) => brcParamSpecs(V, inputSize, units),
  stateSize: (units) => units,
  forward: (p, x, shape, initialState) => brcForward(V, p, x, shape, initialState),
  backward: (p, x, fwd, dhOut, shape) => brcBackward(V, p, x, fwd, dhOut, shape),
};
