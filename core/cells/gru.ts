/**
 * GRU exactly as Keras's default TF2 GRUCell (reset_after = true, sigmoid / tanh). Gate order along the
 * 3H axis is z, r, h; bias row 0 is the input bias, row 1 the recurrent bias:
 *   z = σ(x K_z + b0_z + h RK_z + b1_z), r = σ(x K_r + b0_r + h RK_r + b1_r)
 *   ĥ = tanh(x K_h + b0_h + r ⊙ (h RK_h + b1_h)),  h' = z ⊙ h + (1 − z) ⊙ ĥ
 */
import { checkLength, checkParams, checkSeq, colSumAcc, fillRows, matmulAcc, matmulTransAAcc, matmulTransBAcc, sigmoid } from './dense';
import type { CellBackward, CellDef, CellForward, LayerParams, ParamSpec, SeqShape } from './types';

interface GruCache {
  z: Float64Array;
  r: Float64Array;
  /** Candidate ĥ_t. */
  hh: Float64Array;
  /** h_{t-1} RK_h + b1_h, which ĥ gates with r and backward needs for dr. */
  recH: Float64Array;
  /** The initial state [B, H] when forward was given one (h_0 = 0 otherwise). */
  h0?: Float64Array;
}

function paramSpecs(inputSize: number, units: number): ParamSpec[] {
  return [
    { name: 'kernel', shape: [inputSize, 3 * units], init: 'glorot_uniform' },
    { name: 'recurrent_kernel', shape: [units, 3 * units], init: 'orthogonal' },
    { name: 'bias', shape: [2, 3 * units], init: 'zeros' },
  ];
}

function forward(p: LayerParams, x: Float64Array, shape: SeqShape, initialState?: Float64Array): CellForward {
  checkSeq('gru', x, shape);
  checkParams('gru', p, paramSpecs(shape.inputSize, shape.units));
  const { T, B, inputSize: I, units: H } = shape;
  const h0 = initialState;
  if (h0 !== undefined) checkLength('gru', 'initialState [B, H]', h0, B * H);
  const G = 3 * H;
  const BH = B * H;
  const rows = T * B;
  const K = p.kernel;
  const RK = p.recurrent_kernel;
  const bias = p.bias;

  // Input projections for the whole sequence at once: xp = x K + b0.
  const xp = new Float64Array(rows * G);
  fillRows(xp, bias, rows, G, 0);
  matmulAcc(xp, x, K, rows, I, G);

  const rec = new Float64Array(B * G);
  const h = new Float64Array(rows * H);
  const z = new Float64Array(rows * H);
  const r = new Float64Array(rows * H);
  const hh = new Float64Array(rows * H);
  const recH = new Float64Array(rows * H);

  for (let t = 0; t < T; t++) {
    fillRows(rec, bias, B, G, G);
    if (t > 0) matmulAcc(rec, h, RK, B, H, G, 0, (t - 1) * BH);
    else if (h0 !== undefined) matmulAcc(rec, h0, RK, B, H, G);
    for (let b = 0; b < B; b++) {
      const xo = (t * B + b) * G;
      const ro = b * G;
      const o0 = (t * B + b) * H;
      for (let j = 0; j < H; j++) {
        const o = o0 + j;
        const zt = sigmoid(xp[xo + j] + rec[ro + j]);
        const rt = sigmoid(xp[xo + H + j] + rec[ro + H + j]);
        const rh = rec[ro + 2 * H + j];
        const ht = Math.tanh(xp[xo + 2 * H + j] + rt * rh);
        const hPrev = t > 0 ? h[o - BH] : h0 !== undefined ? h0[b * H + j] : 0;
        z[o] = zt;
        r[o] = rt;
        hh[o] = ht;
        recH[o] = rh;
        h[o] = zt * hPrev + (1 - zt) * ht;
      }
    }
  }
  const cache: GruCache = { z, r, hh, recH, h0 };
  return { h, gates: { z, r }, cache };
}

function backward(p: LayerParams, x: Float64Array, fwd: CellForward, dhOut: Float64Array, shape: SeqShape): CellBackward {
  checkSeq('gru', x, shape);
  checkParams('gru', p, paramSpecs(shape.inputSize, shape.units));
  const { T, B, inputSize: I, units: H } = shape;
  const G = 3 * H;
  const BH = B * H;
  const rows = T * B;
  const n = rows * H;
  checkLength('gru', 'dhOut', dhOut, n);
  checkLength('gru', 'forward h', fwd.h, n);
  const cache = fwd.cache as GruCache | undefined;
  if (!cache || typeof cache !== 'object') throw new Error('gru: forward cache missing (pass the result of gruCell.forward)');
  checkLength('gru', 'cache.z', cache.z, n);
  checkLength('gru', 'cache.r', cache.r, n);
  checkLength('gru', 'cache.hh', cache.hh, n);
  checkLength('gru', 'cache.recH', cache.recH, n);
  const { z, r, hh, recH, h0 } = cache;
  if (h0 !== undefined) checkLength('gru', 'cache.h0', h0, BH);
  const h = fwd.h;
  const K = p.kernel;
  const RK = p.recurrent_kernel;

  // dh accumulates the recurrent paths on top of dhOut; row t is final once step t+1 has been processed.
  const dh = new Float64Array(dhOut);
  // Gradients w.r.t. the input-side (x K + b0) and recurrent-side (h RK + b1) pre-activations.
  const dXP = new Float64Array(rows * G);
  const dRP = new Float64Array(rows * G);

  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      const g0 = (t * B + b) * G;
      const o0 = (t * B + b) * H;
      for (let j = 0; j < H; j++) {
        const o = o0 + j;
        const d = dh[o];
        const zt = z[o];
        const rt = r[o];
        const ht = hh[o];
        const hPrev = t > 0 ? h[o - BH] : h0 !== undefined ? h0[b * H + j] : 0;
        const daH = d * (1 - zt) * (1 - ht * ht);
        const daZ = d * (hPrev - ht) * zt * (1 - zt);
        const daR = daH * recH[o] * rt * (1 - rt);
        dXP[g0 + j] = daZ;
        dXP[g0 + H + j] = daR;
        dXP[g0 + 2 * H + j] = daH;
        dRP[g0 + j] = daZ;
        dRP[g0 + H + j] = daR;
        dRP[g0 + 2 * H + j] = daH * rt;
        if (t > 0) dh[o - BH] += d * zt;
      }
    }
    if (t > 0) matmulTransBAcc(dh, dRP, RK, B, G, H, (t - 1) * BH, t * B * G);
  }

  const dK = new Float64Array(I * G);
  matmulTransAAcc(dK, x, dXP, rows, I, G);
  const dRK = new Float64Array(H * G);
  // h_0 = 0 contributes nothing, so step t ≥ 1 pairs h_{t-1} (row t-1 of h) with row t of dRP.
  if (T > 1) matmulTransAAcc(dRK, h, dRP, (T - 1) * B, H, G, 0, 0, B * G);
  if (h0 !== undefined) matmulTransAAcc(dRK, h0, dRP, B, H, G);
  const dBias = new Float64Array(2 * G);
  colSumAcc(dBias, dXP, rows, G, 0);
  colSumAcc(dBias, dRP, rows, G, G);
  const dx = new Float64Array(rows * I);
  matmulTransBAcc(dx, dXP, K, rows, G, I);

  return { dx, grads: { kernel: dK, recurrent_kernel: dRK, bias: dBias }, dh };
}

export const gruCell: CellDef = {
  kind: 'gru',
  gateNames: ['z', 'r'],
  paramSpecs,
  stateSize: (units) => units,
  forward,
  backward,
};
