/** Sequence-length curriculum: the stage ladder, the batches the trainer draws, resume across stages, the CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referenceCell } from '../../core/cells/index';
import { normalizeConfig } from '../../core/train/config';
import { curriculumStages, stageAt } from '../../core/train/curriculum';
import { Trainer } from '../../core/train/trainer';
import { runTraining, RUN_FILES } from '../../core/train/run';
import { loadCheckpoint } from '../../core/train/checkpoint';
import { progressLine } from '../../core/cli/progress';
import type { ProgressEvent, TrainEvent } from '../../core/train/types';

test('copy stages climb from 2 to below T in steps of about 1.5× and split the steps evenly', () => {
  const stages = curriculumStages({ task: 'copy', T: 20, N: 0, curriculum: 12000 });
  assert.deepEqual(
    stages.map((s) => s.T),
    [2, 3, 4, 6, 9, 14],
  );
  assert.deepEqual(
    stages.map((s) => s.fromStep),
    [0, 2000, 4000, 6000, 8000, 10000],
  );
  for (let k = 1; k < stages.length; k++) assert.ok(stages[k].T / stages[k - 1].T <= 1.6);
  assert.ok(20 / stages[stages.length - 1].T <= 1.6);
  const at = (step: number) => stageAt(stages, 12000, step)?.T;
  assert.equal(at(0), 2);
  assert.equal(at(1999), 2);
  assert.equal(at(2000), 3);
  assert.equal(at(11999), 14);
  assert.equal(at(12000), undefined, 'full length after the curriculum');
  // Long tasks get more stages, never repeat a length and never reach T.
  const long = curriculumStages({ task: 'copy', T: 300, N: 0, curriculum: 15000 }).map((s) => s.T);
  assert.equal(long[0], 2);
  assert.ok(long.every((L, i) => L < 300 && (i === 0 || L > long[i - 1])));
  assert.ok(300 / long[long.length - 1] <= 1.6);
});

test('denoise stages scale the forbidden tail and always leave room for the 5 marked values', () => {
  const stages = curriculumStages({ task: 'denoise', T: 400, N: 200, curriculum: 1000 });
  assert.ok(stages.length > 3);
  for (const s of stages) {
    assert.equal(s.N, Math.floor((200 * s.T) / 400));
    assert.ok(s.T - s.N >= 5, `stage T=${s.T} N=${s.N}`);
  }
});

test('no stages when the curriculum is off or T is already minimal; smnist is refused with a clear message', () => {
  assert.deepEqual(curriculumStages({ task: 'copy', T: 20, N: 0, curriculum: 0 }), []);
  assert.deepEqual(curriculumStages({ task: 'copy', T: 2, N: 0, curriculum: 100 }), []);
  assert.throws(() => normalizeConfig({ task: 'smnist', curriculum: 100 }), /--curriculum needs a task whose length can vary/);
  assert.throws(() => normalizeConfig({ task: 'copy', curriculum: -1 }), /--curriculum must be a non-negative integer/);
  assert.equal(normalizeConfig({ task: 'copy' }).curriculum, 0);
});

const cfg = normalizeConfig({
  task: 'copy',
  cell: 'brc',
  T: 12,
  layers: 1,
  units: 6,
  batch: 8,
  steps: 40,
  lr: 1e-2,
  seed: 3,
  evalEvery: 10,
  testSize: 32,
  checkpointEvery: 9,
  curriculum: 24,
  engine: 'reference',
});

test('the trainer draws stage-length batches during the curriculum and evaluates at full length', () => {
  const tr = new Trainer(cfg, referenceCell);
  const stages = curriculumStages(cfg);
  const lengths: number[] = [];
  for (let i = 0; i < cfg.steps; i++) lengths.push(tr.trainStep().seqLen);
  for (let i = 0; i < cfg.steps; i++) assert.equal(lengths[i], stageAt(stages, cfg.curriculum, i)?.T ?? 12, `step ${i}`);
  assert.equal(lengths[0], 2);
  assert.equal(lengths[cfg.steps - 1], 12);
  const [testBatch] = tr.task.testBatches(32);
  assert.equal(testBatch.T, 12);
  assert.equal(tr.trainTask(), tr.task, 'after the curriculum batches come from the task itself');
  // A stage's batches are real copy sequences: the target is the first input.
  const fresh = new Trainer(cfg, referenceCell);
  const batch = fresh.trainTask().trainBatch(fresh.rng, 5);
  assert.equal(batch.T, 2);
  for (let i = 0; i < 5; i++) assert.equal(batch.y![i], batch.x[i]);
});

test('resume inside a curriculum stage continues exactly like an uninterrupted run; progress reports the length', () => {
  const a = mkdtempSync(join(tmpdir(), 'rnn-curr-'));
  const b = mkdtempSync(join(tmpdir(), 'rnn-curr-'));
  try {
    const events: TrainEvent[] = [];
    runTraining({
      outDir: a,
      config: cfg,
      isCancelled: () => false,
      emit: (e) => events.push(e),
      cells: referenceCell,
      progressIntervalMs: 0,
    });
    let calls = 0;
    // Cancel at step 11: inside the second stage, so the resumed run must pick the stage up from the step count.
    runTraining({ outDir: b, config: cfg, isCancelled: () => ++calls > 11, emit: () => {}, cells: referenceCell });
    runTraining({ outDir: b, resume: true, isCancelled: () => false, emit: () => {}, cells: referenceCell });
    const pa = loadCheckpoint(join(a, RUN_FILES.checkpoint)).resume;
    const pb = loadCheckpoint(join(b, RUN_FILES.checkpoint)).resume;
    assert.deepEqual(pb.state, pa.state);
    for (const [name, t] of pa.model.params) assert.deepEqual(pb.model.params.get(name)!.data, t.data, `${name} differs after resume`);
    const saved = JSON.parse(readFileSync(join(b, RUN_FILES.config), 'utf8'));
    assert.equal((saved.config ?? saved).curriculum, 24);
    const progress = events.filter((e): e is ProgressEvent => e.type === 'progress');
    const during = progress.filter((e) => e.step <= 24);
    const after = progress.filter((e) => e.step > 24);
    assert.ok(during.length > 0 && after.length > 0);
    for (const e of during) assert.equal(e.seqLen, stageAt(curriculumStages(cfg), 24, e.step - 1)!.T);
    for (const e of after) assert.equal(e.seqLen, undefined);
    assert.match(progressLine(during[0]), /curriculum: length 2/);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});
