/** Weight initialisers matching Keras (glorot_uniform, orthogonal, zeros, ones). */
import type { InitKind, LayerParams, ParamSpec } from '../cells/types';
import { Rng } from './rng';

export type { InitKind };

/** Keras GlorotUniform for a 2-D kernel [fanIn, fanOut]. */
export function glorotUniform(rng: Rng, rows: number, cols: number): Float64Array {
  const limit = Math.sqrt(6 / (rows + cols));
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * limit;
  return out;
}

/**
 * Keras Orthogonal for [rows, cols]: QR of a normal matrix of shape (max, min), Q scaled by sign(diag R),
 * transposed when rows < cols. Rows (or columns, whichever are fewer) come out orthonormal.
 */
export function orthogonal(rng: Rng, rows: number, cols: number): Float64Array {
  const m = Math.max(rows, cols);
  const n = Math.min(rows, cols);
  // a: m x n, column-major columns for Gram-Schmidt.
  const cols_: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const c = new Float64Array(m);
    for (let i = 0; i < m; i++) c[i] = rng.normal();
    cols_.push(c);
  }
  // Modified Gram–Schmidt twice for numerical orthogonality; R's diagonal is positive, which matches
  // Keras's sign correction (q * sign(diag(r))).
  for (let j = 0; j < n; j++) {
    const v = cols_[j];
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        const q = cols_[k];
        let d = 0;
        for (let i = 0; i < m; i++) d += q[i] * v[i];
        for (let i = 0; i < m; i++) v[i] -= d * q[i];
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) v[i] /= norm;
  }
  const out = new Float64Array(rows * cols);
  if (rows >= cols) {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = cols_[j][i];
  } else {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = cols_[i][j];
  }
  return out;
}

export function filled(n: number, v: number): Float64Array {
  return new Float64Array(n).fill(v);
}

/** Initialise a parameter of the given shape. `lstm_bias` is Keras's unit_forget_bias: ones on the f block. */
export function initParam(rng: Rng, kind: InitKind, shape: readonly number[]): Float64Array {
  const size = shape.reduce((a, b) => a * b, 1);
  switch (kind) {
    case 'zeros':
      return new Float64Array(size);
    case 'ones':
      return filled(size, 1);
    case 'glorot_uniform':
      return glorotUniform(rng, shape[0], size / shape[0]);
    case 'orthogonal':
      return orthogonal(rng, shape[0], size / shape[0]);
    case 'lstm_bias': {
      const h = size / 4;
      const b = new Float64Array(size);
      b.fill(1, h, 2 * h);
      return b;
    }
  }
}

/** A layer's parameters initialised from its specs, drawn in spec order. */
export function initLayerParams(specs: readonly ParamSpec[], rng: Rng): LayerParams {
  const p: LayerParams = {};
  for (const s of specs) p[s.name] = initParam(rng, s.init, s.shape);
  return p;
}
