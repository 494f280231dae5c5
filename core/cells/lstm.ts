/**
 * LSTM exactly as Keras's default LSTMCell (sigmoid / tanh, unit_forget_bias). Gate order along the 4H
 * axis is i, f, c, o:
 *   zz = x K + h RK + b;  i, f, o = σ(zz_i, zz_f, zz_o);  g = tanh(zz_c)
 *   c' = f ⊙ c + i ⊙ g;  h' = o ⊙ tanh(c')
 * The gate trace "cell" holds c_t.
 */
import {
  checkLength, checkParams, checkSeq, colSumAcc, fillRows, matmulAcc, matmulTransAAcc, matmulTransBAcc, sigmoid,
} from './linalg';
import type { CellBackward, CellDef, CellForward, LayerParams, ParamSpec, SeqShape } from './types';

interface LstmCache {
  i: Float64Array;
  f: Float64Array;
  o: Float64Array;
  /** Candidate g = tanh(zz_c). */
  g: Float64Array;
  c: Float64Array;
  /** tanh(c_t). */
  tc: Float64Array;
  /** The initial state [B, 2H] (h then c per row) when forward was given one (zero otherwise). */
  s0?: Float64Array;
}

function paramSpecs(inputSize: number, units: number): ParamSpec[] {
  return [
    { name: 'kernel', shape: [inputSize, 4 * units], init: 'glorot_uniform' },
    { name: 'recurrent_kernel', shape: [units, 4 * units], init: 'orthogonal' },
    { name: 'bias', shape: [4 * units], init: 'lstm_bias' },
  ];
}

function forward(p: LayerParams, x: Float64Array, shape: SeqShape, initialState?: Float64Array): CellForward {
  checkSeq('lstm', x, shape);
  checkParams('lstm', p, paramSpecs(shape.inputSize, shape.units));
  const { T, B, inputSize: I, units: H } = shape;
  const s0 = initialState;
  if (s0 !== undefined) checkLength('lstm', 'initialState [B, 2H] (h then c)', s0, 2 * B * H);
  const G = 4 * H;
  const BH = B * H;
  const rows = T * B;
  const RK = p.recurrent_kernel;

  // Pre-activations: input part for the whole sequence at once, recurrent part added step by step.
  const zz = new Float64Array(rows * G);
  fillRows(zz, p.bias, rows, G);
  matmulAcc(zz, x, p.kernel, rows, I, G);

  const h = new Float64Array(rows * H);
  const gi = new Float64Array(rows * H);
  const gf = new Float64Array(rows * H);
  const go = new Float64Array(rows * H);
  const gg = new Float64Array(rows * H);
  const c = new Float64Array(rows * H);
  const tc = new Float64Array(rows * H);

  for (let t = 0; t < T; t++) {
    if (t > 0) matmulAcc(zz, h, RK, B, H, G, t * B * G, (t - 1) * BH);
    else if (s0 !== undefined) for (let b = 0; b < B; b++) matmulAcc(zz, s0, RK, 1, H, G, b * G, 2 * b * H);
    for (let b = 0; b < B; b++) {
      const z0 = (t * B + b) * G;
      const o0 = (t * B + b) * H;
      for (let j = 0; j < H; j++) {
        const k = o0 + j;
        const it = sigmoid(zz[z0 + j]);
        const ft = sigmoid(zz[z0 + H + j]);
        const gt = Math.tanh(zz[z0 + 2 * H + j]);
        const ot = sigmoid(zz[z0 + 3 * H + j]);
        const cPrev = t > 0 ? c[k - BH] : s0 !== undefined ? s0[2 * b * H + H + j] : 0;
        const ct = ft * cPrev + it * gt;
        const tct = Math.tanh(ct);
        gi[k] = it;
        gf[k] = ft;
        gg[k] = gt;
        go[k] = ot;
        c[k] = ct;
        tc[k] = tct;
        h[k] = ot * tct;
      }
    }
  }
  const cache: LstmCache = { i: gi, f: gf, o: go, g: gg, c, tc, s0 };
  return { h, gates: { i: gi, f: gf, o: go, cell: c }, cache };
}

