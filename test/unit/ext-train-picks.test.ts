import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG } from '../../core/train/config';
import {
  cellItems,
  configFromArgument,
  configFromPicks,
  FALLBACK_DEFAULTS,
  lengthItems,
  sizeItems,
  stepItems,
  taskItems,
  trainDefaultsFrom,
} from '../../extension/train-picks';

const d = FALLBACK_DEFAULTS;

test('the defaults are small enough to train in seconds (the paper sizes stay one pick away)', () => {
  assert.ok(d.T <= 50 && d.units <= 64 && d.steps <= 2000 && d.testSize <= 500, JSON.stringify(d));
  assert.ok(lengthItems('copy', d).some((i) => i.value === 300 && i.description === 'paper'));
  assert.ok(sizeItems('copy', d).some((i) => i.value.layers === 2 && i.value.units === 100 && /paper/.test(i.description ?? '')));
  assert.ok(stepItems(d).some((i) => i.value.steps === 30000 && i.value.curriculum === undefined));
});

test('every quick pick puts the default first and marks it', () => {
  const custom = trainDefaultsFrom((k) => ({ cell: 'lstm', T: 50, layers: 2, units: 64, steps: 3000 })[k]);
  const firsts = [cellItems(custom)[0], lengthItems('copy', custom)[0], sizeItems('copy', custom)[0], stepItems(custom)[0]];
  assert.deepEqual(
    firsts.map((i) => i.value),
    ['lstm', 50, { layers: 2, units: 64 }, { steps: 3000 }],
  );
  for (const f of firsts) assert.match(f.description ?? '', /default$/);
  // A default that is not one of the offered values is added rather than lost.
  const odd = trainDefaultsFrom((k) => ({ T: 77, layers: 3, units: 5, steps: 1234 })[k]);
  assert.equal(lengthItems('copy', odd)[0].value, 77);
  assert.deepEqual(sizeItems('copy', odd)[0].value, { layers: 3, units: 5 });
  assert.deepEqual(stepItems(odd)[0].value, { steps: 1234 });
  assert.deepEqual(
    taskItems().map((t) => t.value),
    ['copy', 'denoise', 'smnist'],
  );
});

test('quick-pick answers become a validated config with the settings for the rest', () => {
  const c = configFromPicks({ task: 'copy', cell: 'nbrc', T: 50, size: { layers: 2, units: 32 }, steps: 300 }, d, 'reference');
  assert.deepEqual(
    { task: c.task, cell: c.cell, T: c.T, N: c.N, layers: c.layers, units: c.units, steps: c.steps, engine: c.engine },
    { task: 'copy', cell: 'nbrc', T: 50, N: 0, layers: 2, units: 32, steps: 300, engine: 'reference' },
  );
  assert.equal(c.batch, d.batch);
  assert.equal(c.lr, d.lr);
  assert.equal(c.evalEvery, d.evalEvery);
  assert.equal(c.testSize, d.testSize);
  assert.equal(c.checkpointEvery, d.checkpointEvery);
});

test('denoise keeps N = T/2 so short runs stay valid; smnist ignores T (784 pixels) and appends no pixels', () => {
  const dn = configFromPicks({ task: 'denoise', cell: 'brc', T: 20, size: { layers: 1, units: 16 }, steps: 300 }, d, 'fast');
  assert.equal(dn.T, 20);
  assert.equal(dn.N, 10);
  const sm = configFromPicks({ task: 'smnist', cell: 'gru', size: { layers: 1, units: 16 }, steps: 300 }, d, 'fast');
  assert.equal(sm.T, 784);
  assert.equal(sm.N, 0);
  const smArg = configFromArgument({ task: 'smnist', cell: 'gru' }, d, 'fast');
  assert.equal(smArg.T, 784);
});

test('a command argument overrides settings key by key, and trainCopyTask pins the task', () => {
  const c = configFromArgument({ cell: 'gru', T: 12, steps: 40, units: 8, batch: 4, unknownKey: 1 }, d, 'fast', 'copy');
  assert.equal(c.task, 'copy');
  assert.equal(c.cell, 'gru');
  assert.equal(c.T, 12);
  assert.equal(c.units, 8);
  assert.equal(c.layers, d.layers);
  assert.equal(c.lr, d.lr);
  assert.equal(configFromArgument({ task: 'denoise' }, d, 'fast', 'copy').task, 'copy');
  assert.equal(configFromArgument({ task: 'denoise', T: 30 }, d, 'fast').N, 15);
  assert.equal(configFromArgument({}, d, 'fast').steps, d.steps);
  assert.notEqual(configFromArgument({}, d, 'fast').steps, DEFAULT_CONFIG.steps);
});

