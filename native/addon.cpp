// N-API driver for the fused RNN kernels: argument checking, instruction-set dispatch, a small
// persistent thread pool, a grow-only scratch arena, and flush-to-zero / denormals-are-zero set in
// every thread that computes (restored on the JavaScript thread afterwards).
#include <node_api.h>

#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#define RNN_X86 1
#endif

#include "kernels.h"

namespace {

// ----------------------------------------------------------------------------------------------
// Denormals: FTZ (bit 15) and DAZ (bit 6) of MXCSR. Saturating gates otherwise produce subnormal
// floats that cost 10-100x per operation.
struct DenormalGuard {
#ifdef RNN_X86
  unsigned old;
  DenormalGuard() : old(_mm_getcsr()) { _mm_setcsr(old | 0x8040u); }
  ~DenormalGuard() { _mm_setcsr(old); }
#endif
};

// ----------------------------------------------------------------------------------------------
// Instruction-set dispatch.
struct IsaEntry {
  const char *name;
  const RnnKernels *(*get)(void);
  bool (*supported)(void);
};

bool alwaysTrue() { return true; }
#if defined(RNN_HAVE_X86_ISAS)
bool hasAvx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx2") &&
         __builtin_cpu_supports("fma");
}
bool hasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
const IsaEntry kIsas[] = {
    {"avx512", rnn_kernels_avx512, hasAvx512},
    {"avx2", rnn_kernels_avx2, hasAvx2},
    {"baseline", rnn_kernels_base, alwaysTrue},
};
#else
const IsaEntry kIsas[] = {{"baseline", rnn_kernels_base, alwaysTrue}};
#endif
const int kNumIsas = sizeof(kIsas) / sizeof(kIsas[0]);

const RnnKernels *bestKernels() {
  for (int i = 0; i < kNumIsas; i++)
    if (kIsas[i].supported()) return kIsas[i].get();
  return rnn_kernels_base();
}

// ----------------------------------------------------------------------------------------------
// Thread pool: workers 1..n-1 wait on a generation counter; the caller runs share 0.
class Pool {
 public:
  void run(int n, const std::function<void(int)> &fn) {
    if (n <= 1) {
      fn(0);
      return;
    }
    grow(n - 1);
    {
      std::unique_lock<std::mutex> lk(m_);
      job_ = &fn;
      jobThreads_ = n;
      pending_ = n - 1;
      gen_++;
    }
    cv_.notify_all();
    fn(0);
    std::unique_lock<std::mutex> lk(m_);
    done_.wait(lk, [&] { return pending_ == 0; });
    job_ = nullptr;
  }

 private:
  void grow(int workers) {
    while ((int)count_ < workers) {
      const int tid = (int)count_ + 1;
      std::thread([this, tid] { loop(tid); }).detach();  // lives as long as the process
      count_++;
    }
  }
  void loop(int tid) {
    long seen = 0;
    for (;;) {
      const std::function<void(int)> *job;
      {
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return gen_ != seen; });
        seen = gen_;
        job = tid < jobThreads_ ? job_ : nullptr;
      }
      if (!job) continue;
      {
        DenormalGuard g;
        (*job)(tid);
      }
      std::lock_guard<std::mutex> lk(m_);
      if (--pending_ == 0) done_.notify_one();
    }
  }
  std::mutex m_;
  std::condition_variable cv_, done_;
  const std::function<void(int)> *job_ = nullptr;
  int jobThreads_ = 0;
  int pending_ = 0;
  long gen_ = 0;
  unsigned count_ = 0;
};

// ----------------------------------------------------------------------------------------------
// Global state, shared by every Node environment (worker threads) that loads the addon; calls are
// serialised by gMutex.
struct Arena {
  float *p = nullptr;
  size_t cap = 0;
  float *get(size_t n) {
    if (n > cap) {
      std::free(p);
      p = nullptr;
      cap = 0;
      const size_t bytes = ((n * sizeof(float)) + 63) / 64 * 64;
      p = (float *)std::aligned_alloc(64, bytes ? bytes : 64);
      if (!p) return nullptr;
      cap = n;
    }
    return p;
  }
  void release() {
    std::free(p);
    p = nullptr;
    cap = 0;
  }
};

