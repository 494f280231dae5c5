import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  contrastRatio,
  divergingScale,
  ensureContrast,
  parseColor,
  scaleColor,
  scaleIndex,
  sequentialScale,
  toCss,
  type RGB,
} from '../../webview/lib/colormap';

const RED: RGB = [241, 76, 76];
const BLUE: RGB = [55, 148, 255];
const MID: RGB = [60, 60, 60];

test('parseColor reads the forms VS Code uses for theme variables', () => {
  assert.deepEqual(parseColor('#f14c4c'), [241, 76, 76]);
  assert.deepEqual(parseColor(' #F14C4C80 '), [241, 76, 76]);
  assert.deepEqual(parseColor('#abc'), [0xaa, 0xbb, 0xcc]);
  assert.deepEqual(parseColor('rgb(1, 2, 3)'), [1, 2, 3]);
  assert.deepEqual(parseColor('rgba(10,20,30,0.5)'), [10, 20, 30]);
  assert.equal(parseColor(''), null);
  assert.equal(parseColor('var(--x)'), null);
  assert.equal(toCss([241, 76, 76]), '#f14c4c');
});

test('diverging scale: a = 1 maps exactly to the neutral middle colour', () => {
  const s = divergingScale(BLUE, MID, RED, 1, 1);
  assert.deepEqual(scaleColor(s, 1), MID);
  assert.equal(scaleIndex(s, 1), (s.n - 1) / 2);
});

test('diverging scale: above 1 leans to the high colour, below 1 to the low colour, symmetric around 1', () => {
  const s = divergingScale(BLUE, MID, RED, 1, 1);
  for (const d of [0.02, 0.1, 0.37, 0.8, 1]) {
    const hi = scaleColor(s, 1 + d)!;
    const lo = scaleColor(s, 1 - d)!;
    // MID is grey (r = b), RED has r > b, BLUE has b > r: the sign of r − b tells the side.
    assert.ok(hi[0] > hi[2], `a = ${1 + d} should be reddish, got ${hi}`);
    assert.ok(lo[2] > lo[0], `a = ${1 - d} should be bluish, got ${lo}`);
    assert.equal(scaleIndex(s, 1 + d) + scaleIndex(s, 1 - d), s.n - 1);
  }
  assert.deepEqual(scaleColor(s, 2), RED);
  assert.deepEqual(scaleColor(s, 0), BLUE);
  assert.deepEqual(scaleColor(s, 7), RED, 'clamped above the range');
  assert.deepEqual(scaleColor(s, -3), BLUE, 'clamped below the range');
  assert.equal(scaleColor(s, NaN), null);
});

test('diverging scale: colour moves monotonically away from the middle as |a − 1| grows', () => {
  const s = divergingScale(BLUE, MID, RED, 1, 1);
  const dist = (c: RGB, m: RGB) => Math.hypot(c[0] - m[0], c[1] - m[1], c[2] - m[2]);
  let prevHi = -1;
  let prevLo = -1;
  for (let d = 0; d <= 1.0001; d += 0.05) {
    const hi = dist(scaleColor(s, 1 + d)!, MID);
    const lo = dist(scaleColor(s, 1 - d)!, MID);
    assert.ok(hi >= prevHi && lo >= prevLo);
    prevHi = hi;
    prevLo = lo;
  }
});

test('sequential scale spans its endpoints', () => {
  const s = sequentialScale([0, 0, 0], [200, 100, 50], -3, 1);
  assert.deepEqual(scaleColor(s, -3), [0, 0, 0]);
  assert.deepEqual(scaleColor(s, 1), [200, 100, 50]);
  const m = scaleColor(s, -1)!;
  assert.ok(Math.abs(m[0] - 100) <= 1 && Math.abs(m[1] - 50) <= 1);
});

test('contrast: WCAG ratio and ensureContrast for line colours on light and dark backgrounds', () => {
  assert.ok(Math.abs(contrastRatio([255, 255, 255], [0, 0, 0]) - 21) < 1e-9);
  assert.equal(contrastRatio([120, 120, 120], [120, 120, 120]), 1);
  const yellowOnWhite: RGB = [204, 167, 0];
  assert.ok(contrastRatio(yellowOnWhite, [255, 255, 255]) < 3);
  const fixed = ensureContrast(yellowOnWhite, [255, 255, 255], [59, 59, 59], 3);
  assert.ok(contrastRatio(fixed, [255, 255, 255]) >= 3);
  const ok: RGB = [55, 148, 255];
  assert.deepEqual(ensureContrast(ok, [31, 31, 31], [204, 204, 204], 3), ok, 'already readable: unchanged');
});
