/**
 * The WebAssembly engine: the same float32 kernels as the native addon (native/kernels.cpp, compiled by clang
 * for wasm32 with 128-bit SIMD into dist/wasm/rnn_kernels.wasm, see native/wasm-driver.cpp), for machines where
 * the addon cannot load. A layer call copies its buffers into the module's linear memory, runs, and copies
 * the outputs back: the copies are O(T·B·H) against O(T·B·H²) of compute. Large calls split the batch over
 * threads, each with its own instance (wasm-threads.ts).
 * RNN_MEMORY_HIDE_WASM=1 hides the module (tests and the bench measure the fallback to the reference engine).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceCell } from '../cells/index';
import type { CellDef, CellKind } from '../cells/types';
import { setGramKernel } from '../util/gram';
import { KIND_CODE, makeKernelCell, type BackwardBuffers, type LayerBuffers, type LayerKernels } from './float32-cells';
import { wasmLayerCall } from './wasm-call';
import { releaseWasmThreads, splitCount, splitLayerCall, type SplitSlot } from './wasm-threads';

/** The part of the WebAssembly JS API used here (the project's lib is ES2022 without DOM, which declares it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmModule {
  readonly __brand: 'WebAssembly.Module';
}
interface WasmApi {
  Module: { new (bytes: Uint8Array): WasmModule; exports(m: WasmModule): { name: string; kind: string }[] };
  Instance: new (m: WasmModule, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** native/wasm-driver.cpp rnn_abi(). */
const WASM_ABI = 3;

/** Descriptor words, in the order of native/wasm-driver.cpp's enum. */
const DESC = [
  'kind', 'T', 'B', 'I', 'H', 'stateB',
  'x', 'U', 'W', 'bias', 'biasR', 'wdiag', 'h', 's0', 's1', 's2', 's3', 's4',
  'dhOut', 'dx', 'dU', 'dW', 'dbias', 'dbiasR', 'dwdiag', 'dh', 'h0', 'c0', 'scratch',
] as const; // prettier-ignore
type DescWord = (typeof DESC)[number];

interface WasmExports {
  memory: WasmMemory;
  rnn_abi(): number;
  rnn_desc(): number;
  rnn_heap_base(): number;
  rnn_scratch_floats(): number;
  rnn_forward(): void;
  rnn_backward(): void;
  rnn_tanh(x: number, y: number, n: number): void;
  rnn_sigmoid(x: number, y: number, n: number): void;
  rnn_gram_scratch(n: number, d: number): number;
  rnn_gram(n: number, d: number, X: number, A: number, scratch: number): void;
}

export interface WasmEngineStatus {
  available: boolean;
  /** Why the engine is unavailable. */
  reason?: string;
  path?: string;
}

const PAGE = 65536;

function candidatePaths(): string[] {
  // Bundled: dist/*.js next to dist/wasm; from sources (tsx): core/engine/../../dist/wasm.
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  const rel = join('wasm', 'rnn_kernels.wasm');
  return [
    process.env.RNN_WASM_PATH,
    join(here, rel),
    join(here, '..', 'dist', rel),
    join(here, '..', '..', 'dist', rel),
    join(process.cwd(), 'dist', rel),
  ].filter((p): p is string => typeof p === 'string' && p.length > 0);
}

let loaded: { module: WasmModule | null; status: WasmEngineStatus } | undefined;

function loadModule(): { module: WasmModule | null; status: WasmEngineStatus } {
  if (loaded) return loaded;
  if (process.env.RNN_MEMORY_HIDE_WASM === '1') {
    loaded = { module: null, status: { available: false, reason: 'wasm module hidden by RNN_MEMORY_HIDE_WASM=1' } };
    return loaded;
  }
  const tried: string[] = [];
  for (const path of candidatePaths()) {
    if (!existsSync(path)) continue;
    try {
      // Synchronous compile (allowed in Node for any size) keeps the CellDef contract synchronous.
      const module = new WA.Module(readFileSync(path));
      const names = WA.Module.exports(module).map((e) => e.name);
      if (!names.includes('rnn_forward')) throw new Error('not the rnn_kernels module');
      loaded = { module, status: { available: true, path } };
      const abi = instance().rnn_abi();
      if (abi !== WASM_ABI) throw new Error(`interface version ${abi}, expected ${WASM_ABI} (rebuild with npm run build)`);
      // The probes' Gram from the module where no faster one (the addon's) is installed: ~4× JavaScript's.
      setGramKernel(wasmGram, 'wasm');
      return loaded;
    } catch (e) {
      tried.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
      inst = undefined;
    }
  }
  const reason = tried.length
    ? `wasm module failed to load (${tried.join('; ')})`
    : 'wasm module dist/wasm/rnn_kernels.wasm not built (npm run build needs clang and lld with the wasm32 target: bash scripts/wasm-setup.sh)';
  loaded = { module: null, status: { available: false, reason } };
  return loaded;
}

let inst: WasmExports | undefined;