// Bumped whenever the JavaScript-visible interface changes (core/engine/fast.ts checks it).
const int kAbi = 6;  // 6: gram, initial states h0/c0, tiled backward (stateRows)

std::mutex gMutex;
Pool *gPool = new Pool();  // never destroyed: its detached threads outlive static destructors
const RnnKernels *gK = nullptr;
int gThreads = 0;
Arena gTs;

const RnnKernels *kernels() {
  if (!gK) gK = bestKernels();
  return gK;
}

int defaultThreads() {
  const char *env = std::getenv("RNN_FAST_THREADS");
  int n = env ? std::atoi(env) : 0;
  if (n <= 0) {
    const unsigned hc = std::thread::hardware_concurrency();
    n = hc >= 2 ? 2 : 1;
  }
  return n > RNN_MAX_THREADS ? RNN_MAX_THREADS : n;
}
int threads() {
  if (!gThreads) gThreads = defaultThreads();
  return gThreads;
}

void parallel(int n, const std::function<void(int)> &fn) { gPool->run(n, fn); }

// ----------------------------------------------------------------------------------------------
// N-API helpers.

struct ArgError {
  std::string msg;
};

napi_value undefinedValue(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

int argInt(napi_env env, napi_value v, const char *what) {
  int32_t out = 0;
  if (napi_get_value_int32(env, v, &out) != napi_ok) throw ArgError{std::string(what) + " must be an integer"};
  return out;
}

bool isNullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}

// Returns the data of a typed array of the given type and exact length (length < 0: any), or
// nullptr when the value is null and `optional`.
void *typedData(napi_env env, napi_value v, napi_typedarray_type want, long length, const char *what, bool optional,
                size_t *lenOut = nullptr) {
  if (isNullish(env, v)) {
    if (optional) return nullptr;
    throw ArgError{std::string(what) + " is missing"};
  }
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) throw ArgError{std::string(what) + " must be a typed array"};
  napi_typedarray_type type;
  size_t len;
  void *data;
  napi_value ab;
  size_t off;
  napi_get_typedarray_info(env, v, &type, &len, &data, &ab, &off);
  if (type != want)
    throw ArgError{std::string(what) + (want == napi_float32_array ? " must be a Float32Array" : " must be a Float64Array")};
  if (length >= 0 && (long)len != length)
    throw ArgError{std::string(what) + " has length " + std::to_string(len) + ", expected " + std::to_string(length)};
  if (lenOut) *lenOut = len;
  return data;
}

float *f32(napi_env env, napi_value v, long length, const char *what, bool optional = false) {
  return (float *)typedData(env, v, napi_float32_array, length, what, optional);
}

napi_value getArgs(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < want) throw ArgError{"expected " + std::to_string(want) + " arguments"};
  return nullptr;
}

napi_value arrayItem(napi_env env, napi_value arr, uint32_t i) {
  napi_value v;
  if (napi_get_element(env, arr, i, &v) != napi_ok) throw ArgError{"states is not an array"};
  return v;
}

// A named buffer of a layer call's buffer object (LayerBuffers / BackwardBuffers in core/engine/fast.ts).
napi_value field(napi_env env, napi_value obj, const char *name) {
  napi_valuetype t;
  napi_typeof(env, obj, &t);
  if (t != napi_object) throw ArgError{"buffers must be an object of named typed arrays"};
  napi_value v;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) throw ArgError{std::string("cannot read buffer ") + name};
  return v;
}

template <class F>
napi_value guarded(napi_env env, F &&f) {
  try {
    return f();
  } catch (const ArgError &e) {
    napi_throw_error(env, nullptr, e.msg.c_str());
  } catch (const std::bad_alloc &) {
    napi_throw_error(env, nullptr, "rnn_kernels: out of memory");
  }
  return nullptr;
}

