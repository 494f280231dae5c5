/** The bounded, length-keyed pool behind both engines' array reuse (core/util/length-pool). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LengthPool } from '../../core/util/length-pool';

test('LengthPool: reuse by length, eviction of other lengths when full, nothing over the bound, clear', () => {
  const forgotten: Float64Array[] = [];
  const pool = new LengthPool<Float64Array>(10, (a) => forgotten.push(a));
  const a4 = new Float64Array(4);
  const b4 = new Float64Array(4);
  assert.equal(pool.give(a4), true);
  assert.equal(pool.give(b4), true);
  assert.equal(pool.take(3), undefined, 'only the same length comes back');
  assert.equal(pool.take(4), b4);
  assert.equal(pool.give(b4), true);
  // 8 of 10 values kept: a 6 makes room by forgetting the 4s, not by refusing.
  const c6 = new Float64Array(6);
  assert.equal(pool.give(c6), true);
  assert.deepEqual(new Set(forgotten), new Set([a4, b4]));
  assert.equal(pool.take(4), undefined);
  // Arrays of its own length are not evicted for it: a second 6 does not fit beside the first.
  assert.equal(pool.give(new Float64Array(6)), false);
  assert.equal(pool.give(new Float64Array(11)), false, 'larger than the bound: never kept');
  assert.equal(forgotten.length, 2, 'a refused array evicts nothing more');
  pool.clear();
  assert.equal(forgotten.at(-1), c6, 'clear forgets what was kept');
  assert.equal(pool.take(6), undefined);
});
