/**
 * GRU with the options Keras/TF.js expose that change the math: the gate nonlinearity (sigmoid or hard
 * sigmoid) and where the reset gate acts. Gate order along 3H is z, r, h; h' = z ⊙ h + (1 − z) ⊙ ĥ.
 *   reset_after = true  (bias [2, 3H]):  ĥ = tanh(x K_h + b0_h + r ⊙ (h RK_h + b1_h))
 *   reset_after = false (bias [3H]):     ĥ = tanh(x K_h + b_h + (r ⊙ h) RK_h)
 * The default GRU (sigmoid, reset_after) stays in gru.ts, which is faster; this one is plain loops.
 */
import { recurrentActivation } from './activations';
import { checkLength, checkParams, checkSeq } from './dense';
import type { CellBackward, CellDef, CellForward, LayerParams, ParamSpec, RecurrentActivation, SeqShape } from './types';

interface Cache {
  z: Float64Array;
  r: Float64Array;
  hh: Float64Array;
  /** reset_after: h RK_h + b1_h; otherwise r ⊙ h_{t-1}. */
  aux: Float64Array;
  /** Initial state [B, H] when forward was given one. */
  h0?: Float64Array;
}

export function gruVariantParamSpecs(inputSize: number, units: number, resetAfter: boolean): ParamSpec[] {
  return [
    { name: 'kernel', shape: [inputSize, 3 * units], init: 'glorot_uniform' },
    { name: 'recurrent_kernel', shape: [units, 3 * units], init: 'orthogonal' },
    { name: 'bias', shape: resetAfter ? [2, 3 * units] : [3 * units], init: 'zeros' },
  ];
}

