// Fused float32 kernels for BRC, nBRC, GRU and LSTM layers: a register-blocked SIMD GEMM, per-step
// elementwise kernels and hand-derived BPTT. Compiled once per instruction set (RNN_ISA_AVX512,
// RNN_ISA_AVX2, or neither = baseline x86-64 / portable) with GCC vector extensions; addon.cpp picks
// one at run time. The same file is the WebAssembly engine: clang --target=wasm32 -msimd128 compiles it
// freestanding (RNN_ISA_WASM, 128-bit vectors) and wasm-driver.cpp exports it. Everything lives in an
// anonymous namespace so that no symbol but the entry point leaves this object (see kernels.h).
#include <stdint.h>

#if defined(__wasm__)
// Freestanding: no libc. With -mbulk-memory these become memory.copy / memory.fill.
#define memcpy __builtin_memcpy
#define memset __builtin_memset
#else
#include <string.h>
#endif

#include "kernels.h"

#if defined(RNN_ISA_WASM)
#include <wasm_simd128.h>
#define VW 4
#define MR 6
#define NV 2
#define ISA_NAME "wasm-simd128"
#define ENTRY rnn_kernels_wasm
#elif defined(RNN_ISA_AVX512)
#include <immintrin.h>
#define VW 16
#define MR 8
#define NV 3
#define ISA_NAME "avx512"
#define ENTRY rnn_kernels_avx512
#elif defined(RNN_ISA_AVX2)
#include <immintrin.h>
#define VW 8
#define MR 6
#define NV 2
#define ISA_NAME "avx2"
#define ENTRY rnn_kernels_avx2
#else
#define VW 4
#define MR 6
#define NV 2
#define ISA_NAME "baseline"
#define ENTRY rnn_kernels_base
#endif

#define NR (NV * VW)

namespace {

typedef float vf __attribute__((vector_size(VW * 4)));
typedef float vfu __attribute__((vector_size(VW * 4), aligned(4), __may_alias__));

inline long lmin(long a, long b) { return a < b ? a : b; }
inline long roundUp(long n, long m) { return (n + m - 1) / m * m; }

#if VW == 16
inline vf splat(float s) { return vf{s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s}; }
#elif VW == 8
inline vf splat(float s) { return vf{s, s, s, s, s, s, s, s}; }
#else
inline vf splat(float s) { return vf{s, s, s, s}; }
#endif
inline vf ld(const float *p) { return *(const vfu *)p; }
inline void st(float *p, vf v) { *(vfu *)p = v; }

#if defined(RNN_ISA_AVX512)
inline __mmask16 tailMask(int n) { return (__mmask16)((1u << n) - 1u); }
inline vf ldn(const float *p, int n) { return (vf)_mm512_maskz_loadu_ps(tailMask(n), p); }
inline void stn(float *p, vf v, int n) { _mm512_mask_storeu_ps(p, tailMask(n), (__m512)v); }
#elif defined(RNN_ISA_AVX2)
const int32_t kMaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
inline __m256i tailMask(int n) { return _mm256_loadu_si256((const __m256i *)(kMaskTable + 8 - n)); }
inline vf ldn(const float *p, int n) { return (vf)_mm256_maskload_ps(p, tailMask(n)); }
inline void stn(float *p, vf v, int n) { _mm256_maskstore_ps(p, tailMask(n), (__m256)v); }
#else
inline vf ldn(const float *p, int n) {
  vf v = vf{};
  for (int i = 0; i < n; i++) v[i] = p[i];
  return v;
}
inline void stn(float *p, vf v, int n) {
  for (int i = 0; i < n; i++) p[i] = v[i];
}
#endif

// Full vector when n == VW, masked tail otherwise (the branch is uniform per row).
inline vf LD(const float *p, int n) { return n == VW ? ld(p) : ldn(p, n); }
inline void ST(float *p, vf v, int n) {
  if (n == VW) st(p, v);
  else stn(p, v, n);
}

#if defined(RNN_ISA_AVX512)
inline vf vmin(vf a, vf b) { return (vf)_mm512_min_ps((__m512)a, (__m512)b); }
inline vf vmax(vf a, vf b) { return (vf)_mm512_max_ps((__m512)a, (__m512)b); }
#elif defined(RNN_ISA_AVX2)
inline vf vmin(vf a, vf b) { return (vf)_mm256_min_ps((__m256)a, (__m256)b); }
inline vf vmax(vf a, vf b) { return (vf)_mm256_max_ps((__m256)a, (__m256)b); }
#elif defined(RNN_ISA_WASM)
// pmin(a, b) = b < a ? b : a, so vmin(a, b) = a < b ? a : b is pmin(b, a): the same NaN rule as x86.
inline vf vmin(vf a, vf b) { return (vf)wasm_f32x4_pmin((v128_t)b, (v128_t)a); }
inline vf vmax(vf a, vf b) { return (vf)wasm_f32x4_pmax((v128_t)b, (v128_t)a); }
#else
inline vf vmin(vf a, vf b) { return a < b ? a : b; }
inline vf vmax(vf a, vf b) { return a > b ? a : b; }
#endif

// 1/q: hardware estimate plus one Newton step (float accurate, much cheaper than a division).
#if defined(RNN_ISA_AVX512)
inline vf vrcp(vf q) {
  const vf y = (vf)_mm512_maskz_rcp14_ps((__mmask16)0xFFFF, (__m512)q);
  return y * (2.0f - q * y);
}
#elif defined(RNN_ISA_AVX2)
inline vf vrcp(vf q) {
  const vf y = (vf)_mm256_rcp_ps((__m256)q);
  return y * (2.0f - q * y);
}
#else
inline vf vrcp(vf q) { return 1.0f / q; }
#endif

// clamp(x, lo, hi) that keeps NaN: min/max return their second operand when either one is NaN
// (x86 minps/maxps, and the baseline's a < b ? a : b), so x must go second. Costs nothing extra.
inline vf vclamp(vf x, float lo, float hi) { return vmin(splat(hi), vmax(splat(lo), x)); }

// Rational minimax tanh (the odd/even polynomial pair used by Eigen), a few float ulp from tanh;
// |x| beyond the clamp rounds to ±1 in float anyway. NaN stays NaN, ±Inf gives ±1.
inline vf vtanh(vf x) {
  const float lim = 7.99881172180175781f;
  const vf xc = vclamp(x, -lim, lim);
  const vf x2 = xc * xc;
  vf p = splat(-2.76076847742355e-16f);
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 + -8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  p = p * xc;
  vf q = splat(1.19825839466702e-06f);
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  // At the clamp the rational is a few ulp short of 1 (how many depends on the ISA's division). Beyond
  // it tanh must be exactly ±1, as in the float64 reference: a saturated gate then has zero slope
  // (1 - y² = 0), which decides NaN versus ±Inf when an infinite pre-activation meets an Inf weight.
  // x - xc is 0 inside the clamp, at least an ulp of 8 with x's sign outside it (±Inf for ±Inf, NaN for
  // NaN): added, it pushes r past ±1 exactly there, and the final clamp gives ±1. One add (an FMA).
  return vclamp(p * vrcp(q) + (x - xc), -1.0f, 1.0f);
}
inline vf vsigm(vf x) { return 0.5f + 0.5f * vtanh(0.5f * x); }

// ---------------------------------------------------------------------------------------------
// GEMM. The micro-kernel keeps an M × V-vector tile of C in registers and broadcasts A straight from
// memory with any row/column strides (so neither row-major nor transposed A needs packing). B rows
// are V contiguous vectors, k rows apart by sbk: either a packed panel (weights, packed once per
// call) or a row-major matrix whose row stride is padded to whole vectors (the chunk buffers).

typedef void (*UkrFn)(int K, const float *a, long sam, long sak, const float *b, long sbk, float *c, long ldc, int nc,
                      int mode, const float *bias);

// mode 0: C = acc (+ bias row); mode 1: C += acc.
template <int M, int V>
void ukr(int K, const float *__restrict a, long sam, long sak, const float *__restrict b, long sbk, float *__restrict c,
         long ldc, int nc, int mode, const float *__restrict bias) {
  vf acc[M][V];
  const float *ar[M];
#pragma GCC unroll 16
  for (int i = 0; i < M; i++) {
    ar[i] = a + i * sam;
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) acc[i][v] = vf{};
  }
  long ko = 0;
  for (int k = 0; k < K; k++) {
    vf bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) bv[v] = ld(b + v * VW);
#pragma GCC unroll 16
    for (int i = 0; i < M; i++) {
      const vf av = splat(ar[i][ko]);
#pragma GCC unroll 4
      for (int v = 0; v < V; v++) acc[i][v] += av * bv[v];
    }
    ko += sak;
    b += sbk;
  }
