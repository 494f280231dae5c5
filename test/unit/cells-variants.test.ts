/** GRU/LSTM options (hard sigmoid, reset-before GRU) and SimpleRNN: forward against nested-array references, backward by finite differences. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gruCell } from '../../core/cells/gru';
import { layerCell, hasCellOptions } from '../../core/cells/index';
import { makeGruVariant } from '../../core/cells/gru-variant';
import { makeLstmVariant } from '../../core/cells/lstm-variant';
import { makeSimpleRnnCell } from '../../core/cells/simple-rnn';
import { cellStateSize, type CellDef, type LayerParams, type SeqShape } from '../../core/cells/types';
import { packStates } from '../../core/diagnostics/state';
import { Rng } from '../../core/util/rng';
import { checkGradient } from '../helpers/gradcheck';

type Act = (v: number) => number;
const sig: Act = (v) => 1 / (1 + Math.exp(-v));
const hard02: Act = (v) => Math.min(1, Math.max(0, 0.2 * v + 0.5));
const hard6: Act = (v) => Math.min(1, Math.max(0, v / 6 + 0.5));
const relu: Act = (v) => Math.max(0, v);

function randParams(rng: Rng, def: CellDef, I: number, H: number, scale: number): LayerParams {
  const p: LayerParams = {};
  for (const s of def.paramSpecs(I, H)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    p[s.name] = Float64Array.from({ length: n }, () => scale * rng.normal());
  }
  return p;
}

/** Plain per-step references over one batch element; x is [T][I], returns h as [T][H]. */
function refGruBefore(p: LayerParams, xs: number[][], H: number, f: Act): number[][] {
  const G = 3 * H;
  let h = new Array<number>(H).fill(0);
  return xs.map((x) => {
    const pre = (g: number, useH: number[] | null) => {
      let s = p.bias[g];
      x.forEach((xi, i) => (s += xi * p.kernel[i * G + g]));
      if (useH) useH.forEach((hk, k) => (s += hk * p.recurrent_kernel[k * G + g]));
      return s;
    };
    const z = h.map((_, j) => f(pre(j, h)));
    const r = h.map((_, j) => f(pre(H + j, h)));
    const rh = h.map((hk, k) => r[k] * hk);
    const hn = h.map((hj, j) => {
      let s = pre(2 * H + j, null);
      rh.forEach((v, k) => (s += v * p.recurrent_kernel[k * G + 2 * H + j]));
      return z[j] * hj + (1 - z[j]) * Math.tanh(s);
    });
    h = hn;
    return hn;
  });
}

function refGruAfter(p: LayerParams, xs: number[][], H: number, f: Act): number[][] {
  const G = 3 * H;
  let h = new Array<number>(H).fill(0);
  return xs.map((x) => {
    const xp = (g: number) => x.reduce((s, xi, i) => s + xi * p.kernel[i * G + g], p.bias[g]);
    const rp = (g: number) => h.reduce((s, hk, k) => s + hk * p.recurrent_kernel[k * G + g], p.bias[G + g]);
    const hn = h.map((hj, j) => {
      const z = f(xp(j) + rp(j));
      const r = f(xp(H + j) + rp(H + j));
      return z * hj + (1 - z) * Math.tanh(xp(2 * H + j) + r * rp(2 * H + j));
    });
    h = hn;
    return hn;
  });
}

function refLstm(p: LayerParams, xs: number[][], H: number, f: Act): number[][] {
  const G = 4 * H;
  let h = new Array<number>(H).fill(0);
  let c = new Array<number>(H).fill(0);
  return xs.map((x) => {
    const pre = (g: number) =>
      x.reduce((s, xi, i) => s + xi * p.kernel[i * G + g], p.bias[g]) + h.reduce((s, hk, k) => s + hk * p.recurrent_kernel[k * G + g], 0);
    const cn = c.map((cj, j) => f(pre(H + j)) * cj + f(pre(j)) * Math.tanh(pre(2 * H + j)));
    const hn = cn.map((cj, j) => f(pre(3 * H + j)) * Math.tanh(cj));
    h = hn;
    c = cn;
    return hn;
  });
}

