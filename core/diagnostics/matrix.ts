/**
 * Small dense linear algebra for the diagnostics (matrices are row-major Float64Arrays, n ≤ a few hundred):
 * SPD solves, eigenvalues of a general matrix (Hessenberg reduction + shifted QR, after Numerical Recipes'
 * elmhes/hqr), top eigenpairs of a symmetric matrix, random orthonormal probes.
 */
import type { Rng } from '../util/rng';
import { rowGram } from '../util/gram';

/** Solves A x = b for symmetric positive definite A [n×n] (Cholesky); A and b are not modified. */
export function choleskySolve(A: Float64Array, n: number, b: Float64Array): Float64Array {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      // Four partial sums: one chained sum waits out an add's latency per term (the retention section
      // solves 400 of 100 × 100 per report).
      const li = i * n,
        lj = j * n;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      let k = 0;
      for (; k + 3 < j; k += 4) {
        s0 += L[li + k] * L[lj + k];
        s1 += L[li + k + 1] * L[lj + k + 1];
        s2 += L[li + k + 2] * L[lj + k + 2];
        s3 += L[li + k + 3] * L[lj + k + 3];
      }
      for (; k < j; k++) s0 += L[li + k] * L[lj + k];
      const s = A[i * n + j] - (s0 + s1 + (s2 + s3));
      if (i === j) {
        if (!(s > 0)) throw new Error('choleskySolve: matrix is not positive definite');
        L[i * n + i] = Math.sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * y[k];
    y[i] = s / L[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  return x;
}

/** Eigenvalues (real and imaginary parts) of a general square matrix; A is not modified. */
export function eigenvalues(A: Float64Array, n: number): { re: Float64Array; im: Float64Array } {
  // 1-based working copy, as in the algorithm's usual statement.
  const N = n + 1;
  const a = new Float64Array(N * N);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[(i + 1) * N + j + 1] = A[i * n + j];
  hessenberg(a, n, N);
  const wr = new Float64Array(N);
  const wi = new Float64Array(N);
  hqr(a, n, N, wr, wi);
  return { re: wr.slice(1), im: wi.slice(1) };
}

/** Largest |eigenvalue|. */
export function spectralRadius(A: Float64Array, n: number): number {
  const { re, im } = eigenvalues(A, n);
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.hypot(re[i], im[i]));
  return m;
}

/** Reduction to upper Hessenberg form by stabilised elementary similarity transforms (in place, 1-based). */
function hessenberg(a: Float64Array, n: number, N: number): void {
  for (let m = 2; m < n; m++) {
    let x = 0;
    let i = m;
    for (let j = m; j <= n; j++) {
      if (Math.abs(a[j * N + m - 1]) > Math.abs(x)) {
        x = a[j * N + m - 1];
        i = j;
      }
    }
    if (i !== m) {
      for (let j = m - 1; j <= n; j++) swap(a, i * N + j, m * N + j);
      for (let j = 1; j <= n; j++) swap(a, j * N + i, j * N + m);
    }
    if (x !== 0) {
      for (i = m + 1; i <= n; i++) {
        let y = a[i * N + m - 1];
        if (y !== 0) {
          y /= x;
          a[i * N + m - 1] = y;
          for (let j = m; j <= n; j++) a[i * N + j] -= y * a[m * N + j];
          for (let j = 1; j <= n; j++) a[j * N + m] += y * a[j * N + i];
        }
      }
    }
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

const sign = (a: number, b: number) => (b >= 0 ? Math.abs(a) : -Math.abs(a));

/** Eigenvalues of an upper Hessenberg matrix by the Francis double-shift QR iteration (1-based, destroys a). */
function hqr(a: Float64Array, n: number, N: number, wr: Float64Array, wi: Float64Array): void {
  const A = (i: number, j: number) => a[i * N + j];
  let anorm = 0;
  for (let i = 1; i <= n; i++) for (let j = Math.max(i - 1, 1); j <= n; j++) anorm += Math.abs(A(i, j));
  let nn = n;
  let t = 0;
  let p = 0,
    q = 0,
    r = 0,
    s = 0,
    w = 0,
    x = 0,
    y = 0,
    z = 0;
  while (nn >= 1) {
    let its = 0;
    let l: number;
    do {
      for (l = nn; l >= 2; l--) {
        s = Math.abs(A(l - 1, l - 1)) + Math.abs(A(l, l));
        if (s === 0) s = anorm;
        if (Math.abs(A(l, l - 1)) + s === s) {
          a[l * N + l - 1] = 0;
          break;
        }
      }
      x = A(nn, nn);
      if (l === nn) {
        wr[nn] = x + t;
        wi[nn--] = 0;
      } else {
        y = A(nn - 1, nn - 1);
        w = A(nn, nn - 1) * A(nn - 1, nn);
        if (l === nn - 1) {
          p = 0.5 * (y - x);
          q = p * p + w;
          z = Math.sqrt(Math.abs(q));
          x += t;
          if (q >= 0) {
            z = p + sign(z, p);
            wr[nn - 1] = wr[nn] = x + z;
            if (z !== 0) wr[nn] = x - w / z;
            wi[nn - 1] = wi[nn] = 0;
          } else {
            wr[nn - 1] = wr[nn] = x + p;
            wi[nn - 1] = -(wi[nn] = z);
          }
          nn -= 2;
        } else {
          if (its === 60) throw new Error('eigenvalues: QR iteration did not converge');
          if (its === 10 || its === 20 || its === 40) {
            // Exceptional shift to break cycles.
            t += x;
            for (let i = 1; i <= nn; i++) a[i * N + i] -= x;
            s = Math.abs(A(nn, nn - 1)) + Math.abs(A(nn - 1, nn - 2));
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          ++its;
          let m: number;
          for (m = nn - 2; m >= l; m--) {
            z = A(m, m);
            r = x - z;
            s = y - z;
            p = (r * s - w) / A(m + 1, m) + A(m, m + 1);
            q = A(m + 1, m + 1) - z - r - s;
            r = A(m + 2, m + 1);
            s = Math.abs(p) + Math.abs(q) + Math.abs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m === l) break;
            const u = Math.abs(A(m, m - 1)) * (Math.abs(q) + Math.abs(r));
            const v = Math.abs(p) * (Math.abs(A(m - 1, m - 1)) + Math.abs(z) + Math.abs(A(m + 1, m + 1)));
            if (u + v === v) break;
          }
          for (let i = m + 2; i <= nn; i++) {
            a[i * N + i - 2] = 0;
            if (i !== m + 2) a[i * N + i - 3] = 0;
          }
          for (let k = m; k <= nn - 1; k++) {
            if (k !== m) {
              p = A(k, k - 1);
              q = A(k + 1, k - 1);
              r = 0;
              if (k !== nn - 1) r = A(k + 2, k - 1);
              x = Math.abs(p) + Math.abs(q) + Math.abs(r);
              if (x !== 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            s = sign(Math.sqrt(p * p + q * q + r * r), p);
            if (s !== 0) {
              if (k === m) {
                if (l !== m) a[k * N + k - 1] = -A(k, k - 1);
              } else {
                a[k * N + k - 1] = -s * x;
              }
              p += s;
              x = p / s;
              y = q / s;
              z = r / s;
              q /= p;
              r /= p;
              for (let j = k; j <= nn; j++) {
                p = A(k, j) + q * A(k + 1, j);
                if (k !== nn - 1) {
                  p += r * A(k + 2, j);
                  a[(k + 2) * N + j] -= p * z;
                }
                a[(k + 1) * N + j] -= p * y;
                a[k * N + j] -= p * x;
              }
              const mmin = nn < k + 3 ? nn : k + 3;
              for (let i = l; i <= mmin; i++) {
                p = x * A(i, k) + y * A(i, k + 1);
                if (k !== nn - 1) {
                  p += z * A(i, k + 2);
                  a[i * N + k + 2] -= p * r;
                }
                a[i * N + k + 1] -= p * q;
                a[i * N + k] -= p;
              }
            }
          }
        }
      }
    } while (l < nn - 1);
  }
}

/**
 * The k largest eigenpairs of a symmetric positive semi-definite matrix C [n×n] by power iteration with
 * deflation (k is 1 or 2 here). Vectors are unit length; deterministic start vectors.
 */
export function topEigenSym(C: Float64Array, n: number, k: number, iters = 300): { values: number[]; vectors: Float64Array[] } {
  const values: number[] = [];
  const vectors: Float64Array[] = [];
  const tmp = new Float64Array(n);
  for (let e = 0; e < Math.min(k, n); e++) {
    let v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = 1 + ((i * 7919 + e * 104729) % 97) / 97;
    let lambda = 0;
    for (let it = 0; it < iters; it++) {
      orthogonalise(v, vectors);
      const nv = norm(v);
      if (nv === 0) break;
      for (let i = 0; i < n; i++) v[i] /= nv;
      matVec(C, n, v, tmp);
      const next = dot(v, tmp);
      v = Float64Array.from(tmp);
      if (it > 5 && Math.abs(next - lambda) <= 1e-12 * Math.max(1, Math.abs(next))) {
        lambda = next;
        break;
      }
      lambda = next;
    }
    orthogonalise(v, vectors);
    const nv = norm(v);
    if (nv > 0) for (let i = 0; i < n; i++) v[i] /= nv;
    else v = new Float64Array(n);
    values.push(Math.max(0, lambda));
    vectors.push(v);
  }
  return { values, vectors };
}

/** k orthonormal vectors of length n (k ≤ n) from Gaussian draws. */
export function randomOrthonormal(rng: Rng, k: number, n: number): Float64Array[] {
  const out: Float64Array[] = [];
  while (out.length < k) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    orthogonalise(v, out);
    const nv = norm(v);
    if (nv < 1e-8) continue;
    for (let i = 0; i < n; i++) v[i] /= nv;
    out.push(v);
  }
  return out;
}

/** Gram matrices up to this size get all their eigenvalues (O(k³)); larger ones power iteration. */
const EXACT_GRAM_MAX = 16;
/** Scratch of largestSingularValue (called once per time step and sequence: no allocation per call). */
const gramScratch = new Float64Array(EXACT_GRAM_MAX * EXACT_GRAM_MAX);

/**
 * Largest singular value of M [k×n], the square root of the top eigenvalue of the k×k Gram matrix M Mᵀ.
 * Exact (all eigenvalues, symmetricEigenvalues) for k ≤ 16, which includes the default 8 probes: power iteration warm-started from
 * the previous matrix's top vector stopped at a smaller singular value when that vector was (nearly)
 * orthogonal to the new top one, since its Rayleigh quotient then barely moves. Larger k: power iteration
 * from `warm` mixed with a fixed vector (so that no eigenvector is missed), stopped on the residual
 * ‖Gv − λv‖, not on the change of λ; `warm` receives the top vector.
 */
export function largestSingularValue(M: ArrayLike<number>, k: number, n: number, warm?: Float64Array): number {
  return largestSingularValueOfRows(
    M,
    Array.from({ length: k }, (_, a) => a * n),
    n,
    warm,
  );
}

/**
 * largestSingularValue of the k × n matrix whose row a is data[starts[a] … starts[a] + n) (rows read where
 * they lie, e.g. in a backward pass's output, without a copy).
 */
export function largestSingularValueOfRows(data: ArrayLike<number>, starts: ArrayLike<number>, n: number, warm?: Float64Array): number {
  const k = starts.length;
  const G = k <= EXACT_GRAM_MAX ? gramScratch : new Float64Array(k * k);
  rowGram(data, starts, n, G);
  let scale = 0;
  for (let a = 0; a < k; a++) scale = Math.max(scale, G[a * k + a]);
  // Non-finite entries (a NaN model, an overflowed float32 gradient) have no singular value: NaN, never a
  // reassuring 0 nor an ∞ that an overflow does not measure.
  if (!Number.isFinite(scale)) return NaN;
  if (!(scale > 0)) return 0;
  if (k <= EXACT_GRAM_MAX) {
    // Scaled to a unit diagonal maximum: the QL iteration's tests are relative, but its squares are not.
    for (let i = 0; i < k * k; i++) G[i] /= scale;
    const ev = symmetricEigenvalues(G, k);
    let top = 0;
    for (let i = 0; i < k; i++) top = Math.max(top, ev[i]);
    return Math.sqrt(top * scale);
  }
  const v = Float64Array.from({ length: k }, (_, i) => (1 + i / k) / Math.sqrt(k));
  const nw = warm ? norm(warm) : 0;
  if (warm && nw > 0) for (let i = 0; i < k; i++) v[i] = 0.5 * v[i] + warm[i] / nw;
  const w = new Float64Array(k);
  let lambda = 0;
  for (let it = 0; it < 5000; it++) {
    const nv = norm(v);
    for (let i = 0; i < k; i++) v[i] /= nv;
    matVec(G, k, v, w);
    lambda = dot(v, w);
    let r2 = 0;
    for (let i = 0; i < k; i++) r2 += (w[i] - lambda * v[i]) ** 2;
    v.set(w);
    if (Math.sqrt(r2) <= 1e-9 * lambda) break;
  }
  if (warm) {
    const nv = norm(v);
    for (let i = 0; i < k; i++) warm[i] = v[i] / nv;
  }
  return Math.sqrt(Math.max(0, lambda));
}

/**
 * Eigenvalues of a symmetric matrix A [n×n] (lower triangle read; A is overwritten): Householder reduction to
 * tridiagonal form, then the implicit QL iteration with Wilkinson shifts (the eigenvalue-only forms of
 * tred2 / tqli). About n³ operations in all, against several n³ sweeps for cyclic Jacobi, and the same
 * backward-stable accuracy. With v [n], v is overwritten with Vᵀv for the eigenvectors V in the order of the
 * returned values (each reflection and rotation applied to v as it is made: O(n²) more, no V formed).
 */
export function symmetricEigenvalues(A: Float64Array, n: number, v?: Float64Array): Float64Array {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    const ri = i * n;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(A[ri + k]);
      if (scale === 0) e[i] = A[ri + l];
      else {
        for (let k = 0; k <= l; k++) {
          A[ri + k] /= scale;
          h += A[ri + k] * A[ri + k];
        }
        let f = A[ri + l];
        let g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        e[i] = scale * g;
        h -= f * g;
        A[ri + l] = f - g;
        // p = A u / h into e[0 … l], then K = uᵀp / 2h and A ← A − u qᵀ − q uᵀ with q = p − K u. A u from the
        // lower triangle row by row: each row j adds to p[j] and, for the upper triangle, to p[0 … j − 1]
        // (a column walk instead cost a cache miss per element at n = 100).
        for (let j = 0; j <= l; j++) e[j] = 0;
        for (let j = 0; j <= l; j++) {
          const rj = j * n;
          const uj = A[ri + j];
          g = A[rj + j] * uj;
          for (let k = 0; k < j; k++) {
            const a = A[rj + k];
            g += a * A[ri + k];
            e[k] += a * uj;
          }
          e[j] += g;
        }
        f = 0;
        for (let j = 0; j <= l; j++) {
          e[j] /= h;
          f += e[j] * A[ri + j];
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          f = A[ri + j];
          e[j] = g = e[j] - hh * f;
          for (let k = 0; k <= j; k++) A[j * n + k] -= f * e[k] + g * A[ri + k];
        }
        // The reflection is I − u uᵀ / h with u = A[i, 0 … l].
        if (v) {
          let uv = 0;
          for (let k = 0; k <= l; k++) uv += A[ri + k] * v[k];
          uv /= h;
          for (let k = 0; k <= l; k++) v[k] -= uv * A[ri + k];
        }
      }
    } else e[i] = A[ri + l];
  }
  for (let i = 0; i < n; i++) d[i] = A[i * n + i];
  // e[i] couples d[i] and d[i + 1].
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  if (n > 0) e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      // Finite input converges in a few iterations per eigenvalue; anything else is a bug, not a value.
      if (iter === 60) throw new Error(`symmetricEigenvalues: no convergence for eigenvalue ${l} of ${n}`);
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.sqrt(g * g + 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1,
        c = 1,
        p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.sqrt(f * f + g * g);
        e[i + 1] = r;
        if (r === 0) {
          // Underflow: the matrix splits here; deflate and start over.
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        if (v) {
          const vi = v[i + 1];
          v[i + 1] = s * v[i] + c * vi;
          v[i] = c * v[i] - s * vi;
        }
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
  return d;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

function matVec(C: Float64Array, n: number, v: Float64Array, out: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += C[i * n + j] * v[j];
    out[i] = s;
  }
}

function orthogonalise(v: Float64Array, basis: Float64Array[]): void {
  for (let pass = 0; pass < 2; pass++) {
    for (const u of basis) {
      const d = dot(v, u);
      for (let i = 0; i < v.length; i++) v[i] -= d * u[i];
    }
  }
}
