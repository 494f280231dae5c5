/**
 * Recycled float64 arrays for the per-step [T, B, H] arrays of training (layer outputs, dL/dh, dx).
 *
 * glibc serves allocations above its mmap threshold (32 MB at most; worker threads' arenas cap at 64 MB heaps)
 * with a fresh mmap and unmaps them on free, so at T = 1000, B = 100, H = 100 (80 MB per array) every step
 * page-faulted hundreds of MB: measured, a step cost 6× the same step with those arrays recycled, and the step
 * time grew ×7–11 from T = 300 to 1000 instead of ×3.3. Arrays taken here are recycled only when their user
 * says it is done with them (recycleF64); others are garbage collected as usual.
 */

import { freshF64 } from './fresh-memory';
import { LengthPool } from './length-pool';

/** Below this many values an array is cheap to allocate: not pooled. */
export const POOL_MIN = 1 << 16;
const POOL_MAX = 64 << 20; // values (512 MB)

/** Arrays taken from here (only those may come back), and those currently in the pool (no double return). */
const owned = new WeakSet<Float64Array>();
const inPool = new WeakSet<Float64Array>();
const pool = new LengthPool<Float64Array>(POOL_MAX, (a) => inPool.delete(a));

/** An array of n values with arbitrary contents (the caller overwrites all of it); `zero` fills it with 0. */
export function takeF64(n: number, zero = false): Float64Array {
  if (n < POOL_MIN) return new Float64Array(n);
  const a = pool.take(n);
  if (a) {
    inPool.delete(a);
    if (zero) a.fill(0);
    return a;
  }
  const fresh = freshF64(n);
  if (zero) fresh.fill(0);
  owned.add(fresh);
  return fresh;
}

/** Gives `a` back for reuse: its user must not read or write it afterwards. Arrays not from takeF64 are ignored. */
export function recycleF64(a: Float64Array | undefined | null): void {
  if (!a || !owned.has(a) || inPool.has(a)) return;
  if (pool.give(a)) inPool.add(a);
}

/** Empties the pool (its memory goes back to the garbage collector). */
export function clearF64Pool(): void {
  pool.clear();
}
