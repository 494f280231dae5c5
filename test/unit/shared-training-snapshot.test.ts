import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainEvent } from '../../core/train/types';
import { normalizeConfig } from '../../core/train/config';
import { MAX_POINTS, newSnapshot, reduceTrainEvent, thinPoints } from '../../shared/training-snapshot';
import type { TrainingPoint, TrainingSnapshot } from '../../shared/protocol';

const cfg = normalizeConfig({ task: 'copy', cell: 'gru', T: 8, layers: 1, units: 6, steps: 100 });
const progress = (step: number, loss: number, sps = 10): TrainEvent => ({
  type: 'progress',
  step,
  totalSteps: 100,
  loss,
  stepsPerSec: sps,
  skipped: 0,
  elapsedMs: step * 100,
});

function fold(s: TrainingSnapshot, events: TrainEvent[], max?: number): TrainingSnapshot {
  return events.reduce((acc, e) => reduceTrainEvent(acc, e, max), s);
}

/** A deep copy, to check that reducing never changes its input. */
const clone = (s: TrainingSnapshot): TrainingSnapshot => JSON.parse(JSON.stringify(s));

test('progress and eval events build the curve; ETA from steps/s; the input snapshot is never changed', () => {
  const s0 = newSnapshot('r', 'copy', cfg);
  const before = clone(s0);
  const s = fold(s0, [
    progress(1, 2.0),
    progress(2, 1.5, 20),
    { type: 'eval', step: 2, testLoss: 1.4, metric: 1.4, metricName: 'mse' },
    progress(3, 1.2, 20),
  ]);
  assert.deepEqual(s0, before, 'reduceTrainEvent returns a new snapshot and leaves the old one as it was');
  assert.deepEqual(s.points, [
    { step: 1, loss: 2.0 },
    { step: 2, loss: 1.5, testLoss: 1.4, metric: 1.4 },
    { step: 3, loss: 1.2 },
  ]);
  assert.equal(s.step, 3);
  assert.equal(s.etaMs, ((100 - 3) / 20) * 1000);
  assert.equal(reduceTrainEvent(s, { type: 'checkpoint', step: 3, path: '/x' }), s, 'a checkpoint changes nothing visible');
  const held = clone(s);
  const late = reduceTrainEvent(s, { type: 'eval', step: 1, testLoss: 1.9, metric: 0.3, metricName: 'accuracy' });
  assert.deepEqual(s, held, 'points of the previous snapshot are not patched in place');
  assert.equal(late.points[0].testLoss, 1.9, 'a late eval lands on its step');
  assert.equal(late.metricName, 'accuracy');
  const between = reduceTrainEvent(s, { type: 'eval', step: 0, testLoss: 3, metric: 3, metricName: 'mse' });
  assert.deepEqual(
    between.points.map((p) => p.step),
    [0, 1, 2, 3],
    'an evaluation of an unseen older step is inserted in order',
  );
});

test('a non-finite loss adds no point; done and error set the final status ("stopped", not "cancelled")', () => {
  const s = fold(newSnapshot('r', 'l', cfg), [progress(5, 1), progress(6, NaN)]);
  assert.deepEqual(s.points, [{ step: 5, loss: 1 }]);
  assert.equal(s.step, 6);
  const stopped = reduceTrainEvent(s, { type: 'done', step: 6, reason: 'cancelled', modelPath: '/m', skipped: 0 });
  assert.equal(stopped.status, 'stopped');
  assert.equal(stopped.etaMs, null);
  assert.equal(reduceTrainEvent(s, { type: 'done', step: 100, reason: 'completed', modelPath: '/m', skipped: 0 }).status, 'completed');
  const f = reduceTrainEvent(s, { type: 'error', message: 'boom' });
  assert.equal(f.status, 'failed');
  assert.equal(f.error, 'boom');
  assert.equal(reduceTrainEvent(f, progress(7, 1)).status, 'failed', 'a failed run stays failed');
});

test('thinning keeps evaluation points and order, bounds the size and leaves its input alone', () => {
  const pts: TrainingPoint[] = [];
  for (let i = 0; i < 1000; i++) pts.push(i % 50 === 0 ? { step: i, loss: 1, testLoss: 1 } : { step: i, loss: 1 });
  const thinned = thinPoints(pts, 300);
  assert.equal(pts.length, 1000);
  assert.ok(thinned.length <= 300, `${thinned.length}`);
  for (let i = 1; i < thinned.length; i++) assert.ok(thinned[i].step > thinned[i - 1].step);
  assert.equal(thinned.filter((p) => p.testLoss !== undefined).length, 20);
  assert.equal(thinned[thinned.length - 1].step, 999, 'the newest point survives');
  const onlyEvals = Array.from({ length: 50 }, (_, i) => ({ step: i, testLoss: 1 }));
  assert.equal(thinPoints(onlyEvals, 10).length, 50, 'evaluation points are never dropped');
});

test('a long run keeps at most MAX_POINTS points, the newest intact', () => {
  let s = newSnapshot('r', 'l', { ...cfg, steps: 100000 });
  for (let i = 1; i <= 3 * MAX_POINTS; i++) s = reduceTrainEvent(s, progress(i, 1 / i));
  assert.ok(s.points.length <= MAX_POINTS, `${s.points.length} points`);
  const steps = s.points.map((p) => p.step);
  assert.deepEqual(
    steps.slice(-100),
    Array.from({ length: 100 }, (_, i) => 3 * MAX_POINTS - 99 + i),
  );
  for (let i = 1; i < steps.length; i++) assert.ok(steps[i] > steps[i - 1]);
});
