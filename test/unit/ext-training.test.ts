import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeConfig } from '../../core/train/config';
import { RUN_FILES } from '../../core/train/run';
import type { TrainEvent } from '../../core/train/types';
import { listRuns } from '../../extension/runs';
import { TrainingManager } from '../../extension/training-manager';
import { applyTrainEvent, formatLoss, latestLoss, MAX_POINTS, newSnapshot, runLabel } from '../../extension/training-state';

const cfg = normalizeConfig({ task: 'copy', cell: 'gru', T: 8, layers: 1, units: 6, batch: 8, steps: 100, evalEvery: 25, testSize: 32, checkpointEvery: 10, engine: 'reference' });
const progress = (step: number, loss: number): TrainEvent => ({ type: 'progress', step, totalSteps: 100, loss, stepsPerSec: 50, skipped: 0, elapsedMs: step * 20 });

test('events fold into the snapshot: progress and eval of one step share a point, ETA from the rate', () => {
  const s = newSnapshot('r', runLabel(cfg), cfg);
  assert.equal(s.label, 'copy · GRU T=8 · 1×6');
  applyTrainEvent(s, { type: 'eval', step: 0, testLoss: 2, metric: 2, metricName: 'mse' });
  applyTrainEvent(s, progress(10, 1.5));
  applyTrainEvent(s, progress(25, 1.0));
  applyTrainEvent(s, { type: 'eval', step: 25, testLoss: 0.9, metric: 0.9, metricName: 'mse' });
  assert.deepEqual(s.points, [
    { step: 0, testLoss: 2, metric: 2 },
    { step: 10, loss: 1.5 },
    { step: 25, loss: 1.0, testLoss: 0.9, metric: 0.9 },
  ]);
  assert.equal(s.step, 25);
  assert.equal(s.etaMs, Math.round((75 / 50) * 1000));
  assert.equal(latestLoss(s), 1.0);
  applyTrainEvent(s, { type: 'eval', step: 5, testLoss: 1.7, metric: 1.7, metricName: 'mse' });
  assert.deepEqual(s.points.map((p) => p.step), [0, 5, 10, 25], 'a late evaluation is inserted in step order');
  applyTrainEvent(s, { type: 'done', step: 25, reason: 'cancelled', modelPath: '/m', skipped: 0 });
  assert.equal(s.status, 'cancelled');
  applyTrainEvent(s, { type: 'error', message: 'boom' });
  assert.equal(s.status, 'failed');
  assert.equal(s.error, 'boom');
});

test('a long run keeps a bounded number of points, the newest intact', () => {
  const s = newSnapshot('r', 'l', { ...cfg, steps: 100000 });
  for (let i = 1; i <= 10000; i++) applyTrainEvent(s, progress(i, 1 / i));
  assert.ok(s.points.length <= MAX_POINTS, `${s.points.length} points`);
  const steps = s.points.map((p) => p.step);
  assert.deepEqual(steps.slice(-100), Array.from({ length: 100 }, (_, i) => 9901 + i));
  for (let i = 1; i < steps.length; i++) assert.ok(steps[i] > steps[i - 1]);
});

test('formatLoss', () => {
  assert.equal(formatLoss(undefined), '–');
  assert.equal(formatLoss(NaN), '–');
  assert.equal(formatLoss(0.5), '0.5000');
  assert.equal(formatLoss(0.00123), '1.23e-3');
});

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ext-mgr-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('TrainingManager: a run trains in a worker, reports events, saves its folder; stop and resume work', async () => {
  await withDir(async (runs) => {
    const m = new TrainingManager({ progressIntervalMs: 20 });
    const seen: string[] = [];
    m.onEvent((_r, e) => seen.push(e.type));
    const ends: string[] = [];
    m.onEnd((r, res) => ends.push(`${r.id}:${res.done?.reason ?? res.error?.message}`));

    const a = m.start(runs, cfg);
    assert.deepEqual([...m.liveIds()], [a.id]);
    const ra = await a.finished;
    assert.equal(ra.done?.reason, 'completed');
    assert.equal(a.snapshot.status, 'completed');
    assert.equal(a.snapshot.step, 100);
    assert.ok(seen.includes('progress') && seen.includes('eval') && seen.includes('done'));
    assert.equal(JSON.parse(readFileSync(join(a.dir, RUN_FILES.status), 'utf8')).status, 'completed');
    assert.ok(existsSync(join(a.dir, RUN_FILES.model)));
    assert.equal(m.liveIds().size, 0);

    const long = { ...cfg, steps: 1_000_000 };
    const b = m.start(runs, long);
    assert.notEqual(b.id, a.id);
    while (b.snapshot.step < 20) await new Promise((r) => setTimeout(r, 20));
    assert.equal(m.stop(b.id), 1);
    const rb = await b.finished;
    assert.equal(rb.done?.reason, 'cancelled');
    const stoppedAt = rb.done!.step;
    const info = listRuns(runs).find((r) => r.id === b.id)!;
    assert.equal(info.state, 'cancelled');
    assert.equal(info.resumable, true);

    const c = m.resume(runs, b.id, stoppedAt + 15);
    assert.equal(c.snapshot.status, 'running');
    assert.ok(c.snapshot.points.length > 0, 'the resumed snapshot starts from the saved curve');
    const rc = await c.finished;
    assert.equal(rc.done?.reason, 'completed');
    assert.equal(rc.done?.step, stoppedAt + 15);
    assert.deepEqual(ends, [`${a.id}:completed`, `${b.id}:cancelled`, `${b.id}:completed`]);
    assert.throws(() => m.resume(runs, 'no-such-run'), /no run named/);
    await m.dispose();
  });
});

test('TrainingManager: a killed worker ends the run with a clear error and leaves it resumable', async () => {
  await withDir(async (runs) => {
    const m = new TrainingManager({ progressIntervalMs: 20 });
    const r = m.start(runs, { ...cfg, steps: 1_000_000 });
    while (!existsSync(join(r.dir, RUN_FILES.checkpoint))) await new Promise((res) => setTimeout(res, 20));
    await r.handle.kill();
    const res = await r.finished;
    assert.match(res.error?.message ?? '', /exited unexpectedly.*checkpoint/);
    assert.equal(r.snapshot.status, 'failed');
    const info = listRuns(runs).find((x) => x.id === r.id)!;
    assert.equal(info.state, 'interrupted');
    assert.equal(info.resumable, true);
    await m.dispose();
  });
});