function instance(): WasmExports {
  if (!inst) {
    const module = loadModule().module;
    if (!module) throw new Error(`wasm engine unavailable: ${loadModule().status.reason}`);
    inst = new WA.Instance(module, {}).exports as unknown as WasmExports;
  }
  return inst;
}

export function wasmEngineStatus(): WasmEngineStatus {
  return { ...loadModule().status };
}

// ------------------------------------------------------------------------------------------------
// Layer calls: the buffers as slots of the descriptor (wasm-call.ts places them).

/** A slot by descriptor name: `rowWidth` > 0 for the [T][B][rowWidth] arrays a batch split cuts by rows. */
function slot(name: DescWord, len: number, rowWidth: number, io: { src?: Float32Array; dst?: Float32Array }): SplitSlot {
  return { word: DESC.indexOf(name), len, rowWidth, ...io };
}

function check(what: string, a: Float32Array | null | undefined, len: number): Float32Array {
  if (!(a instanceof Float32Array)) throw new Error(`wasm engine: ${what} must be a Float32Array`);
  if (a.length !== len) throw new Error(`wasm engine: ${what} has length ${a.length}, expected ${len}`);
  return a;
}

function shapes(kind: number, T: number, B: number, I: number, H: number) {
  if (![0, 1, 2, 3].includes(kind)) throw new Error(`wasm engine: unknown cell kind ${kind}`);
  for (const [k, v] of Object.entries({ T, B, inputSize: I, units: H }))
    if (!Number.isInteger(v) || v < 1) throw new Error(`wasm engine: ${k} must be a positive integer (got ${v})`);
  const GI = kind === 3 ? 4 * H : 3 * H;
  const GR = kind === 0 ? 0 : kind === 1 ? 2 * H : GI;
  return { GI, GR, TB: T * B, nStates: kind === 3 ? 5 : kind === 2 ? 4 : 3 };
}

/**
 * The buffers forward and backward share (h and states are outputs of forward, inputs of backward). `whole`:
 * a tiled backward's, which every row range reads whole (row r of dhOut and dh reads state row r % B).
 */
function common(
  kind: number,
  T: number,
  B: number,
  I: number,
  H: number,
  bufs: LayerBuffers,
  forward: boolean,
  whole = false,
): SplitSlot[] {
  const { GI, GR, TB, nStates } = shapes(kind, T, B, I, H);
  const out: SplitSlot[] = [
    slot('x', TB * I, I, { src: check('x', bufs.x, TB * I) }),
    slot('U', I * GI, 0, { src: check('U', bufs.U, I * GI) }),
    slot('bias', GI, 0, { src: check('bias', bufs.bias, GI) }),
  ];
  if (GR) out.push(slot('W', H * GR, 0, { src: check('W', bufs.W, H * GR) }));
  if (kind === 2) out.push(slot('biasR', 3 * H, 0, { src: check('biasR', bufs.biasR, 3 * H) }));
  if (kind === 0) out.push(slot('wdiag', 2 * H, 0, { src: check('wdiag', bufs.wdiag, 2 * H) }));
  const io = (a: Float32Array) => (forward ? { dst: a } : { src: a });
  out.push(slot('h', TB * H, H, io(check('h', bufs.h, TB * H))));
  // An initial state [B, H] is one step's rows: cut by the batch split like the rest.
  if (bufs.h0) out.push({ ...slot('h0', B * H, H, { src: check('h0', bufs.h0, B * H) }), steps: 1 });
  if (kind === 3 && bufs.c0) out.push({ ...slot('c0', B * H, H, { src: check('c0', bufs.c0, B * H) }), steps: 1 });
  if (kind === 3 && !bufs.h0 !== !bufs.c0) throw new Error('wasm engine: an LSTM initial state needs both h0 and c0');
  if (!Array.isArray(bufs.states) || bufs.states.length < nStates) throw new Error(`wasm engine: states must hold ${nStates} arrays`);
  for (let k = 0; k < nStates; k++) {
    const a = check('state', bufs.states[k], TB * H);
    // A state the caller does not keep stays in the module's memory (written there, never copied out).
    out.push(slot(`s${k}` as DescWord, TB * H, H, forward && bufs.keepStates?.[k] === false ? {} : io(a)));
  }
  // Whole: not cut by rows (rowWidth 0), copied into every range like the weights.
  return whole ? out.map((s) => ({ ...s, rowWidth: 0 })) : out;
}

/** stateB > 0: a tiled backward, B = probes · stateB rows; the batch split then cuts at whole probes. */
function run(kind: number, T: number, B: number, I: number, H: number, slots: SplitSlot[], backward: boolean, stateB = 0): void {
  const shape = [kind, T, B, I, H, stateB];
  const parts = Math.min(splitCount(T, B, H), stateB ? B / stateB : B);
  if (parts > 1)
    splitLayerCall(
      instance(),
      loadModule().module,
      { descLen: DESC.length, scratchWord: DESC.indexOf('scratch'), shape, backward, rowBlock: stateB || 1 },
      slots,
      parts,
    );
  else wasmLayerCall(instance(), DESC.length, DESC.indexOf('scratch'), shape, slots, backward);
}

