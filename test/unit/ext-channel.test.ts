import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeConfig } from '../../core/train/config';
import type { TrainEvent } from '../../core/train/types';
import type { HostToWebview, TrainingSnapshot } from '../../webview/protocol';
import { clampRate, EventBatcher, stateKey, WebviewChannel } from '../../extension/webview-channel';

const init: HostToWebview = { type: 'init', view: 'training', title: 'T' };
const status = (text: string): HostToWebview => ({ type: 'status', kind: 'info', text });
const snap = (runId: string, step: number): TrainingSnapshot => ({
  runId,
  label: runId,
  config: normalizeConfig({}),
  status: 'running',
  step,
  totalSteps: 100,
  stepsPerSec: 0,
  etaMs: null,
  metricName: 'mse',
  points: [],
});
const progress = (step: number): TrainEvent => ({
  type: 'progress',
  step,
  totalSteps: 100,
  loss: 1 / step,
  stepsPerSec: 10,
  skipped: 0,
  elapsedMs: step,
});
const ev = (runId: string, step: number): HostToWebview => ({ type: 'trainingEvent', runId, event: progress(step) });
const tr = (runId: string, step: number): HostToWebview => ({ type: 'training', snapshot: snap(runId, step) });

function channel(visible = true) {
  const sent: HostToWebview[] = [];
  const ch = new WebviewChannel((m) => sent.push(m), visible);
  return { ch, sent };
}

test('nothing is sent before the webview says ready; then the queue flushes in order', () => {
  const { ch, sent } = channel();
  ch.post(init);
  ch.post(status('a'));
  ch.post(tr('r', 1));
  assert.equal(sent.length, 0);
  ch.onReady();
  assert.deepEqual(sent, [init, status('a'), tr('r', 1)]);
  ch.post(status('b'));
  assert.deepEqual(sent.at(-1), status('b'));
});

test('while hidden, state messages coalesce by key (latest wins, first position kept) and flush on visible', () => {
  const { ch, sent } = channel();
  ch.post(init);
  ch.onReady();
  sent.length = 0;
  ch.setVisible(false);
  ch.post(status('1'));
  ch.post(tr('r', 5));
  ch.post(status('2'));
  ch.post(tr('r', 9));
  ch.post(tr('other', 3));
  assert.equal(sent.length, 0);
  assert.equal(ch.pending().length, 3);
  ch.setVisible(true);
  assert.deepEqual(sent, [status('2'), tr('r', 9), tr('other', 3)]);
});

test('events go out only while live; hidden, their folded snapshot stands in and supersedes queued events', () => {
  const { ch, sent } = channel();
  ch.post(init);
  ch.onReady();
  sent.length = 0;
  ch.postEvent(ev('r', 1), tr('r', 1));
  assert.deepEqual(sent, [ev('r', 1)]);
  ch.setVisible(false);
  for (let s = 2; s <= 50; s++) ch.postEvent(ev('r', s), tr('r', s));
  assert.equal(ch.pending().length, 1, 'many events while hidden collapse to one snapshot');
  ch.setVisible(true);
  assert.deepEqual(sent, [ev('r', 1), tr('r', 50)]);
  assert.deepEqual(ch.latest('training:r'), tr('r', 50));
});

test('a webview re-created after being hidden (no retained context) gets the remembered state replayed on ready', () => {
  const { ch, sent } = channel();
  ch.post(init);
  ch.post(tr('r', 1));
  ch.onReady();
  sent.length = 0;
  ch.setVisible(false, false);
  ch.postEvent(ev('r', 2), tr('r', 2));
  ch.setVisible(true, false);
  assert.equal(sent.length, 0, 'not ready again until the new document says so');
  ch.onReady();
  assert.deepEqual(sent, [init, tr('r', 2)]);
});

test('a second ready (panel reloaded in place) replays init and the latest state even with nothing queued', () => {
  const { ch, sent } = channel();
  ch.post(init);
  ch.onReady();
  ch.post({ type: 'inspector', model: null, diagnosis: [], training: null });
  sent.length = 0;
  ch.onReady();
  assert.deepEqual(
    sent.map((m) => m.type),
    ['init', 'inspector'],
  );
});

test('a disposed channel drops everything', () => {
  const { ch, sent } = channel();
  ch.onReady();
  ch.dispose();
  ch.post(init);
  ch.postEvent(ev('r', 1), tr('r', 1));
  assert.equal(sent.length, 0);
});

test('stateKey: events are never coalesced; training snapshots per run', () => {
  assert.equal(stateKey(ev('r', 1)), null);
  assert.equal(stateKey(tr('r', 1)), 'training:r');
  assert.equal(stateKey(init), 'init');
});

function fakeClock() {
  let now = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  return {
    now: () => now,
    setTimeout: (fn: () => void, ms: number) => {
      const t = { at: now + ms, fn, id: nextId++ };
      timers.push(t);
      return t.id;
    },
    clearTimeout: (h: unknown) => {
      const i = timers.findIndex((t) => t.id === h);
      if (i >= 0) timers.splice(i, 1);
    },
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const t = timers[0];
        if (!t || t.at > end) break;
        timers.shift();
        now = t.at;
        t.fn();
      }
      now = end;
    },
  };
}

test('EventBatcher delivers every event, in order, at most rate times a second', () => {
  const clock = fakeClock();
  const batches: { at: number; items: number[] }[] = [];
  const b = new EventBatcher<number>(4, (items) => batches.push({ at: clock.now(), items }), clock);
  assert.equal(b.intervalMs, 250);
  for (let i = 0; i < 1000; i++) {
    b.push(i);
    clock.advance(3); // a worker reporting every 3 ms
  }
  clock.advance(1000);
  const all = batches.flatMap((x) => x.items);
  assert.deepEqual(
    all,
    Array.from({ length: 1000 }, (_, i) => i),
  );
  for (let k = 1; k < batches.length; k++)
    assert.ok(batches[k].at - batches[k - 1].at >= 250, `batches ${k - 1} and ${k} only ${batches[k].at - batches[k - 1].at} ms apart`);
  // 3 s of events at 4 Hz: about 12 batches, not 1000 messages.
  assert.ok(batches.length >= 11 && batches.length <= 14, `${batches.length} batches`);
});

test('EventBatcher: the first event goes out at once, flush() delivers the rest immediately', () => {
  const clock = fakeClock();
  const batches: number[][] = [];
  const b = new EventBatcher<number>(2, (items) => batches.push(items), clock);
  b.push(1);
  clock.advance(0);
  assert.deepEqual(batches, [[1]]);
  b.push(2);
  b.push(3);
  clock.advance(100);
  assert.equal(batches.length, 1);
  b.flush();
  assert.deepEqual(batches, [[1], [2, 3]]);
  b.dispose();
  b.push(4);
  b.dispose();
  clock.advance(2000);
  assert.equal(batches.length, 2);
});

test('the live update rate is clamped to at least twice a second', () => {
  assert.equal(clampRate(0.5), 2);
  assert.equal(clampRate(1000), 30);
  assert.equal(clampRate('fast'), 4);
  assert.equal(clampRate(10), 10);
});
