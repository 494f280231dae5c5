// Shared plain-C interface between the N-API driver (addon.cpp) and the per-ISA kernels (kernels.cpp,
// compiled once per instruction set). Nothing here may instantiate C++ library templates: the ISA
// objects must not export inline symbols the linker could pick for the baseline code.
#pragma once
#include <stddef.h>

extern "C" {

enum RnnKind { RNN_BRC = 0, RNN_NBRC = 1, RNN_GRU = 2, RNN_LSTM = 3 };

enum { RNN_MAX_THREADS = 8, RNN_NSTATE = 5 };

// One layer over a whole sequence. Layouts are time-major row-major: x [T*B, I], h and states [T*B, H].
// U is [I, GI] (gate blocks side by side), W is [H, GR]. For BRC/nBRC the blocks are c, a, u;
// GRU z, r, h (Keras); LSTM i, f, c, o (Keras).
struct RnnLayer {
  int kind, T, B, I, H;
  int GI, GR;
  // Backward of one forward pass for several dhOut at once: x, h, h0/c0 and the states hold stateB rows per
  // step, dhOut and dh B = tile * stateB (row r reads state row r % stateB). 0 = B (no tiling). Tiled calls
  // take no parameter or input gradients (dU and dx null).
  int stateB;
  // Parameters.
  const float *U, *W, *bias, *biasR, *wdiag;
  // Forward: input and outputs. s[] are the states backward needs:
  // BRC/nBRC c, a, u(candidate); GRU z, r, hh(candidate), rh(h RK_h + b1_h); LSTM i, f, g, o, c.
  const float *x;
  // Initial state [B, H] (LSTM: h0 and c0), or null for the zero state.
  const float *h0, *c0;
  float *h;
  float *s[RNN_NSTATE];
  // Backward: dL/dh from outside, and outputs. dbias has GI entries (BRC/nBRC use the first 2H),
  // dbiasR 3H (GRU), dwdiag 2H (BRC: w_c then w_a). dh receives the total dL/dh_t. dU null: no parameter
  // gradients; dx null: no input gradient (its product is skipped).
  const float *dhOut;
  float *dx, *dU, *dW, *dbias, *dbiasR, *dwdiag, *dh;
  // Per-thread scratch owned by the driver, threadScratchFloats floats each (64-byte aligned).
  float *ts[RNN_MAX_THREADS];
};

struct RnnKernels {
  const char *isa;
  // Floats of per-thread scratch needed by layer L with nt threads (forward and backward).
  size_t (*threadScratchFloats)(const RnnLayer *L, int nt);
  int forwardPhases;
  int backwardPhases;
  void (*forward)(RnnLayer *L, int phase, int tid, int nt);
  void (*backward)(RnnLayer *L, int phase, int tid, int nt);
  void (*f64to32)(const double *src, float *dst, size_t n);
  void (*f32to64)(const float *src, double *dst, size_t n);
  // C[M,N] = A[M,K] B[K,N] (row-major, single thread), for tests of the GEMM itself.
  void (*gemm)(int M, int N, int K, const float *A, const float *B, float *C, float *scratch);
  size_t (*gemmScratchFloats)(int M, int N, int K);
  // Vector tanh / sigmoid over n floats, for accuracy tests.
  void (*tanhv)(const float *x, float *y, size_t n);
  void (*sigmoidv)(const float *x, float *y, size_t n);
  // Upper triangle of X^T X, X [n, d] row-major float64 (ridge probes of the diagnostics), in two phases
  // split over `parts` threads: phase 0 packs X's columns into the scratch, phase 1 (after every part's
  // phase 0) computes this part's blocks of A.
  void (*gram)(int phase, int part, int parts, int n, int d, const double *X, double *A, double *scratch);
  size_t (*gramScratchDoubles)(int n, int d);
};

const RnnKernels *rnn_kernels_avx512(void);
const RnnKernels *rnn_kernels_avx2(void);
const RnnKernels *rnn_kernels_base(void);
const RnnKernels *rnn_kernels_wasm(void);
}
