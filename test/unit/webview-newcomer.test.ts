/**
 * What a new user reads first: log-axis ticks, heatmap axis ticks, which training series get a legend
 * entry, cell and readout labels, and why retention is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retentionApplicable, retentionNeeds } from '../../core/diagnostics/retention-needs';
import type { Architecture } from '../../core/model/architecture';
import { validateArchitecture } from '../../core/model/architecture';
import { cellLabel, readoutLabel } from '../../webview/lib/format';
import { axisTicks } from '../../webview/lib/heatmap-core';
import { logAxisTicks, logTickLabel, logTickLabels } from '../../webview/lib/log-ticks';
import { metricRepeatsTestLoss } from '../../shared/metric-name';
import type { TrainingPoint } from '../../webview/protocol';
import { Rng } from '../../core/util/rng';

/** m × 10^k with an integer m in 1…9 (up to float rounding). */
function isNiceLog(v: number): boolean {
  const k = Math.floor(Math.log10(v) + 1e-9);
  const m = v / 10 ** k;
  return Math.abs(m - Math.round(m)) < 1e-6 && Math.round(m) >= 1 && Math.round(m) <= 9;
}

test('log axis over two decades (1 → 0.01) is labelled at every power of ten', () => {
  const t = logAxisTicks(0.01, 1);
  assert.deepEqual(logTickLabels(t), ['0.01', '0.1', '1']);
});

test('log axis inside one decade gets at least two readable, distinct labels inside the range', () => {
  const rng = new Rng(3);
  const cases: [number, number][] = [
    [0.15, 0.3],
    [0.149, 1],
    [0.16, 0.29],
    [2.1e-5, 3.9e-5],
    [0.5, 0.55],
    [150, 900],
  ];
  for (let i = 0; i < 200; i++) {
    const lo = 10 ** (rng.uniform() * 10 - 6);
    cases.push([lo, lo * (1 + 9 * rng.uniform() + 0.01)]);
  }
  for (const [min, max] of cases) {
    const t = logAxisTicks(min, max);
    const labels = logTickLabels(t);
    assert.ok(t.length >= 2, `${min}…${max}: ${labels}`);
    assert.ok(t.length <= 9, `${min}…${max}: at most nine labels (${labels})`);
    for (let i = 0; i < t.length; i++) {
      assert.ok(t[i] >= min * (1 - 1e-9) && t[i] <= max * (1 + 1e-9), `${t[i]} inside ${min}…${max}`);
      if (i > 0) assert.ok(t[i] > t[i - 1], 'ascending');
      // Every label reads back as its value to two significant digits.
      const back = Number(labels[i]);
      assert.ok(Math.abs(back - t[i]) <= 0.05 * t[i], `${labels[i]} for ${t[i]}`);
    }
    assert.equal(new Set(labels).size, labels.length, `distinct labels ${labels}`);
    // Nice values are used whenever there are two of them in the range; only then are the ends added.
    const nice = t.filter(isNiceLog).length;
    assert.ok(nice >= 2 || t.length === nice + 2 || t.length === nice + 1, `${min}…${max}: ${labels}`);
  }
});

test('log axis over many decades shows powers of ten only, thinned to at most eight', () => {
  const t = logAxisTicks(1e-12, 10);
  assert.ok(t.length >= 3 && t.length <= 8, String(t));
  for (const v of t) assert.ok(Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9, `${v} is a power of ten`);
  assert.equal(t[t.length - 1], 10, 'the largest power is kept');
  assert.deepEqual(logAxisTicks(0, 1), [], 'no ticks for a non-positive range');
  assert.equal(logTickLabel(2e-4), '2e-4');
  assert.equal(logTickLabel(1e5), '1e5');
  assert.equal(logTickLabel(0.3 * 1.0000000001), '0.3');
});

test('heatmap axis ticks: start at 0, evenly spaced by a 1-2-5 step, never more than there is room for', () => {
  for (const [count, room] of [
    [80, 10],
    [24, 4],
    [1, 5],
    [300, 7],
    [7, 100],
    [1000, 3.5],
    [16, 1],
  ]) {
    const t = axisTicks(count, room);
    assert.equal(t[0], 0);
    assert.ok(t.length <= Math.max(1, Math.floor(room)), `${count}/${room}: ${t}`);
    assert.ok(t[t.length - 1] < count);
    const step = t.length > 1 ? t[1] - t[0] : count;
    for (let i = 1; i < t.length; i++) assert.equal(t[i] - t[i - 1], step);
    if (t.length > 1) {
      const m = step / 10 ** Math.floor(Math.log10(step));
      assert.ok([1, 2, 5].includes(m), `step ${step}`);
      // The next smaller 1-2-5 step would need more labels than there is room for.
      const smaller = [1, 2, 5, 10, 20, 50, 100, 200, 500].filter((s) => s < step).pop();
      if (smaller) assert.ok(Math.ceil(count / smaller) > room, `${count}/${room}: step ${smaller} would fit`);
    }
  }
  assert.deepEqual(axisTicks(0, 10), []);
});