#pragma GCC unroll 16
  for (int i = 0; i < M; i++) {
    float *cr = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < V; v++) {
      const int n = nc - v * VW;
      if (n <= 0) break;
      const int w = n < VW ? n : VW;
      vf r = acc[i][v];
      if (mode) r += LD(cr + v * VW, w);
      else if (bias) r += LD(bias + v * VW, w);
      ST(cr + v * VW, r, w);
    }
  }
}

UkrFn gUkr[MR][NV];

template <int M, int V>
void fillUkr() {
  gUkr[M - 1][V - 1] = ukr<M, V>;
  if constexpr (V > 1) fillUkr<M, V - 1>();
  else if constexpr (M > 1) fillUkr<M - 1, NV>();
}

// Packed size of a K × N matrix (panels of NR columns, the last narrowed to whole vectors).
inline size_t packedSize(long K, long N) { return (size_t)(K * roundUp(N, VW)); }

// Packs B(k, n) = B[k*sbk + n*sbn] into panels, zero padded.
void packB(int K, int N, const float *B, long sbk, long sbn, float *out) {
  for (int n0 = 0; n0 < N; n0 += NR) {
    const int nc = (int)lmin(NR, N - n0);
    const int w = (int)roundUp(nc, VW);
    for (int k = 0; k < K; k++) {
      const float *src = B + k * sbk + n0 * sbn;
      float *dst = out + (long)k * w;
      if (sbn == 1) memcpy(dst, src, sizeof(float) * nc);
      else
        for (int c = 0; c < nc; c++) dst[c] = src[c * sbn];
      for (int c = nc; c < w; c++) dst[c] = 0.0f;
    }
    out += (long)K * w;
  }
}

