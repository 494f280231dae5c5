import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeConfig } from '../../core/train/config';
import type { TrainEvent } from '../../core/train/types';
import { INITIAL_STATE, updateHostState, type HostAction, type HostState } from '../../extension/store';
import {
  inspectedSnapshot,
  inspectorMessage,
  runEndNotification,
  statusBarView,
  trainingMessage,
  treeView,
} from '../../extension/store-views';
import { buildTree } from '../../extension/tree-items';
import { fmt } from '../../shared/numbers';
import { newSnapshot } from '../../shared/training-snapshot';

const cfg = normalizeConfig({ task: 'copy', cell: 'brc', T: 10, layers: 1, units: 4, steps: 100 });
const progress = (step: number, loss: number): TrainEvent => ({
  type: 'progress',
  step,
  totalSteps: 100,
  loss,
  stepsPerSec: 10,
  skipped: 0,
  elapsedMs: step,
});
const evalAt = (step: number, v: number): TrainEvent => ({ type: 'eval', step, testLoss: v, metric: v, metricName: 'mse' });

function apply(actions: HostAction[], s: HostState = INITIAL_STATE): HostState {
  return actions.reduce(updateHostState, s);
}

/** A run stopped at step 30 with training loss 0.15549 and test loss (= test MSE, copy) 0.21361 (the numbers of the issue). */
function stoppedRun(): HostState {
  return apply([
    { type: 'runStarted', snapshot: newSnapshot('r1', 'copy · BRC T=10 · 1×4', cfg) },
    { type: 'trainEvent', runId: 'r1', event: progress(20, 0.3) },
    { type: 'trainEvent', runId: 'r1', event: evalAt(20, 0.21361) },
    { type: 'trainEvent', runId: 'r1', event: progress(30, 0.15549) },
    {
      type: 'trainEvent',
      runId: 'r1',
      event: { type: 'done', step: 30, reason: 'cancelled', modelPath: '/runs/r1/model.safetensors', skipped: 0 },
    },
    { type: 'runEnded', runId: 'r1', modelPath: '/runs/r1/model.safetensors', model: null },
  ]);
}

test('after a run, the panel, the Inspector and the notification carry the same final snapshot and numbers', () => {
  const s = stoppedRun();
  const panel = trainingMessage(s, 'r1')!;
  const inspector = inspectorMessage(s);
  assert.equal(panel.snapshot, inspector.training, "one snapshot object: the store's final one");
  const note = runEndNotification(panel.snapshot, 'runs/r1');
  const loss = `loss ${fmt(0.15549)}`;
  // Copy's test MSE is its test loss: named as the chart's legend names it, once.
  const mse = `test loss ${fmt(0.21361)}`;
  assert.ok(note.text.includes(loss) && note.text.includes(mse), note.text);
  assert.doesNotMatch(note.text, /MSE/);
  assert.match(note.text, /^Training stopped at step 30/);
  assert.deepEqual(note.actions, ['Resume']);
  assert.equal(panel.snapshot.status, 'stopped');
});

test('the end notification of a completed and of a failed run', () => {
  const s = stoppedRun().finished.get('r1')!;
  const done = runEndNotification({ ...s, status: 'completed', step: 100 }, 'runs/r1');
  assert.equal(done.kind, 'info');
  assert.equal(done.text, `Training finished: copy · BRC T=10 · 1×4, 100 steps, loss ${fmt(0.15549)} · test loss ${fmt(0.21361)}.`);
  assert.deepEqual(done.actions, ['Open Diagnostics']);
  const failed = runEndNotification({ ...s, status: 'failed', error: 'out of memory' }, 'runs/r1', 20);
  assert.equal(failed.kind, 'error');
  assert.match(failed.text, /failed: out of memory\. The run can be resumed from its last checkpoint \(step 20\)\./);
  assert.deepEqual(failed.actions, ['Resume', 'Show Log']);
  assert.deepEqual(runEndNotification({ ...s, status: 'failed', error: 'x' }, 'runs/r1').actions, ['Show Log']);
});

test('status bar: the latest live run with its numbers, a count of the others, hidden when nothing trains', () => {
  assert.equal(statusBarView(INITIAL_STATE), null);
  const s = apply([
    { type: 'runStarted', snapshot: newSnapshot('a', 'A', cfg) },
    { type: 'runStarted', snapshot: newSnapshot('b', 'B', cfg) },
    { type: 'trainEvent', runId: 'b', event: progress(7, 0.123456) },
  ]);
  assert.deepEqual(statusBarView(s), {
    text: `$(sync~spin) B 7/100 · loss ${fmt(0.123456)} (+1)`,
    tooltip: 'RNN Memory: show the training panel',
    runId: 'b',
  });
  assert.equal(statusBarView(stoppedRun()), null);
});

test('Inspector: follows the run it was given, else the latest live run; a disk snapshot for older runs', () => {
  const s = apply([
    { type: 'runStarted', snapshot: newSnapshot('a', 'A', cfg) },
    { type: 'runStarted', snapshot: newSnapshot('b', 'B', cfg) },
  ]);
  assert.equal(inspectedSnapshot(s)?.runId, 'b');
  const disk = { ...newSnapshot('old', 'Old', cfg), status: 'completed' as const };
  const t = updateHostState(s, { type: 'runSelected', runId: 'old', disk });
  assert.equal(inspectorMessage(t).training, disk);
  assert.equal(inspectorMessage(t).model, null);
  assert.equal(trainingMessage(t, 'nope'), null);
});

test('tree view is buildTree of the state (models, runs, live snapshots, runs folder)', () => {
  const s = apply([
    { type: 'scanned', models: [{ path: '/w/g.pt', relPath: 'g.pt' }], runs: [], runsFolder: 'out' },
    { type: 'runStarted', snapshot: newSnapshot('a', 'A', cfg) },
  ]);
  assert.deepEqual(treeView(s), buildTree(s.models, s.runs, s.live, 'out'));
  assert.equal(treeView(s)[0].children?.[0].label, 'g.pt');
});
