import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeConfig } from '../../core/train/config';
import { cellLabel, layerLabel, runLabel, runStateTitle, runStateWord } from '../../shared/labels';
import { fmt } from '../../shared/numbers';
import { runNumberParts, runNumbers, runSummaryLine } from '../../shared/run-summary';
import { newSnapshot } from '../../shared/training-snapshot';

test('cell labels: BRC, nBRC, GRU, LSTM; a custom cell by its own name', () => {
  assert.deepEqual(
    ['brc', 'nbrc', 'gru', 'lstm'].map((c) => cellLabel(c)),
    ['BRC', 'nBRC', 'GRU', 'LSTM'],
  );
  assert.equal(cellLabel('custom', 'myCell'), 'myCell');
  assert.equal(cellLabel('custom'), 'custom');
  assert.equal(runLabel(normalizeConfig({ task: 'copy', cell: 'gru', T: 8, layers: 1, units: 6 })), 'copy · GRU T=8 · 1×6');
  assert.equal(runLabel(normalizeConfig({ task: 'smnist', cell: 'nbrc', layers: 2, units: 32 })), 'smnist · nBRC · 2×32');
  const custom = {
    ...normalizeConfig({ task: 'copy', cell: 'brc', T: 10, layers: 1, units: 4 }),
    cell: 'custom' as const,
    custom: { name: 'leaky', source: 'c.ts', sha256: 'x' },
  };
  assert.equal(runLabel(custom), 'copy · leaky T=10 · 1×4');
});

test('layers are numbered from 1 for display', () => {
  assert.equal(layerLabel(0), 'Layer 1');
  assert.equal(layerLabel(2, true), 'layer 3');
});

test('one word for a stopped run, whatever the source calls it', () => {
  assert.equal(runStateWord('cancelled'), 'stopped');
  assert.equal(runStateWord('stopped'), 'stopped');
  assert.equal(runStateTitle('cancelled'), 'Stopped');
  for (const w of ['running', 'completed', 'failed', 'interrupted']) assert.equal(runStateWord(w), w);
  assert.equal(runStateWord('garbage'), 'unknown');
});

test('run numbers: the latest loss and the latest test metric, rounded by the one formatter', () => {
  const cfg = normalizeConfig({ task: 'copy', cell: 'brc', T: 10, layers: 1, units: 4, steps: 500 });
  const s = {
    ...newSnapshot('r', 'copy · BRC T=10 · 1×4', cfg),
    status: 'stopped' as const,
    step: 30,
    points: [
      { step: 10, loss: 0.5, testLoss: 0.4, metric: 0.41 },
      { step: 20, loss: 0.15549 },
      { step: 30, loss: 0.14871 },
    ],
  };
  assert.deepEqual(runNumbers(s), { loss: 0.14871, metric: 0.41, metricStep: 10, metricName: 'mse' });
  assert.deepEqual(runNumberParts(s), [`loss ${fmt(0.14871)}`, `test MSE ${fmt(0.41)}`]);
  assert.equal(runSummaryLine(s), 'copy · BRC T=10 · 1×4: stopped, step 30 / 500 · loss 0.149 · test MSE 0.41');
  assert.deepEqual(runNumberParts({ points: [{ step: 1, metric: 0.9 }], metricName: 'accuracy' }), ['test accuracy 0.9']);
  // Copy: every evaluation's MSE is its test loss, which the chart's legend calls "test loss"; the line does too.
  const copy = {
    ...s,
    points: [
      { step: 10, loss: 0.5, testLoss: 0.41, metric: 0.41 },
      { step: 20, loss: 0.3, testLoss: 0.2136, metric: 0.2136 },
      { step: 30, loss: 0.14871 },
    ],
  };
  assert.equal(runSummaryLine(copy), 'copy · BRC T=10 · 1×4: stopped, step 30 / 500 · loss 0.149 · test loss 0.214');
  // The engine that ran, once the run says (its progress events, its run.json).
  assert.equal(
    runSummaryLine({ ...copy, engine: 'wasm' }),
    'copy · BRC T=10 · 1×4: stopped, step 30 / 500 · loss 0.149 · test loss 0.214 · wasm engine',
  );
  // One evaluation where they differ (denoise): the metric is its own series, named MSE.
  assert.deepEqual(runNumberParts({ ...copy, points: [...copy.points, { step: 40, testLoss: 0.3, metric: 0.2 }] }), [
    `loss ${fmt(0.14871)}`,
    `test MSE ${fmt(0.2)}`,
  ]);
  assert.deepEqual(runNumberParts({ points: [], metricName: 'mse' }), []);
});

test('fmt: three significant digits, exponent form for tiny and huge values', () => {
  assert.equal(fmt(undefined), '–');
  assert.equal(fmt(NaN), '–');
  assert.equal(fmt(0), '0');
  assert.equal(fmt(0.123456), '0.123');
  assert.equal(fmt(0.000123), '1.23e-4');
  assert.equal(fmt(123456), '1.23e+5');
});
