import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BistabilityLayer, RetentionReport } from '../../core/diagnostics/types';
import {
  bistabilityCsv,
  bistabilityFractionsCsv,
  csvCell,
  fixedPointsCsv,
  gradientFlowCsv,
  retentionCsv,
  safeFilename,
  toCsv,
  trainingCsv,
} from '../../webview/lib/csv';
import { diagnose } from '../../core/diagnostics/diagnose';
import { makeModel } from '../helpers/diag-models';
import { parseWebviewMessage, type TrainingSnapshot } from '../../webview/protocol';

/** Minimal RFC 4180 reader for checking what we wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (q) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') q = false;
      else cell += ch;
    } else if (ch === '"') q = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  return rows;
}

test('csv cells: quoting, formulas neutralised, numbers at full precision, non-finite empty', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvCell('+1'), "'+1");
  assert.equal(csvCell(-0.125), '-0.125');
  assert.equal(csvCell(0.1 + 0.2), '0.30000000000000004');
  assert.equal(csvCell(NaN), '');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(true), '1');
  const text = toCsv(
    ['x', 'label'],
    [
      [1, 'a\nb'],
      [2, 'c'],
    ],
  );
  assert.deepEqual(parseCsv(text), [
    ['x', 'label'],
    ['1', 'a\nb'],
    ['2', 'c'],
  ]);
});

function layer(T: number, H: number): BistabilityLayer {
  const g = (f: (t: number, j: number) => number) => Array.from({ length: T }, (_, t) => Array.from({ length: H }, (_, j) => f(t, j)));
  return {
    layer: 1,
    cell: 'brc',
    units: H,
    T,
    method: 'gain',
    a: g((t, j) => 0.5 + t * 0.25 + j * 0.01),
    bistable: g((t) => (0.5 + t * 0.25 > 1 ? 1 : 0)) as (0 | 1)[][],
    fixedPoints: g(() => 1),
    branch: g((t, j) => ((t + j) % 2 ? 1 : -1)) as (-1 | 1)[][],
    h: g((t, j) => t - j),
    c: null,
    drive: g(() => 0.1),
    flips: [],
    neurons: [],
    fractionBistable: [],
    fractionTrulyBistable: [],
    meanC: null,
  };
}

test('bistability CSV: one row per (t, neuron) with the layer data, empty where a gate is missing', () => {
  const L = layer(4, 3);
  const rows = parseCsv(bistabilityCsv([L]));
  assert.deepEqual(rows[0], ['layer', 't', 'neuron', 'a', 'bistable', 'fixed_points', 'branch', 'h', 'c', 'u']);
  assert.equal(rows.length, 1 + 4 * 3);
  for (const r of rows.slice(1)) {
    const t = Number(r[1]);
    const j = Number(r[2]);
    assert.equal(r[0], '1');
    assert.equal(Number(r[3]), L.a[t][j]);
    assert.equal(Number(r[4]), L.bistable[t][j]);
    assert.equal(Number(r[6]), L.branch[t][j]);
    assert.equal(Number(r[7]), L.h[t][j]);
    assert.equal(r[8], '');
    assert.equal(Number(r[9]), 0.1);
  }
});

test('retention CSV overlays runs and skips runs without retention data', () => {
  const r: RetentionReport = {
    delays: [5, 10],
    mse: [0.1, 0.4],
    probe: { lambda: 1, trainSequences: 1, testSequences: 1, layers: [{ layer: 0, r2: [0.9, 0.8, 0.7] }] },
  };
  const rows = parseCsv(
    retentionCsv([
      { label: 'brc', retention: r },
      { label: 'gru', retention: null },
      { label: 'x,y', retention: r },
    ]),
  );
  assert.equal(rows.length, 1 + 2 * (2 + 3));
  // A report without intervals (older files): the interval columns stay empty.
  assert.deepEqual(rows[1], ['brc', 'mse_vs_delay', '', '5', '0.1', '', '', '', '']);
  assert.deepEqual(rows[4], ['brc', 'probe_r2_vs_t', '0', '1', '0.8', '', '', '', '']);
  assert.equal(rows[6][0], 'x,y');
  assert.ok(!rows.some((row) => row[0] === 'gru'));
  // With probe.times (every report since they exist) x is the time step, not the probe's index.
  const timed = parseCsv(retentionCsv([{ label: 'brc', retention: { ...r, probe: { ...r.probe, times: [0, 299, 599] } } }]));
  assert.deepEqual(
    timed.slice(3).map((row) => row[3]),
    ['0', '299', '599'],
  );
});

test('training CSV names the metric column', () => {
  const s = {
    metricName: 'accuracy',
    points: [
      { step: 1, loss: 2 },
      { step: 2, testLoss: 1.5, metric: 0.6 },
    ],
  } as TrainingSnapshot;
  assert.deepEqual(parseCsv(trainingCsv(s)), [
    ['step', 'loss', 'test_loss', 'accuracy'],
    ['1', '2', '', ''],
    ['2', '', '1.5', '0.6'],
  ]);
});

test('training CSV: a diagnosed snapshot joins its step, per layer, with interval ends; unknown ends are empty', () => {
  const s = {
    metricName: 'mse',
    points: [
      { step: 10, loss: 2 },
      { step: 30, loss: 1 },
    ],
    diagnosed: [
      {
        step: 10,
        fractionBistable: [0.5, 0.25],
        gradientEndRatio: [{ value: 0.01, lo: 0.005, hi: 0.02 }, null],
        retention: { delay: 50, value: 0.4, lo: 0.3, hi: Infinity },
        memoryCarriers: 3,
      },
      { step: 20, fractionBistable: [0.75], gradientEndRatio: [], retention: null, memoryCarriers: null },
    ],
  } as TrainingSnapshot;
  const rows = parseCsv(trainingCsv(s));
  assert.deepEqual(rows[0], [
    'step',
    'loss',
    'test_loss',
    'mse',
    'fraction_bistable_layer1',
    'fraction_bistable_layer2',
    'gradient_end_ratio_layer1',
    'gradient_end_ratio_layer1_lo',
    'gradient_end_ratio_layer1_hi',
    'gradient_end_ratio_layer2',
    'gradient_end_ratio_layer2_lo',
    'gradient_end_ratio_layer2_hi',
    'retention_delay',
    'retention_mse_over_chance',
    'retention_mse_over_chance_lo',
    'retention_mse_over_chance_hi',
    'memory_carriers',
  ]);
  assert.deepEqual(rows.slice(1), [
    ['10', '2', '', '', '0.5', '0.25', '0.01', '0.005', '0.02', '', '', '', '50', '0.4', '0.3', '', '3'],
    ['20', '', '', '', '0.75', '', '', '', '', '', '', '', '', '', '', '', ''],
    ['30', '1', '', '', '', '', '', '', '', '', '', '', '', '', '', '', ''],
  ]);
});

test('safe file names pass the host guard for awkward labels', () => {
  for (const label of ['bistability brc 2×32', '../../etc/passwd', 'a/b\\c:d*e?f"g<h>i|j', '', '...', 'x'.repeat(500), 'run (1)']) {
    for (const ext of ['png', 'csv'] as const) {
      const name = safeFilename(label, ext);
      assert.ok(name.endsWith(`.${ext}`));
      assert.ok(!name.includes('/') && !name.includes('\\') && !name.startsWith('.'));
      const msg =
        ext === 'csv'
          ? { type: 'exportCsv', filename: name, csv: 'a\n' }
          : { type: 'exportPng', filename: name, dataUrl: 'data:image/png;base64,AAAA' };
      assert.notEqual(parseWebviewMessage(msg), null, `host rejects ${JSON.stringify(name)}`);
    }
  }
});

test('CSV exports carry the 95 % interval of every estimate, n and method under headers that say so', () => {
  const model = makeModel([{ cell: 'brc', units: 6 }], { seed: 4, task: { name: 'copy', T: 20 } });
  const r = diagnose(model, {
    task: 'copy',
    T: 20,
    batch: 24,
    seed: 1,
    batchSample: 8,
    retention: { batch: 16, probeTrain: 32 },
    fixedPoints: { starts: 8 },
  });
  const by = (text: string) => {
    const [header, ...rows] = parseCsv(text);
    return rows.map((row) => Object.fromEntries(header.map((h, i) => [h, row[i]])));
  };
  const num = (v: string) => (v === '' ? NaN : Number(v));
  // Fractions: per step, from BistabilityLayer.intervals.
  const L = r.bistability.layers[0];
  const frac = by(bistabilityFractionsCsv(r.bistability.layers));
  assert.equal(frac.length, 20);
  assert.equal(num(frac[7].mean_c_ci95_lo), L.intervals!.meanC!.lo[7]);
  assert.equal(num(frac[7].fraction_truly_bistable_ci95_hi), L.intervals!.fractionTrulyBistable!.hi[7]);
  assert.equal(frac[7].fraction_bistable_n, '24');
  assert.equal(frac[7].fraction_truly_bistable_n, '8');
  assert.equal(frac[7].mean_c_interval_method, 'normal');
  // Gradient flow: ‖∂h_T/∂h_t‖ with its interval and the lower-bound flag.
  const G = r.gradientFlow.layers[0];
  const grad = by(gradientFlowCsv(r.gradientFlow));
  assert.equal(num(grad[3].jacobian_norm_ci95_lo), G.jacobian![3].lo);
  assert.equal(grad[3].jacobian_norm_interval_method, G.jacobian![3].method);
  assert.equal(grad[3].jacobian_norm_is_lower_bound, G.jacobianLowerBound ? '1' : '0');
  // Retention: MSE per delay, chance, probe and readout R², each with its interval.
  const ret = by(retentionCsv([{ label: 'm', retention: r.retention! }]));
  const mse = ret.filter((x) => x.series === 'mse_vs_delay');
  assert.equal(mse.length, r.retention!.delays.length);
  assert.equal(num(mse[0].ci95_hi), r.retention!.mseEstimate![0].hi);
  assert.equal(mse[0].n, String(r.retention!.mseEstimate![0].n));
  const chance = ret.find((x) => x.series === 'chance_mse')!;
  assert.equal(num(chance.ci95_lo), r.retention!.chance!.lo);
  const probe = ret.filter((x) => x.series === 'probe_r2_vs_t');
  assert.equal(num(probe[1].ci95_lo), r.retention!.probe.layers[0].r2Estimate![1].lo);
  // Fixed points: the search's shares with their Wilson intervals on every row.
  const fp = by(fixedPointsCsv(r.fixedPoints));
  assert.ok(fp.length >= 1);
  assert.equal(num(fp[0].search_largest_basin_share_ci95_lo), r.fixedPoints.search!.largestBasin.lo);
  assert.equal(fp[0].search_unsettled_share_interval_method, 'wilson');
});