// ----------------------------------------------------------------------------------------------
// Layer calls.

void layerShape(napi_env env, napi_value *argv, RnnLayer &L) {
  std::memset(&L, 0, sizeof(L));
  L.kind = argInt(env, argv[0], "kind");
  L.T = argInt(env, argv[1], "T");
  L.B = argInt(env, argv[2], "B");
  L.I = argInt(env, argv[3], "inputSize");
  L.H = argInt(env, argv[4], "units");
  if (L.kind < 0 || L.kind > 3) throw ArgError{"unknown cell kind"};
  if (L.T < 1 || L.B < 1 || L.I < 1 || L.H < 1) throw ArgError{"T, B, inputSize and units must be positive"};
  const int H = L.H;
  L.GI = L.kind == RNN_LSTM ? 4 * H : 3 * H;
  L.GR = L.kind == RNN_BRC ? 0 : L.kind == RNN_NBRC ? 2 * H : L.kind == RNN_GRU ? 3 * H : 4 * H;
}

int numStates(int kind) { return kind == RNN_LSTM ? 5 : kind == RNN_GRU ? 4 : 3; }

// The buffers forward and backward share: x, U, W, bias, biasR, wdiag, h and the states array.
void readCommon(napi_env env, napi_value bufs, RnnLayer &L) {
  // A tiled backward's state arrays hold stateB rows per step (RnnLayer::stateB).
  const long SB = L.stateB > 0 ? L.stateB : L.B;
  const long TB = (long)L.T * SB, H = L.H;
  L.x = f32(env, field(env, bufs, "x"), TB * L.I, "x");
  L.U = f32(env, field(env, bufs, "U"), (long)L.I * L.GI, "U");
  L.W = L.GR ? f32(env, field(env, bufs, "W"), H * L.GR, "W") : nullptr;
  L.bias = f32(env, field(env, bufs, "bias"), L.GI, "bias");
  L.biasR = L.kind == RNN_GRU ? f32(env, field(env, bufs, "biasR"), 3 * H, "biasR") : nullptr;
  L.wdiag = L.kind == RNN_BRC ? f32(env, field(env, bufs, "wdiag"), 2 * H, "wdiag") : nullptr;
  L.h = f32(env, field(env, bufs, "h"), TB * H, "h");
  // Optional initial state [B, H] (LSTM: h0 and c0 together); absent = the zero state.
  L.h0 = f32(env, field(env, bufs, "h0"), SB * H, "h0", true);
  L.c0 = L.kind == RNN_LSTM ? f32(env, field(env, bufs, "c0"), SB * H, "c0", true) : nullptr;
  if (L.kind == RNN_LSTM && !L.h0 != !L.c0) throw ArgError{"an LSTM initial state needs both h0 and c0"};
  napi_value states = field(env, bufs, "states");
  for (int k = 0; k < numStates(L.kind); k++) L.s[k] = f32(env, arrayItem(env, states, k), TB * H, "state");
}

// Per-thread scratch for one call (kept for the next); returns false when memory could not be had.
bool prepareScratch(RnnLayer &L, int nt) {
  const size_t per = (kernels()->threadScratchFloats(&L, nt) + 15) / 16 * 16;
  float *ts = gTs.get(per * nt);
  if (!ts) return false;
  for (int i = 0; i < nt; i++) L.ts[i] = ts + per * i;
  return true;
}

void runPhases(RnnLayer &L, int nt, bool backward) {
  const RnnKernels *K = kernels();
  const int phases = backward ? K->backwardPhases : K->forwardPhases;
  for (int ph = 0; ph < phases; ph++) {
    parallel(nt, [&](int tid) {
      if (backward) K->backward(&L, ph, tid, nt);
      else K->forward(&L, ph, tid, nt);
    });
  }
}

int threadsFor(const RnnLayer &L) {
  const int n = threads();
  return L.B < n ? L.B : n;
}

