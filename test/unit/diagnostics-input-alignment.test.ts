import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../../core/diagnostics/diagnose';
import { inputAlignment } from '../../core/diagnostics/input-alignment';
import type { BistabilityLayer } from '../../core/diagnostics/types';
import { createModel } from '../../core/model/network';
import { makeTask } from '../../core/tasks/index';
import { Rng } from '../../core/util/rng';

const layer = (series: number[], c: number[] | null): BistabilityLayer =>
  ({ layer: 0, fractionBistable: series, fractionTrulyBistable: series.map((v) => v / 2), meanC: c }) as unknown as BistabilityLayer;

test('denoise: the markers are the 5 marked steps and the hold period runs from the last one to the end marker', () => {
  const task = makeTask({ task: 'denoise', T: 30, N: 10, seed: 3, testSize: 2 });
  const [b] = task.testBatches(2);
  const T = b.T; // 31: 30 noise steps + the end step
  const series = Array.from({ length: T }, (_, t) => t / T);
  const r = inputAlignment(b.x, T, b.B, 2, 'denoise', 10, [
    layer(
      series,
      series.map(() => 0.9),
    ),
  ]);
  assert.deepEqual(r.names, ['value', 'marker']);
  const marked = Array.from({ length: 30 }, (_, t) => t).filter((t) => b.x[t * b.B * 2 + 1] === 0);
  assert.deepEqual(r.markers, marked);
  assert.equal(r.markers.length, 5);
  assert.ok(
    r.markers.every((t) => t < 30 - 10),
    'marked values lie before the forbidden tail',
  );
  const last = marked[4];
  assert.deepEqual(r.hold, { from: last + 1, to: T - 2 });
  // Hand-computed mean of t/T over the hold period.
  let s = 0;
  for (let t = last + 1; t <= T - 2; t++) s += t / T;
  const want = s / (T - 2 - last);
  assert.ok(Math.abs(r.holdAverages[0].fractionBistable! - want) < 1e-12);
  assert.ok(Math.abs(r.holdAverages[0].fractionTrulyBistable! - want / 2) < 1e-12);
  assert.ok(Math.abs(r.holdAverages[0].meanC! - 0.9) < 1e-12);
  assert.equal(r.channels[0][marked[0]], b.x[marked[0] * b.B * 2]);
});

test('copy holds from t = 1, smnist through the black pixels, an explicit input has no hold period', () => {
  const x = Float64Array.from({ length: 20 }, (_, i) => i);
  const copy = inputAlignment(x, 10, 2, 1, 'copy', 0, [layer(Array(10).fill(0.5), null)]);
  assert.deepEqual([copy.markers, copy.hold, copy.holdAverages[0].meanC], [[0], { from: 1, to: 9 }, null]);
  assert.deepEqual(copy.channels[0], [0, 2, 4, 6, 8, 10, 12, 14, 16, 18], 'the first sequence of [T, B, F]');
  const sm = inputAlignment(x, 10, 2, 1, 'smnist', 3, []);
  assert.deepEqual(sm.hold, { from: 7, to: 9 });
  const file = inputAlignment(new Float64Array(10 * 40), 10, 1, 40, undefined, 0, []);
  assert.equal(file.hold, null);
  assert.equal(file.channels.length, 16, 'at most 16 channels are kept');
});

test('diagnose puts the Figure 3 view in bistability.input for a denoise model', () => {
  const model = createModel(
    {
      inputSize: 2,
      layers: [{ cell: 'nbrc', units: 6 }],
      readout: { units: 5, activation: 'linear', perStep: false },
      task: { name: 'denoise', T: 40, N: 10 },
    },
    new Rng(2),
  );
  const r = diagnose(model, { batch: 4, seed: 5, sections: ['bistability'] });
  const inp = r.bistability.input!;
  assert.equal(inp.markers.length, 5);
  assert.equal(inp.channels[0].length, 41);
  assert.ok(inp.hold && inp.hold.to === 39);
  assert.equal(inp.holdAverages.length, 1);
  assert.ok(inp.holdAverages[0].meanC! > 0 && inp.holdAverages[0].meanC! < 1);
});
