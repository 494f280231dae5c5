import { test } from 'node:test';
import assert from 'node:assert/strict';
import { betaCdf, betaQuantile, formatEstimate, medianEstimate } from '../../core/diagnostics/stats';
import { randomOrthonormal } from '../../core/diagnostics/matrix';
import { Rng } from '../../core/util/rng';

test('medianEstimate: the order-statistic interval covers the true median at least 95 % of the time', () => {
  const rng = new Rng(11);
  // A skewed, heavy-tailed distribution (log-normal, median e^1) at the sample sizes the diagnostics use.
  for (const n of [6, 16, 40]) {
    let hits = 0;
    const trials = 600;
    for (let k = 0; k < trials; k++) {
      const e = medianEstimate(Array.from({ length: n }, () => Math.exp(1 + 2 * rng.normal())));
      if (e.lo <= Math.E && Math.E <= e.hi) hits++;
    }
    const rate = hits / trials;
    assert.ok(rate >= 0.93 && rate < 1, `n = ${n}: coverage ${rate}`);
  }
  // Too few samples for a 95 % interval: it is unknown, and says so.
  const five = medianEstimate([5, 1, 4, 2, 3]);
  assert.equal(five.value, 3);
  assert.equal(five.lo, -Infinity);
  assert.equal(five.hi, Infinity);
  assert.match(formatEstimate(five), /interval unknown/);
  // n = 16: P(Binomial(16, ½) ≤ 3) = 0.0106 ≤ 2.5 % < P(≤ 4) = 0.038, so the interval is [x₍₄₎, x₍₁₃₎].
  const e = medianEstimate(Array.from({ length: 16 }, (_, i) => 16 - i));
  assert.deepEqual([e.value, e.lo, e.hi, e.n, e.method], [8.5, 4, 13, 16, 'order-statistic']);
});

test('betaQuantile inverts the Beta CDF: closed forms, and the projection of a unit vector on random probes', () => {
  // Beta(a, 1) has CDF x^a; Beta(1, b) has CDF 1 − (1 − x)^b.
  assert.ok(Math.abs(betaQuantile(0.3, 2.5, 1) - 0.3 ** (1 / 2.5)) < 1e-12);
  assert.ok(Math.abs(betaQuantile(0.025, 1, 4) - (1 - 0.975 ** (1 / 4))) < 1e-12);
  assert.ok(Math.abs(betaCdf(0.5, 3, 3) - 0.5) < 1e-12);
  // ‖Vᵀu‖² for k random orthonormal probes in R^H is Beta(k/2, (H − k)/2): its empirical 2.5 % quantile.
  const rng = new Rng(5);
  const H = 20;
  const k = 4;
  const draws = Array.from({ length: 4000 }, () => randomOrthonormal(rng, k, H).reduce((s, v) => s + v[3] ** 2, 0)).sort((a, b) => a - b);
  const q = betaQuantile(0.025, k / 2, (H - k) / 2);
  const below = draws.filter((d) => d < q).length / draws.length;
  assert.ok(below > 0.018 && below < 0.033, `fraction below the 2.5 % quantile: ${below}`);
});