/** The module as LayerKernels (the contract of the native addon's forward/backward); exported for tests. */
export const wasmKernels: LayerKernels = {
  forward(kind, T, B, I, H, bufs) {
    run(kind, T, B, I, H, common(kind, T, B, I, H, bufs, true), false);
  },
  backward(kind, T, B, I, H, bufs: BackwardBuffers) {
    const { GI, GR, TB } = shapes(kind, T, B, I, H);
    // Several probes of one forward pass (backwardMany): the forward's stateRows rows are read in place by
    // every probe's rows, whole in every row range of the split.
    const sB = bufs.stateRows ?? B;
    if (!Number.isInteger(sB) || sB < 1 || B % sB !== 0) throw new Error('wasm engine: stateRows must divide the batch B');
    const tiled = sB !== B;
    if (tiled && (bufs.dU || bufs.dx))
      throw new Error('wasm engine: a tiled backward (stateRows < B) gives dh only: dU and dx must be null');
    const placed = common(kind, T, sB, I, H, bufs, false, tiled);
    placed.push(slot('dhOut', TB * H, H, { src: check('dhOut', bufs.dhOut, TB * H) }));
    // dx null: only dh is read (the Jacobian probes), the input-side product is skipped.
    if (bufs.dx) placed.push(slot('dx', TB * I, I, { dst: check('dx', bufs.dx, TB * I) }));
    placed.push(slot('dh', TB * H, H, { dst: check('dh', bufs.dh, TB * H) }));
    // dU null: only dx and dh are wanted (diagnostics), the weight-gradient products are skipped.
    if (bufs.dU) {
      placed.push(slot('dU', I * GI, 0, { dst: check('dU', bufs.dU, I * GI) }));
      placed.push(slot('dbias', GI, 0, { dst: check('dbias', bufs.dbias, GI) }));
      if (GR) placed.push(slot('dW', H * GR, 0, { dst: check('dW', bufs.dW, H * GR) }));
      if (kind === 2) placed.push(slot('dbiasR', 3 * H, 0, { dst: check('dbiasR', bufs.dbiasR, 3 * H) }));
      if (kind === 0) placed.push(slot('dwdiag', 2 * H, 0, { dst: check('dwdiag', bufs.dwdiag, 2 * H) }));
    }
    run(kind, T, B, I, H, placed, true, tiled ? sB : 0);
  },
  toF32(src, dst) {
    dst.set(src);
  },
  toF64(src, dst) {
    dst.set(src);
  },
};

/**
 * Offsets of buffers of `bytes` each, one after the other from the heap base at 64-byte boundaries, in the
 * instance's memory (grown to hold them). Read w.memory.buffer after this: growing detaches the old one.
 */
function heapOffsets(w: WasmExports, bytes: readonly number[]): number[] {
  const at: number[] = [];
  let off = w.rnn_heap_base();
  for (const b of bytes) {
    at.push(off);
    off += Math.ceil(b / 64) * 64;
  }
  if (off > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((off - w.memory.buffer.byteLength) / PAGE));
  return at;
}

/** The upper triangle of XᵀX for X [n, d] row-major float64 into A [d, d] (core/util/gram.ts's kernel contract). */
export function wasmGram(n: number, d: number, X: Float64Array, A: Float64Array): void {
  if (X.length !== n * d || A.length !== d * d)
    throw new Error(`wasm gram: X has length ${X.length} and A ${A.length}, expected ${n * d} and ${d * d}`);
  const w = instance();
  const [xOff, aOff, sOff] = heapOffsets(w, [8 * n * d, 8 * d * d, 8 * w.rnn_gram_scratch(n, d)]);
  new Float64Array(w.memory.buffer, xOff, n * d).set(X);
  w.rnn_gram(n, d, xOff, aOff, sOff);
  A.set(new Float64Array(w.memory.buffer, aOff, d * d));
}

/** The module's tanh or sigmoid approximation over x (accuracy tests). */
export function wasmActivation(which: 'tanh' | 'sigmoid', x: Float32Array): Float32Array {
  const w = instance();
  const [xOff, yOff] = heapOffsets(w, [4 * x.length, 4 * x.length]);
  new Float32Array(w.memory.buffer, xOff, x.length).set(x);
  (which === 'tanh' ? w.rnn_tanh : w.rnn_sigmoid)(xOff, yOff, x.length);
  return new Float32Array(w.memory.buffer, yOff, x.length).slice();
}

const cells = new Map<CellKind, CellDef>();

/** The wasm CellDef for `kind`, or null when the module is unavailable or lacks that cell. */
export function wasmCell(kind: CellKind): CellDef | null {
  if (!loadModule().module || KIND_CODE[kind] === undefined) return null;
  let def = cells.get(kind);
  if (!def) {
    referenceCell(kind); // throws on an unknown kind
    def = makeKernelCell(kind, wasmKernels, 'wasm');
    cells.set(kind, def);
  }
  return def;
}

/** Drops the instance and its linear memory (wasm memory cannot shrink); the next call instantiates afresh. */
export function releaseWasmMemory(): void {
  inst = undefined;
  releaseWasmThreads();
}
