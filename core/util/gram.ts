/**
 * XᵀX for the diagnostics' ridge probes (a report fits 400 of 1024 × 100 for a 4 × 100 model): in float64,
 * by the native addon where it is loaded (about 10× faster than JavaScript's dot products), else here.
 */

/** Writes the upper triangle of XᵀX (X [n, d] row-major) into A [d, d]; entries below may be written too. */
type GramKernel = (n: number, d: number, X: Float64Array, A: Float64Array) => void;
let kernel: GramKernel | null = null;

/** Installed by an engine with a compiled Gram (core/engine/fast.ts); null removes it. */
export function setGramKernel(fn: GramKernel | null): void {
  kernel = fn;
}

/** The upper triangle of XᵀX for X [n, d] row-major (entries below the diagonal may hold junk). */
export function gramUpper(X: Float64Array, n: number, d: number): Float64Array {
  const A = new Float64Array(d * d);
  if (kernel) kernel(n, d, X, A);
  else gramUpperJs(X, n, d, A);
  return A;
}

/**
 * The JavaScript Gram: X is copied to column-major once, then each 2 × 2 block of A is four dot products over
 * n held in registers: two loads per two multiply-adds and no store in the inner loop (the load/store, not the
 * multiply, bounds this loop in JS).
 */
export function gramUpperJs(X: Float64Array, n: number, d: number, A: Float64Array): void {
  const C = new Float64Array(d * n);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) C[j * n + r] = X[r * d + j];
  for (let i = 0; i < d; i += 2) {
    const i1 = i + 1 < d ? i + 1 : i; // odd d: the last block row repeats its row
    const ci = i * n,
      ci1 = i1 * n;
    for (let j = i; j < d; j += 2) {
      const j1 = j + 1 < d ? j + 1 : j;
      const cj = j * n,
        cj1 = j1 * n;
      let s00 = 0,
        s01 = 0,
        s10 = 0,
        s11 = 0;
      for (let r = 0; r < n; r++) {
        const a0 = C[ci + r],
          a1 = C[ci1 + r],
          b0 = C[cj + r],
          b1 = C[cj1 + r];
        s00 += a0 * b0;
        s01 += a0 * b1;
        s10 += a1 * b0;
        s11 += a1 * b1;
      }
      A[i * d + j] = s00;
      A[i * d + j1] = s01;
      A[i1 * d + j] = s10;
      A[i1 * d + j1] = s11;
    }
  }
}
