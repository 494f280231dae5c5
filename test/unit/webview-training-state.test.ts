import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TrainEvent } from '../../core/train/types';
import { applyTrainEvent, thinPoints } from '../../webview/lib/training-state';
import type { TrainingPoint, TrainingSnapshot } from '../../webview/protocol';

function snap(): TrainingSnapshot {
  return {
    runId: 'r',
    label: 'brc',
    config: {} as TrainingSnapshot['config'],
    status: 'running',
    step: 0,
    totalSteps: 100,
    stepsPerSec: 0,
    etaMs: null,
    metricName: 'mse',
    points: [],
  };
}

const progress = (step: number, loss: number, sps = 10): TrainEvent => ({ type: 'progress', step, totalSteps: 100, loss, stepsPerSec: sps, skipped: 0, elapsedMs: step * 100 });

test('progress and eval events build the curve; ETA from steps/s', () => {
  const s = snap();
  assert.ok(applyTrainEvent(s, progress(1, 2.0)));
  assert.ok(applyTrainEvent(s, progress(2, 1.5, 20)));
  assert.ok(applyTrainEvent(s, { type: 'eval', step: 2, testLoss: 1.4, metric: 1.4, metricName: 'mse' }));
  assert.ok(applyTrainEvent(s, progress(3, 1.2, 20)));
  assert.deepEqual(s.points, [{ step: 1, loss: 2.0 }, { step: 2, loss: 1.5, testLoss: 1.4, metric: 1.4 }, { step: 3, loss: 1.2 }]);
  assert.equal(s.step, 3);
  assert.equal(s.etaMs, ((100 - 3) / 20) * 1000);
  assert.equal(applyTrainEvent(s, { type: 'checkpoint', step: 3, path: '/x' }), false);
  applyTrainEvent(s, { type: 'eval', step: 1, testLoss: 1.9, metric: 0.3, metricName: 'accuracy' });
  assert.equal(s.points[0].testLoss, 1.9, 'a late eval lands on its step');
  assert.equal(s.metricName, 'accuracy');
});

test('done and error set the final status', () => {
  const s = snap();
  applyTrainEvent(s, progress(5, 1));
  applyTrainEvent(s, { type: 'done', step: 5, reason: 'cancelled', modelPath: '/m', skipped: 0 });
  assert.equal(s.status, 'cancelled');
  assert.equal(s.etaMs, null);
  const f = snap();
  applyTrainEvent(f, { type: 'error', message: 'boom' });
  assert.equal(f.status, 'failed');
  assert.equal(f.error, 'boom');
});

test('thinning keeps evaluation points and order, and bounds the size', () => {
  const pts: TrainingPoint[] = [];
  for (let i = 0; i < 1000; i++) pts.push(i % 50 === 0 ? { step: i, loss: 1, testLoss: 1 } : { step: i, loss: 1 });
  thinPoints(pts, 300);
  assert.ok(pts.length <= 300, `${pts.length}`);
  for (let i = 1; i < pts.length; i++) assert.ok(pts[i].step > pts[i - 1].step);
  assert.equal(pts.filter((p) => p.testLoss !== undefined).length, 20);
  assert.equal(pts[pts.length - 1].step, 999, 'the newest point survives');
  const s = snap();
  for (let i = 1; i <= 500; i++) applyTrainEvent(s, progress(i, 1 / i), 200);
  assert.ok(s.points.length <= 200);
});
