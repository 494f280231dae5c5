import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGradient } from '../helpers/gradcheck';
import { createModel, computeLoss, forward, lossAndGrads, softmaxRows } from '../../core/model/network';
import type { Architecture } from '../../core/model/architecture';
import type { CellKind } from '../../core/cells/types';
import { Rng } from '../../core/util/rng';

function randomize(model: ReturnType<typeof createModel>, rng: Rng, scale: number) {
  for (const t of model.params.values()) for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal() * scale;
}

const stacks: { name: string; layers: CellKind[]; activation: 'linear' | 'softmax'; perStep: boolean }[] = [
  { name: 'brc+nbrc linear', layers: ['brc', 'nbrc'], activation: 'linear', perStep: false },
  { name: 'gru+lstm softmax', layers: ['gru', 'lstm'], activation: 'softmax', perStep: false },
  { name: 'lstm+brc+gru linear per-step', layers: ['lstm', 'brc', 'gru'], activation: 'linear', perStep: true },
  { name: 'nbrc softmax per-step', layers: ['nbrc'], activation: 'softmax', perStep: true },
];

for (const s of stacks) {
  test(`stacked network gradients match finite differences: ${s.name}`, () => {
    const rng = new Rng(7);
    const T = 4;
    const B = 3;
    const inputSize = 2;
    const k = 3;
    const arch: Architecture = {
      inputSize,
      layers: s.layers.map((cell, i) => ({ cell, units: 3 + i })),
      readout: { units: k, activation: s.activation, perStep: s.perStep },
    };
    const model = createModel(arch, rng);
    randomize(model, rng, 0.5);
    const x = new Float64Array(T * B * inputSize).map(() => rng.normal());
    const rows = s.perStep ? T * B : B;
    const targets =
      s.activation === 'linear'
        ? { y: new Float64Array(rows * k).map(() => rng.normal()) }
        : { labels: Int32Array.from({ length: rows }, () => rng.int(k)) };
    const res = lossAndGrads(model, x, T, B, targets);
    const f = () => computeLoss(arch, forward(model, x, T, B).out, targets).loss;
    assert.ok(Math.abs(f() - res.loss) < 1e-12);
    for (const [name, t] of model.params) {
      const g = res.grads.get(name);
      assert.ok(g, `missing gradient for ${name}`);
      checkGradient(name, t.data, g, f, { tol: 1e-5 });
    }
    assert.equal(res.grads.size, model.params.size);
  });
}

test('MSE and cross-entropy against hand computation', () => {
  const arch: Architecture = {
    inputSize: 1,
    layers: [{ cell: 'brc', units: 1 }],
    readout: { units: 2, activation: 'linear', perStep: false },
  };
  const out = Float64Array.from([1, 2, 3, 5]);
  const r = computeLoss(arch, out, { y: Float64Array.from([0, 2, 1, 1]) });
  assert.equal(r.loss, (1 + 0 + 4 + 16) / 4);
  assert.deepEqual(Array.from(r.dOut), [0.5, 0, 1, 2]);
  const sm = { ...arch, readout: { units: 2, activation: 'softmax' as const, perStep: false } };
  const logits = Float64Array.from([0, Math.log(3), 2, 0]);
  const c = computeLoss(sm, logits, { labels: Int32Array.from([1, 1]) });
  const p1 = 3 / 4;
  const p2 = 1 / (1 + Math.exp(2));
  assert.ok(Math.abs(c.loss - (-Math.log(p1) - Math.log(p2)) / 2) < 1e-12);
  assert.equal(c.metric, 0.5);
  const p = softmaxRows(logits, 2);
  assert.ok(Math.abs(p[1] - 0.75) < 1e-12);
});

test('readout reads the last state only unless perStep', () => {
  const rng = new Rng(3);
  const arch: Architecture = {
    inputSize: 1,
    layers: [{ cell: 'gru', units: 4 }],
    readout: { units: 1, activation: 'linear', perStep: false },
  };
  const model = createModel(arch, rng);
  const T = 6;
  const B = 2;
  const x = new Float64Array(T * B).map(() => rng.normal());
  const fr = forward(model, x, T, B);
  const W = model.params.get('readout.kernel')!.data;
  const h = fr.layers[0].fwd.h;
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let u = 0; u < 4; u++) s += h[((T - 1) * B + b) * 4 + u] * W[u];
    assert.ok(Math.abs(fr.out[b] - s) < 1e-12);
  }
});
