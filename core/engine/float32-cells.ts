/**
 * Float32 kernel engines as CellDefs: the native addon (fast.ts) and the WebAssembly module (wasm.ts) run the
 * same kernels (native/kernels.cpp) behind the same call contract, LayerKernels, and share this adapter. The
 * CellDef contract is float64, so arrays are converted at the boundary, an O(T·B·H) cost against the
 * O(T·B·H²) kernels. Gate traces and dh are converted lazily, on first read, because training never reads them.
 */
import { referenceCell } from '../cells/index';
import { clearF64Pool, recycleF64, takeF64 } from '../util/f64-pool';
import { freshF32 } from '../util/fresh-memory';
import { LengthPool } from '../util/length-pool';
import { checkLength, checkParams, checkSeq } from '../cells/dense';
import {
  backwardManyByPasses,
  cellStateSize,
  type BackwardOptions,
  type CellBackward,
  type CellDef,
  type CellForward,
  type CellKind,
  type ForwardOptions,
  type LayerParams,
  type PassRows,
  type SeqShape,
} from '../cells/types';

/**
 * The float32 buffers of one layer call, by name (native/addon.cpp reads them so). W is null for BRC, biasR
 * set only for GRU, wdiag only for BRC; `states` holds the per-step states backward needs (native/kernels.h).
 */
export interface LayerBuffers {
  x: Float32Array;
  U: Float32Array;
  W: Float32Array | null;
  bias: Float32Array;
  biasR: Float32Array | null;
  wdiag: Float32Array | null;
  h: Float32Array;
  states: Float32Array[];
  /** Initial state [B, H] (LSTM: with c0), absent or null for the zero state. */
  h0?: Float32Array | null;
  c0?: Float32Array | null;
  /**
   * Forward: which states the caller keeps (default all; ForwardOptions.trace false). The wasm engine copies
   * only those out of its memory; native writes every state in place regardless.
   */
  keepStates?: readonly boolean[];
}

/**
 * Backward's buffers: dL/dh from outside and the outputs. dU null: no parameter gradients (dW … dwdiag ignored);
 * dx null: no input gradient.
 */
export interface BackwardBuffers extends LayerBuffers {
  /**
   * Rows per step of x, h, h0/c0 and states when dhOut and dh hold several probes of one forward pass
   * (B = probes · stateRows; backwardMany): row r reads state row r % stateRows. Such a call gives dh only.
   */
  stateRows?: number;
  dhOut: Float32Array;
  dx: Float32Array | null;
  dU: Float32Array | null;
  dW: Float32Array | null;
  dbias: Float32Array | null;
  dbiasR: Float32Array | null;
  dwdiag: Float32Array | null;
  dh: Float32Array;
}

/** What a float32 kernel engine provides: one layer's forward and backward over named buffers, and conversions. */
export interface LayerKernels {
  forward(kind: number, T: number, B: number, I: number, H: number, bufs: LayerBuffers): void;
  backward(kind: number, T: number, B: number, I: number, H: number, bufs: BackwardBuffers): void;
  toF32(src: Float64Array, dst: Float32Array): void;
  toF64(src: Float32Array, dst: Float64Array): void;
}

/** The float32 engines (EngineName values that run kernels). */
export type KernelEngine = 'native' | 'wasm';

// ------------------------------------------------------------------------------------------------
// Memory. Arrays the kernels overwrite entirely are allocated without zero-filling, and the
// per-call temporaries are reused: at T = 300, B = 100, H = 100 a training step otherwise spends as
// long zeroing and page-faulting fresh arrays as computing.

const BIG = 1 << 16;

function allocF32(n: number): Float32Array {
  return n >= BIG ? freshF32(n) : new Float32Array(n);
}

function allocF64(n: number): Float64Array {
  return takeF64(n);
}

/** A backward's dh when the caller said it would not read it (BackwardOptions.dh false). */
const NOT_KEPT = new Float64Array(0);