function refSimple(p: LayerParams, xs: number[][], H: number, f: Act): number[][] {
  let h = new Array<number>(H).fill(0);
  return xs.map((x) => {
    const hn = h.map((_, j) => {
      let s = p.bias[j];
      x.forEach((xi, i) => (s += xi * p.kernel[i * H + j]));
      h.forEach((hk, k) => (s += hk * p.recurrent_kernel[k * H + j]));
      return f(s);
    });
    h = hn;
    return hn;
  });
}

type Ref = (p: LayerParams, xs: number[][], H: number) => number[][];
const cases: { name: string; def: CellDef; ref: Ref }[] = [
  {
    name: 'gru reset-before sigmoid',
    def: makeGruVariant({ resetAfter: false, recurrentActivation: 'sigmoid' }),
    ref: (p, x, H) => refGruBefore(p, x, H, sig),
  },
  {
    name: 'gru reset-before hard_sigmoid',
    def: makeGruVariant({ resetAfter: false, recurrentActivation: 'hard_sigmoid' }),
    ref: (p, x, H) => refGruBefore(p, x, H, hard02),
  },
  {
    name: 'gru reset-after hard_sigmoid_keras3',
    def: makeGruVariant({ resetAfter: true, recurrentActivation: 'hard_sigmoid_keras3' }),
    ref: (p, x, H) => refGruAfter(p, x, H, hard6),
  },
  { name: 'lstm hard_sigmoid', def: makeLstmVariant('hard_sigmoid'), ref: (p, x, H) => refLstm(p, x, H, hard02) },
  { name: 'simple_rnn tanh', def: makeSimpleRnnCell('tanh'), ref: (p, x, H) => refSimple(p, x, H, Math.tanh) },
  { name: 'simple_rnn relu', def: makeSimpleRnnCell('relu'), ref: (p, x, H) => refSimple(p, x, H, relu) },
];

const shape: SeqShape = { T: 5, B: 3, inputSize: 3, units: 4 };

for (const c of cases) {
  test(`${c.name}: forward matches an independent per-step reference`, () => {
    const rng = new Rng(11);
    const p = randParams(rng, c.def, shape.inputSize, shape.units, 0.8);
    const x = Float64Array.from({ length: shape.T * shape.B * shape.inputSize }, () => rng.normal());
    const fwd = c.def.forward(p, x, shape);
    let clipped = 0;
    for (const g of Object.values(fwd.gates)) for (const v of g) if (v === 0 || v === 1) clipped++;
    if (c.name.includes('hard')) assert.ok(clipped > 0, 'test data should reach the hard sigmoid flat parts');
    for (let b = 0; b < shape.B; b++) {
      const xs = Array.from({ length: shape.T }, (_, t) => Array.from(x.subarray((t * shape.B + b) * 3, (t * shape.B + b) * 3 + 3)));
      const ref = c.ref(p, xs, shape.units);
      for (let t = 0; t < shape.T; t++) {
        for (let j = 0; j < shape.units; j++) {
          const got = fwd.h[(t * shape.B + b) * shape.units + j];
          assert.ok(Math.abs(got - ref[t][j]) < 1e-12, `h[t=${t}, b=${b}, j=${j}]: ${got} vs ${ref[t][j]}`);
        }
      }
    }
  });

  test(`${c.name}: backward matches finite differences`, () => {
    const rng = new Rng(5);
    const p = randParams(rng, c.def, shape.inputSize, shape.units, 0.6);
    if (c.name.includes('relu')) for (let i = 0; i < p.bias.length; i++) p.bias[i] += 0.5;
    const x = Float64Array.from({ length: shape.T * shape.B * shape.inputSize }, () => rng.normal());
    const w = Float64Array.from({ length: shape.T * shape.B * shape.units }, () => rng.normal());
    const loss = () => c.def.forward(p, x, shape).h.reduce((s, v, i) => s + v * w[i], 0);
    const fwd = c.def.forward(p, x, shape);
    const bwd = c.def.backward(p, x, fwd, w, shape);
    for (const name of Object.keys(p)) checkGradient(`${c.name} ${name}`, p[name], bwd.grads[name], loss, { tol: 1e-5 });
    checkGradient(`${c.name} x`, x, bwd.dx, loss, { tol: 1e-5 });
  });
}

