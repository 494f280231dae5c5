import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bootstrapEstimate,
  formatEstimate,
  meanEstimate,
  proportionEstimate,
  surelyAbove,
  surelyBelow,
} from '../../core/diagnostics/stats';
import { Rng } from '../../core/util/rng';

// Coverage by simulation: the 95 % intervals must contain the true value in about 95 % of repeated samples.
test('mean, bootstrap and Wilson intervals cover the true value about 95 % of the time', () => {
  const rng = new Rng(7);
  const trials = 400;
  let meanHits = 0;
  let bootHits = 0;
  let propHits = 0;
  for (let k = 0; k < trials; k++) {
    const xs = Float64Array.from({ length: 40 }, () => 2 + 3 * rng.normal());
    const m = meanEstimate(xs);
    if (m.lo <= 2 && 2 <= m.hi) meanHits++;
    const b = bootstrapEstimate(xs.length, (idx) => idx.reduce((s, i) => s + xs[i], 0) / idx.length, { seed: k, resamples: 200 });
    if (b.lo <= 2 && 2 <= b.hi) bootHits++;
    let succ = 0;
    for (let i = 0; i < 60; i++) if (rng.uniform() < 0.3) succ++;
    const p = proportionEstimate(succ, 60);
    if (p.lo <= 0.3 && 0.3 <= p.hi) propHits++;
  }
  for (const [name, hits] of [
    ['mean', meanHits],
    ['bootstrap', bootHits],
    ['wilson', propHits],
  ] as const) {
    const rate = hits / trials;
    assert.ok(rate > 0.88 && rate < 0.995, `${name} coverage ${rate}`);
  }
});

test('interval width shrinks like 1/sqrt(n) and verdict helpers use the whole interval', () => {
  const rng = new Rng(3);
  const small = meanEstimate(Float64Array.from({ length: 25 }, () => rng.normal()));
  const large = meanEstimate(Float64Array.from({ length: 2500 }, () => rng.normal()));
  const ratio = (small.hi - small.lo) / (large.hi - large.lo);
  assert.ok(ratio > 7 && ratio < 13, `width ratio ${ratio} (expected ≈ 10)`);
  const e = { value: 0.5, lo: 0.4, hi: 0.6, n: 100, method: 'normal' as const };
  assert.equal(surelyAbove(e, 0.39), true);
  assert.equal(surelyAbove(e, 0.45), false);
  assert.equal(surelyBelow(e, 0.61), true);
  assert.equal(surelyBelow(e, 0.55), false);
  assert.match(formatEstimate(e), /0\.50 \(95 % CI 0\.40 to 0\.60, n = 100\)/);
  assert.match(formatEstimate(meanEstimate([1])), /interval unknown/);
  // Zero is written as 0, not 0.0e+0 (a fraction of neuron-steps that is exactly zero).
  assert.equal(formatEstimate(meanEstimate([0])), '0 (n = 1, interval unknown)');
  assert.match(formatEstimate(proportionEstimate(0, 50)), /^0 \(95 % CI 0 to 0\.07\d, n = 50\)$/);
});
