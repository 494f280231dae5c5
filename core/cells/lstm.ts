/**
 * LSTM as Keras's LSTMCell (unit_forget_bias), with the gate nonlinearity as a parameter: σ by default, or
 * Keras/TF.js recurrent_activation such as hard_sigmoid for imported models (lstm-variant.ts). Gate order
 * along the 4H axis is i, f, c, o:
 *   zz = x K + h RK + b;  i, f, o = act(zz_i, zz_f, zz_o);  g = tanh(zz_c)
 *   c' = f ⊙ c + i ⊙ g;  h' = o ⊙ tanh(c')
 * The gate trace "cell" holds c_t.
 */
import { recurrentActivation, type Activation } from './activations';
import { checkLength, checkParams, checkSeq, colSumAcc, fillRows, matmulAcc, matmulTransAAcc, matmulTransBAcc } from './dense';
import type { CellBackward, CellDef, CellForward, LayerParams, ParamSpec, SeqShape } from './types';

interface Cache {
  i: Float64Array;
  f: Float64Array;
  o: Float64Array;
  g: Float64Array;
  c: Float64Array;
  tc: Float64Array;
  /** Initial state [B, 2H] (h then c per row) when forward was given one. */
  s0?: Float64Array;
}

function paramSpecs(inputSize: number, units: number): ParamSpec[] {
  return [
    { name: 'kernel', shape: [inputSize, 4 * units], init: 'glorot_uniform' },
    { name: 'recurrent_kernel', shape: [units, 4 * units], init: 'orthogonal' },
    { name: 'bias', shape: [4 * units], init: 'lstm_bias' },
  ];
}

/** The LSTM cell with gate nonlinearity `act` (σ for Keras's default). */
export function makeLstmCell(act: Activation): CellDef {
  function forward(p: LayerParams, x: Float64Array, shape: SeqShape, initialState?: Float64Array): CellForward {
    checkSeq('lstm', x, shape);
    checkParams('lstm', p, paramSpecs(shape.inputSize, shape.units));
    const { T, B, inputSize: I, units: H } = shape;
    const s0 = initialState;
    if (s0 !== undefined) checkLength('lstm', 'initialState [B, 2H] (h then c)', s0, 2 * B * H);
    const G = 4 * H,
      BH = B * H,
      rows = T * B;
    const zz = new Float64Array(rows * G);
    fillRows(zz, p.bias, rows, G);
    matmulAcc(zz, x, p.kernel, rows, I, G);
    const n = rows * H;
    const h = new Float64Array(n),
      gi = new Float64Array(n),
      gf = new Float64Array(n),
      go = new Float64Array(n);
    const gg = new Float64Array(n),
      c = new Float64Array(n),
      tc = new Float64Array(n);
    for (let t = 0; t < T; t++) {
      if (t > 0) matmulAcc(zz, h, p.recurrent_kernel, B, H, G, t * B * G, (t - 1) * BH);
      else if (s0 !== undefined) for (let b = 0; b < B; b++) matmulAcc(zz, s0, p.recurrent_kernel, 1, H, G, b * G, 2 * b * H);
      for (let b = 0; b < B; b++) {
        const z0 = (t * B + b) * G;
        const o0 = (t * B + b) * H;
        for (let j = 0; j < H; j++) {
          const k = o0 + j;
          gi[k] = act.f(zz[z0 + j]);
          gf[k] = act.f(zz[z0 + H + j]);
          gg[k] = Math.tanh(zz[z0 + 2 * H + j]);
          go[k] = act.f(zz[z0 + 3 * H + j]);
          c[k] = gf[k] * (t > 0 ? c[k - BH] : s0 !== undefined ? s0[2 * b * H + H + j] : 0) + gi[k] * gg[k];
          tc[k] = Math.tanh(c[k]);
          h[k] = go[k] * tc[k];
        }
      }
    }
    const cache: Cache = { i: gi, f: gf, o: go, g: gg, c, tc, s0 };
    return { h, gates: { i: gi, f: gf, o: go, cell: c }, cache };
  }

  function backward(p: LayerParams, x: Float64Array, fwd: CellForward, dhOut: Float64Array, shape: SeqShape): CellBackward {
    checkSeq('lstm', x, shape);
    checkParams('lstm', p, paramSpecs(shape.inputSize, shape.units));
    const { T, B, inputSize: I, units: H } = shape;
    const G = 4 * H,
      BH = B * H,
      rows = T * B,
      n = rows * H;
    checkLength('lstm', 'dhOut', dhOut, n);
    checkLength('lstm', 'forward h', fwd.h, n);
    const cc = fwd.cache as Cache | undefined;
    if (!cc || typeof cc !== 'object') throw new Error('lstm: forward cache missing');
    for (const key of ['i', 'f', 'o', 'g', 'c', 'tc'] as const) checkLength('lstm', `cache.${key}`, cc[key], n);
    const h = fwd.h;
    const s0 = cc.s0;
    if (s0 !== undefined) checkLength('lstm', 'cache.s0', s0, 2 * BH);
    const dh = new Float64Array(dhOut);
    const dc = new Float64Array(BH);
    const dZ = new Float64Array(rows * G);
    for (let t = T - 1; t >= 0; t--) {
      for (let b = 0; b < B; b++) {
        const z0 = (t * B + b) * G;
        const o0 = (t * B + b) * H;
        for (let j = 0; j < H; j++) {
          const k = o0 + j;
          const d = dh[k];
          const dct = dc[b * H + j] + d * cc.o[k] * (1 - cc.tc[k] * cc.tc[k]);
          const cPrev = t > 0 ? cc.c[k - BH] : s0 !== undefined ? s0[2 * b * H + H + j] : 0;
          dZ[z0 + j] = dct * cc.g[k] * act.dfy(cc.i[k]);
          dZ[z0 + H + j] = dct * cPrev * act.dfy(cc.f[k]);
          dZ[z0 + 2 * H + j] = dct * cc.i[k] * (1 - cc.g[k] * cc.g[k]);
          dZ[z0 + 3 * H + j] = d * cc.tc[k] * act.dfy(cc.o[k]);
          dc[b * H + j] = dct * cc.f[k];
        }
      }
      if (t > 0) matmulTransBAcc(dh, dZ, p.recurrent_kernel, B, G, H, (t - 1) * BH, t * B * G);
    }
    const dK = new Float64Array(I * G);
    matmulTransAAcc(dK, x, dZ, rows, I, G);
    const dRK = new Float64Array(H * G);
    if (T > 1) matmulTransAAcc(dRK, h, dZ, (T - 1) * B, H, G, 0, 0, B * G);
    if (s0 !== undefined) for (let b = 0; b < B; b++) matmulTransAAcc(dRK, s0, dZ, 1, H, G, 0, 2 * b * H, b * G);
    const dBias = new Float64Array(G);
    colSumAcc(dBias, dZ, rows, G);
    const dx = new Float64Array(rows * I);
    matmulTransBAcc(dx, dZ, p.kernel, rows, G, I);
    return { dx, grads: { kernel: dK, recurrent_kernel: dRK, bias: dBias }, dh };
  }

  return { kind: 'lstm', gateNames: ['i', 'f', 'o', 'cell'], paramSpecs, stateSize: (units) => 2 * units, forward, backward };
}

export const lstmCell: CellDef = makeLstmCell(recurrentActivation('sigmoid'));