/** Grow-only temporaries that never leave a call (calls are synchronous, one user per slot). */
const scratch: Record<'dhOut' | 'dx' | 'dh', Float32Array> = {
  dhOut: new Float32Array(0),
  dx: new Float32Array(0),
  dh: new Float32Array(0),
};
function temp(slot: keyof typeof scratch, n: number): Float32Array {
  if (scratch[slot].length < n) scratch[slot] = allocF32(n);
  return scratch[slot].subarray(0, n);
}

function intoF32(addon: LayerKernels, a: Float64Array, out: Float32Array): Float32Array {
  if (a.length >= BIG) addon.toF32(a, out);
  else out.set(a);
  return out;
}

function intoF64(addon: LayerKernels, a: Float32Array, out: Float64Array): Float64Array {
  if (a.length >= BIG) addon.toF64(a, out);
  else out.set(a);
  return out;
}

function toF64(addon: LayerKernels, a: Float32Array): Float64Array {
  return intoF64(addon, a, allocF64(a.length));
}

/**
 * A float32 buffer of a forward pass, counted by the caches that use it (a layer's h is also the
 * next layer's input). Buffers of released passes (releaseForward) go back to a bounded pool:
 * refilling recycled memory is several times cheaper than page-faulting fresh memory.
 */
interface Lease {
  arr: Float32Array;
  refs: number;
}
const pool = new LengthPool<Float32Array>(128 << 20); // floats (512 MB)

function lease(n: number): Lease {
  return { arr: pool.take(n) ?? allocF32(n), refs: 1 };
}

function drop(l: Lease): void {
  if (--l.refs > 0 || l.arr.length < BIG) return;
  pool.give(l.arr);
}

/**
 * The float32 states behind each h this engine returned, so that a stacked layer takes its input
 * without converting it back. Like the reference cells' caches, this treats returned arrays as
 * read-only: a caller that edits h in place must copy it first.
 */
const f32Of = new WeakMap<Float64Array, Lease>();

/** Places `cols`-wide blocks side by side: out[r, k*cols + j] = blocks[k][r, j]. */
function concatCols(blocks: Float64Array[], rows: number, cols: number, width = blocks.length * cols): Float32Array {
  const out = new Float32Array(rows * width);
  blocks.forEach((m, k) => {
    for (let r = 0; r < rows; r++) out.set(m.subarray(r * cols, (r + 1) * cols), r * width + k * cols);
  });
  return out;
}

/** Inverse of concatCols for block k, converted back to float64. */
function takeCols(m: Float32Array, rows: number, width: number, k: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(m.subarray(r * width + k * cols, r * width + (k + 1) * cols), r * cols);
  return out;
}

// ------------------------------------------------------------------------------------------------
// Cells.

// Partial: cell kinds without native kernels fall back to the reference engine.
export const KIND_CODE: Partial<Record<CellKind, number>> = { brc: 0, nbrc: 1, gru: 2, lstm: 3 };
/** Float32 states the kernels keep per step (native/kernels.h) and which of them are the gate traces. */
const STATES: Partial<Record<CellKind, number>> = { brc: 3, nbrc: 3, gru: 4, lstm: 5 };
const GATE_STATE: Partial<Record<CellKind, Record<string, number>>> = {
  brc: { a: 1, c: 0 },
  nbrc: { a: 1, c: 0 },
  gru: { z: 0, r: 1 },
  lstm: { i: 0, f: 1, o: 3, cell: 4 },
};

interface PackedParams {
  U: Float32Array;
  W: Float32Array | null;
  bias: Float32Array;
  biasR: Float32Array | null;
  wdiag: Float32Array | null;
}