napi_value Forward(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[6];
    getArgs(env, info, 6, argv);
    RnnLayer L;
    layerShape(env, argv, L);
    readCommon(env, argv[5], L);
    std::lock_guard<std::mutex> lk(gMutex);
    const int nt = threadsFor(L);
    if (!prepareScratch(L, nt)) throw std::bad_alloc();
    DenormalGuard g;
    runPhases(L, nt, false);
    return undefinedValue(env);
  });
}

napi_value Backward(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[6];
    getArgs(env, info, 6, argv);
    RnnLayer L;
    layerShape(env, argv, L);
    napi_value bufs = argv[5];
    // stateRows (optional): the forward pass's batch when B = tile * stateRows probes share it (backwardMany).
    napi_value sr = field(env, bufs, "stateRows");
    if (!isNullish(env, sr)) {
      L.stateB = argInt(env, sr, "stateRows");
      if (L.stateB < 1 || L.B % L.stateB != 0) throw ArgError{"stateRows must divide the batch B"};
      if (L.stateB == L.B) L.stateB = 0;
    }
    readCommon(env, bufs, L);
    const long TB = (long)L.T * L.B, H = L.H;
    L.dhOut = f32(env, field(env, bufs, "dhOut"), TB * H, "dhOut");
    // dx null: the caller reads only dh (the Jacobian probes), the input-side product is skipped.
    L.dx = f32(env, field(env, bufs, "dx"), TB * L.I, "dx", true);
    // dU null: only dx and dh are wanted (diagnostics), the weight-gradient GEMMs are skipped.
    L.dU = f32(env, field(env, bufs, "dU"), (long)L.I * L.GI, "dU", true);
    const bool grads = L.dU != nullptr;
    L.dW = grads && L.GR ? f32(env, field(env, bufs, "dW"), H * L.GR, "dW") : nullptr;
    L.dbias = grads ? f32(env, field(env, bufs, "dbias"), L.GI, "dbias") : nullptr;
    L.dbiasR = grads && L.kind == RNN_GRU ? f32(env, field(env, bufs, "dbiasR"), 3 * H, "dbiasR") : nullptr;
    L.dwdiag = grads && L.kind == RNN_BRC ? f32(env, field(env, bufs, "dwdiag"), 2 * H, "dwdiag") : nullptr;
    L.dh = f32(env, field(env, bufs, "dh"), TB * H, "dh");
    if (L.stateB && (L.dU || L.dx)) throw ArgError{"a tiled backward (stateRows < B) gives dh only: dU and dx must be null"};
    std::lock_guard<std::mutex> lk(gMutex);
    const int nt = threadsFor(L);
    if (!prepareScratch(L, nt)) throw std::bad_alloc();
    DenormalGuard g;
    runPhases(L, nt, true);
    return undefinedValue(env);
  });
}

// Conversions between float64 and float32, split over the pool.
template <class Src, class Dst>
void convert(const Src *src, Dst *dst, size_t n, void (*fn)(const Src *, Dst *, size_t)) {
  const int nt = n >= ((size_t)1 << 16) ? threads() : 1;
  parallel(nt, [&](int tid) {
    const size_t chunk = (n + nt - 1) / nt;
    const size_t b = chunk * tid, e = b + chunk < n ? b + chunk : n;
    if (b < e) fn(src + b, dst + b, e - b);
  });
}

napi_value ToF32(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[2];
    getArgs(env, info, 2, argv);
    size_t n = 0;
    const double *src = (const double *)typedData(env, argv[0], napi_float64_array, -1, "source", false, &n);
    float *dst = f32(env, argv[1], (long)n, "destination");
    std::lock_guard<std::mutex> lk(gMutex);
    DenormalGuard g;
    convert(src, dst, n, kernels()->f64to32);
    return undefinedValue(env);
  });
}