export function makeGruVariant(opts: { resetAfter: boolean; recurrentActivation: RecurrentActivation }): CellDef {
  const ra = opts.resetAfter;
  const act = recurrentActivation(opts.recurrentActivation);
  const specs = (I: number, H: number) => gruVariantParamSpecs(I, H, ra);

  function forward(p: LayerParams, x: Float64Array, shape: SeqShape, initialState?: Float64Array): CellForward {
    checkSeq('gru', x, shape);
    checkParams('gru', p, specs(shape.inputSize, shape.units));
    const { T, B, inputSize: I, units: H } = shape;
    const h0 = initialState;
    if (h0 !== undefined) checkLength('gru', 'initialState [B, H]', h0, B * H);
    const G = 3 * H;
    const K = p.kernel,
      RK = p.recurrent_kernel,
      bias = p.bias;
    const n = T * B * H;
    const h = new Float64Array(n),
      z = new Float64Array(n),
      r = new Float64Array(n);
    const hh = new Float64Array(n),
      aux = new Float64Array(n);
    const xp = new Float64Array(G);
    const rp = new Float64Array(G);
    const hp = new Float64Array(H);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const o0 = (t * B + b) * H;
        const x0 = (t * B + b) * I;
        for (let j = 0; j < H; j++) hp[j] = t > 0 ? h[o0 - B * H + j] : h0 !== undefined ? h0[b * H + j] : 0;
        for (let g = 0; g < G; g++) {
          let s = bias[g];
          for (let i = 0; i < I; i++) s += x[x0 + i] * K[i * G + g];
          xp[g] = s;
          let q = ra ? bias[G + g] : 0;
          if (ra || g < 2 * H) for (let k = 0; k < H; k++) q += hp[k] * RK[k * G + g];
          rp[g] = q;
        }
        for (let j = 0; j < H; j++) {
          z[o0 + j] = act.f(xp[j] + rp[j]);
          r[o0 + j] = act.f(xp[H + j] + rp[H + j]);
        }
        for (let j = 0; j < H; j++) {
          let cand: number;
          if (ra) {
            aux[o0 + j] = rp[2 * H + j];
            cand = xp[2 * H + j] + r[o0 + j] * rp[2 * H + j];
          } else {
            let s = 0;
            for (let k = 0; k < H; k++) s += r[o0 + k] * hp[k] * RK[k * G + 2 * H + j];
            aux[o0 + j] = r[o0 + j] * hp[j];
            cand = xp[2 * H + j] + s;
          }
          const ht = Math.tanh(cand);
          hh[o0 + j] = ht;
          h[o0 + j] = z[o0 + j] * hp[j] + (1 - z[o0 + j]) * ht;
        }
      }
    }
    const cache: Cache = { z, r, hh, aux, h0 };
    return { h, gates: { z, r }, cache };
  }

  function backward(p: LayerParams, x: Float64Array, fwd: CellForward, dhOut: Float64Array, shape: SeqShape): CellBackward {
    checkSeq('gru', x, shape);
    checkParams('gru', p, specs(shape.inputSize, shape.units));
    const { T, B, inputSize: I, units: H } = shape;
    const G = 3 * H;
    const n = T * B * H;
    checkLength('gru', 'dhOut', dhOut, n);
    checkLength('gru', 'forward h', fwd.h, n);
    const c = fwd.cache as Cache | undefined;
    if (!c || typeof c !== 'object') throw new Error('gru: forward cache missing');
    for (const k of ['z', 'r', 'hh', 'aux'] as const) checkLength('gru', `cache.${k}`, c[k], n);
    const h0 = c.h0;
    if (h0 !== undefined) checkLength('gru', 'cache.h0', h0, B * H);
    const K = p.kernel,
      RK = p.recurrent_kernel;
    const h = fwd.h;
    const dh = new Float64Array(dhOut);
    const dK = new Float64Array(I * G),
      dRK = new Float64Array(H * G),
      dBias = new Float64Array(p.bias.length);
    const dx = new Float64Array(T * B * I);
    const dXP = new Float64Array(G); // input-side pre-activation gradients
    const dRP = new Float64Array(G); // recurrent-side (h RK [+ b1]) gradients
    const hp = new Float64Array(H);
    for (let t = T - 1; t >= 0; t--) {
      for (let b = 0; b < B; b++) {
        const o0 = (t * B + b) * H;
        const x0 = (t * B + b) * I;
        for (let j = 0; j < H; j++) hp[j] = t > 0 ? h[o0 - B * H + j] : h0 !== undefined ? h0[b * H + j] : 0;
        for (let j = 0; j < H; j++) {
          const d = dh[o0 + j],
            zt = c.z[o0 + j],
            ht = c.hh[o0 + j];
          const daH = d * (1 - zt) * (1 - ht * ht);
          dXP[j] = d * (hp[j] - ht) * act.dfy(zt);
          dXP[2 * H + j] = daH;
          if (ra) {
            dXP[H + j] = daH * c.aux[o0 + j] * act.dfy(c.r[o0 + j]);
            dRP[2 * H + j] = daH * c.r[o0 + j];
          }
        }
        const dhp = new Float64Array(H);
        if (!ra) {
          // ĥ's recurrent term is (r ⊙ h) RK_h: its gradient splits between r and h_{t-1}.
          for (let k = 0; k < H; k++) {
            let s = 0;
            for (let j = 0; j < H; j++) s += dXP[2 * H + j] * RK[k * G + 2 * H + j];
            const rk = c.r[o0 + k];
            dXP[H + k] = s * hp[k] * act.dfy(rk);
            dhp[k] += s * rk;
            for (let j = 0; j < H; j++) dRK[k * G + 2 * H + j] += c.aux[o0 + k] * dXP[2 * H + j];
          }
        }
        for (let j = 0; j < 2 * H; j++) dRP[j] = dXP[j];
        // Bias and input-side gradients.
        for (let g = 0; g < G; g++) {
          dBias[g] += dXP[g];
          if (ra) dBias[G + g] += dRP[g];
          for (let i = 0; i < I; i++) dK[i * G + g] += x[x0 + i] * dXP[g];
        }
        for (let i = 0; i < I; i++) {
          let s = 0;
          for (let g = 0; g < G; g++) s += K[i * G + g] * dXP[g];
          dx[x0 + i] = s;
        }
        // h_{t-1} (or the initial state at t = 0) feeds the recurrent products; only t > 0 passes dh back.
        if (t > 0 || h0 !== undefined) {
          const gMax = ra ? G : 2 * H;
          for (let k = 0; k < H; k++) {
            let s = dhp[k] + dh[o0 + k] * c.z[o0 + k];
            for (let g = 0; g < gMax; g++) {
              s += RK[k * G + g] * dRP[g];
              dRK[k * G + g] += hp[k] * dRP[g];
            }
            if (t > 0) dh[o0 - B * H + k] += s;
          }
        }
      }
    }
    return { dx, grads: { kernel: dK, recurrent_kernel: dRK, bias: dBias }, dh };
  }

  return { kind: 'gru', gateNames: ['z', 'r'], paramSpecs: specs, stateSize: (units) => units, forward, backward };
}