function packParams(kind: CellKind, p: LayerParams, I: number, H: number): PackedParams {
  switch (kind) {
    case 'brc':
    case 'nbrc': {
      const bias = new Float32Array(3 * H);
      bias.set(p.b_c, 0);
      bias.set(p.b_a, H);
      const U = concatCols([p.U_c, p.U_a, p.U], I, H);
      if (kind === 'brc') {
        const wdiag = new Float32Array(2 * H);
        wdiag.set(p.w_c, 0);
        wdiag.set(p.w_a, H);
        return { U, W: null, bias, biasR: null, wdiag };
      }
      return { U, W: concatCols([p.W_c, p.W_a], H, H), bias, biasR: null, wdiag: null };
    }
    case 'gru':
      return {
        U: new Float32Array(p.kernel),
        W: new Float32Array(p.recurrent_kernel),
        bias: new Float32Array(p.bias.subarray(0, 3 * H)),
        biasR: new Float32Array(p.bias.subarray(3 * H, 6 * H)),
        wdiag: null,
      };
    case 'lstm':
      return {
        U: new Float32Array(p.kernel),
        W: new Float32Array(p.recurrent_kernel),
        bias: new Float32Array(p.bias),
        biasR: null,
        wdiag: null,
      };
    default:
      throw new Error(`float32 engines: no kernels for cell "${kind}"`);
  }
}

interface FastCache {
  engine: KernelEngine;
  kind: CellKind;
  shape: SeqShape;
  /** The float64 input forward saw, so backward can reuse its float32 copy when given the same array. */
  x: Float64Array;
  x32: Lease;
  h32: Lease;
  /** The float64 h: converted from h32 on first read (CellForward.h), so passes read only in float32 skip it. */
  h64: Float64Array;
  hFilled: boolean;
  states: Lease[];
  /** The initial state the pass started from (float32, [B, H] each), when not zero. */
  h0: Float32Array | null;
  c0: Float32Array | null;
  /** Set by releaseForward: the buffers may already hold another pass's data. */
  released: boolean;
  /** Run with trace: false: states other than the final state's are not kept, so no backward. */
  traceless: boolean;
}

function isFastCache(c: unknown, kind: CellKind | undefined, engine?: KernelEngine): c is FastCache {
  if (typeof c !== 'object' || c === null) return false;
  const e = (c as FastCache).engine;
  return (engine ? e === engine : e === 'native' || e === 'wasm') && (c as FastCache).kind === kind;
}

/**
 * An object whose properties convert a float32 array to float64 the first time they are read
 * (`gone` says whether the source was released first).
 */
function lazyF64(addon: LayerKernels, sources: Record<string, Float32Array>, gone = () => false): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const [name, src] of Object.entries(sources)) {
    let value: Float64Array | undefined;
    Object.defineProperty(out, name, {
      enumerable: true,
      configurable: true,
      get: () => {
        if (value) return value;
        if (gone()) throw new Error(`float32 engine: "${name}" of a released forward pass was not read before releaseForward`);
        return (value = toF64(addon, src));
      },
      set: (v: Float64Array) => {
        value = v;
      },
    });
  }
  return out;
}

/** The addon's float32 gradient buffers as the named float64 parameter gradients of `kind`. */
function unpackGrads(
  kind: CellKind,
  I: number,
  H: number,
  dU: Float32Array,
  dW: Float32Array | null,
  dbias: Float32Array,
  dbiasR: Float32Array | null,
  dwdiag: Float32Array | null,
): LayerParams {
  const GI = kind === 'lstm' ? 4 * H : 3 * H;
  const grads: LayerParams = {};
  const f64 = (a: Float32Array, from = 0, to = a.length) => Float64Array.from(a.subarray(from, to));
  if (kind === 'brc' || kind === 'nbrc') {
    grads.U_c = takeCols(dU, I, GI, 0, H);
    grads.U_a = takeCols(dU, I, GI, 1, H);
    grads.U = takeCols(dU, I, GI, 2, H);
    if (dwdiag) {
      grads.w_c = f64(dwdiag, 0, H);
      grads.w_a = f64(dwdiag, H, 2 * H);
    } else if (dW) {
      grads.W_c = takeCols(dW, H, 2 * H, 0, H);
      grads.W_a = takeCols(dW, H, 2 * H, 1, H);
    }
    grads.b_c = f64(dbias, 0, H);
    grads.b_a = f64(dbias, H, 2 * H);
  } else {
    grads.kernel = f64(dU);
    grads.recurrent_kernel = f64(dW as Float32Array);
    if (dbiasR) {
      const b = new Float64Array(6 * H);
      b.set(dbias, 0);
      b.set(dbiasR, 3 * H);
      grads.bias = b;
    } else grads.bias = f64(dbias);
  }
  return grads;
}