function backward(p: LayerParams, x: Float64Array, fwd: CellForward, dhOut: Float64Array, shape: SeqShape): CellBackward {
  checkSeq('lstm', x, shape);
  checkParams('lstm', p, paramSpecs(shape.inputSize, shape.units));
  const { T, B, inputSize: I, units: H } = shape;
  const G = 4 * H;
  const BH = B * H;
  const rows = T * B;
  const n = rows * H;
  checkLength('lstm', 'dhOut', dhOut, n);
  checkLength('lstm', 'forward h', fwd.h, n);
  const cache = fwd.cache as LstmCache | undefined;
  if (!cache || typeof cache !== 'object') throw new Error('lstm: forward cache missing (pass the result of lstmCell.forward)');
  for (const key of ['i', 'f', 'o', 'g', 'c', 'tc'] as const) checkLength('lstm', `cache.${key}`, cache[key], n);
  const { i: gi, f: gf, o: go, g: gg, c, tc, s0 } = cache;
  if (s0 !== undefined) checkLength('lstm', 'cache.s0', s0, 2 * BH);
  const h = fwd.h;
  const RK = p.recurrent_kernel;

  // dh accumulates the recurrent paths on top of dhOut; row t is final once step t+1 has been processed.
  const dh = new Float64Array(dhOut);
  const dc = new Float64Array(BH); // dL/dc_t carried backwards through the f ⊙ c path
  const dZ = new Float64Array(rows * G);

  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      const z0 = (t * B + b) * G;
      const o0 = (t * B + b) * H;
      const c0 = b * H;
      for (let j = 0; j < H; j++) {
        const k = o0 + j;
        const d = dh[k];
        const it = gi[k];
        const ft = gf[k];
        const gt = gg[k];
        const ot = go[k];
        const tct = tc[k];
        const cPrev = t > 0 ? c[k - BH] : s0 !== undefined ? s0[2 * b * H + H + j] : 0;
        const dct = dc[c0 + j] + d * ot * (1 - tct * tct);
        dZ[z0 + j] = dct * gt * it * (1 - it);
        dZ[z0 + H + j] = dct * cPrev * ft * (1 - ft);
        dZ[z0 + 2 * H + j] = dct * it * (1 - gt * gt);
        dZ[z0 + 3 * H + j] = d * tct * ot * (1 - ot);
        dc[c0 + j] = dct * ft;
      }
    }
    if (t > 0) matmulTransBAcc(dh, dZ, RK, B, G, H, (t - 1) * BH, t * B * G);
  }

  const dK = new Float64Array(I * G);
  matmulTransAAcc(dK, x, dZ, rows, I, G);
  const dRK = new Float64Array(H * G);
  // h_0 = 0 contributes nothing, so step t ≥ 1 pairs h_{t-1} (row t-1 of h) with row t of dZ.
  if (T > 1) matmulTransAAcc(dRK, h, dZ, (T - 1) * B, H, G, 0, 0, B * G);
  if (s0 !== undefined) for (let b = 0; b < B; b++) matmulTransAAcc(dRK, s0, dZ, 1, H, G, 0, 2 * b * H, b * G);
  const dBias = new Float64Array(G);
  colSumAcc(dBias, dZ, rows, G);
  const dx = new Float64Array(rows * I);
  matmulTransBAcc(dx, dZ, p.kernel, rows, G, I);

  return { dx, grads: { kernel: dK, recurrent_kernel: dRK, bias: dBias }, dh };
}

export const lstmCell: CellDef = {
  kind: 'lstm',
  gateNames: ['i', 'f', 'o', 'cell'],
  paramSpecs,
  stateSize: (units) => 2 * units,
  forward,
  backward,
};
