/** Two-component PCA of state vectors (for plotting trajectories and fixed points in a plane). */
import { topEigenSym } from './matrix';

export interface Pca2 {
  mean: Float64Array;
  axes: [Float64Array, Float64Array];
  /** Fraction of the total variance along each axis. */
  explained: [number, number];
  project(v: ArrayLike<number>, offset?: number): [number, number];
}

/** Fits on the rows [n, d] (at most maxRows of them, evenly strided). */
export function pca2(rows: Float64Array, n: number, d: number, maxRows = 512): Pca2 {
  const stride = Math.max(1, Math.ceil(n / maxRows));
  const idx: number[] = [];
  for (let r = 0; r < n; r += stride) idx.push(r);
  const m = idx.length;
  const mean = new Float64Array(d);
  for (const r of idx) for (let j = 0; j < d; j++) mean[j] += rows[r * d + j];
  if (m > 0) for (let j = 0; j < d; j++) mean[j] /= m;
  const C = new Float64Array(d * d);
  const c = new Float64Array(d);
  for (const r of idx) {
    for (let j = 0; j < d; j++) c[j] = rows[r * d + j] - mean[j];
    for (let i = 0; i < d; i++) {
      const ci = c[i];
      if (ci === 0) continue;
      for (let j = i; j < d; j++) C[i * d + j] += ci * c[j];
    }
  }
  let trace = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < i; j++) C[i * d + j] = C[j * d + i];
    trace += C[i * d + i];
  }
  const { values, vectors } = topEigenSym(C, d, 2);
  const a0 = vectors[0] ?? new Float64Array(d);
  const a1 = vectors[1] ?? new Float64Array(d);
  const explained: [number, number] = trace > 0 ? [(values[0] ?? 0) / trace, (values[1] ?? 0) / trace] : [0, 0];
  const project = (v: ArrayLike<number>, offset = 0): [number, number] => {
    let x = 0,
      y = 0;
    for (let j = 0; j < d; j++) {
      const u = v[offset + j] - mean[j];
      x += u * a0[j];
      y += u * a1[j];
    }
    return [x, y];
  };
  return { mean, axes: [a0, a1], explained, project };
}