/**
 * An initial state [B, S] (S = H, or 2H for LSTM: h then c per row) as the kernels' float32 h0 [B, H] and c0.
 * Float32 like every state of these engines: single steps from given states (fixed-point runs, self-maps) are
 * as exact as the engine, so searches that need float64 (finite-difference Jacobians) take the reference cell.
 */
function splitInitialState(init: Float64Array, B: number, H: number, S: number): { h0: Float32Array; c0: Float32Array | null } {
  if (init.length !== B * S) throw new Error(`initialState has ${init.length} values, expected B*stateSize = ${B}*${S}`);
  if (S === H) return { h0: Float32Array.from(init), c0: null };
  const h0 = new Float32Array(B * H);
  const c0 = new Float32Array(B * H);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      h0[b * H + j] = init[b * S + j];
      c0[b * H + j] = init[b * S + H + j];
    }
  }
  return { h0, c0 };
}

/** The CellDef of `kind` on a float32 kernel engine. */
export function makeKernelCell(kind: CellKind, addon: LayerKernels, engine: KernelEngine): CellDef {
  if (KIND_CODE[kind] === undefined) throw new Error(`${engine} engine: no kernels for cell "${kind}"`);
  const ref = referenceCell(kind);
  const code = KIND_CODE[kind] as number;
  const nStates = STATES[kind] as number;
  const gateState = GATE_STATE[kind] as Record<string, number>;

  const bufsCommon = (pp: PackedParams, x: Float32Array, h: Float32Array, states: Float32Array[]): LayerBuffers => ({
    x,
    ...pp,
    h,
    states,
  });

  function forward(p: LayerParams, x: Float64Array, shape: SeqShape, initialState?: Float64Array, opts?: ForwardOptions): CellForward {
    checkSeq(kind, x, shape);
    const { T, B, inputSize: I, units: H } = shape;
    checkParams(kind, p, ref.paramSpecs(I, H));
    // From a given state ([B, S] rows: h, then c for LSTM) instead of zero: the kernels read it at t = 0.
    const init = initialState ? splitInitialState(initialState, B, H, cellStateSize(ref, H)) : { h0: null, c0: null };
    const n = T * B * H;
    const pp = packParams(kind, p, I, H);
    let x32 = f32Of.get(x);
    if (x32) x32.refs++;
    else {
      x32 = lease(x.length);
      intoF32(addon, x, x32.arr);
    }
    const h32 = lease(n);
    const states = Array.from({ length: nStates }, () => lease(n));
    // Without the trace only the state finalState reads is kept (LSTM's c, its "cell" gate).
    const traceless = opts?.trace === false;
    const keep = Array.from({ length: nStates }, (_, k) => !traceless || k === gateState.cell);
    addon.forward(code, T, B, I, H, {
      ...bufsCommon(
        pp,
        x32.arr,
        h32.arr,
        states.map((l) => l.arr),
      ),
      ...init,
      ...(traceless ? { keepStates: keep } : {}),
    });
    const gateSources: Record<string, Float32Array> = {};
    for (const name of ref.gateNames) if (keep[gateState[name]]) gateSources[name] = states[gateState[name]].arr;
    const h64 = allocF64(n);
    const cache: FastCache = {
      engine,
      kind,
      shape: { T, B, inputSize: I, units: H },
      x,
      x32,
      h32,
      h64,
      hFilled: false,
      states,
      ...init,
      released: false,
      traceless,
    };
    // h64 stands for h32 as the next kernel layer's input before it holds h (pendingH).
    f32Of.set(h64, h32);
    const views = { h: h32.arr, ...gateSources };
    return Object.defineProperty(
      {
        gates: lazyF64(addon, gateSources, () => cache.released),
        cache,
        float32: () => (cache.released ? undefined : views),
        pendingH: h64,
      },
      'h',
      {
        enumerable: true,
        get: (): Float64Array => {
          if (!cache.hFilled) {
            if (cache.released) throw new Error(`${kind}: h of a released forward pass was not read before releaseForward`);
            intoF64(addon, h32.arr, h64);
            cache.hFilled = true;
          }
          return h64;
        },
      },
    ) as CellForward;
  }

  /** Checks a backward's arguments against its forward pass (`cache`); returns the input x as float32. */
  function backwardInput(p: LayerParams, x: Float64Array, cache: FastCache, shape: SeqShape): Float32Array {
    if (cache.released) throw new Error(`${kind}: backward of a forward pass given to releaseForward`);
    if (cache.traceless) throw new Error(`${kind}: backward of a forward pass run without its trace (trace: false)`);
    checkSeq(kind, x, shape);
    const { T, B, inputSize: I, units: H } = shape;
    const cs = cache.shape;
    if (cs.T !== T || cs.B !== B || cs.inputSize !== I || cs.units !== H) {
      throw new Error(
        `${kind}: backward shape [${T}, ${B}, ${I}, ${H}] differs from the forward pass [${cs.T}, ${cs.B}, ${cs.inputSize}, ${cs.units}]`,
      );
    }
    checkParams(kind, p, ref.paramSpecs(I, H));
    return cache.x === x ? cache.x32.arr : (f32Of.get(x)?.arr ?? intoF32(addon, x, allocF32(x.length)));
  }

  function backward(
    p: LayerParams,
    x: Float64Array,
    fwd: CellForward,
    dhOut: Float64Array,
    shape: SeqShape,
    opts?: BackwardOptions,
  ): CellBackward {
    const cache = fwd?.cache;
    // A forward pass from another engine carries its own cache: let that engine differentiate it.
    if (!isFastCache(cache, kind, engine)) return ref.backward(p, x, fwd, dhOut, shape, opts);
    const x32 = backwardInput(p, x, cache, shape);
    const { T, B, inputSize: I, units: H } = shape;
    const n = T * B * H;
    checkLength(kind, 'dhOut', dhOut, n);
    const GI = kind === 'lstm' ? 4 * H : 3 * H;
    const GR = kind === 'brc' ? 0 : kind === 'nbrc' ? 2 * H : GI;
    const pp = packParams(kind, p, I, H);
    const dx32 = temp('dx', T * B * I);
    const paramGrads = opts?.paramGrads !== false;
    const dU = paramGrads ? new Float32Array(I * GI) : null;
    const dW = paramGrads && GR ? new Float32Array(H * GR) : null;
    const dbias = paramGrads ? new Float32Array(GI) : null;
    const dbiasR = paramGrads && kind === 'gru' ? new Float32Array(3 * H) : null;
    const dwdiag = paramGrads && kind === 'brc' ? new Float32Array(2 * H) : null;
    // Training never reads dh: then the kernels write it to scratch instead of a fresh T·B·H array.
    const keepDh = opts?.dh !== false;
    const dh32 = keepDh ? allocF32(n) : temp('dh', n);
    const dhOut32 = intoF32(addon, dhOut, temp('dhOut', n));
    const bufs = {
      ...bufsCommon(
        pp,
        x32,
        cache.h32.arr,
        cache.states.map((l) => l.arr),
      ),
      h0: cache.h0,
      c0: cache.c0,
      dhOut: dhOut32,
      dx: dx32,
      dU,
      dW,
      dbias,
      dbiasR,
      dwdiag,
      dh: dh32,
    };
    addon.backward(code, T, B, I, H, bufs);

    // paramGrads: false leaves grads empty (dx and dh only).
    const grads = dU && dbias ? unpackGrads(kind, I, H, dU, dW, dbias, dbiasR, dwdiag) : {};
    const dx = toF64(addon, dx32);
    if (!keepDh) return { dx, grads, dh: NOT_KEPT };
    const lazy = lazyF64(addon, { dh: dh32 });
    const views = { dh: dh32 };
    return Object.defineProperties({ dx, grads, float32: () => views } as unknown as CellBackward, Object.getOwnPropertyDescriptors(lazy));
  }

  /**
   * k backward passes of one forward pass, each seeded at the last step, as one kernel call over k·B rows (row
   * q·B + b is sequence b of pass q, which reads the forward's buffers in place: stateRows)
   * so that the kernels run a batch of k·B rows, whose products use the register-blocked GEMM fully, where k
   * calls of a few sequences each would run nearly empty row blocks. Rows never interact in backward, so each
   * pass's dh equals its own backward's. The result is the kernel's float32 dh as it lies, [T][k][B][H]:
   * converting it to k float64 arrays cost more than the estimate that reads it.
   */
  function backwardMany(p: LayerParams, x: Float64Array, fwd: CellForward, seeds: readonly Float64Array[], shape: SeqShape): PassRows {
    const cache = fwd?.cache;
    const k = seeds.length;
    if (!isFastCache(cache, kind, engine) || k <= 1) return backwardManyByPasses({ backward }, p, x, fwd, seeds, shape);
    const x32 = backwardInput(p, x, cache, shape);
    const { T, B, inputSize: I, units: H } = shape;
    const n = T * B * H;
    seeds.forEach((d) => checkLength(kind, 'seed', d, B * H));
    const dhOut32 = temp('dhOut', k * n);
    dhOut32.fill(0, 0, (T - 1) * k * B * H);
    seeds.forEach((d, q) => dhOut32.set(d, ((T - 1) * k + q) * B * H));
    const dh32 = lease(k * n);
    addon.backward(code, T, k * B, I, H, {
      ...bufsCommon(
        packParams(kind, p, I, H),
        x32,
        cache.h32.arr,
        cache.states.map((l) => l.arr),
      ),
      stateRows: B,
      h0: cache.h0,
      c0: cache.c0,
      dhOut: dhOut32,
      dx: null,
      dU: null,
      dW: null,
      dbias: null,
      dbiasR: null,
      dwdiag: null,
      dh: dh32.arr,
    });
    let released = false;
    return {
      data: dh32.arr.subarray(0, k * n),
      passes: k,
      passStride: B * H,
      timeStride: k * B * H,
      release() {
        if (!released) drop(dh32);
        released = true;
      },
    };
  }

  return {
    kind,
    gateNames: ref.gateNames,
    paramSpecs: ref.paramSpecs,
    stateSize: ref.stateSize,
    forward,
    backward,
    backwardMany,
    takesPendingInput: true,
  };
}

