import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose } from '../../core/diagnostics/diagnose';
import type { MemoryReport } from '../../core/diagnostics/types';
import { stackRows } from '../../webview/lib/heatmap-core';
import {
  CARRIER_COLUMNS,
  carrierCaption,
  carrierOf,
  carrierSpans,
  carrierTableRows,
  targetShades,
} from '../../webview/lib/memory-carriers';
import { latchBatch, plantedLatchModel } from '../helpers/memory-models';

/** The planted model's report with its two layers' worth of rows: one BRC layer, stacked as the panel does. */
function plantedReport() {
  return diagnose(plantedLatchModel(), { input: latchBatch(64, 60, 1), sections: ['bistability', 'memory'] });
}

test('the bistability heatmap marks exactly the carriers’ rows over their windows', () => {
  const r = plantedReport();
  const layers = r.bistability.layers;
  // The panel stacks the shown layers with stackRows and marks carrierSpans of those offsets.
  const stack = stackRows(
    layers.map((L) => ({ values: new Float32Array(L.units * L.T), rows: L.units })),
    60,
    1,
  );
  const spans = carrierSpans(
    r.memory,
    layers.map((L) => L.layer),
    stack.offsets,
  );
  assert.deepEqual(spans.map((s) => s.row).sort(), [stack.offsets[0] + 0, stack.offsets[0] + 1]);
  for (const s of spans) assert.deepEqual([s.from, s.to], [0, 59]);
  // Shown as the second block (after a 3-row layer and a gap row), the rows move with the offset.
  const shifted = carrierSpans(r.memory, [7, 0], [0, 4]);
  assert.deepEqual(shifted.map((s) => s.row).sort(), [4, 5]);
  // No memory section, or one with a note: nothing is marked.
  assert.deepEqual(carrierSpans(null, [0], [0]), []);
  assert.deepEqual(carrierSpans({ ...r.memory!, note: 'no target' }, [0], [0]), []);
});

test('unlisted carriers (beyond the top ones) are still marked, over the whole row', () => {
  const r = plantedReport();
  const m: MemoryReport = { ...r.memory!, carriers: r.memory!.carriers.slice(0, 1) };
  const spans = carrierSpans(m, [0], [0]);
  assert.equal(spans.length, 2);
  const unlisted = spans.find((s) => s.neuron !== m.carriers[0].neuron)!;
  assert.equal(unlisted.from, 0);
  assert.equal(unlisted.to, Number.POSITIVE_INFINITY);
  assert.match(carrierCaption(m), /2 neurons carry y \(the 1 strongest listed\)/);
});

test('carriers table: one row per listed carrier with its window, score interval and gates', () => {
  const r = plantedReport();
  const m = r.memory!;
  const rows = carrierTableRows(m);
  assert.equal(rows.length, m.carriers.length);
  for (const [i, row] of rows.entries()) {
    const c = m.carriers[i];
    assert.equal(row.length, CARRIER_COLUMNS.length);
    assert.equal(row[0], `1 · ${c.neuron}`);
    assert.equal(row[2], '0');
    assert.equal(row[3], '59');
    assert.match(row[4], /^0\.\d+ \(0\.\d+–0\.\d+\)$/);
    assert.equal(row[5], '2'); // 1 + tanh 3 = 1.995 to 2 significant digits
    assert.equal(row[6], '0.5');
    assert.equal(carrierOf(m, c.layer, c.neuron), c);
  }
  assert.equal(carrierOf(m, 0, 3), undefined);
  assert.match(carrierCaption(m), /^2 neurons carry y: adjusted R² ≥ 0\.1/);
});

test('trace colours: regression targets scaled to [−1, 1] by their largest magnitude, classes evenly', () => {
  assert.deepEqual(targetShades({ target: 'x1' }, [2, -1, 0.5]), [1, -0.5, 0.25]);
  assert.deepEqual(targetShades({ target: 'class' }, [3, 0, 7, 0]), [0, -1, 1, -1]);
  assert.deepEqual(targetShades({ target: 'class' }, [2, 2]), [0, 0]);
});
