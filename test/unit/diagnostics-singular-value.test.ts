/**
 * largestSingularValue against matrices built with known singular values (M = U diag(s) Vᵀ from orthonormal
 * U, V), including a warm start on the second singular vector, where the power iteration it replaced stopped
 * at the second singular value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { largestSingularValue, randomOrthonormal } from '../../core/diagnostics/matrix';
import { Rng } from '../../core/util/rng';

/** M [k×n] = Σ_j s_j u_j v_jᵀ, with u_j the columns of an orthonormal k×k U and v_j orthonormal rows of length n. */
function withSingularValues(rng: Rng, s: number[], n: number): { M: Float64Array; U: Float64Array[] } {
  const k = s.length;
  const U = randomOrthonormal(rng, k, k); // U[j] is u_j
  const V = randomOrthonormal(rng, k, n);
  const M = new Float64Array(k * n);
  for (let j = 0; j < k; j++) for (let a = 0; a < k; a++) for (let i = 0; i < n; i++) M[a * n + i] += s[j] * U[j][a] * V[j][i];
  return { M, U };
}

test('largest singular value of diag(3, 1), warm-started on the eigenvector of 1', () => {
  assert.ok(Math.abs(largestSingularValue([3, 0, 0, 1], 2, 2, Float64Array.from([0, 1])) - 3) < 1e-12);
  assert.ok(Math.abs(largestSingularValue([1, 0, 0, 3], 2, 2, Float64Array.from([1, 0])) - 3) < 1e-12);
});

test('largest singular value of matrices with known singular values, cold and warm-started on the second', () => {
  const rng = new Rng(5);
  for (const [k, n] of [
    [8, 100],
    [3, 5],
    [16, 40],
    [24, 60],
    [40, 50],
  ]) {
    // Top two close (1 % apart): the hardest case for an iteration.
    const s = Array.from({ length: k }, (_, j) => (j === 0 ? 5 : j === 1 ? 4.95 : 4 * rng.uniform()));
    const { M, U } = withSingularValues(rng, s, n);
    assert.ok(Math.abs(largestSingularValue(M, k, n) - 5) < 1e-9 * 5, `k=${k} n=${n} cold`);
    const warm = Float64Array.from(U[1]);
    assert.ok(
      Math.abs(largestSingularValue(M, k, n, warm) - 5) < 1e-7 * 5,
      `k=${k} n=${n} warm on u_2: ${largestSingularValue(M, k, n, Float64Array.from(U[1]))}`,
    );
  }
});
