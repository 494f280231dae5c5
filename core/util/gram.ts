/**
 * XᵀX for the diagnostics' ridge probes (a report fits 400 of 1024 × 100 for a 4 × 100 model): in float64,
 * by the native addon where it is loaded (about 10× faster than JavaScript's dot products), else by the wasm
 * module, else here.
 */

/** Writes the upper triangle of XᵀX (X [n, d] row-major) into A [d, d]; entries below may be written too. */
type GramKernel = (n: number, d: number, X: Float64Array, A: Float64Array) => void;
let kernel: GramKernel | null = null;
/** Which engine installed it: the addon's replaces the module's, never the reverse. */
let source: 'native' | 'wasm' | null = null;

/** Installed by an engine with a compiled Gram (core/engine/fast.ts, wasm.ts); null removes it. */
export function setGramKernel(fn: GramKernel | null, from: 'native' | 'wasm' = 'native'): void {
  if (fn && from === 'wasm' && source === 'native') return;
  kernel = fn;
  source = fn ? from : null;
}

/** The upper triangle of XᵀX for X [n, d] row-major (entries below the diagonal may hold junk). */
export function gramUpper(X: Float64Array, n: number, d: number): Float64Array {
  return gramUpperInto(X, n, d, new Float64Array(d * d));
}

/** gramUpper into a given A [d, d] (callers that make thousands reuse one). */
export function gramUpperInto(X: Float64Array, n: number, d: number, A: Float64Array): Float64Array {
  if (kernel) kernel(n, d, X, A);
  else gramUpperJs(X, n, d, A);
  return A;
}

/** The JavaScript Gram: X is copied to column-major once, then its columns are the rows of rowGram. */
export function gramUpperJs(X: Float64Array, n: number, d: number, A: Float64Array): void {
  const C = new Float64Array(d * n);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) C[j * n + r] = X[r * d + j];
  rowGram(
    C,
    Array.from({ length: d }, (_, j) => j * n),
    n,
    A,
  );
}

/**
 * G [k, k] (both triangles) = the Gram matrix of the k rows data[starts[a] … starts[a] + n), read where they
 * lie. Each 2 × 2 block of G is four dot products over n held in registers: two loads per two multiply-adds
 * and no store in the inner loop (the loads, not the multiplies, bound this loop in JS). An odd k's last
 * block row repeats its row.
 */
export function rowGram(data: ArrayLike<number>, starts: ArrayLike<number>, n: number, G: Float64Array): void {
  const k = starts.length;
  for (let a = 0; a < k; a += 2) {
    const a1 = a + 1 < k ? a + 1 : a;
    const oa = starts[a] | 0,
      oa1 = starts[a1] | 0;
    for (let b = a; b < k; b += 2) {
      const b1 = b + 1 < k ? b + 1 : b;
      const ob = starts[b] | 0,
        ob1 = starts[b1] | 0;
      let s00 = 0,
        s01 = 0,
        s10 = 0,
        s11 = 0;
      for (let i = 0; i < n; i++) {
        const x0 = data[oa + i],
          x1 = data[oa1 + i],
          y0 = data[ob + i],
          y1 = data[ob1 + i];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      G[a * k + b] = G[b * k + a] = s00;
      G[a * k + b1] = G[b1 * k + a] = s01;
      G[a1 * k + b] = G[b * k + a1] = s10;
      G[a1 * k + b1] = G[b1 * k + a1] = s11;
    }
  }
}
