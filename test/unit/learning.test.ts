/**
 * Training that actually learns, on the fast engine when it is built (otherwise the reference engine).
 * Finding (see the README, "Training"): started at full length, a 1-layer BRC learns the *sign* of the first
 * input quickly through bistable neurons (MSE → 1 − 2/π ≈ 0.36, the error of a sign-only memory) and finds
 * the magnitude late: its cellular gates cannot tell "first step" from later ones except through h, so it
 * must grow a large w_c (a write gate that shuts once h is set). A large lr and a sequence-length
 * curriculum (short sequences first) make that reliable.
 * With a second layer the magnitude is read without help.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cellResolver } from '../../core/engine/index';
import { normalizeConfig } from '../../core/train/config';
import { Trainer } from '../../core/train/trainer';
import { forward } from '../../core/model/network';

const cells = cellResolver('fast');

function trainUntil(tr: Trainer, target: number, maxSteps: number, every: number): { mse: number; step: number } {
  let mse = tr.evaluate().metric;
  while (tr.step < maxSteps && mse >= target) {
    for (let i = 0; i < every; i++) tr.trainStep();
    mse = tr.evaluate().metric;
  }
  return { mse, step: tr.step };
}

test('a 1-layer BRC learns copy-first-input at T = 20 to test MSE < 0.05 (sequence-length curriculum)', (t) => {
  // Curriculum: 12 000 updates on lengths 2, 3, 4, 6, 9, 14, then T = 20. Measured on seeds 1–8: < 0.045 after
  // 13 000–30 000 updates in total (14–42 s at one thread; seed 1 is the slowest, 29 000 in CI); the budget
  // leaves room for machines that round differently. Without the curriculum 2 of the 8 seeds stay above 0.05.
  const cfg = normalizeConfig({
    task: 'copy',
    cell: 'brc',
    T: 20,
    layers: 1,
    units: 64,
    batch: 100,
    lr: 3e-2,
    seed: 1,
    testSize: 500,
    steps: 60000,
    curriculum: 12000,
    engine: 'fast',
  });
  const tr = new Trainer(cfg, cells);
  const start = tr.evaluate().metric;
  assert.ok(start > 0.5, `an untrained model should not already remember (MSE ${start})`);
  while (tr.step < cfg.curriculum) tr.trainStep();
  const r = trainUntil(tr, 0.05, cfg.steps, 1000);
  t.diagnostic(`test MSE ${r.mse.toFixed(4)} after ${r.step} of at most ${cfg.steps} updates`);
  assert.ok(r.mse < 0.05, `test MSE ${r.mse.toFixed(4)} after ${r.step} steps`);
  assert.equal(tr.skipped, 0);
  assert.equal(tr.model.arch.layers.length, 1);
  assert.equal(tr.model.arch.layers[0].cell, 'brc');
});

test('a 2-layer BRC learns copy-first-input at T = 20 to test MSE < 0.05', () => {
  const cfg = normalizeConfig({
    task: 'copy',
    cell: 'brc',
    T: 20,
    layers: 2,
    units: 16,
    batch: 100,
    lr: 1e-2,
    seed: 1,
    testSize: 500,
    steps: 6000,
    engine: 'fast',
  });
  const tr = new Trainer(cfg, cells);
  const start = tr.evaluate().metric;
  assert.ok(start > 0.5, `an untrained model should not already remember (MSE ${start})`);
  const r = trainUntil(tr, 0.05, 6000, 250);
  assert.ok(r.mse < 0.05, `test MSE ${r.mse.toFixed(4)} after ${r.step} steps`);
  assert.equal(tr.skipped, 0);
});

test('a 1-layer BRC stores the sign of the first input in bistable neurons', () => {
  const cfg = normalizeConfig({
    task: 'copy',
    cell: 'brc',
    T: 20,
    layers: 1,
    units: 16,
    batch: 100,
    lr: 3e-3,
    seed: 2,
    testSize: 500,
    steps: 3000,
    engine: 'fast',
  });
  const tr = new Trainer(cfg, cells);
  for (let i = 0; i < 3000; i++) tr.trainStep();
  const mse = tr.evaluate().metric;
  assert.ok(mse < 0.5, `test MSE ${mse}`);
  const [batch] = tr.task.testBatches(500);
  const fr = forward(tr.model, batch.x, batch.T, batch.B, cells);
  let agree = 0;
  let n = 0;
  for (let b = 0; b < batch.B; b++) {
    const x1 = batch.y![b];
    if (Math.abs(x1) < 0.5) continue;
    n++;
    if (Math.sign(fr.out[b]) === Math.sign(x1)) agree++;
  }
  assert.ok(agree / n > 0.85, `sign of x1 recovered for ${agree}/${n} sequences`);
  // At the last step most neurons have feedback gain a > 1: the memory is held by bistability.
  const a = fr.layers[0].fwd.gates.a;
  const H = 16;
  const off = (batch.T - 1) * batch.B * H;
  let bistable = 0;
  for (let i = 0; i < batch.B * H; i++) if (a[off + i] > 1) bistable++;
  assert.ok(bistable / (batch.B * H) > 0.5, `fraction of neurons with a_T > 1: ${(bistable / (batch.B * H)).toFixed(2)}`);
});
