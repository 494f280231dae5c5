import { test } from 'node:test';
import assert from 'node:assert/strict';
import { divergingScale, scaleColor, type RGB } from '../../webview/lib/colormap';
import {
  cellAtPixel,
  matrixFromTimeMajor,
  paintHeatmap,
  pixelBins,
  pixelSpanOfCell,
  quantile,
  stackRows,
} from '../../webview/lib/heatmap-core';

const BG: RGB = [1, 2, 3];
const scale = divergingScale([0, 0, 255], [128, 128, 128], [255, 0, 0], 1, 1);

test('pixel mapping with more pixels than cells: every cell gets floor or ceil(pixels/cells) pixels', () => {
  for (const [cells, pixels] of [
    [7, 50],
    [3, 3],
    [10, 1000],
    [13, 31],
  ]) {
    const count = new Array(cells).fill(0);
    for (let p = 0; p < pixels; p++) count[cellAtPixel(p, cells, pixels)]++;
    for (const c of count) assert.ok(c === Math.floor(pixels / cells) || c === Math.ceil(pixels / cells), `${cells}/${pixels}: ${count}`);
    for (let c = 0; c < cells; c++) {
      const [p0, p1] = pixelSpanOfCell(c, cells, pixels);
      assert.equal(p1 - p0, count[c]);
      for (let p = p0; p < p1; p++) assert.equal(cellAtPixel(p, cells, pixels), c);
    }
  }
});

test('pixel mapping with fewer pixels than cells: bins tile all cells without overlap', () => {
  for (const [cells, pixels] of [
    [10000, 1000],
    [10000, 977],
    [5, 3],
    [101, 2],
  ]) {
    const { start, end } = pixelBins(cells, pixels);
    assert.equal(start[0], 0);
    assert.equal(end[pixels - 1], cells);
    for (let p = 1; p < pixels; p++) assert.equal(start[p], end[p - 1]);
    for (let p = 0; p < pixels; p++) assert.ok(end[p] > start[p]);
    // The span of a cell is the one pixel whose bin holds it.
    for (const c of [0, Math.floor(cells / 2), cells - 1]) {
      const [p0, p1] = pixelSpanOfCell(c, cells, pixels);
      assert.equal(p1 - p0, 1);
      assert.ok(start[p0] <= c && c < end[p0], `cell ${c} not in bin of pixel ${p0}`);
    }
  }
});

test('paintHeatmap: each pixel has the colour of the cell under it, NaN cells the background', () => {
  const rows = 3;
  const cols = 4;
  const v = new Float32Array([0.2, 1.0, 1.7, NaN, 1.3, 0.9, 2.0, 0.0, NaN, NaN, 1.5, 0.5]);
  const W = 11;
  const H = 7;
  const out = new Uint8ClampedArray(W * H * 4);
  const painted = paintHeatmap(v, rows, cols, scale, out, W, H, BG);
  let expectPainted = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const r = Math.floor((y * rows) / H);
      const c = Math.floor((x * cols) / W);
      const val = v[r * cols + c];
      const want = Number.isNaN(val) ? BG : scaleColor(scale, val)!;
      if (!Number.isNaN(val)) expectPainted++;
      const o = (y * W + x) * 4;
      assert.deepEqual([out[o], out[o + 1], out[o + 2], out[o + 3]], [...want, 255], `pixel ${x},${y} (cell ${r},${c})`);
    }
  }
  assert.equal(painted, expectPainted);
});

test('paintHeatmap: when aggregating, a pixel shows the mean of its cells (missing ones ignored)', () => {
  const v = new Float32Array([0.5, 1.5, 2.0, NaN, 0.0, 0.4]);
  const out = new Uint8ClampedArray(3 * 1 * 4);
  paintHeatmap(v, 1, 6, scale, out, 3, 1, BG);
  const px = (i: number) => [out[i * 4], out[i * 4 + 1], out[i * 4 + 2]];
  assert.deepEqual(px(0), [...scaleColor(scale, 1.0)!]);
  assert.deepEqual(px(1), [...scaleColor(scale, 2.0)!]);
  assert.deepEqual(px(2), [...scaleColor(scale, 0.2)!]);
});

test('paintHeatmap: 100 × 10 000 cells paint into a 1000 × 400 buffer (timing reported)', (t) => {
  const rows = 100;
  const cols = 10_000;
  const v = new Float32Array(rows * cols);
  for (let i = 0; i < v.length; i++) v[i] = 1 + Math.sin(i * 0.001);
  const out = new Uint8ClampedArray(1000 * 400 * 4);
  const t0 = performance.now();
  const painted = paintHeatmap(v, rows, cols, scale, out, 1000, 400, BG);
  const ms = performance.now() - t0;
  t.diagnostic(`node paintHeatmap 100x10000 -> 1000x400: ${ms.toFixed(1)} ms`);
  assert.equal(painted, 1000 * 400);
});

test('matrixFromTimeMajor transposes [t][j] to rows of neurons; stackRows separates blocks with NaN rows', () => {
  const a = [
    [1, 2, 3],
    [4, null, 6],
  ];
  const m = matrixFromTimeMajor(a, 3);
  assert.deepEqual(Array.from(m), [1, 4, 2, NaN, 3, 6]);
  const sq = matrixFromTimeMajor(a, 3, (v, t, j) => v * 10 + t + j);
  assert.equal(sq[1 * 2 + 0], 21);
  const st = stackRows(
    [
      { values: m, rows: 3 },
      { values: new Float32Array([7, 8]), rows: 1 },
    ],
    2,
    1,
  );
  assert.equal(st.rows, 5);
  assert.deepEqual(st.offsets, [0, 4]);
  assert.ok(Number.isNaN(st.values[3 * 2]) && Number.isNaN(st.values[3 * 2 + 1]));
  assert.deepEqual(Array.from(st.values.subarray(8, 10)), [7, 8]);
});

test('quantile of finite values', () => {
  const v = Float32Array.from({ length: 101 }, (_, i) => i);
  assert.equal(quantile(v, 0.5), 50);
  assert.equal(quantile(v, 1), 100);
  assert.equal(quantile([NaN, 3, NaN], 0.9), 3);
  assert.ok(Number.isNaN(quantile([NaN], 0.5)));
});
