/**
 * The worst error of a Gram kernel's upper triangle A against the direct sums of XᵀX (X [n, d] row-major),
 * each relative to 1 + |sum| so that entries near zero are not judged by their relative digits alone.
 */
export function gramError(X: Float64Array, n: number, d: number, A: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < d; i++)
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += X[r * d + i] * X[r * d + j];
      worst = Math.max(worst, Math.abs(A[i * d + j] - s) / (1 + Math.abs(s)));
    }
  return worst;
}
