// WebAssembly driver of the fused kernels (kernels.cpp compiled with RNN_ISA_WASM): the counterpart of
// addon.cpp for core/engine/wasm.ts. Freestanding (no libc): JavaScript owns the linear memory
// layout. It writes a layer call's buffer offsets into the descriptor (rnn_desc), asks for the scratch
// size, places the scratch, then calls rnn_forward / rnn_backward. Single-threaded (nt = 1).
#include "kernels.h"

#define EXPORT(name) extern "C" __attribute__((export_name(name)))

namespace {

// Descriptor words (core/engine/wasm.ts DESC has the same order).
enum {
  D_KIND, D_T, D_B, D_I, D_H, D_STATEB,
  D_X, D_U, D_W, D_BIAS, D_BIASR, D_WDIAG, D_HS, D_S0, D_S1, D_S2, D_S3, D_S4,
  D_DHOUT, D_DX, D_DU, D_DW, D_DBIAS, D_DBIASR, D_DWDIAG, D_DH, D_H0, D_C0, D_SCRATCH,
  D_COUNT
};

int gDesc[D_COUNT];

template <class P>
P *ptr(int word) {
  return gDesc[word] ? (P *)(__SIZE_TYPE__)gDesc[word] : nullptr;
}

// The layer the descriptor describes (offset 0 = null; JavaScript never places a buffer there).
RnnLayer layer() {
  RnnLayer L = {};
  L.kind = gDesc[D_KIND];
  L.T = gDesc[D_T];
  L.B = gDesc[D_B];
  L.I = gDesc[D_I];
  L.H = gDesc[D_H];
  L.stateB = gDesc[D_STATEB];  // 0: untiled; else B = probes * stateB rows read the states' stateB rows
  L.GI = L.kind == RNN_LSTM ? 4 * L.H : 3 * L.H;
  L.GR = L.kind == RNN_BRC ? 0 : L.kind == RNN_NBRC ? 2 * L.H : L.GI;
  L.x = ptr<const float>(D_X);
  L.U = ptr<const float>(D_U);
  L.W = ptr<const float>(D_W);
  L.bias = ptr<const float>(D_BIAS);
  L.biasR = ptr<const float>(D_BIASR);
  L.wdiag = ptr<const float>(D_WDIAG);
  L.h = ptr<float>(D_HS);
  L.h0 = ptr<const float>(D_H0);
  L.c0 = ptr<const float>(D_C0);
  for (int k = 0; k < RNN_NSTATE; k++) L.s[k] = ptr<float>(D_S0 + k);
  L.dhOut = ptr<const float>(D_DHOUT);
  L.dx = ptr<float>(D_DX);
  L.dU = ptr<float>(D_DU);
  L.dW = ptr<float>(D_DW);
  L.dbias = ptr<float>(D_DBIAS);
  L.dbiasR = ptr<float>(D_DBIASR);
  L.dwdiag = ptr<float>(D_DWDIAG);
  L.dh = ptr<float>(D_DH);
  L.ts[0] = ptr<float>(D_SCRATCH);
  return L;
}

}  // namespace

extern "C" unsigned char __heap_base;

// Bumped whenever the interface to JavaScript changes (core/engine/wasm.ts checks it).
EXPORT("rnn_abi") int rnn_abi() { return 3; }  // 2: initial states h0/c0; 3: rnn_gram, tiled backward (stateB)
EXPORT("rnn_desc") int *rnn_desc() { return gDesc; }
EXPORT("rnn_heap_base") unsigned rnn_heap_base() { return ((unsigned)(__SIZE_TYPE__)&__heap_base + 63u) & ~63u; }

// Floats of scratch the described call needs (64-byte aligned by the caller).
EXPORT("rnn_scratch_floats") unsigned rnn_scratch_floats() {
  RnnLayer L = layer();
  return (unsigned)rnn_kernels_wasm()->threadScratchFloats(&L, 1);
}

EXPORT("rnn_forward") void rnn_forward() {
  RnnLayer L = layer();
  const RnnKernels *K = rnn_kernels_wasm();
  for (int ph = 0; ph < K->forwardPhases; ph++) K->forward(&L, ph, 0, 1);
}

EXPORT("rnn_backward") void rnn_backward() {
  RnnLayer L = layer();
  const RnnKernels *K = rnn_kernels_wasm();
  for (int ph = 0; ph < K->backwardPhases; ph++) K->backward(&L, ph, 0, 1);
}

// The activation approximations over n floats (accuracy tests).
EXPORT("rnn_tanh") void rnn_tanh(const float *x, float *y, unsigned n) { rnn_kernels_wasm()->tanhv(x, y, n); }
EXPORT("rnn_sigmoid") void rnn_sigmoid(const float *x, float *y, unsigned n) { rnn_kernels_wasm()->sigmoidv(x, y, n); }

// The ridge probes' float64 Gram (kernels.cpp gramF64): the upper triangle of X^T X for X [n, d] into A [d, d],
// with rnn_gram_scratch(n, d) doubles of scratch, both phases on this one thread.
EXPORT("rnn_gram_scratch") unsigned rnn_gram_scratch(int n, int d) { return (unsigned)rnn_kernels_wasm()->gramScratchDoubles(n, d); }
EXPORT("rnn_gram") void rnn_gram(int n, int d, const double *X, double *A, double *scratch) {
  const RnnKernels *K = rnn_kernels_wasm();
  for (int phase = 0; phase < 2; phase++) K->gram(phase, 0, 1, n, d, X, A, scratch);
}
