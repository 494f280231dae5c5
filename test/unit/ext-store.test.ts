import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Architecture } from '../../core/model/architecture';
import { normalizeConfig } from '../../core/train/config';
import type { TrainEvent } from '../../core/train/types';
import { HostStore, INITIAL_STATE, runSnapshot, updateHostState, type HostAction, type HostState } from '../../extension/store';
import type { ModelInfo } from '../../shared/protocol';
import { newSnapshot, reduceTrainEvent } from '../../shared/training-snapshot';

const cfg = normalizeConfig({ task: 'copy', cell: 'brc', T: 10, layers: 1, units: 4, steps: 100 });
const arch: Architecture = {
  inputSize: 1,
  layers: [{ cell: 'brc', units: 4 }],
  readout: { units: 1, activation: 'linear', perStep: false },
};
const progress = (step: number, loss: number): TrainEvent => ({
  type: 'progress',
  step,
  totalSteps: 100,
  loss,
  stepsPerSec: 10,
  skipped: 0,
  elapsedMs: step,
});
const info = (path: string): ModelInfo => ({ name: path.split('/').pop()!, path, architecture: arch, paramCount: 9 });

function apply(s: HostState, actions: HostAction[]): HostState {
  return actions.reduce(updateHostState, s);
}

/** Deep-freezes the state's plain objects and arrays, so an in-place change throws. */
function freeze<T>(v: T): T {
  if (v && typeof v === 'object' && !(v instanceof Map) && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) freeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

test('training events update the live snapshot by the shared reducer; earlier states are left as they were', () => {
  const s0 = updateHostState(INITIAL_STATE, { type: 'runStarted', snapshot: newSnapshot('r1', 'copy · BRC', cfg) });
  freeze(s0.live.get('r1'));
  const events = [
    progress(10, 0.9),
    { type: 'eval', step: 10, testLoss: 0.8, metric: 0.8, metricName: 'mse' } as TrainEvent,
    progress(20, 0.5),
  ];
  const s1 = apply(
    s0,
    events.map((event) => ({ type: 'trainEvent', runId: 'r1', event })),
  );
  const expected = events.reduce((acc, e) => reduceTrainEvent(acc, e), newSnapshot('r1', 'copy · BRC', cfg));
  assert.deepEqual(s1.live.get('r1'), expected);
  assert.equal(s0.live.get('r1')!.points.length, 0, 'the first state still holds the empty snapshot');
  assert.equal(s1.inspectedRun?.runId, 'r1', 'a started run is the one the Inspector follows');
  assert.equal(
    updateHostState(s1, { type: 'trainEvent', runId: 'other', event: progress(1, 1) }),
    s1,
    'events of unknown runs change nothing',
  );
  assert.equal(updateHostState(s1, { type: 'trainEvent', runId: 'r1', event: { type: 'checkpoint', step: 20, path: '/c' } }), s1);
});

test('a run that ends moves to the final snapshots; its model is shown by the Inspector without a click', () => {
  let s = apply(INITIAL_STATE, [
    { type: 'runStarted', snapshot: newSnapshot('r1', 'l', cfg) },
    { type: 'trainEvent', runId: 'r1', event: progress(30, 0.4) },
    {
      type: 'trainEvent',
      runId: 'r1',
      event: { type: 'done', step: 30, reason: 'cancelled', modelPath: '/runs/r1/model.safetensors', skipped: 0 },
    },
  ]);
  const live = s.live.get('r1')!;
  s = updateHostState(s, {
    type: 'runEnded',
    runId: 'r1',
    modelPath: '/runs/r1/model.safetensors',
    model: info('/runs/r1/model.safetensors'),
  });
  assert.equal(s.live.size, 0);
  assert.equal(s.finished.get('r1'), live, 'the final snapshot is the last live one, unchanged');
  assert.equal(s.finished.get('r1')!.status, 'stopped');
  assert.equal(runSnapshot(s, 'r1'), live);
  assert.equal(s.selection.path, '/runs/r1/model.safetensors');
  assert.equal(s.selection.model?.paramCount, 9);
});

test('a model chosen while a run trains stays selected when the run ends', () => {
  const s = apply(INITIAL_STATE, [
    { type: 'runStarted', snapshot: newSnapshot('r1', 'l', cfg) },
    { type: 'modelSelected', path: '/m/b.pt', model: null },
    { type: 'runEnded', runId: 'r1', modelPath: '/runs/r1/model.safetensors', model: info('/runs/r1/model.safetensors') },
  ]);
  assert.equal(s.selection.path, '/m/b.pt');
  assert.equal(s.finished.get('r1')?.runId, 'r1', 'the Inspector still follows the run itself');
});

test('a run that ends while the Inspector follows another run leaves the selection alone', () => {
  const s = apply(INITIAL_STATE, [
    { type: 'runStarted', snapshot: newSnapshot('r1', 'l', cfg) },
    { type: 'runSelected', runId: 'old', disk: null },
    { type: 'modelSelected', path: '/m/a.safetensors', model: info('/m/a.safetensors') },
    { type: 'runEnded', runId: 'r1', modelPath: '/runs/r1/model.safetensors', model: info('/runs/r1/model.safetensors') },
  ]);
  assert.equal(s.selection.path, '/m/a.safetensors');
});

test('a worker that dies ends its run as failed with the error; a resumed run starts afresh', () => {
  let s = apply(INITIAL_STATE, [
    { type: 'runStarted', snapshot: newSnapshot('r1', 'l', cfg) },
    { type: 'trainEvent', runId: 'r1', event: progress(5, 1) },
    { type: 'runEnded', runId: 'r1', error: 'the training worker exited unexpectedly' },
  ]);
  assert.equal(s.finished.get('r1')!.status, 'failed');
  assert.equal(s.finished.get('r1')!.error, 'the training worker exited unexpectedly');
  assert.equal(s.selection.path, undefined, 'no model was saved: nothing new to show');
  s = updateHostState(s, { type: 'runStarted', snapshot: { ...newSnapshot('r1', 'l', cfg), step: 5 } });
  assert.equal(s.finished.has('r1'), false);
  assert.equal(runSnapshot(s, 'r1')!.status, 'running');
});

test('selection: a new model clears the old diagnosis; a late diagnosis of another model is dropped', () => {
  const sentences = [{ id: 'x', severity: 'info' as const, text: 'one', refs: [] }];
  let s = apply(INITIAL_STATE, [
    { type: 'modelSelected', path: '/a.pt', model: null },
    { type: 'modelDiagnosed', path: '/a.pt', model: info('/a.pt'), diagnosis: sentences },
  ]);
  assert.equal(s.selection.model?.name, 'a.pt', 'a foreign file is described once its diagnosis is back');
  assert.deepEqual(s.selection.diagnosis, sentences);
  s = updateHostState(s, { type: 'modelSelected', path: '/b.safetensors', model: info('/b.safetensors') });
  assert.deepEqual(s.selection.diagnosis, []);
  assert.equal(updateHostState(s, { type: 'modelDiagnosed', path: '/a.pt', model: info('/a.pt'), diagnosis: sentences }), s);
});

test('opened models are listed once; a scan replaces the model and run lists', () => {
  let s = updateHostState(INITIAL_STATE, { type: 'modelOpened', entry: { path: '/x/gru.pt', relPath: 'gru.pt' } });
  assert.equal(updateHostState(s, { type: 'modelOpened', entry: { path: '/x/gru.pt', relPath: 'gru.pt' } }), s);
  assert.deepEqual(s.models, [{ path: '/x/gru.pt', relPath: 'gru.pt', opened: true }]);
  s = updateHostState(s, { type: 'scanned', models: [{ path: '/w/k.keras', relPath: 'k.keras' }], runs: [], runsFolder: 'out' });
  assert.deepEqual(
    s.models.map((m) => m.path),
    ['/w/k.keras'],
  );
  assert.equal(s.runsFolder, 'out');
});

test('HostStore notifies subscribers with the new and previous state, and not for no-op actions', () => {
  const store = new HostStore();
  const seen: [string, number, number][] = [];
  const sub = store.subscribe((next, a, prev) => seen.push([a.type, next.live.size, prev.live.size]));
  store.dispatch({ type: 'runStarted', snapshot: newSnapshot('r1', 'l', cfg) });
  store.dispatch({ type: 'trainEvent', runId: 'nope', event: progress(1, 1) });
  store.dispatch({ type: 'runEnded', runId: 'r1' });
  sub.dispose();
  store.dispatch({ type: 'runStarted', snapshot: newSnapshot('r2', 'l', cfg) });
  assert.deepEqual(seen, [
    ['runStarted', 1, 0],
    ['runEnded', 0, 1],
  ]);
});

test('HostStore: an action dispatched by a subscriber is applied after every subscriber saw the current one', () => {
  const store = new HostStore();
  const log: string[] = [];
  store.subscribe((_s, a) => {
    log.push(`first:${a.type}`);
    if (a.type === 'runStarted') store.dispatch({ type: 'runsListed', runs: [] });
  });
  store.subscribe((s, a) => log.push(`second:${a.type}:${s.live.size}`));
  store.dispatch({ type: 'runStarted', snapshot: newSnapshot('r1', 'l', cfg) });
  assert.deepEqual(log, ['first:runStarted', 'second:runStarted:1', 'first:runsListed', 'second:runsListed:1']);
  assert.equal(store.state.live.size, 1);
});
