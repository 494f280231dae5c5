/**
 * Who holds the target at the end of the sequence (memory.layers[].end): a count stated as an interval (sure to
 * possible carriers) and names only for carriers that stand apart, so the sentences do not change with the
 * batch. Planted model: two strong latches of x₁ (squared correlation ≈ 2/π) and a borderline one (≈ 0.18,
 * above the 0.1 threshold but not surely so on 256 sequences).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../../core/diagnostics/diagnose';
import { forward } from '../../core/model/network';
import { referenceCell } from '../../core/cells/index';
import type { DiagnoseInput } from '../../core/diagnostics/input';
import type { Model } from '../../core/model/model';
import { borderlineBatch, plantedBorderlineModel, plantedLatchModel, latchBatch } from '../helpers/memory-models';

const T = 60;
const endOf = (model: Model, input: DiagnoseInput) => diagnose(model, { input, sections: ['memory'] });

/** Adjusted squared correlation of h_{t,j} with y over the batch (the test's own computation). */
function adjustedR2(model: Model, input: DiagnoseInput, t: number, j: number): number {
  const fr = forward(model, input.x, input.T, input.B, referenceCell);
  const H = fr.layers[0].shape.units;
  const n = input.B;
  const h = Array.from({ length: n }, (_, b) => fr.layers[0].fwd.h[(t * n + b) * H + j]);
  const y = Array.from(input.y!);
  const mh = h.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let hh = 0,
    yy = 0,
    hy = 0;
  for (let b = 0; b < n; b++) {
    hh += (h[b] - mh) ** 2;
    yy += (y[b] - my) ** 2;
    hy += (h[b] - mh) * (y[b] - my);
  }
  const r2 = (hy * hy) / (hh * yy);
  return Math.max(0, 1 - ((1 - r2) * (n - 1)) / (n - 2));
}

test('end score: the mean adjusted R² over the last minSteps steps, computed independently', () => {
  const model = plantedLatchModel();
  const input = latchBatch(64, T, 3);
  const m = endOf(model, input).memory!;
  assert.deepEqual(m.endWindow, [T - m.minSteps, T - 1]);
  const end = m.layers[0].end!;
  assert.deepEqual([...end.carriers].sort(), [0, 1]);
  assert.deepEqual(end.inconclusive, []);
  for (const j of [0, 1]) {
    let want = 0;
    for (let t = T - m.minSteps; t < T; t++) want += adjustedR2(model, input, t, j) / m.minSteps;
    const e = end.scores.find((s) => s.neuron === j)!.estimate;
    assert.ok(Math.abs(e.value - want) < 1e-9, `neuron ${j}: ${e.value} vs ${want}`);
    assert.ok(e.lo <= e.value && e.value <= e.hi && e.n === 64 && e.method === 'bootstrap');
  }
  // The follower (2), the constant unit (3) and the silent neuron (4) do not hold x₁ at the end.
  for (const j of [2, 3, 4]) assert.ok(!end.scores.some((s) => s.neuron === j));
});

test('stability: a strong and a borderline carrier give the same sentences for six batches; the count interval covers the 10× batch count', () => {
  const model = plantedBorderlineModel();
  const big = endOf(model, borderlineBatch(2560, T, 999)).memory!.layers[0].end!;
  // The borderline latch's squared correlation (≈ 0.18) is surely above the threshold on 2560 sequences: 3 carriers.
  assert.deepEqual([...big.carriers].sort(), [0, 1, 5]);
  const norm = (s: string) =>
    s
      .replace(/between \d+ and \d+ neurons hold|\d+ neurons hold/, 'K neurons hold')
      .replace(/\d+ surely, \d+ possibly/, 'K1 surely, K2 possibly')
      .replace(/ To decide the \d+ undecided, [^.]*\./, '')
      .replace(/Adjusted R² at the end:.*$/, '');
  let first: string[] | null = null;
  const counts: [number, number][] = [];
  for (let seed = 11; seed <= 16; seed++) {
    const r = endOf(model, borderlineBatch(256, T, seed));
    const end = r.memory!.layers[0].end!;
    // The strong latches are named, the borderline one never is.
    assert.deepEqual([...end.named].sort(), [0, 1], `seed ${seed}`);
    counts.push([end.carriers.length, end.carriers.length + end.inconclusive.length]);
    const texts = r.diagnosis.slice(1).map((d) => norm(d.text));
    if (first === null) first = texts;
    else assert.deepEqual(texts, first, `seed ${seed}`);
  }
  assert.ok(
    first!.some((t) =>
      /Layer 1: K neurons hold the target y at the end of the sequence .*neurons 0 and 1 hold the target y from t = 0 to 59 on bistable branches \(a ≈ 2\.0, c ≈ 0\.50\)/.test(
        t,
      ),
    ),
    first!.join('\n'),
  );
  // The borderline neuron is sometimes sure, sometimes undecided (that is why a bare count would change).
  assert.ok(new Set(counts.map((c) => c.join())).size > 1, JSON.stringify(counts));
  for (const [k1, k2] of counts) assert.ok(k1 <= 3 && 3 <= k2, `count interval ${k1}–${k2} misses the 10× batch's 3`);
});

test('end-score intervals of 256 sequences cover the 10× batch value at about the nominal rate', () => {
  const model = plantedBorderlineModel();
  const big = endOf(model, borderlineBatch(2560, T, 999)).memory!.layers[0].end!;
  const ref = (j: number) => big.scores.find((s) => s.neuron === j)!.estimate.value;
  let covered = 0;
  let checked = 0;
  for (let seed = 21; seed <= 40; seed++) {
    for (const s of endOf(model, borderlineBatch(256, T, seed)).memory!.layers[0].end!.scores) {
      checked++;
      if (s.estimate.lo <= ref(s.neuron) && ref(s.neuron) <= s.estimate.hi) covered++;
    }
  }
  assert.ok(checked >= 55, `${checked} estimates`);
  assert.ok(covered / checked >= 0.85, `${covered}/${checked} intervals cover the large-batch value`);
});

test('a model whose carriers are all undecided states no count, only an upper bound, and how to decide', () => {
  const model = plantedBorderlineModel();
  // 24 sequences: even the strong latches' intervals are wide; the borderline latch is undecided.
  const r = endOf(model, borderlineBatch(24, T, 5));
  const end = r.memory!.layers[0].end!;
  const text = r.diagnosis.map((d) => d.text).join('\n');
  if (end.inconclusive.length > 0) assert.match(text, /To decide the \d+ undecided, give more sequences \(--input\)/);
  if (end.carriers.length === 0) assert.match(text, /up to \d+ neurons? may hold/);
  assert.doesNotMatch(text, /Layer 0/);
});
