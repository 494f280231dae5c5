/**
 * Fraction bistable, fraction truly bistable and mean c carry intervals over sequences (each sequence one
 * sample: its neurons are not independent), per step, over all steps and over the hold period.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../../core/diagnostics/diagnose';
import { BATCH_SAMPLE_MAX, defaultBatchSample } from '../../core/diagnostics/bistability';
import { forward } from '../../core/model/network';
import { referenceCell } from '../../core/cells/index';
import { makeModel } from '../helpers/diag-models';
import { taskInput } from '../../core/diagnostics/input';

const model = makeModel(
  [
    { cell: 'brc', units: 12 },
    { cell: 'nbrc', units: 10 },
  ],
  { seed: 5, task: { name: 'copy', T: 40 } },
);
const run = (batch: number, seed: number, batchSample = 1) =>
  diagnose(model, { task: 'copy', T: 40, batch, seed, batchSample, sections: ['bistability'] });

test('intervals are the normal intervals of per-sequence means, computed independently from the trace', () => {
  const r = run(32, 3);
  const B = r.input.B;
  const T = 40;
  const L = r.bistability.layers[0];
  const hold = r.bistability.input!.hold!;
  assert.deepEqual(hold, { from: 1, to: T - 1 });
  // The diagnosed batch is the task's batch for this seed: rebuilt the same way, traced with reference cells.
  const input = taskInput(model.arch, { task: 'copy', T, batch: B, seed: 3 });
  const fr = forward(model, input.x, input.T, input.B, referenceCell);
  const H = 12;
  const a = fr.layers[0].fwd.gates.a;
  const c = fr.layers[0].fwd.gates.c;
  const perSeq = (arr: ArrayLike<number>, f: (v: number) => number, from: number, to: number) =>
    Array.from({ length: B }, (_, b) => {
      let s = 0;
      for (let t = from; t <= to; t++) for (let j = 0; j < H; j++) s += f(arr[(t * B + b) * H + j]);
      return s / ((to - from + 1) * H);
    });
  const check = (e: { value: number; lo: number; hi: number; n: number } | null | undefined, xs: number[]) => {
    const m = xs.reduce((s, v) => s + v, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, v) => s + (v - m) ** 2, 0) / (xs.length - 1));
    const half = (1.959963984540054 * sd) / Math.sqrt(xs.length);
    assert.ok(e, 'estimate present');
    assert.equal(e!.n, xs.length);
    assert.ok(
      Math.abs(e!.value - m) < 1e-5 && Math.abs(e!.lo - (m - half)) < 1e-5 && Math.abs(e!.hi - (m + half)) < 1e-5,
      `${JSON.stringify(e)} vs ${m} ± ${half}`,
    );
  };
  check(
    L.overall!.fractionBistable,
    perSeq(a, (v) => +(v > 1), 0, T - 1),
  );
  check(
    L.overall!.meanC,
    perSeq(c, (v) => v, 0, T - 1),
  );
  check(
    r.bistability.input!.holdAverages[0].estimates!.meanC,
    perSeq(c, (v) => v, 1, T - 1),
  );
  // Per step: step 7's interval.
  const at7 = perSeq(c, (v) => v, 7, 7);
  const iv = L.intervals!.meanC!;
  check({ value: L.meanC![7], lo: iv.lo[7]!, hi: iv.hi[7]!, n: iv.n }, at7);
  // Truly bistable from --batch-sample sequences: one sequence gives no interval.
  assert.equal(L.intervals!.fractionTrulyBistable!.n, 1);
  assert.equal(L.intervals!.fractionTrulyBistable!.lo[5], null);
});

test('hold-period intervals of 32 sequences cover the value of a 10× larger batch at about the nominal rate', () => {
  const big = run(320, 1000, 1).bistability.input!.holdAverages;
  let covered = 0;
  let checked = 0;
  for (let seed = 1; seed <= 15; seed++) {
    run(32, seed).bistability.input!.holdAverages.forEach((h, l) => {
      for (const k of ['fractionBistable', 'meanC'] as const) {
        const e = h.estimates![k]!;
        const ref = big[l].estimates![k]!.value;
        checked++;
        if (e.lo <= ref && ref <= e.hi) covered++;
      }
    });
  }
  assert.equal(checked, 60);
  assert.ok(covered / checked >= 0.85, `${covered}/${checked}`);
});

test('no verdict on the bistable band from one sequence: the sentence says inconclusive and names --batch-sample', () => {
  const one = run(32, 2).diagnosis.filter((d) => /bistable band/.test(d.text));
  assert.ok(one.length >= 1);
  for (const d of one) assert.match(d.text, /inconclusive .*--batch-sample, now 1\)/);
  // 16 sequences: layer 2's truly bistable interval (0.14–0.23) lies below half of a > 1's lower end (0.47).
  const sixteen = run(32, 2, 16).diagnosis.map((d) => d.text);
  assert.ok(
    sixteen.some((t) => /^Layer 2: the input drive often leaves the bistable band: .*sequences = 16/.test(t)),
    sixteen.join('\n'),
  );
});

test('without --batch-sample each layer samples as many sequences as its maps afford, and the band sentence is decided', () => {
  // Small BRC/nBRC layers: the cap, so an interval; explicit --batch-sample still wins.
  const r = diagnose(model, { task: 'copy', T: 40, batch: 32, seed: 2, sections: ['bistability'] });
  for (const L of r.bistability.layers) assert.equal(L.sampledSequences, BATCH_SAMPLE_MAX);
  assert.ok(r.diagnosis.some((d) => /^Layer 2: the input drive often leaves the bistable band: .*sequences = 16/.test(d.text)));
  assert.equal(
    diagnose(model, { task: 'copy', T: 40, batch: 8, seed: 2, sections: ['bistability'] }).bistability.layers[0].sampledSequences,
    8,
  );
  // About 0.1 s of maps: a 100-unit BRC layer on 100 inputs gets 11 sequences at T = 300 and 3 at T = 1000,
  // a GRU or LSTM layer of that size 1, the first layer (one input) the cap; custom cells' maps always 1.
  assert.equal(defaultBatchSample('gain', 300, 100, 100), 11);
  assert.equal(defaultBatchSample('gain', 1000, 100, 100), 3);
  assert.equal(defaultBatchSample('gain', 1000, 1, 100), BATCH_SAMPLE_MAX);
  assert.equal(defaultBatchSample('gru', 300, 100, 100), 1);
  assert.equal(defaultBatchSample('lstm', 100, 32, 32), 10);
  assert.equal(defaultBatchSample('generic', 10, 1, 1), 1);
});