test('invalid arguments are refused with the field named', () => {
  assert.throws(() => configFromArgument({ cell: 'transformer' }, d, 'fast'), /cell/);
  assert.throws(() => configFromArgument({ T: -3 }, d, 'fast'), /T/);
  assert.throws(() => configFromArgument({ units: 1.5 }, d, 'fast'), /units/);
  assert.throws(() => configFromArgument('copy', d, 'fast'), /object/);
  assert.throws(() => configFromArgument(null, d, 'fast'), /object/);
  assert.throws(() => configFromArgument({ task: 'denoise', T: 8, N: 6 }, d, 'fast'), /T - N/);
});

test('settings with wrong types or out-of-range values fall back per key', () => {
  const s = trainDefaultsFrom((k) => ({ cell: 'rnn', T: 0, layers: 2, units: '64', steps: 1e12, lr: -1, seed: 5 })[k]);
  assert.equal(s.cell, FALLBACK_DEFAULTS.cell);
  assert.equal(s.T, FALLBACK_DEFAULTS.T);
  assert.equal(s.layers, 2);
  assert.equal(s.units, FALLBACK_DEFAULTS.units);
  assert.equal(s.steps, FALLBACK_DEFAULTS.steps);
  assert.equal(s.lr, FALLBACK_DEFAULTS.lr);
  assert.equal(s.seed, 5);
});

test('package.json declares the same defaults as the code falls back to', async () => {
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const props = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')).contributes.configuration.properties;
  for (const [k, v] of Object.entries(FALLBACK_DEFAULTS)) assert.equal(props[`rnnMemory.train.${k}`]?.default, v, `rnnMemory.train.${k}`);
  assert.equal(props['rnnMemory.runsFolder'].default, 'runs');
  assert.deepEqual(props['rnnMemory.engine'].enum, ['fast', 'native', 'wasm', 'reference']);
  assert.ok(props['rnnMemory.liveUpdateRate'].minimum >= 2);
});

test('steps can be picked with a curriculum for copy and denoise; the pick overrides the setting, smnist never gets one', () => {
  assert.equal(d.curriculum, 0);
  for (const task of ['copy', 'denoise'] as const) {
    const withCurriculum = stepItems(d, task).filter((i) => i.value.curriculum !== undefined);
    assert.deepEqual(
      withCurriculum.map((i) => [i.label, i.value]),
      [
        ['10000 steps + curriculum', { steps: 10000, curriculum: 4000 }],
        ['30000 steps + curriculum', { steps: 30000, curriculum: 12000 }],
      ],
    );
    // Labels stay unique: a pick by label is unambiguous.
    const labels = stepItems(d, task).map((i) => i.label);
    assert.equal(new Set(labels).size, labels.length);
  }
  assert.ok(stepItems(d, 'smnist').every((i) => i.value.curriculum === undefined));
  const picked = configFromPicks(
    { task: 'copy', cell: 'brc', T: 20, size: { layers: 1, units: 64 }, steps: 30000, curriculum: 12000 },
    d,
    'fast',
  );
  assert.equal(picked.curriculum, 12000);
  assert.equal(configFromPicks({ task: 'copy', cell: 'brc', T: 20, size: { layers: 1, units: 64 }, steps: 300 }, d, 'fast').curriculum, 0);
  // With the setting on, every count uses it (no second curriculum item), and the items say so.
  const on = trainDefaultsFrom((k) => ({ curriculum: 5000 })[k]);
  const items = stepItems(on, 'copy');
  assert.ok(items.every((i) => i.value.curriculum === undefined && /curriculum 5000 \(setting\)/.test(i.description ?? '')));
  assert.equal(
    configFromPicks({ task: 'copy', cell: 'brc', T: 20, size: { layers: 1, units: 16 }, ...items[0].value }, on, 'fast').curriculum,
    5000,
  );
  assert.equal(
    configFromPicks({ task: 'smnist', cell: 'gru', size: { layers: 1, units: 16 }, steps: 300, curriculum: 4000 }, on, 'fast').curriculum,
    0,
  );
});
