import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referenceCell } from '../../core/cells/index';
import { normalizeConfig } from '../../core/train/config';
import { Trainer } from '../../core/train/trainer';
import { runTraining, RUN_FILES } from '../../core/train/run';
import { loadCheckpoint } from '../../core/train/checkpoint';
import { Adam, clipGlobalNorm, globalNorm } from '../../core/train/adam';
import { loadModel } from '../../core/model/model-file';
import type { DoneEvent, TrainEvent } from '../../core/train/types';
import { computeLoss, forward } from '../../core/model/network';
import { makeTask } from '../../core/tasks/index';

const tmp = () => mkdtempSync(join(tmpdir(), 'rnn-train-'));

const small = normalizeConfig({
  task: 'copy',
  cell: 'brc',
  T: 10,
  layers: 1,
  units: 8,
  batch: 16,
  steps: 30,
  lr: 3e-3,
  seed: 5,
  evalEvery: 10,
  testSize: 64,
  checkpointEvery: 7,
  engine: 'reference',
});

test('Adam update matches a hand-computed Keras step', () => {
  const params = new Map([['w', { shape: [2], data: Float64Array.from([1, -2]) }]]);
  const adam = new Adam({ lr: 0.1 });
  adam.update(params, new Map([['w', Float64Array.from([0.5, -4])]]));
  // t = 1: m = 0.1 g, v = 0.001 g², lr_t = 0.1·√(0.001)/0.1 → step = lr_t·m/(√v + 1e-7) ≈ 0.1·sign(g).
  const expected = [0.5, -4].map((g, i) => {
    const m = 0.1 * g;
    const v = 0.001 * g * g;
    const lrT = (0.1 * Math.sqrt(1 - 0.999)) / (1 - 0.9);
    return [1, -2][i] - (lrT * m) / (Math.sqrt(v) + 1e-7);
  });
  assert.ok(Math.abs(params.get('w')!.data[0] - expected[0]) < 1e-15);
  assert.ok(Math.abs(params.get('w')!.data[1] - expected[1]) < 1e-15);
  assert.ok(Math.abs(params.get('w')!.data[0] - 0.9) < 1e-5);
});

test('the non-finite guard skips a poisoned step, leaves the weights alone and training continues', () => {
  const tr = new Trainer(small, referenceCell);
  tr.trainStep();
  const before = new Map([...tr.model.params].map(([k, t]) => [k, t.data.slice()]));
  const batch = tr.task.trainBatch(tr.rng, small.batch);
  batch.x[3] = NaN;
  const r = tr.trainOn(batch);
  assert.equal(r.skipped, true);
  assert.equal(tr.skipped, 1);
  for (const [k, t] of tr.model.params) assert.deepEqual(t.data, before.get(k), `${k} changed by a skipped step`);
  const adamT = tr.adam.t;
  const next = tr.trainStep();
  assert.equal(next.skipped, false);
  assert.ok(Number.isFinite(next.loss));
  assert.equal(tr.adam.t, adamT + 1);
  let changed = false;
  for (const [k, t] of tr.model.params) if (t.data.some((v, i) => v !== before.get(k)![i])) changed = true;
  assert.ok(changed, 'training did not continue after the skipped step');
});

test('global-norm clipping rescales all gradients to the limit and leaves small ones alone', () => {
  const grads = new Map([
    ['a', Float64Array.from([3, 0])],
    ['b', Float64Array.from([0, 4])],
  ]);
  assert.equal(clipGlobalNorm(grads, 1), 5);
  assert.ok(Math.abs(grads.get('a')![0] - 0.6) < 1e-15 && grads.get('a')![1] === 0);
  assert.ok(Math.abs(globalNorm(grads) - 1) < 1e-15);
  assert.equal(clipGlobalNorm(grads, 10), 1);
  assert.ok(grads.get('b')![0] === 0 && Math.abs(grads.get('b')![1] - 0.8) < 1e-15);
  const tr = new Trainer(normalizeConfig({ ...small, clipNorm: 1e-3 }), referenceCell);
  assert.ok(tr.trainStep().gradNorm > 1e-3, 'the reported norm is the one before clipping');
});

function finalParams(dir: string) {
  return loadCheckpoint(join(dir, RUN_FILES.checkpoint)).resume;
}

