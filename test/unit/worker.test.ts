import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTraining } from '../../core/train/runner';
import { RUN_FILES, runTraining } from '../../core/train/run';
import { loadCheckpoint } from '../../core/train/checkpoint';
import { referenceCell } from '../../core/cells/index';
import type { TrainConfig, TrainEvent } from '../../core/train/types';

const config: Partial<TrainConfig> = {
  task: 'copy',
  cell: 'gru',
  T: 12,
  layers: 1,
  units: 8,
  batch: 16,
  steps: 400,
  seed: 11,
  evalEvery: 50,
  testSize: 64,
  checkpointEvery: 25,
  engine: 'reference',
};

test('training in a worker reports progress, stops on cancel with a checkpoint, and resumes to the same result', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-worker-'));
  const ref = mkdtempSync(join(tmpdir(), 'rnn-worker-ref-'));
  try {
    const events: TrainEvent[] = [];
    const h = startTraining({
      outDir: dir,
      config,
      progressIntervalMs: 10,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'progress' && e.step >= 60) h.cancel();
      },
    });
    const done = await h.done;
    assert.equal(done.reason, 'cancelled');
    assert.ok(done.step >= 60 && done.step < 400, `stopped at ${done.step}`);
    assert.ok(events.some((e) => e.type === 'progress' && e.stepsPerSec > 0));
    assert.equal(JSON.parse(readFileSync(join(dir, RUN_FILES.status), 'utf8')).status, 'cancelled');
    assert.equal(loadCheckpoint(join(dir, RUN_FILES.checkpoint)).resume.state.step, done.step);

    const resumed = await startTraining({ outDir: dir, resume: true }).done;
    assert.equal(resumed.reason, 'completed');
    assert.equal(resumed.step, 400);

    runTraining({ outDir: ref, config, isCancelled: () => false, emit: () => {}, cells: referenceCell });
    const a = loadCheckpoint(join(ref, RUN_FILES.checkpoint)).resume;
    const b = loadCheckpoint(join(dir, RUN_FILES.checkpoint)).resume;
    for (const [name, t] of a.model.params) assert.deepEqual(b.model.params.get(name)!.data, t.data, `${name} differs`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(ref, { recursive: true, force: true });
  }
});

test('a worker that fails reports a clear error and marks the run failed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-worker-bad-'));
  try {
    const events: TrainEvent[] = [];
    await assert.rejects(
      startTraining({ outDir: dir, config: { ...config, cell: 'xyz' as never }, onEvent: (e) => events.push(e) }).done,
      /unknown cell "xyz"/,
    );
    assert.ok(events.some((e) => e.type === 'error'));
    assert.equal(JSON.parse(readFileSync(join(dir, RUN_FILES.status), 'utf8')).status, 'failed');
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    await assert.rejects(startTraining({ outDir: file, config }).done, /EEXIST|ENOTDIR|not a directory|file already exists/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a killed worker rejects with a clear message and its last checkpoint stays resumable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-worker-kill-'));
  try {
    let killed = false;
    const h = startTraining({
      outDir: dir,
      config,
      onEvent: (e) => {
        if (e.type === 'checkpoint' && !killed) {
          killed = true;
          void h.kill();
        }
      },
    });
    await assert.rejects(h.done, /exited unexpectedly/);
    assert.ok(existsSync(join(dir, RUN_FILES.checkpoint)));
    const step = loadCheckpoint(join(dir, RUN_FILES.checkpoint)).resume.state.step;
    assert.ok(step >= 25);
    const done = await startTraining({ outDir: dir, resume: true, steps: step + 10 }).done;
    assert.equal(done.step, step + 10);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