// C[M,N] = (mode ? C : bias) + A B. A(m,k) = A[m*sam + k*sak]. B is packed (packB, whole K) when
// `packed`, else row-major with row stride ldb (readable up to a whole vector past column N).
// Rows are split into near-equal blocks of at most MR so that no block is left nearly empty.
void gemmK(long M, int N, int K, const float *A, long sam, long sak, const float *B, bool packed, long ldb, float *C,
           long ldc, int mode, const float *bias) {
  if (M <= 0 || N <= 0) return;
  const long nblk = (M + MR - 1) / MR;
  long m0 = 0;
  for (long blk = 0; blk < nblk; blk++) {
    const int mr = (int)(M / nblk + (blk < M % nblk ? 1 : 0));
    const float *bp = B;
    for (int n0 = 0; n0 < N; n0 += NR) {
      const int nc = (int)lmin(NR, N - n0);
      const int nv = (nc + VW - 1) / VW;
      gUkr[mr - 1][nv - 1](K, A + m0 * sam, sam, sak, bp, packed ? nv * VW : ldb, C + m0 * ldc + n0, ldc, nc, mode,
                           bias ? bias + n0 : nullptr);
      bp += packed ? (long)K * nv * VW : NR;
    }
    m0 += mr;
  }
}

// C[m,n] (+)= dot(A row m, Bt row n): products with a tiny N (dx of a 1-4 wide input), K contiguous.
void gemmDot(long M, int N, int K, const float *A, long lda, const float *Bt, long ldbt, float *C, long ldc, int mode) {
  for (long m = 0; m < M; m++) {
    const float *ar = A + m * lda;
    for (int n = 0; n < N; n++) {
      const float *br = Bt + n * ldbt;
      vf s = vf{};
      for (int k = 0; k < K; k += VW) {
        const int w = (int)lmin(VW, K - k);
        s += LD(ar + k, w) * LD(br + k, w);
      }
      float t = 0.0f;
      for (int l = 0; l < VW; l++) t += s[l];
      C[m * ldc + n] = mode ? C[m * ldc + n] + t : t;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Column sums: acc[j] += sum over R rows of A[r*lda + j] (times Bm[r*ldb + j] when Bm), j < n,
// summed in float within the call and added to double accumulators.
void colSumAdd(long R, long n, const float *A, long lda, const float *Bm, long ldb, float *facc, double *acc) {
  for (long j = 0; j < roundUp(n, VW); j++) facc[j] = 0.0f;
  for (long r = 0; r < R; r++) {
    const float *ar = A + r * lda;
    const float *br = Bm ? Bm + r * ldb : nullptr;
    for (long j = 0; j < n; j += VW) {
      const int w = (int)lmin(VW, n - j);
      vf v = LD(ar + j, w);
      if (br) v *= LD(br + j, w);
      st(facc + j, ld(facc + j) + v);
    }
  }
  for (long j = 0; j < n; j++) acc[j] += facc[j];
}

struct Range {
  long b, e;
};
// Split n items over nt threads in chunks of `align` items.
inline Range split(long n, int tid, int nt, long align) {
  const long chunks = (n + align - 1) / align;
  const long per = chunks / nt, rem = chunks % nt;
  const long cb = tid * per + (tid < rem ? tid : rem);
  const long ce = cb + per + (tid < rem ? 1 : 0);
  return {lmin(cb * align, n), lmin(ce * align, n)};
}

// ---------------------------------------------------------------------------------------------
// Per-row elementwise steps. P is the row of pre-activations (input projection, plus the recurrent
// product for nBRC/LSTM gates); hp the previous state (HasPrev false at t = 0, where h_0 = 0).

template <bool HasPrev, bool Diag>
void brcFwdRow(int H, const float *P, const float *hp, const float *wc, const float *wa, float *c, float *a, float *u,
               float *h) {
  for (int j = 0; j < H; j += VW) {
    const int n = H - j < VW ? H - j : VW;
    vf pc = LD(P + j, n), pa = LD(P + H + j, n), pu = LD(P + 2 * H + j, n);
    vf hv = vf{};
    if (HasPrev) {
      hv = LD(hp + j, n);
      if (Diag) {
        pc += LD(wc + j, n) * hv;
        pa += LD(wa + j, n) * hv;
      }
    }
    const vf av = 1.0f + vtanh(pa);
    const vf cv = vsigm(pc);
    const vf uv = vtanh(pu + av * hv);
    ST(a + j, av, n);
    ST(c + j, cv, n);
    ST(u + j, uv, n);
    ST(h + j, uv + cv * (hv - uv), n);
  }
}

template <bool HasPrev>
void gruFwdRow(int H, const float *P, const float *R, const float *hp, float *z, float *r, float *hh, float *rh,
               float *h) {
  for (int j = 0; j < H; j += VW) {
    const int n = H - j < VW ? H - j : VW;
    const vf zv = vsigm(LD(P + j, n) + LD(R + j, n));
    const vf rv = vsigm(LD(P + H + j, n) + LD(R + H + j, n));
    const vf rhv = LD(R + 2 * H + j, n);
    const vf hhv = vtanh(LD(P + 2 * H + j, n) + rv * rhv);
    const vf hv = HasPrev ? LD(hp + j, n) : vf{};
    ST(z + j, zv, n);
    ST(r + j, rv, n);
    ST(hh + j, hhv, n);
    ST(rh + j, rhv, n);
    ST(h + j, hhv + zv * (hv - hhv), n);
  }
}

template <bool HasPrev>
void lstmFwdRow(int H, const float *P, const float *cp, float *i_, float *f_, float *g_, float *o_, float *c_,
                float *h) {
  for (int j = 0; j < H; j += VW) {
    const int n = H - j < VW ? H - j : VW;
    const vf iv = vsigm(LD(P + j, n));
    const vf fv = vsigm(LD(P + H + j, n));
    const vf gv = vtanh(LD(P + 2 * H + j, n));
    const vf ov = vsigm(LD(P + 3 * H + j, n));
    const vf cv = HasPrev ? fv * LD(cp + j, n) + iv * gv : iv * gv;
    ST(i_ + j, iv, n);
    ST(f_ + j, fv, n);
    ST(g_ + j, gv, n);
    ST(o_ + j, ov, n);
    ST(c_ + j, cv, n);
    ST(h + j, ov * vtanh(cv), n);
  }
}

// carry holds dL/dh_t through step t+1 on entry and the direct (non-matrix) part of dL/dh_{t-1} on exit.
template <bool HasPrev, bool Diag>
void brcBwdRow(int H, const float *dhOut, float *carry, const float *hp, const float *c, const float *a, const float *u,
               const float *wc, const float *wa, float *dP, float *dh) {
  for (int j = 0; j < H; j += VW) {
    const int n = H - j < VW ? H - j : VW;
    const vf g = LD(dhOut + j, n) + LD(carry + j, n);
    ST(dh + j, g, n);
    const vf hv = HasPrev ? LD(hp + j, n) : vf{};
    const vf cv = LD(c + j, n), av = LD(a + j, n), uv = LD(u + j, n);
    const vf dpu = g * (1.0f - cv) * (1.0f - uv * uv);
    const vf ta = av - 1.0f;
    const vf dpa = dpu * hv * (1.0f - ta * ta);
    const vf dpc = g * (hv - uv) * cv * (1.0f - cv);
    vf cr = g * cv + dpu * av;
    if (Diag) cr += dpa * LD(wa + j, n) + dpc * LD(wc + j, n);
    ST(carry + j, cr, n);
    ST(dP + j, dpc, n);
    ST(dP + H + j, dpa, n);
    ST(dP + 2 * H + j, dpu, n);
  }
}

template <bool HasPrev>
void gruBwdRow(int H, const float *dhOut, float *carry, const float *hp, const float *z, const float *r,
               const float *hh, const float *rh, float *dP, float *dR, float *dh) {
  for (int j = 0; j < H; j += VW) {
    const int n = H - j < VW ? H - j : VW;
    const vf g = LD(dhOut + j, n) + LD(carry + j, n);
    ST(dh + j, g, n);
    const vf hv = HasPrev ? LD(hp + j, n) : vf{};
    const vf zv = LD(z + j, n), rv = LD(r + j, n), hhv = LD(hh + j, n), rhv = LD(rh + j, n);
    const vf dph = g * (1.0f - zv) * (1.0f - hhv * hhv);
    const vf dpz = g * (hv - hhv) * zv * (1.0f - zv);
    const vf dpr = dph * rhv * rv * (1.0f - rv);
    const vf drh = dph * rv;
    ST(carry + j, g * zv, n);
    ST(dP + j, dpz, n);
    ST(dP + H + j, dpr, n);
    ST(dP + 2 * H + j, dph, n);
    ST(dR + j, dpz, n);
    ST(dR + H + j, dpr, n);
    ST(dR + 2 * H + j, drh, n);
  }
}

// gc holds dL/dc_t through step t+1 on entry and dL/dc_{t-1} on exit.
template <bool HasPrev>
void lstmBwdRow(int H, const float *dhOut, const float *carry, float *gc, const float *cp, const float *i_,
                const float *f_, const float *g_, const float *o_, const float *c_, float *dP, float *dh) {
  for (int j = 0; j < H; j += VW) {
    const int n = H - j < VW ? H - j : VW;
    const vf g = LD(dhOut + j, n) + LD(carry + j, n);
    ST(dh + j, g, n);
    const vf iv = LD(i_ + j, n), fv = LD(f_ + j, n), gv = LD(g_ + j, n), ov = LD(o_ + j, n);
    const vf tc = vtanh(LD(c_ + j, n));
    const vf cpv = HasPrev ? LD(cp + j, n) : vf{};
    const vf dct = LD(gc + j, n) + g * ov * (1.0f - tc * tc);
    ST(dP + j, dct * gv * iv * (1.0f - iv), n);
    ST(dP + H + j, dct * cpv * fv * (1.0f - fv), n);
    ST(dP + 2 * H + j, dct * iv * (1.0f - gv * gv), n);
    ST(dP + 3 * H + j, g * tc * ov * (1.0f - ov), n);
    ST(gc + j, dct * fv, n);
  }
}

// ---------------------------------------------------------------------------------------------
// Per-thread scratch layout.

// Carves aligned regions out of one buffer; with a null base it only measures.
struct Carve {
  float *base;
  size_t off;
  float *take(size_t n) {
    float *r = base ? base + off : nullptr;
    off += (size_t)roundUp((long)n, 16);
    return r;
  }
};

inline long lmax(long a, long b) { return a > b ? a : b; }

// Row stride of a scratch matrix: whole vectors, and not a multiple of 4 KiB (cache-set aliasing).
inline long padStride(long n) {
  long s = roundUp(n, VW);
  if ((s * 4) % 4096 == 0) s += VW;
  return s;
}

// dx products for inputs at most this wide use dot products instead of the vector micro-kernel.
const int kSmallN = VW / 4 > 1 ? VW / 4 : 1;

struct Dims {
  long H, I, GI, GR, GIp, GRp, nb, steps, rows;
};

Dims dims(const RnnLayer *L, int nt) {
  Dims d;
  d.H = L->H;
  d.I = L->I;
  d.GI = L->GI;
  d.GR = L->GR;
  d.GIp = padStride(d.GI);
  d.GRp = padStride(lmax(d.GR, 1));
  d.nb = (L->B + nt - 1) / nt;
  // Backward keeps dL/dpre of a chunk of steps in cache: ~384 rows, at most 256 Ki floats.
  long steps = (384 + d.nb - 1) / d.nb;
  steps = lmin(steps, lmax(1, (256L << 10) / (d.nb * d.GIp)));
  d.steps = lmax(1, lmin(steps, L->T));
  d.rows = d.steps * d.nb;
  return d;
}

struct ThreadScratch {
  float *up, *wp;    // forward: packed U [I, GI] and W [H, GR]
  float *utp, *wtp;  // backward: packed U^T [GI, I] and W^T [GR, H]
  float *pt, *rt;    // forward: pre-activations of the step [nb, GIp], GRU's recurrent part [nb, GRp]
  float *carry, *gc; // backward: dL/dh and (LSTM) dL/dc carried to the previous step [nb, H]
  float *dPc, *dRc;  // backward: dL/dpre of a chunk [rows, GIp]; GRU's recurrent-side [rows, GRp]
  float *xc, *hc;    // backward: the chunk's inputs [rows, I] and previous states [rows, H]
  float *dUacc, *dWacc;  // this thread's weight gradients [I, GIp], [H, GRp]
  float *facc;
  double *bacc, *wdacc;  // bias (GI + 3H) and BRC diagonal (2H) gradients
};

ThreadScratch carve(const RnnLayer *L, int nt, float *base, size_t *used) {
  const Dims d = dims(L, nt);
  Carve c{base, 0};
  ThreadScratch s;
  s.up = c.take(packedSize(d.I, d.GI));
  s.wp = c.take(d.GR ? packedSize(d.H, d.GR) : 0);
  s.utp = c.take(d.I > kSmallN ? packedSize(d.GI, d.I) : 0);
  s.wtp = c.take(d.GR ? packedSize(d.GR, d.H) : 0);
  s.pt = c.take(d.nb * d.GIp);
  s.rt = c.take(d.nb * d.GRp);
  s.carry = c.take(d.nb * d.H);
  s.gc = c.take(d.nb * d.H);
  s.dPc = c.take(d.rows * d.GIp);
  s.dRc = c.take(L->kind == RNN_GRU ? d.rows * d.GRp : 0);
  s.xc = c.take(d.rows * d.I);
  s.hc = c.take(d.rows * d.H);
  s.dUacc = c.take(d.I * d.GIp);
  s.dWacc = c.take(d.GR ? d.H * d.GRp : 0);
  s.facc = c.take(lmax(d.GIp, d.GRp));
  s.bacc = (double *)c.take(2 * (d.GI + 3 * d.H));
  s.wdacc = (double *)c.take(2 * 2 * d.H);
  if (used) *used = c.off;
  return s;
}

size_t threadScratchFloats(const RnnLayer *L, int nt) {
  size_t used = 0;
  carve(L, nt, nullptr, &used);
  return used;
}

// ---------------------------------------------------------------------------------------------
// Forward: each thread owns a slice of the batch (slices never interact) and runs the whole time
// loop for it: P_t = x_t U + b from the packed U, plus h_{t-1} W, then the elementwise step.

void forwardPhase(RnnLayer *L, int phase, int tid, int nt) {
  (void)phase;
  const int T = L->T, B = L->B, I = L->I, H = L->H, GI = L->GI, GR = L->GR;
  const Dims d = dims(L, nt);
  ThreadScratch s = carve(L, nt, L->ts[tid], nullptr);
  const Range br = split(B, tid, nt, 1);
  const int b0 = (int)br.b, nb = (int)(br.e - br.b);
  if (nb <= 0) return;
  packB(I, GI, L->U, GI, 1, s.up);
  if (L->W) packB(H, GR, L->W, GR, 1, s.wp);
  const float *wc = L->wdiag, *wa = L->wdiag ? L->wdiag + H : nullptr;
  const long GIp = d.GIp, GRp = d.GRp;
  float *P = s.pt, *R = s.rt;
  for (int t = 0; t < T; t++) {
    const long row0 = (long)t * B + b0;
    // h_{t-1}: the previous step's, at t = 0 the given initial state, else none (zero).
    const float *hp = t ? L->h + (row0 - B) * H : L->h0 ? L->h0 + (long)b0 * H : nullptr;
    gemmK(nb, GI, I, L->x + row0 * I, I, 1, s.up, true, 0, P, GIp, 0, L->bias);
    switch (L->kind) {
      case RNN_BRC:
      case RNN_NBRC: {
        const bool diag = L->kind == RNN_BRC;
        if (!diag && hp) gemmK(nb, GR, H, hp, H, 1, s.wp, true, 0, P, GIp, 1, nullptr);
        for (int b = 0; b < nb; b++) {
          const long o = (row0 + b) * H;
          const float *Pr = P + b * GIp;
          float *c = L->s[0] + o, *a = L->s[1] + o, *u = L->s[2] + o, *h = L->h + o;
          if (!hp) brcFwdRow<false, false>(H, Pr, nullptr, wc, wa, c, a, u, h);
          else if (diag) brcFwdRow<true, true>(H, Pr, hp + (long)b * H, wc, wa, c, a, u, h);
          else brcFwdRow<true, false>(H, Pr, hp + (long)b * H, wc, wa, c, a, u, h);
        }
        break;
      }
      case RNN_GRU: {
        if (hp) gemmK(nb, GR, H, hp, H, 1, s.wp, true, 0, R, GRp, 0, L->biasR);
        else
          for (int b = 0; b < nb; b++) memcpy(R + b * GRp, L->biasR, sizeof(float) * GR);
        for (int b = 0; b < nb; b++) {
          const long o = (row0 + b) * H;
          const float *Pr = P + b * GIp, *Rr = R + b * GRp;
          float *z = L->s[0] + o, *r = L->s[1] + o, *hh = L->s[2] + o, *rh = L->s[3] + o, *h = L->h + o;
          if (hp) gruFwdRow<true>(H, Pr, Rr, hp + (long)b * H, z, r, hh, rh, h);
          else gruFwdRow<false>(H, Pr, Rr, nullptr, z, r, hh, rh, h);
        }
        break;
      }
      case RNN_LSTM: {
        if (hp) gemmK(nb, GR, H, hp, H, 1, s.wp, true, 0, P, GIp, 1, nullptr);
        for (int b = 0; b < nb; b++) {
          const long o = (row0 + b) * H;
          const float *Pr = P + b * GIp;
          float *const *S = L->s;
          const float *cp = t ? S[4] + o - (long)B * H : L->c0 ? L->c0 + (long)(b0 + b) * H : nullptr;
          if (cp) lstmFwdRow<true>(H, Pr, cp, S[0] + o, S[1] + o, S[2] + o, S[3] + o, S[4] + o, L->h + o);
          else lstmFwdRow<false>(H, Pr, nullptr, S[0] + o, S[1] + o, S[2] + o, S[3] + o, S[4] + o, L->h + o);
        }
        break;
      }
    }
  }
}

// Weight and bias gradients of one chunk of steps, accumulated into the thread's partial sums. The
// recurrent weights take only the first recRows rows: the step t = 0 (the chunk's last rows) has no
// h_{t-1} without an initial state, and multiplying its zero row by a NaN or Inf dL/dpre would make NaN where the reference
// adds nothing.
void flushChunk(const RnnLayer *L, const Dims &d, ThreadScratch &s, long rows, long recRows) {
  const long H = d.H, GI = d.GI;
  gemmK(d.I, (int)GI, (int)rows, s.xc, 1, d.I, s.dPc, false, d.GIp, s.dUacc, d.GIp, 1, nullptr);
  if (L->W && recRows > 0) {
    const bool gru = L->kind == RNN_GRU;
    gemmK(H, (int)d.GR, (int)recRows, s.hc, 1, H, gru ? s.dRc : s.dPc, false, gru ? d.GRp : d.GIp, s.dWacc, d.GRp, 1,
          nullptr);
  }
  colSumAdd(rows, GI, s.dPc, d.GIp, nullptr, 0, s.facc, s.bacc);
  if (L->kind == RNN_GRU) colSumAdd(rows, 3 * H, s.dRc, d.GRp, nullptr, 0, s.facc, s.bacc + GI);
  if (L->kind == RNN_BRC) {
    colSumAdd(recRows, H, s.dPc, d.GIp, s.hc, H, s.facc, s.wdacc);
    colSumAdd(recRows, H, s.dPc + H, d.GIp, s.hc, H, s.facc, s.wdacc + H);
  }
}

// Backward: phase 0 = the reverse time loop per batch slice. Each step's dL/dpre goes into a chunk
// buffer that stays in cache; dx_t and the recurrent dL/dh_{t-1} are computed at once, weight
// gradients per chunk into per-thread sums. Phase 1 = thread 0 adds the threads' sums.
void backwardPhase(RnnLayer *L, int phase, int tid, int nt) {
  const int T = L->T, B = L->B, I = L->I, H = L->H, GI = L->GI, GR = L->GR;
  const Dims d = dims(L, nt);
  const bool grads = L->dU != nullptr;
  if (phase == 1) {
    if (tid != 0 || !grads) return;
    ThreadScratch S[RNN_MAX_THREADS];
    for (int i = 0; i < nt; i++) S[i] = carve(L, nt, L->ts[i], nullptr);
    for (long r = 0; r < I; r++)
      for (long j = 0; j < GI; j++) {
        float v = 0.0f;
        for (int i = 0; i < nt; i++) v += S[i].dUacc[r * d.GIp + j];
        L->dU[r * GI + j] = v;
      }
    if (L->W)
      for (long r = 0; r < H; r++)
        for (long j = 0; j < GR; j++) {
          float v = 0.0f;
          for (int i = 0; i < nt; i++) v += S[i].dWacc[r * d.GRp + j];
          L->dW[r * GR + j] = v;
        }
    for (long j = 0; j < GI; j++) {
      double v = 0.0;
      for (int i = 0; i < nt; i++) v += S[i].bacc[j];
      L->dbias[j] = (float)v;
    }
    if (L->dbiasR)
      for (long j = 0; j < 3 * H; j++) {
        double v = 0.0;
        for (int i = 0; i < nt; i++) v += S[i].bacc[GI + j];
        L->dbiasR[j] = (float)v;
      }
    if (L->dwdiag)
      for (long j = 0; j < 2 * H; j++) {
        double v = 0.0;
        for (int i = 0; i < nt; i++) v += S[i].wdacc[j];
        L->dwdiag[j] = (float)v;
      }
    return;
  }
  ThreadScratch s = carve(L, nt, L->ts[tid], nullptr);
  memset(s.dUacc, 0, sizeof(float) * I * d.GIp);
  if (L->W) memset(s.dWacc, 0, sizeof(float) * H * d.GRp);
  for (long j = 0; j < GI + 3 * H; j++) s.bacc[j] = 0.0;
  for (long j = 0; j < 2 * H; j++) s.wdacc[j] = 0.0;
  const Range br = split(B, tid, nt, 1);
  const int b0 = (int)br.b, nb = (int)(br.e - br.b);
  if (nb <= 0) return;
  if (L->W) packB(GR, H, L->W, 1, GR, s.wtp);           // W^T: B(k=g, n=j) = W[j*GR + g]
  if (I > kSmallN && L->dx) packB(GI, I, L->U, 1, GI, s.utp);    // U^T
  memset(s.carry, 0, sizeof(float) * nb * H);
  memset(s.gc, 0, sizeof(float) * nb * H);
  const float *wc = L->wdiag, *wa = L->wdiag ? L->wdiag + H : nullptr;
  const long GIp = d.GIp, GRp = d.GRp;
  long slot = 0;
  // Rows of the state arrays per step (tiled calls: dh row r reads state row r % SB).
  const long SB = L->stateB > 0 ? L->stateB : B;
  for (int t = T - 1; t >= 0; t--) {
    const long row0 = (long)t * B + b0;
    // The slice's h_{t-1} rows as one block (untiled calls only: the weight gradients' copies).
    const float *hp = SB != B ? nullptr : t ? L->h + (row0 - B) * H : L->h0 ? L->h0 + (long)b0 * H : nullptr;
    float *dP = s.dPc + slot * nb * GIp;
    float *dR = s.dRc ? s.dRc + slot * nb * GRp : nullptr;
    for (int b = 0; b < nb; b++) {
      const long sb = (b0 + b) % SB;
      const long o = (row0 + b) * H, os = ((long)t * SB + sb) * H;
      const float *dho = L->dhOut + o;
      float *cr = s.carry + (long)b * H, *dh = L->dh + o, *dPr = dP + b * GIp;
      const float *hpr = t ? L->h + os - SB * H : L->h0 ? L->h0 + sb * H : nullptr;
      const float *const *S = L->s;
      switch (L->kind) {
        case RNN_BRC:
          if (hpr) brcBwdRow<true, true>(H, dho, cr, hpr, S[0] + os, S[1] + os, S[2] + os, wc, wa, dPr, dh);
          else brcBwdRow<false, true>(H, dho, cr, hpr, S[0] + os, S[1] + os, S[2] + os, wc, wa, dPr, dh);
          break;
        case RNN_NBRC:
          if (hpr) brcBwdRow<true, false>(H, dho, cr, hpr, S[0] + os, S[1] + os, S[2] + os, wc, wa, dPr, dh);
          else brcBwdRow<false, false>(H, dho, cr, hpr, S[0] + os, S[1] + os, S[2] + os, wc, wa, dPr, dh);
          break;
        case RNN_GRU: {
          float *dRr = dR + b * GRp;
          if (hpr) gruBwdRow<true>(H, dho, cr, hpr, S[0] + os, S[1] + os, S[2] + os, S[3] + os, dPr, dRr, dh);
          else gruBwdRow<false>(H, dho, cr, hpr, S[0] + os, S[1] + os, S[2] + os, S[3] + os, dPr, dRr, dh);
          break;
        }
        case RNN_LSTM: {
          float *gc = s.gc + (long)b * H;
          const float *cp = t ? S[4] + os - SB * H : L->c0 ? L->c0 + sb * H : nullptr;
          if (cp) lstmBwdRow<true>(H, dho, cr, gc, cp, S[0] + os, S[1] + os, S[2] + os, S[3] + os, S[4] + os, dPr, dh);
          else lstmBwdRow<false>(H, dho, cr, gc, nullptr, S[0] + os, S[1] + os, S[2] + os, S[3] + os, S[4] + os, dPr, dh);
          break;
        }
      }
    }
    // The chunk's copies of x_t and h_{t-1} (zero at t = 0 without an initial state) for the weight gradients.
    if (grads) {
      memcpy(s.xc + slot * nb * I, L->x + row0 * I, sizeof(float) * nb * I);
      if (hp) memcpy(s.hc + slot * nb * H, hp, sizeof(float) * nb * H);
      else memset(s.hc + slot * nb * H, 0, sizeof(float) * nb * H);
    }
    if (t && L->W) {
      // dL/dh_{t-1} += dR_t W^T; nBRC/GRU add to the direct part already in carry, LSTM has none.
      const bool gru = L->kind == RNN_GRU;
      gemmK(nb, H, GR, gru ? dR : dP, gru ? GRp : GIp, 1, s.wtp, true, 0, s.carry, H, L->kind == RNN_LSTM ? 0 : 1,
            nullptr);
    }
    if (L->dx) {
      float *dx = L->dx + row0 * I;
      if (I > kSmallN) gemmK(nb, I, GI, dP, GIp, 1, s.utp, true, 0, dx, I, 0, nullptr);
      else gemmDot(nb, I, GI, dP, GIp, L->U, GI, dx, I, 0);
    }
    if (++slot == d.steps || t == 0) {
      if (grads) flushChunk(L, d, s, slot * nb, (t == 0 && !hp ? slot - 1 : slot) * nb);
      slot = 0;
    }
  }
}

void f64to32(const double *src, float *dst, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = (float)src[i];
}
void f32to64(const float *src, double *dst, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = (double)src[i];
}

// C = A B for row-major A [M, K], B [K, N] in blocks of KC along K (GEMM tests).
const int KC = 256;
size_t testGemmScratch(int M, int N, int K) { return packedSize(lmin(K, KC), N) + 16; }
void testGemm(int M, int N, int K, const float *A, const float *B, float *C, float *scratch) {
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int kc = (int)lmin(KC, K - k0);
    packB(kc, N, B + (long)k0 * N, N, 1, scratch);
    gemmK(M, N, kc, A + k0, K, 1, scratch, true, 0, C, N, k0 ? 1 : 0, nullptr);
  }
}

void tanhv(const float *x, float *y, size_t n) {
  for (size_t j = 0; j < n; j += VW) {
    const int w = (int)lmin(VW, (long)(n - j));
    ST(y + j, vtanh(LD(x + j, w)), w);
  }
}
void sigmoidv(const float *x, float *y, size_t n) {
  for (size_t j = 0; j < n; j += VW) {
    const int w = (int)lmin(VW, (long)(n - j));
    ST(y + j, vsigm(LD(x + j, w)), w);
  }
}

// ---------------------------------------------------------------------------------------------
// Gram matrix of the diagnostics' ridge probes, in float64 (the probe fits hundreds of them per report).

typedef double vd __attribute__((vector_size(VW * 4)));
const int VD = VW / 2;  // doubles per vector
// Column blocks: 4 x 4 accumulators where there are 32 vector registers, else 2 x 4 (16 registers).
#if VW == 16
const int GMI = 4;
#else
const int GMI = 2;
#endif
const int GMJ = 4;

// Column stride: whole vectors, and not a multiple of 4 KiB (n = 512, 1024, ...): phase 0 writes a row's values
// one column apart, and columns 4 KiB apart all fall in one L1 set (1024 x 100 ran at a tenth of the speed).
inline long gramStride(int n) {
  const long np = roundUp(n, VD);
  return np % 512 == 0 ? np + VD : np;
}
size_t gramScratchDoubles(int n, int d) { return (size_t)roundUp(d, GMJ) * gramStride(n) + VD; }

// A[i, j] = sum_r C[i][r] C[j][r] for the GMI x GMJ block at (i, j); C holds columns of np doubles.
void gramBlock(long np, const double *C, long i, long j, int d, double *A) {
  vd acc[GMI][GMJ];
  for (int p = 0; p < GMI; p++)
    for (int q = 0; q < GMJ; q++) acc[p][q] = vd{};
  const double *ci = C + i * np, *cj = C + j * np;
  for (long r = 0; r < np; r += VD) {
    vd a[GMI], b[GMJ];
    for (int p = 0; p < GMI; p++) a[p] = *(const vd *)(ci + p * np + r);
    for (int q = 0; q < GMJ; q++) b[q] = *(const vd *)(cj + q * np + r);
    for (int p = 0; p < GMI; p++)
      for (int q = 0; q < GMJ; q++) acc[p][q] += a[p] * b[q];
  }
  for (int p = 0; p < GMI && i + p < d; p++)
    for (int q = 0; q < GMJ && j + q < d; q++) {
      double v = 0.0;
      for (int k = 0; k < VD; k++) v += acc[p][q][k];
      A[(i + p) * d + j + q] = v;
    }
}

// The upper triangle (j >= i) of X^T X for X [n, d] row-major; entries below the diagonal may be written
// too (with their correct values). Phase 0 copies X into the scratch column by column (part p a contiguous
// range of columns), zero-padded to whole vectors and to whole blocks, so every load is aligned and no tail
// loop is needed. Phase 1 computes the blocks of the upper triangle, dealt round-robin to the parts.
void gramF64(int phase, int part, int parts, int n, int d, const double *X, double *A, double *scratch) {
  const long np = gramStride(n), dp = roundUp(d, GMJ);
  double *C = (double *)(((uintptr_t)scratch + VD * 8 - 1) & ~(uintptr_t)(VD * 8 - 1));
  if (phase == 0) {
    const long c0 = dp * part / parts, c1 = dp * (part + 1) / parts;
    for (long r = 0; r < n; r++)
      for (long c = c0; c < c1 && c < d; c++) C[c * np + r] = X[r * d + c];
    for (long c = c0; c < c1; c++) {
      if (c >= d) memset(C + c * np, 0, sizeof(double) * np);
      else for (long r = n; r < np; r++) C[c * np + r] = 0.0;
    }
    return;
  }
  long k = 0;
  for (long i = 0; i < d; i += GMI)
    for (long j = i / GMJ * GMJ; j < d; j += GMJ, k++)
      if (k % parts == part) gramBlock(np, C, i, j, d, A);
}

RnnKernels gTable;

}  // namespace

extern "C" const RnnKernels *ENTRY(void) {
  if (!gTable.isa) {
    fillUkr<MR, NV>();
    gTable.threadScratchFloats = threadScratchFloats;
    gTable.forwardPhases = 1;
    gTable.backwardPhases = 2;
    gTable.forward = forwardPhase;
    gTable.backward = backwardPhase;
    gTable.f64to32 = f64to32;
    gTable.f32to64 = f32to64;
    gTable.gemm = testGemm;
    gTable.gemmScratchFloats = testGemmScratch;
    gTable.tanhv = tanhv;
    gTable.sigmoidv = sigmoidv;
    gTable.gram = gramF64;
    gTable.gramScratchDoubles = gramScratchDoubles;
    gTable.isa = ISA_NAME;
  }
  return &gTable;
}