test('the GRU variant with default options reproduces the default GRU cell (separate code)', () => {
  // (The LSTM variant is the default LSTM code with another gate function: nothing separate to compare.)
  const rng = new Rng(3);
  for (const [variant, base] of [[makeGruVariant({ resetAfter: true, recurrentActivation: 'sigmoid' }), gruCell]] as const) {
    const p = randParams(rng, base, 3, 4, 0.7);
    const x = Float64Array.from({ length: shape.T * shape.B * 3 }, () => rng.normal());
    const w = Float64Array.from({ length: shape.T * shape.B * 4 }, () => rng.normal());
    const a = variant.forward(p, x, shape);
    const b = base.forward(p, x, shape);
    a.h.forEach((v, i) => assert.ok(Math.abs(v - b.h[i]) < 1e-12));
    const ga = variant.backward(p, x, a, w, shape);
    const gb = base.backward(p, x, b, w, shape);
    for (const k of Object.keys(p))
      ga.grads[k].forEach((v, i) => assert.ok(Math.abs(v - gb.grads[k][i]) < 1e-10, `${base.kind} ${k}[${i}]`));
  }
});

test('layerCell hands default layers to the resolver and keeps option layers on the reference code', () => {
  const seen: string[] = [];
  const resolver = (kind: 'brc' | 'nbrc' | 'gru' | 'lstm') => {
    seen.push(kind);
    return gruCell;
  };
  layerCell({ cell: 'gru' }, resolver);
  assert.deepEqual(seen, ['gru']);
  const v = layerCell({ cell: 'gru', resetAfter: false }, resolver);
  assert.equal(seen.length, 1);
  assert.deepEqual(
    v.paramSpecs(2, 3).map((s) => s.shape),
    [[2, 9], [3, 9], [9]],
  );
  assert.equal(layerCell({ cell: 'simple_rnn' }, resolver).kind, 'simple_rnn');
  assert.equal(seen.length, 1);
  assert.equal(hasCellOptions({ cell: 'lstm', recurrentActivation: 'sigmoid' }), false);
  assert.equal(hasCellOptions({ cell: 'lstm', recurrentActivation: 'hard_sigmoid' }), true);
});

for (const c of cases) {
  test(`${c.name}: initialState — a run split in two equals one run, and parameter gradients stay exact`, () => {
    const def = c.def;
    assert.equal(cellStateSize(def, 5), def.kind === 'lstm' ? 10 : 5);
    const rng = new Rng(8);
    const [T, B, I, H, k] = [7, 2, 3, 4, 3];
    const p = randParams(rng, def, I, H, 0.6);
    if (c.name.includes('relu')) for (let i = 0; i < p.bias.length; i++) p.bias[i] += 0.5;
    const x = Float64Array.from({ length: T * B * I }, () => rng.normal());
    const whole = def.forward(p, x, { T, B, inputSize: I, units: H });
    const first = def.forward(p, x.subarray(0, k * B * I), { T: k, B, inputSize: I, units: H });
    const S = cellStateSize(def, H);
    // The state after step k, [B, S] (h, then c for LSTM).
    const s0 = packStates(first, k, B, H, S).slice((k - 1) * B * S);
    assert.ok(s0.some((v) => Math.abs(v) > 0.05));
    const shape = { T: T - k, B, inputSize: I, units: H };
    const xs = x.slice(k * B * I);
    const rest = def.forward(p, xs, shape, s0);
    rest.h.forEach((v, i) => assert.ok(Math.abs(v - whole.h[k * B * H + i]) < 1e-14, `h[${i}]`));
    const w = Float64Array.from({ length: rest.h.length }, () => rng.normal());
    const loss = () => def.forward(p, xs, shape, s0).h.reduce((s, v, i) => s + v * w[i], 0);
    const g = def.backward(p, xs, rest, w, shape);
    // A tiny step keeps the stencil off the hard sigmoid's kinks.
    const eps = c.name.includes('hard') ? 1e-6 : 1e-4;
    for (const name of Object.keys(p)) checkGradient(`${c.name} ${name} (from s0)`, p[name], g.grads[name], loss, { eps });
  });
}
