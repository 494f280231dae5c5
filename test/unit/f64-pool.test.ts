/**
 * The float64 pool behind training's per-step [T, B, H] arrays (core/util/f64-pool): what comes back is
 * reused, nothing else is; and training steps whose arrays are recycled between them (forward outputs after
 * releaseForward, dL/dh and dx inside backward) give the same gradients as the reference engine, step after
 * step, on every float32 engine that is built.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellResolver, fastEngineStatus, releaseForward, wasmEngineStatus, type EngineName } from '../../core/engine/index';
import { createModel, lossAndGrads } from '../../core/model/network';
import { Rng } from '../../core/util/rng';
import { clearF64Pool, POOL_MIN, recycleF64, takeF64 } from '../../core/util/f64-pool';
import { float32Close } from '../helpers/float32-close';

test('takeF64/recycleF64: a returned array is reused once; foreign, small and doubly returned arrays are not', () => {
  clearF64Pool();
  const n = POOL_MIN * 2;
  const a = takeF64(n);
  a.fill(7);
  recycleF64(a);
  recycleF64(a); // twice: still one entry
  const b = takeF64(n, true);
  assert.equal(b, a, 'the returned array is reused');
  assert.ok(
    b.every((v) => v === 0),
    'zero: true clears it',
  );
  assert.notEqual(takeF64(n), a, 'one return, one reuse');
  const foreign = new Float64Array(n);
  recycleF64(foreign);
  assert.notEqual(takeF64(n), foreign, 'an array the pool did not give out never enters it');
  const small = takeF64(10);
  recycleF64(small);
  assert.notEqual(takeF64(10), small, 'small arrays are not pooled');
  recycleF64(a);
  assert.notEqual(takeF64(n + 1), a, 'only the same size is reused');
  clearF64Pool();
});

const engines = (['native', 'wasm'] as EngineName[]).filter((e) => (e === 'native' ? fastEngineStatus() : wasmEngineStatus()).available);

for (const engine of engines) {
  test(`${engine}: three training steps with recycled arrays give the reference engine's gradients`, () => {
    clearF64Pool();
    // T·B·H = 20 · 64 · 64 values: above the pool's threshold, so forward outputs, dL/dh and dx are recycled.
    const [T, B] = [20, 64];
    for (const cell of ['brc', 'gru'] as const) {
      const model = createModel(
        {
          inputSize: 1,
          layers: [
            { cell, units: 64 },
            { cell, units: 64 },
          ],
          readout: { units: 1, activation: 'linear', perStep: false },
        },
        new Rng(3),
      );
      const rng = new Rng(9);
      for (let step = 0; step < 3; step++) {
        const x = Float64Array.from({ length: T * B }, () => rng.normal());
        const y = x.slice(0, B);
        const got = lossAndGrads(model, x, T, B, { y }, cellResolver(engine));
        const want = lossAndGrads(model, x, T, B, { y }, cellResolver('reference'));
        for (const [name, g] of want.grads) float32Close(`${engine} ${cell} step ${step} ${name}`, got.grads.get(name)!, g, 2e-4);
        releaseForward(got.fr);
      }
    }
    clearF64Pool();
  });
}
