/**
 * largestSingularValue against matrices built with known singular values (M = U diag(s) Vᵀ from orthonormal
 * U, V), including a warm start on the second singular vector, where the power iteration it replaced stopped
 * at the second singular value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { largestSingularValue, randomOrthonormal, symmetricEigenvalues } from '../../core/diagnostics/matrix';
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

/** A = Q diag(λ) Qᵀ from an orthonormal Q: symmetric, with the given spectrum. */
function withEigenvalues(rng: Rng, lambda: number[]): Float64Array {
  const n = lambda.length;
  const Q = randomOrthonormal(rng, n, n);
  const A = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) A[a * n + b] += lambda[j] * Q[j][a] * Q[j][b];
  return A;
}

test('symmetricEigenvalues recovers known spectra: repeated, zero, negative, clustered, 1 × 1 to 16 × 16', () => {
  const rng = new Rng(11);
  const spectra: number[][] = [
    [2.5],
    [3, -1],
    [1, 1, 1, 1],
    [0, 0, 5, 0],
    [4, 4, 1e-9, -2, 7, 7, 7, 0.5],
    [1, 1 + 1e-12, 1 + 2e-12, 3, 3, 0, 2, 2, 1e3, 1e-3, -1e3, 5, 5, 5, 5, 8],
    Array.from({ length: 13 }, () => rng.normal() * 10),
  ];
  for (const lambda of spectra) {
    const n = lambda.length;
    const got = [...symmetricEigenvalues(withEigenvalues(rng, lambda), n)].sort((a, b) => a - b);
    const want = [...lambda].sort((a, b) => a - b);
    const tol = 1e-12 * Math.max(...lambda.map(Math.abs));
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) <= tol, `n=${n}: eigenvalue ${i} = ${g}, expected ${want[i]}`));
  }
  // Already diagonal and already tridiagonal (the Householder steps meet zero columns).
  assert.deepEqual([...symmetricEigenvalues(Float64Array.from([2, 0, 0, 0, -1, 0, 0, 0, 3]), 3)].sort(), [-1, 2, 3]);
  // [[2, 1, 0], [1, 2, 1], [0, 1, 2]]: 2 − √2, 2, 2 + √2.
  const tri = [...symmetricEigenvalues(Float64Array.from([2, 1, 0, 1, 2, 1, 0, 1, 2]), 3)].sort((a, b) => a - b);
  [2 - Math.SQRT2, 2, 2 + Math.SQRT2].forEach((w, i) => assert.ok(Math.abs(tri[i] - w) < 1e-14, `tridiagonal ${i}: ${tri[i]}`));
});

test("symmetricEigenvalues with a vector v gives Vᵀv: each eigenvalue's projection of v, for distinct spectra up to 40 × 40", () => {
  const rng = new Rng(13);
  for (const n of [1, 2, 3, 7, 17, 40]) {
    // Distinct eigenvalues so that each projection is defined up to sign.
    const lambda = Array.from({ length: n }, (_, i) => (i - n / 3) * 1.7 + 0.1 * rng.normal());
    const Q = randomOrthonormal(rng, n, n);
    const A = new Float64Array(n * n);
    for (let j = 0; j < n; j++) for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) A[a * n + b] += lambda[j] * Q[j][a] * Q[j][b];
    const v = Float64Array.from({ length: n }, () => rng.normal());
    const want = Q.map((q) => q.reduce((s, qa, a) => s + qa * v[a], 0));
    const rotated = Float64Array.from(v);
    const values = symmetricEigenvalues(A, n, rotated);
    for (let i = 0; i < n; i++) {
      const j = lambda.reduce((b, l, k) => (Math.abs(l - values[i]) < Math.abs(lambda[b] - values[i]) ? k : b), 0);
      assert.ok(Math.abs(values[i] - lambda[j]) < 1e-11 * n, `n=${n}: eigenvalue ${values[i]} vs ${lambda[j]}`);
      assert.ok(Math.abs(Math.abs(rotated[i]) - Math.abs(want[j])) < 1e-10, `n=${n}: projection ${rotated[i]} vs ±${want[j]}`);
    }
  }
});

test('largest singular value of a rank-one matrix, and of one whose top two singular values are equal', () => {
  const rng = new Rng(12);
  for (const s of [
    [7, 0, 0, 0, 0, 0, 0, 0],
    [3, 3, 1, 0.5, 0.1, 0, 0, 0],
    [1e-6, 1e-6, 1e-7],
  ]) {
    const { M } = withSingularValues(rng, s, 100);
    const got = largestSingularValue(M, s.length, 100);
    assert.ok(Math.abs(got - s[0]) < 1e-12 * s[0], `${s}: ${got}`);
  }
  // An infinite entry (an overflowed gradient) measures nothing: NaN, as a NaN entry.
  assert.ok(Number.isNaN(largestSingularValue([Infinity, 1, 1, 1], 2, 2)));
});