/**
 * Hands the buffers of fast-engine forward passes back for reuse: pass a CellForward or a network
 * ForwardResult ({ layers: [{ fwd }] }) once nothing of it is needed any more (e.g. after the optimiser
 * step). Afterwards backward throws, gates not read before throw, and h (and gates already read) may be
 * overwritten by a later pass: copy what you keep. Passes of other engines are ignored. Optional: without
 * it buffers are simply garbage collected, at the cost of fresh memory (page faults) per step.
 */
export function releaseForward(what: CellForward | { layers: { fwd: CellForward }[] }): void {
  const fwds = 'layers' in what ? what.layers.map((l) => l.fwd) : [what];
  for (const fwd of fwds) {
    const c = fwd.cache as Partial<FastCache> | undefined;
    if (!isFastCache(c, c?.kind) || c.released) continue;
    c.released = true;
    if (f32Of.get(c.h64) === c.h32) f32Of.delete(c.h64);
    for (const l of [c.x32, c.h32, ...c.states]) drop(l);
    recycleF64(c.h64);
  }
}

/** Frees the buffer pool and temporaries shared by the float32 engines. */
export function releaseFloat32Memory(): void {
  pool.clear();
  scratch.dhOut = new Float32Array(0);
  scratch.dx = new Float32Array(0);
  scratch.dh = new Float32Array(0);
  clearF64Pool();
}