napi_value ToF64(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[2];
    getArgs(env, info, 2, argv);
    size_t n = 0;
    const float *src = (const float *)typedData(env, argv[0], napi_float32_array, -1, "source", false, &n);
    double *dst = (double *)typedData(env, argv[1], napi_float64_array, (long)n, "destination", false);
    std::lock_guard<std::mutex> lk(gMutex);
    DenormalGuard g;
    convert(src, dst, n, kernels()->f32to64);
    return undefinedValue(env);
  });
}

// adviseHugePages(typedArray): asks Linux to back the array's whole 2 MiB pages with transparent huge pages
// (MADV_HUGEPAGE; THP is "madvise" on many distributions). Called by JS on freshly allocated large arrays before
// their first write: each 4 KiB page fault costs ~10 µs on a VM, and diagnostics write hundreds of MB of fresh
// memory per pass. Returns whether the advice was taken; elsewhere, or for small arrays, it does nothing.
napi_value AdviseHugePages(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[1];
    getArgs(env, info, 1, argv);
    bool is = false;
    napi_is_typedarray(env, argv[0], &is);
    if (!is) throw ArgError{"adviseHugePages takes a typed array"};
    napi_typedarray_type type;
    size_t len, off;
    void *data;
    napi_value ab;
    napi_get_typedarray_info(env, argv[0], &type, &len, &data, &ab, &off);
    size_t bytes = 0;
    napi_get_arraybuffer_info(env, ab, nullptr, &bytes);
    bool taken = false;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)2 << 20;
    const uintptr_t base = (uintptr_t)data - off;  // the whole buffer, not only the view
    const uintptr_t from = (base + huge - 1) & ~(huge - 1), to = (base + bytes) & ~(huge - 1);
    if (to > from) taken = madvise((void *)from, to - from, MADV_HUGEPAGE) == 0;
#endif
    napi_value r;
    napi_get_boolean(env, taken, &r);
    return r;
  });
}

napi_value makeString(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

napi_value Info(napi_env env, napi_callback_info) {
  std::lock_guard<std::mutex> lk(gMutex);
  napi_value o, isas, n, abi;
  napi_create_object(env, &o);
  napi_create_int32(env, kAbi, &abi);
  napi_set_named_property(env, o, "abi", abi);
  napi_set_named_property(env, o, "isa", makeString(env, kernels()->isa));
  napi_create_int32(env, threads(), &n);
  napi_set_named_property(env, o, "threads", n);
  napi_create_array(env, &isas);
  uint32_t k = 0;
  for (int i = 0; i < kNumIsas; i++)
    if (kIsas[i].supported()) napi_set_element(env, isas, k++, makeString(env, kIsas[i].name));
  napi_set_named_property(env, o, "supportedIsas", isas);
  return o;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[1];
    getArgs(env, info, 1, argv);
    int n = argInt(env, argv[0], "threads");
    std::lock_guard<std::mutex> lk(gMutex);
    gThreads = n <= 0 ? defaultThreads() : (n > RNN_MAX_THREADS ? RNN_MAX_THREADS : n);
    return undefinedValue(env);
  });
}

// setIsa(name): selects a supported instruction set ('' = best); returns whether it was applied.
napi_value SetIsa(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[1];
    getArgs(env, info, 1, argv);
    char buf[32] = {0};
    size_t len = 0;
    napi_get_value_string_utf8(env, argv[0], buf, sizeof(buf), &len);
    std::lock_guard<std::mutex> lk(gMutex);
    bool ok = false;
    if (len == 0) {
      gK = bestKernels();
      ok = true;
    }
    for (int i = 0; i < kNumIsas && !ok; i++)
      if (std::strcmp(buf, kIsas[i].name) == 0 && kIsas[i].supported()) {
        gK = kIsas[i].get();
        ok = true;
      }
    napi_value r;
    napi_get_boolean(env, ok, &r);
    return r;
  });
}

napi_value ReleaseScratch(napi_env env, napi_callback_info) {
  std::lock_guard<std::mutex> lk(gMutex);
  gTs.release();
  return undefinedValue(env);
}

