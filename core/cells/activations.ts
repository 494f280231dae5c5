/** Gate and state nonlinearities with derivatives written in terms of the output y = f(x), which is what the caches keep. */
import type { RecurrentActivation, SimpleActivation } from './types';

export interface Activation {
  f(x: number): number;
  /** f'(x) given y = f(x). */
  dfy(y: number): number;
}

const sigmoid: Activation = {
  f: (x) => 1 / (1 + Math.exp(-x)),
  dfy: (y) => y * (1 - y),
};

/** clip(slope·x + 0.5, 0, 1): slope inside the linear band, 0 on the flat parts. */
function hardSigmoid(slope: number): Activation {
  return {
    f: (x) => Math.min(1, Math.max(0, slope * x + 0.5)),
    dfy: (y) => (y > 0 && y < 1 ? slope : 0),
  };
}

const tanh: Activation = { f: Math.tanh, dfy: (y) => 1 - y * y };
const relu: Activation = { f: (x) => (x > 0 ? x : 0), dfy: (y) => (y > 0 ? 1 : 0) };

export function recurrentActivation(kind: RecurrentActivation): Activation {
  switch (kind) {
    case 'sigmoid':
      return sigmoid;
    case 'hard_sigmoid':
      return hardSigmoid(0.2);
    case 'hard_sigmoid_keras3':
      return hardSigmoid(1 / 6);
    default:
      throw new Error(`unknown recurrent activation ${JSON.stringify(kind)}`);
  }
}

export function simpleActivation(kind: SimpleActivation): Activation {
  if (kind === 'tanh') return tanh;
  if (kind === 'relu') return relu;
  throw new Error(`unknown activation ${JSON.stringify(kind)}`);
}
