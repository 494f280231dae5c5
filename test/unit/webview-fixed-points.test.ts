import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bandEdge, bistableBand, branchCurve, selfMapFixedPoints } from '../../webview/lib/fixed-point-math';

/** Independent root count of tanh(u + a h) − h on a dense grid (sign changes). */
function countRoots(a: number, u: number): number {
  const f = (h: number) => Math.tanh(u + a * h) - h;
  let n = 0;
  const N = 200_000;
  let prev = f(-1);
  for (let i = 1; i <= N; i++) {
    const cur = f(-1 + (2 * i) / N);
    if (prev < 0 !== cur < 0) n++;
    prev = cur;
  }
  return n;
}

test('band u*(a): the paper values 0.208 at a = 1.5 and 0.533 at a = 2, zero for a ≤ 1', () => {
  assert.equal(bistableBand(1.5).toFixed(3), '0.208');
  assert.equal(bistableBand(2).toFixed(3), '0.533');
  assert.equal(bistableBand(1), 0);
  assert.equal(bistableBand(0.4), 0);
  assert.ok(bistableBand(3) > bistableBand(2));
});

test('three fixed points exactly inside the band |u| < u*(a), one outside', () => {
  for (const a of [1.2, 1.5, 2, 2.7, 4]) {
    const us = bistableBand(a);
    for (const [u, want] of [
      [0.9 * us, 3],
      [-0.9 * us, 3],
      [1.1 * us, 1],
      [-1.1 * us, 1],
      [0, 3],
    ] as const) {
      assert.equal(countRoots(a, u), want, `independent count a=${a} u=${u}`);
      assert.equal(selfMapFixedPoints(a, u).length, want, `selfMapFixedPoints a=${a} u=${u}`);
    }
  }
  for (const a of [0.2, 0.7, 0.99]) for (const u of [-1, 0, 0.3]) assert.equal(selfMapFixedPoints(a, u).length, 1);
});

test('fixed points solve h = tanh(u + a h); outer ones stable, middle one unstable', () => {
  const fps = selfMapFixedPoints(2, 0.2);
  assert.equal(fps.length, 3);
  for (const p of fps) assert.ok(Math.abs(Math.tanh(0.2 + 2 * p.h) - p.h) < 1e-9);
  assert.deepEqual(
    fps.map((p) => p.stable),
    [true, false, true],
  );
  // The middle root's map slope exceeds 1 (repelling): check by iterating the map from near it.
  let h = fps[1].h + 1e-6;
  for (let i = 0; i < 200; i++) h = Math.tanh(0.2 + 2 * h);
  assert.ok(Math.abs(h - fps[2].h) < 1e-6, 'iterating from just above the unstable point converges to the upper stable one');
  const single = selfMapFixedPoints(0.5, -0.3);
  assert.equal(single.length, 1);
  assert.ok(single[0].stable && single[0].h < 0);
});

test('branch curve: every point is a fixed point, stability flag matches the slope, crossings match root counts', () => {
  for (const u of [0, 0.15, -0.4]) {
    const segs = branchCurve(u, 0, 3, 800);
    assert.ok(segs.length > 0);
    for (const s of segs) {
      for (const p of s.points) {
        assert.ok(p.a >= 0 && p.a <= 3);
        assert.ok(Math.abs(Math.tanh(u + p.a * p.h) - p.h) < 1e-9, `u=${u} point (${p.a}, ${p.h}) is not a fixed point`);
      }
      // Interior points (the first may be the shared fold point) carry the segment's stability.
      for (const p of s.points.slice(1, -1)) assert.equal(p.a * (1 - p.h * p.h) < 1, s.stable);
    }
    // At a0, the number of times the curve passes a = a0 equals the number of fixed points.
    for (const a0 of [0.5, 1.7, 2.6]) {
      let crossings = 0;
      for (const s of segs) {
        for (let i = 1; i < s.points.length; i++) {
          const p = s.points[i - 1];
          const q = s.points[i];
          if ((p.a - a0) * (q.a - a0) < 0) crossings++;
        }
      }
      assert.equal(crossings, countRoots(a0, u), `u=${u} a0=${a0}`);
    }
  }
});

test('branch curve folds where the band edge says: stability changes at |u| = u*(a_fold)', () => {
  const u = 0.3;
  const segs = branchCurve(u, 0, 4, 4000);
  const folds: number[] = [];
  for (let i = 1; i < segs.length; i++) {
    const prev = segs[i - 1].points;
    const first = segs[i].points[0];
    const last = prev[prev.length - 1];
    if (segs[i].stable !== segs[i - 1].stable && first.a === last.a && first.h === last.h) folds.push(first.a);
  }
  assert.equal(folds.length, 1, 'one fold for u ≠ 0');
  assert.ok(Math.abs(bistableBand(folds[0]) - u) < 2e-3, `u*(${folds[0]}) = ${bistableBand(folds[0])}, expected ≈ ${u}`);
  const edge = bandEdge(3, 10);
  assert.equal(edge[0].a, 1);
  assert.equal(edge[0].u, 0);
  assert.ok(Math.abs(edge[edge.length - 1].a - 3) < 1e-12);
});
