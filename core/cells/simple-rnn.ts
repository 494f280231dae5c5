/**
 * Elman RNN as Keras SimpleRNN / torch.nn.RNN: h_t = act(x_t K + h_{t-1} RK + b), act tanh (default) or relu.
 * No gates, so it exposes no gate traces.
 */
import { simpleActivation } from './activations';
import { checkLength, checkParams, checkSeq, colSumAcc, fillRows, matmulAcc, matmulTransAAcc, matmulTransBAcc } from './dense';
import type { CellBackward, CellDef, CellForward, LayerParams, ParamSpec, SeqShape, SimpleActivation } from './types';

function paramSpecs(inputSize: number, units: number): ParamSpec[] {
  return [
    { name: 'kernel', shape: [inputSize, units], init: 'glorot_uniform' },
    { name: 'recurrent_kernel', shape: [units, units], init: 'orthogonal' },
    { name: 'bias', shape: [units], init: 'zeros' },
  ];
}

export function makeSimpleRnnCell(activation: SimpleActivation = 'tanh'): CellDef {
  const act = simpleActivation(activation);

  function forward(p: LayerParams, x: Float64Array, shape: SeqShape, initialState?: Float64Array): CellForward {
    checkSeq('simple_rnn', x, shape);
    checkParams('simple_rnn', p, paramSpecs(shape.inputSize, shape.units));
    const { T, B, inputSize: I, units: H } = shape;
    if (initialState !== undefined) checkLength('simple_rnn', 'initialState [B, H]', initialState, B * H);
    const rows = T * B;
    const h = new Float64Array(rows * H);
    fillRows(h, p.bias, rows, H);
    matmulAcc(h, x, p.kernel, rows, I, H);
    for (let t = 0; t < T; t++) {
      if (t > 0) matmulAcc(h, h, p.recurrent_kernel, B, H, H, t * B * H, (t - 1) * B * H);
      else if (initialState !== undefined) matmulAcc(h, initialState, p.recurrent_kernel, B, H, H);
      for (let k = t * B * H; k < (t + 1) * B * H; k++) h[k] = act.f(h[k]);
    }
    return { h, gates: {}, cache: { h0: initialState } };
  }

  function backward(p: LayerParams, x: Float64Array, fwd: CellForward, dhOut: Float64Array, shape: SeqShape): CellBackward {
    checkSeq('simple_rnn', x, shape);
    checkParams('simple_rnn', p, paramSpecs(shape.inputSize, shape.units));
    const { T, B, inputSize: I, units: H } = shape;
    const rows = T * B;
    const BH = B * H;
    checkLength('simple_rnn', 'dhOut', dhOut, rows * H);
    checkLength('simple_rnn', 'forward h', fwd.h, rows * H);
    const h = fwd.h;
    const dh = new Float64Array(dhOut);
    const dZ = new Float64Array(rows * H);
    for (let t = T - 1; t >= 0; t--) {
      for (let k = t * BH; k < (t + 1) * BH; k++) dZ[k] = dh[k] * act.dfy(h[k]);
      if (t > 0) matmulTransBAcc(dh, dZ, p.recurrent_kernel, B, H, H, (t - 1) * BH, t * BH);
    }
    const dK = new Float64Array(I * H);
    matmulTransAAcc(dK, x, dZ, rows, I, H);
    const dRK = new Float64Array(H * H);
    if (T > 1) matmulTransAAcc(dRK, h, dZ, (T - 1) * B, H, H, 0, 0, BH);
    const h0 = (fwd.cache as { h0?: Float64Array } | null)?.h0;
    if (h0 !== undefined) {
      checkLength('simple_rnn', 'cache.h0', h0, BH);
      matmulTransAAcc(dRK, h0, dZ, B, H, H);
    }
    const dB = new Float64Array(H);
    colSumAcc(dB, dZ, rows, H);
    const dx = new Float64Array(rows * I);
    matmulTransBAcc(dx, dZ, p.kernel, rows, H, I);
    return { dx, grads: { kernel: dK, recurrent_kernel: dRK, bias: dB }, dh };
  }

  return { kind: 'simple_rnn', gateNames: [], paramSpecs, stateSize: (units) => units, forward, backward };
}

export const simpleRnnCell: CellDef = makeSimpleRnnCell('tanh');