test('the training legend leaves out a test metric that repeats the test loss', () => {
  const pts = (f: (i: number) => Partial<TrainingPoint>): TrainingPoint[] =>
    Array.from({ length: 5 }, (_, i) => ({ step: i * 10, loss: 1 / (i + 1), ...f(i) }));
  assert.equal(
    metricRepeatsTestLoss(
      pts((i) => (i % 2 ? { testLoss: 0.5 / (i + 1), metric: 0.5 / (i + 1) } : {})),
      'mse',
    ),
    true,
    'copy: MSE is the loss',
  );
  assert.equal(
    metricRepeatsTestLoss(
      pts((i) => (i % 2 ? { testLoss: 0.5 / (i + 1), metric: 0.4 / (i + 1) } : {})),
      'mse',
    ),
    false,
    'denoise-like: differs',
  );
  assert.equal(
    metricRepeatsTestLoss(
      pts(() => ({ testLoss: 0.5, metric: 0.5 })),
      'accuracy',
    ),
    false,
    'accuracy has its own axis',
  );
  assert.equal(
    metricRepeatsTestLoss(
      pts(() => ({})),
      'mse',
    ),
    false,
    'no evaluation yet',
  );
  assert.equal(
    metricRepeatsTestLoss(
      pts(() => ({ metric: 0.3 })),
      'mse',
    ),
    false,
    'a metric without a test loss shows',
  );
});

test('cell kinds are written as in the paper; a custom cell by its name', () => {
  assert.deepEqual(
    ['brc', 'nbrc', 'gru', 'lstm', 'simple_rnn'].map((k) => cellLabel(k)),
    ['BRC', 'nBRC', 'GRU', 'LSTM', 'SimpleRNN'],
  );
  assert.equal(cellLabel('custom', 'mycell'), 'mycell');
  assert.equal(cellLabel('custom'), 'custom');
});

test('an assumed readout says so; a real one shows units and activation', () => {
  assert.equal(readoutLabel({ units: 10, activation: 'softmax', perStep: true }), '10 softmax (every step)');
  const assumed = readoutLabel({ units: 16, activation: 'linear', perStep: false, assumed: true });
  assert.match(assumed, /^none in the file/);
  assert.match(assumed, /16 values/);
  assert.doesNotMatch(assumed, /16 linear/);
});

test('retention says what it needs and what the model has instead', () => {
  const arch = (inputSize: number, units: number, activation: 'linear' | 'softmax', assumed = false): Architecture => ({
    inputSize,
    layers: [{ cell: 'gru', units: 16 }],
    readout: { units, activation, perStep: false, ...(assumed ? { assumed: true as const } : {}) },
  });
  assert.equal(retentionNeeds(arch(1, 1, 'linear')), null);
  assert.equal(retentionApplicable(arch(1, 1, 'linear')), true);
  const gru = retentionNeeds(arch(3, 16, 'linear', true))!;
  assert.match(gru, /needs one input and one linear output/);
  assert.match(gru, /this model has 3 inputs and no readout layer/);
  assert.match(retentionNeeds(arch(1, 10, 'softmax'))!, /this model has 1 input and 10 softmax outputs$/);
  for (const a of [arch(2, 1, 'linear'), arch(1, 2, 'linear'), arch(1, 1, 'softmax')])
    assert.equal(retentionApplicable(a), retentionNeeds(a) === null);
});

test('readout.assumed survives validation; anything but true is refused', () => {
  const a = {
    inputSize: 2,
    layers: [{ cell: 'gru', units: 4 }],
    readout: { units: 4, activation: 'linear', perStep: false, assumed: true },
  };
  assert.equal(validateArchitecture(a).readout.assumed, true);
  assert.equal('assumed' in validateArchitecture({ ...a, readout: { ...a.readout, assumed: undefined } }).readout, false);
  assert.throws(() => validateArchitecture({ ...a, readout: { ...a.readout, assumed: false } }), /readout\.assumed/);
});
