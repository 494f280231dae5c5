/** LSTM with a configurable gate nonlinearity (Keras/TF.js recurrent_activation, e.g. hard_sigmoid). */
import { recurrentActivation } from './activations';
import { makeLstmCell } from './lstm';
import type { CellDef, RecurrentActivation } from './types';

export function makeLstmVariant(kind: RecurrentActivation): CellDef {
  return makeLstmCell(recurrentActivation(kind));
}
