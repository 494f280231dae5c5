/**
 * Fourth-order central finite differences in float64, for checking analytic gradients:
 * f'(x) ≈ (−f(x+2e) + 8f(x+e) − 8f(x−e) + f(x−2e)) / 12e, truncation error O(e⁴), so with e = 1e-4 the
 * absolute error is ~1e-12 (round-off), small enough to hold 1e-5 relative error down to entries of 1e-6.
 */
import assert from 'node:assert/strict';

/**
 * Perturbs each entry of `param` (in place, restored afterwards) and compares the numeric derivative with
 * `analytic`. Uses relative error |a - n| / max(|a|, |n|, floor) and fails above `tol`.
 * `maxEntries` limits how many entries are checked (spread evenly) to keep tests fast.
 */
export function checkGradient(
  name: string,
  param: Float64Array,
  analytic: Float64Array,
  f: () => number,
  opts: { eps?: number; tol?: number; floor?: number; maxEntries?: number } = {},
): number {
  const eps = opts.eps ?? 1e-4;
  const tol = opts.tol ?? 1e-5;
  const floor = opts.floor ?? 1e-6;
  const n = param.length;
  const stride = Math.max(1, Math.floor(n / (opts.maxEntries ?? n)));
  assert.equal(analytic.length, n, `${name}: gradient length ${analytic.length} != parameter length ${n}`);
  let worst = 0;
  for (let i = 0; i < n; i += stride) {
    const orig = param[i];
    const at = (d: number) => {
      param[i] = orig + d;
      return f();
    };
    const num = (-at(2 * eps) + 8 * at(eps) - 8 * at(-eps) + at(-2 * eps)) / (12 * eps);
    param[i] = orig;
    const a = analytic[i];
    const rel = Math.abs(a - num) / Math.max(Math.abs(a), Math.abs(num), floor);
    worst = Math.max(worst, rel);
    assert.ok(rel < tol, `${name}[${i}]: analytic ${a} vs numeric ${num} (relative error ${rel.toExponential(2)})`);
  }
  return worst;
}