test('resume after cancel gives exactly the parameters of an uninterrupted run', () => {
  const a = tmp();
  const b = tmp();
  try {
    const eventsA: TrainEvent[] = [];
    runTraining({ outDir: a, config: small, isCancelled: () => false, emit: (e) => eventsA.push(e), cells: referenceCell });
    let calls = 0;
    const r1 = runTraining({ outDir: b, config: small, isCancelled: () => ++calls > 13, emit: () => {}, cells: referenceCell });
    assert.equal(r1.reason, 'cancelled');
    assert.equal(r1.step, 13);
    assert.equal(JSON.parse(readFileSync(join(b, RUN_FILES.status), 'utf8')).status, 'cancelled');
    const r2 = runTraining({ outDir: b, resume: true, isCancelled: () => false, emit: () => {}, cells: referenceCell });
    assert.equal(r2.reason, 'completed');
    assert.equal(r2.step, 30);
    const pa = finalParams(a);
    const pb = finalParams(b);
    assert.deepEqual(pb.state, pa.state);
    for (const [name, t] of pa.model.params) assert.deepEqual(pb.model.params.get(name)!.data, t.data, `${name} differs after resume`);
    for (const [name, m] of pa.adamM) assert.deepEqual(pb.adamM.get(name), m);
    // metrics.jsonl of the resumed run has each evaluation exactly once, equal to the uninterrupted run's.
    const lines = (d: string) =>
      readFileSync(join(d, RUN_FILES.metrics), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines(b).map((l) => [l.step, l.testLoss]),
      lines(a).map((l) => [l.step, l.testLoss]),
    );
    assert.ok(eventsA.some((e) => e.type === 'progress'));
    assert.deepEqual(
      eventsA.filter((e) => e.type === 'eval').map((e) => e.step),
      [0, 10, 20, 30],
    );
    const { model } = loadModel(join(a, RUN_FILES.model));
    assert.equal(model.arch.layers[0].cell, 'brc');
    // The best point survives the interruption: same record, same weights.
    assert.deepEqual(runJson(b).best, runJson(a).best);
    assert.deepEqual(readFileSync(join(b, RUN_FILES.best)), readFileSync(join(a, RUN_FILES.best)));
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('resuming a folder without a checkpoint is a clear error', () => {
  const d = tmp();
  try {
    assert.throws(
      () => runTraining({ outDir: d, resume: true, isCancelled: () => false, emit: () => {}, cells: referenceCell }),
      /nothing to resume/,
    );
    assert.ok(!existsSync(join(d, RUN_FILES.model)));
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('bad configurations are refused with the offending flag named', () => {
  assert.throws(() => normalizeConfig({ cell: 'rnn' as never }), /unknown cell "rnn"/);
  assert.throws(() => normalizeConfig({ task: 'copy', T: 0 }), /--T must be a positive integer/);
  assert.throws(() => normalizeConfig({ task: 'denoise', T: 10, N: 8 }), /T - N >= 5/);
  assert.throws(() => normalizeConfig({ lr: -1 }), /--lr/);
  assert.throws(() => normalizeConfig({ engine: 'gpu' as never }), /--engine/);
});

const runJson = (d: string) => JSON.parse(readFileSync(join(d, RUN_FILES.status), 'utf8'));

/** Test MSE of a saved model on the run's own test set, computed independently of the trainer. */
function testMse(path: string, cfg: typeof small): number {
  const { model } = loadModel(path);
  const task = makeTask({ task: 'copy', T: cfg.T, N: 0, seed: cfg.seed, testSize: cfg.testSize });
  let se = 0;
  let n = 0;
  for (const b of task.testBatches(Math.min(cfg.batch, 500))) {
    const fr = forward(model, b.x, b.T, b.B, referenceCell);
    se += computeLoss(model.arch, fr.out, { y: b.y }).metric * b.B;
    n += b.B;
  }
  return se / n;
}

test('model-best.safetensors holds the weights of the lowest test MSE; run.json and the done event say where', () => {
  const d = tmp();
  try {
    const cfg = normalizeConfig({ ...small, steps: 60, lr: 0.3, evalEvery: 5 });
    const events: TrainEvent[] = [];
    runTraining({ outDir: d, config: cfg, isCancelled: () => false, emit: (e) => events.push(e), cells: referenceCell });
    const lines = readFileSync(join(d, RUN_FILES.metrics), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; metric: number });
    const bestLine = lines.reduce((m, l) => (l.metric < m.metric ? l : m));
    assert.notEqual(
      bestLine.step,
      lines[lines.length - 1].step,
      'this run should not be at its best at the end (else the test proves little)',
    );
    const best = runJson(d).best;
    assert.deepEqual(best, { step: bestLine.step, metric: bestLine.metric, metricName: 'mse' });
    const done = events.find((e): e is DoneEvent => e.type === 'done')!;
    assert.deepEqual(done.best, { ...best, path: join(d, RUN_FILES.best) });
    // The saved weights (float32) reproduce the recorded metric; the final model does not.
    const mBest = testMse(join(d, RUN_FILES.best), cfg);
    assert.ok(Math.abs(mBest - bestLine.metric) < 1e-3 * bestLine.metric + 1e-6, `best model MSE ${mBest} vs recorded ${bestLine.metric}`);
    assert.ok(Math.abs(testMse(join(d, RUN_FILES.model), cfg) - lines[lines.length - 1].metric) < 1e-3);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('after a crash, best weights from steps the resumed run redoes are dropped and tracking restarts', () => {
  const d = tmp();
  try {
    let calls = 0;
    runTraining({ outDir: d, config: small, isCancelled: () => ++calls > 13, emit: () => {}, cells: referenceCell });
    assert.ok(existsSync(join(d, RUN_FILES.best)));
    // As if the worker died after evaluating (and saving a best) at step 20 but before a checkpoint after 13.
    const st = runJson(d);
    writeFileSync(join(d, RUN_FILES.status), JSON.stringify({ ...st, best: { step: 20, metric: 1e-9, metricName: 'mse' } }));
    runTraining({ outDir: d, resume: true, isCancelled: () => false, emit: () => {}, cells: referenceCell });
    const best = runJson(d).best;
    assert.ok(best.step === 20 || best.step === 30, `best restarted from the redone evaluations (got step ${best.step})`);
    assert.ok(best.metric > 1e-9);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});