// gemm(M, N, K, A, B, C): C = A B, single thread, row-major (tests of the GEMM).
napi_value Gemm(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[6];
    getArgs(env, info, 6, argv);
    const int M = argInt(env, argv[0], "M"), N = argInt(env, argv[1], "N"), K = argInt(env, argv[2], "K");
    if (M < 1 || N < 1 || K < 1) throw ArgError{"M, N, K must be positive"};
    const float *A = f32(env, argv[3], (long)M * K, "A");
    const float *B = f32(env, argv[4], (long)K * N, "B");
    float *C = f32(env, argv[5], (long)M * N, "C");
    std::lock_guard<std::mutex> lk(gMutex);
    std::vector<float> scratch(kernels()->gemmScratchFloats(M, N, K) + 16);
    float *s = (float *)(((uintptr_t)scratch.data() + 63) & ~(uintptr_t)63);
    DenormalGuard g;
    kernels()->gemm(M, N, K, A, B, C, s);
    return undefinedValue(env);
  });
}

// gram(n, d, X, A): the upper triangle of X^T X for X [n, d] row-major float64 into A [d, d] (entries below
// the diagonal may be written too), split over the pool. No denormal flushing: the ridge probes want float64
// as JS computes it, only faster (each entry is one dot product whichever thread computes it).
std::vector<double> gGramScratch;  // kept between calls (a report makes hundreds), under gMutex
napi_value Gram(napi_env env, napi_callback_info info) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[4];
    getArgs(env, info, 4, argv);
    const int n = argInt(env, argv[0], "n"), d = argInt(env, argv[1], "d");
    if (n < 1 || d < 1) throw ArgError{"n and d must be positive"};
    const double *X = (const double *)typedData(env, argv[2], napi_float64_array, (long)n * d, "X", false);
    double *A = (double *)typedData(env, argv[3], napi_float64_array, (long)d * d, "A", false);
    std::lock_guard<std::mutex> lk(gMutex);
    const size_t need = kernels()->gramScratchDoubles(n, d);
    if (gGramScratch.size() < need) gGramScratch.resize(need);
    double *scratch = gGramScratch.data();
    // Waking the pool costs more than it saves below ~1e8 multiply-adds: 1024 x 100 took 0.23 ms on one thread,
    // 0.3-0.4 ms on two (the retention probes make 400 of them per report).
    const int nt = (double)n * d * d >= 1e8 ? threads() : 1;
    for (int phase = 0; phase < 2; phase++) parallel(nt, [&](int tid) { kernels()->gram(phase, tid, nt, n, d, X, A, scratch); });
    return undefinedValue(env);
  });
}

// tanh(x, y) / sigmoid(x, y): the kernels' activation approximations (accuracy tests).
napi_value Activation(napi_env env, napi_callback_info info, bool sigmoid) {
  return guarded(env, [&]() -> napi_value {
    napi_value argv[2];
    getArgs(env, info, 2, argv);
    size_t n = 0;
    const float *x = (const float *)typedData(env, argv[0], napi_float32_array, -1, "x", false, &n);
    float *y = f32(env, argv[1], (long)n, "y");
    std::lock_guard<std::mutex> lk(gMutex);
    DenormalGuard g;
    (sigmoid ? kernels()->sigmoidv : kernels()->tanhv)(x, y, n);
    return undefinedValue(env);
  });
}
napi_value Tanh(napi_env env, napi_callback_info info) { return Activation(env, info, false); }
napi_value Sigmoid(napi_env env, napi_callback_info info) { return Activation(env, info, true); }

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor props[] = {
      {"forward", nullptr, Forward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"backward", nullptr, Backward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"toF32", nullptr, ToF32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"toF64", nullptr, ToF64, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setIsa", nullptr, SetIsa, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"releaseScratch", nullptr, ReleaseScratch, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"gram", nullptr, Gram, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"tanh", nullptr, Tanh, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sigmoid", nullptr, Sigmoid, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"adviseHugePages", nullptr, AdviseHugePages, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
