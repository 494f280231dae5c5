/** Float32 agreement of the fast engine with the reference, shared by the engine tests. */
import assert from 'node:assert/strict';

export function nonFiniteClass(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : 'finite';
}

/**
 * Relative `tol` on the norm and elementwise within `tol` of the largest entry. With `nonFinite: 'match'`
 * both must have the same NaN/±Inf pattern and only entries finite in both are compared; otherwise every
 * entry of `got` must be finite.
 */
export function float32Close(
  what: string,
  got: Float64Array,
  want: Float64Array,
  tol = 1e-4,
  nonFinite: 'refuse' | 'match' = 'refuse',
): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let diff2 = 0;
  let norm2 = 0;
  let maxRef = 0;
  let maxDiff = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    if (nonFinite === 'match') {
      const [g, w] = [nonFiniteClass(got[i]), nonFiniteClass(want[i])];
      if (g !== w) assert.fail(`${what}[${i}]: fast ${got[i]}, reference ${want[i]}`);
      if (w !== 'finite') continue;
    } else {
      assert.ok(Number.isFinite(got[i]), `${what}[${i}] is ${got[i]}`);
    }
    const d = Math.abs(got[i] - want[i]);
    diff2 += d * d;
    norm2 += want[i] * want[i];
    maxRef = Math.max(maxRef, Math.abs(want[i]));
    if (d > maxDiff) [maxDiff, at] = [d, i];
  }
  const rel = Math.sqrt(diff2) / Math.max(Math.sqrt(norm2), 1e-12);
  assert.ok(
    rel <= tol || Math.sqrt(diff2) < 1e-7,
    `${what}: relative norm error ${rel.toExponential(2)}${nonFinite === 'match' ? ' on the finite entries' : ''}`,
  );
  assert.ok(maxDiff <= tol * maxRef + 1e-7, `${what}[${at}]: ${got[at]} vs ${want[at]} (max |ref| ${maxRef.toExponential(2)})`);
}
